"""A labeling campaign end to end on the embedded chain: created with its budget escrowed, worked in
signed batches, a round published, recomputed and signed by the committee, claimed by a relayer,
verified by anyone, closed with the rest refunded; and the issue's bad inputs, each a clear error with
no money moved and nothing stored.

The module shares one deployment; each test creates its own campaign (the service's database is not
rolled back with the chain, so no test reverts the chain)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from proofwork.domain.errors import InvalidInput, LabelRefused, NotAllowed, TransactionRejected
from proofwork.services.labeling import campaigns, claims, rounds, work
from tests.integration.labeling_fixtures import LABELS, LabelingSetup, labeling_setup

DAY = 86_400


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelingSetup]:
    with labeling_setup(tmp_path_factory.mktemp("labeling")) as s:
        yield s


def wrong(label: str) -> str:
    return LABELS[1 - LABELS.index(label)]


def work_all(s: LabelingSetup, campaign_id: int, *, liar: int | None = None) -> int:
    """Every labeler works batches until nothing is left; `liar` (an index) answers every item wrong."""
    given = 0
    for _ in range(50):
        progressed = False
        for i, labeler in enumerate(s.labelers):
            try:
                batch = work.next_batch(s.ws, campaign_id, labeler.address)
            except LabelRefused as exc:
                assert exc.reason in ("no_work", "labeler_cap", "budget_spent")
                continue
            answers = [(item, wrong(s.truth[item]) if i == liar else s.truth[item]) for item in batch.items]
            accepted = work.submit_batch(
                s.ws, campaign_id, batch.batch_id, answers, batch.sign(labeler.key, answers)
            )
            given += accepted.answers
            progressed = True
        if not progressed:
            return given
    raise AssertionError("work never ran out")


def create(s: LabelingSetup, **overrides: object) -> campaigns.CreatedCampaign:
    return campaigns.create_campaign(s.ws, s.client, s.spec(**overrides), s.gold(), duration=40 * DAY)


def test_campaign_end_to_end_balances_conserved(setup: LabelingSetup) -> None:
    s = setup
    token = s.ws.token
    who = [s.client.address, s.relayer.address, *(lab.address for lab in s.labelers)]
    before = {a: token.balance_of(a) for a in who}
    payouts_before = token.balance_of(s.ws.label_payouts.address)

    created = create(s)
    assert created.gold_items == 2
    state = s.ws.label_payouts.campaign(created.campaign_id)
    assert state.budget == 100_000 and state.spec_hash == created.spec_hash
    assert token.balance_of(s.client.address) == before[s.client.address] - 100_000

    given = work_all(s, created.campaign_id, liar=2)
    # 20 items x 2 labels, plus extra labels where the aggregate was unsure: none before a round
    assert given == 40
    outcome = rounds.run_round(s.ws, s.relayer, created.campaign_id)
    assert outcome.round == 1 and outcome.revealed == 2
    assert len(outcome.signers) == 4
    liar = s.labelers[2].address.lower()
    assert liar in outcome.excluded and liar not in outcome.owed
    # anyone recomputes the round from the published bundle
    check = rounds.verify_round(s.ws, created.campaign_id, 1)
    assert check.matches and not check.challenged

    # claims wait for the challenge window
    with pytest.raises(NotAllowed, match="challenge window"):
        claims.claim(s.ws, s.relayer, created.campaign_id)
    s.pw.advance_time(3_600)
    result = claims.claim(s.ws, s.relayer, created.campaign_id)
    assert result.paid == outcome.owed
    assert len(result.receipts) == 1  # one claim_many for every labeler
    for lab in s.labelers:
        owed = outcome.owed.get(lab.address.lower(), 0)
        assert token.balance_of(lab.address) == before[lab.address] + owed
    # nobody has anything left: a second claim is refused before anything is sent
    with pytest.raises(NotAllowed, match="anything left to claim"):
        claims.claim(s.ws, s.relayer, created.campaign_id)

    # close after the close time: the rest returns to the client
    with pytest.raises(NotAllowed, match="closes at"):
        campaigns.close_campaign(s.ws, s.relayer, created.campaign_id)
    s.pw.advance_time(40 * DAY)
    refunded, _ = campaigns.close_campaign(s.ws, s.relayer, created.campaign_id)
    assert refunded == 100_000 - outcome.total
    after = {a: token.balance_of(a) for a in who}
    assert sum(after.values()) == sum(before.values())  # every unit accounted for
    assert token.balance_of(s.ws.label_payouts.address) == payouts_before


def answers_for(s: LabelingSetup, batch: work.ServedBatch) -> list[tuple[str, str]]:
    return [(item, s.truth[item]) for item in batch.items]


def test_bad_batches_are_refused_and_nothing_is_stored(setup: LabelingSetup) -> None:
    s = setup
    created = create(s)
    cid = created.campaign_id
    alice, bob = s.labelers[0], s.labelers[1]
    batch = work.next_batch(s.ws, cid, alice.address)
    assert len(batch.items) == 5
    # asking again returns the same open batch
    assert work.next_batch(s.ws, cid, alice.address).batch_id == batch.batch_id
    good = answers_for(s, batch)

    def refused(reason: str, answers: list[tuple[str, str]], signature: bytes) -> None:
        with pytest.raises(LabelRefused) as err:
            work.submit_batch(s.ws, cid, batch.batch_id, answers, signature)
        assert err.value.reason == reason
        assert "\n" not in str(err.value)
        assert campaigns.campaign_status(s.ws, cid).labels_given == 0

    other_item = next(i for i in s.items if i not in batch.items)
    refused("item_not_in_batch", [*good[:-1], (other_item, "cat")], batch.sign(alice.key, good))
    refused("duplicate_answer", [*good, good[0]], batch.sign(alice.key, [*good, good[0]]))
    refused("unknown_label", [(good[0][0], "bird")], batch.sign(alice.key, [(good[0][0], "bird")]))
    refused("empty_batch", [], batch.sign(alice.key, []))
    # signed by another key, or signed over other answers than those submitted
    refused("wrong_signer", good, batch.sign(bob.key, good))
    flipped = [(i, wrong(label)) for i, label in good]
    refused("wrong_signer", flipped, batch.sign(alice.key, good))
    refused("wrong_signer", good, b"\x01" * 65)
    # the same batch signed for another campaign id does not verify here
    forged = work.ServedBatch(
        batch.chain_id,
        batch.payouts,
        cid + 1,
        batch.batch_id,
        batch.labeler,
        batch.items,
        batch.labels,
        batch.expires_at,
    )
    refused("wrong_signer", good, forged.sign(alice.key, good))

    accepted = work.submit_batch(s.ws, cid, batch.batch_id, good, batch.sign(alice.key, good))
    assert accepted.answers == 5
    # replayed
    with pytest.raises(LabelRefused) as err:
        work.submit_batch(s.ws, cid, batch.batch_id, good, batch.sign(alice.key, good))
    assert err.value.reason == "batch_answered"
    assert campaigns.campaign_status(s.ws, cid).labels_given == 5
    # never the same item twice to one labeler
    again = work.next_batch(s.ws, cid, alice.address)
    assert not set(again.items) & set(batch.items)


def test_expired_batch_is_refused_and_its_items_served_again(setup: LabelingSetup) -> None:
    s = setup
    created = create(s, labels_per_item=1, max_labels_per_item=1, batch_size=20)
    cid = created.campaign_id
    alice, bob = s.labelers[0], s.labelers[1]
    batch = work.next_batch(s.ws, cid, alice.address)
    assert len(batch.items) == 20
    with pytest.raises(LabelRefused) as err:  # every item has its one label out
        work.next_batch(s.ws, cid, bob.address)
    assert err.value.reason == "no_work"
    s.pw.advance_time(601)
    good = answers_for(s, batch)
    with pytest.raises(LabelRefused) as err:
        work.submit_batch(s.ws, cid, batch.batch_id, good, batch.sign(alice.key, good))
    assert err.value.reason == "batch_expired"
    assert set(work.next_batch(s.ws, cid, bob.address).items) == set(batch.items)


def test_budget_and_cap_stop_serving(setup: LabelingSetup) -> None:
    s = setup
    # 15 labels affordable (15 x 1,500 = 22,500 <= 23,000 < 16 x 1,500)
    created = create(s, budget=23_000, per_labeler_cap=7)
    cid = created.campaign_id
    alice, bob, carol = s.labelers
    b1 = work.next_batch(s.ws, cid, alice.address)
    work.submit_batch(s.ws, cid, b1.batch_id, answers_for(s, b1), b1.sign(alice.key, answers_for(s, b1)))
    b2 = work.next_batch(s.ws, cid, alice.address)
    assert len(b2.items) == 2  # the cap of 7
    work.submit_batch(s.ws, cid, b2.batch_id, answers_for(s, b2), b2.sign(alice.key, answers_for(s, b2)))
    with pytest.raises(LabelRefused) as err:
        work.next_batch(s.ws, cid, alice.address)
    assert err.value.reason == "labeler_cap"
    assert len(work.next_batch(s.ws, cid, bob.address).items) == 5
    assert len(work.next_batch(s.ws, cid, carol.address).items) == 3  # 15 - 7 - 5
    with pytest.raises(LabelRefused) as err:
        work.next_batch(s.ws, cid, s.relayer.address)
    assert err.value.reason == "budget_spent"


def test_forged_replayed_and_excessive_claims_move_no_money(setup: LabelingSetup) -> None:
    s = setup
    created = create(s)
    cid = created.campaign_id
    work_all(s, cid)
    outcome = rounds.run_round(s.ws, s.relayer, cid)
    payouts, token = s.ws.label_payouts, s.ws.token
    s.pw.advance_time(3_600)
    alice = s.labelers[0].address.lower()
    proof = claims.claim_proof(s.ws, cid, alice)
    held = token.balance_of(payouts.address)

    def no_money_moves(call) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(TransactionRejected) as err:
            call()
        assert "\n" not in str(err.value)
        assert token.balance_of(payouts.address) == held

    # above the cumulative amount, or a proof of someone else's leaf
    no_money_moves(lambda: payouts.claim(s.relayer.key, cid, alice, proof.cumulative + 1, proof.proof))
    bob = s.labelers[1].address
    no_money_moves(lambda: payouts.claim(s.relayer.key, cid, bob, proof.cumulative, proof.proof))
    no_money_moves(lambda: payouts.claim(s.relayer.key, cid, alice, proof.cumulative, [bytes(32)]))
    claims.claim(s.ws, s.relayer, cid, [alice])
    held = token.balance_of(payouts.address)
    # replayed: refused by the service, and by the contract when sent anyway
    with pytest.raises(NotAllowed, match="nothing to claim"):
        claims.claim(s.ws, s.relayer, cid, [alice])
    no_money_moves(lambda: payouts.claim(s.relayer.key, cid, alice, proof.cumulative, proof.proof))
    assert payouts.claimed(cid, alice) == outcome.owed[alice]


def test_root_without_quorum_is_not_posted(setup: LabelingSetup) -> None:
    s = setup
    created = create(s)
    cid = created.campaign_id
    work_all(s, cid)
    oracles = rounds.committee_signers(s.ws)
    assert len(oracles) == 4  # threshold 3
    with pytest.raises(NotAllowed, match="quorum is 3"):
        rounds.run_round(s.ws, s.relayer, cid, oracles[:2])
    assert s.ws.label_payouts.campaign(cid).last_round == 0
    # a key outside the committee cannot sign for it
    with pytest.raises(NotAllowed, match="not an oracle"):
        rounds.run_round(s.ws, s.relayer, cid, [*oracles[:2], s.labelers[0]])
    # and the contract itself refuses a root with fewer signatures than the quorum
    again = rounds.preview(s.ws, cid)
    assert again.tree is not None
    message = s.ws.label_payouts.root_message(cid, 9, again.root, again.total, created.spec_hash)
    two = [s.ws.label_payouts.sign_root(o.key, message) for o in oracles[:2]]
    with pytest.raises(TransactionRejected):
        s.ws.label_payouts.post_root(s.relayer.key, cid, 9, again.root, again.total, two)
    assert s.ws.label_payouts.campaign(cid).last_round == 0


def test_verify_detects_a_bundle_that_does_not_match(setup: LabelingSetup) -> None:
    s = setup
    created = create(s)
    cid = created.campaign_id
    work_all(s, cid)
    outcome = rounds.run_round(s.ws, s.relayer, cid)
    bundle = s.ws.store.read_bytes(outcome.bundle_cid, 10**8)
    import json

    doc = json.loads(bundle)
    # an answer changed after signing: its batch signature no longer verifies
    doc["batches"][0]["answers"][0][1] = wrong(doc["batches"][0]["answers"][0][1])
    tampered = s.ws.store.add_bytes(json.dumps(doc).encode())
    with pytest.raises(InvalidInput, match="not signed by its labeler"):
        rounds.verify_round(s.ws, cid, 1, tampered)
    # a batch left out: the recomputed root is not the one on chain
    doc = json.loads(bundle)
    doc["batches"] = doc["batches"][1:]
    partial = s.ws.store.add_bytes(json.dumps(doc).encode())
    assert not rounds.verify_round(s.ws, cid, 1, partial).matches
    # a floor that no earlier root posted
    doc = json.loads(bundle)
    doc["floor"] = {"round": 1, "owed": {s.labelers[0].address.lower(): "1"}}
    floored = s.ws.store.add_bytes(json.dumps(doc).encode())
    with pytest.raises(InvalidInput, match="floor names round 1"):
        rounds.verify_round(s.ws, cid, 1, floored)
    assert rounds.verify_round(s.ws, cid, 1).matches

    # whatever a stranger's bundle holds, verify answers with a one-line InvalidInput
    def mutations(doc: dict) -> Iterator[tuple[str, dict]]:  # type: ignore[type-arg]
        yield "batches not a list", {**doc, "batches": "x"}
        yield "an answer not a pair", {**doc, "batches": [{**doc["batches"][0], "answers": [[1, 2]]}]}
        yield "a batch twice", {**doc, "batches": [doc["batches"][0], doc["batches"][0]]}
        yield "ms not a number", {**doc, "batches": [{**doc["batches"][0], "ms": True}]}
        yield "a gold reveal without item", {**doc, "gold": [{"salt": "0x00"}]}
        yield "a wrong gold salt", {**doc, "gold": [{**doc["gold"][0], "salt": "0x" + "00" * 32}]}
        yield "another spec", {**doc, "spec": {**doc["spec"], "budget": 1}}
        yield "another round", {**doc, "round": 2}
        yield "not a bundle", {"kind": "something else"}

    for what, bad in mutations(json.loads(bundle)):
        cid_bad = s.ws.store.add_bytes(json.dumps(bad).encode())
        with pytest.raises(InvalidInput) as err:
            rounds.verify_round(s.ws, cid, 1, cid_bad)
        assert "\n" not in str(err.value), what


def test_two_rounds_extra_labels_and_cumulative_claims(setup: LabelingSetup) -> None:
    """Round 1 leaves items where two labelers disagree uncertain; they get a third label; round 2
    pays cumulatively on the floor of round 1 (a labeler paid in round 1 gets only the difference)."""
    s = setup
    created = create(s, per_labeler_cap=20)
    cid = created.campaign_id
    alice, bob, carol = s.labelers
    gold = set(s.items[:2])
    noisy = {item for n, item in enumerate(s.items) if n % 4 == 3}  # bob is wrong there (never on gold)

    def answer(labeler, limit: int) -> int:  # type: ignore[no-untyped-def]
        given = 0
        while given < limit:
            try:
                batch = work.next_batch(s.ws, cid, labeler.address)
            except LabelRefused:
                break
            rows = [
                (i, wrong(s.truth[i]) if labeler is bob and i in noisy and i not in gold else s.truth[i])
                for i in batch.items
            ]
            work.submit_batch(s.ws, cid, batch.batch_id, rows, batch.sign(labeler.key, rows))
            given += len(rows)
        return given

    assert answer(alice, 20) == 20 and answer(bob, 20) == 20
    first = rounds.run_round(s.ws, s.relayer, cid)
    with campaigns.open_store(s.ws) as store:
        uncertain = dict(store.campaign(cid).uncertain)
    assert set(uncertain) == noisy and all(n == 2 for n in uncertain.values())
    s.pw.advance_time(3_600)
    claims.claim(s.ws, s.relayer, cid, [alice.address])
    paid_alice = s.ws.token.balance_of(alice.address)

    # carol gets exactly the uncertain items (every other item has its 2 labels)
    third = work.next_batch(s.ws, cid, carol.address)
    assert set(third.items) <= noisy
    assert answer(carol, 20) == len(noisy)
    second = s.pw.labeling.round(s.relayer, cid)  # the SDK's face of the same services
    assert second.round == 2
    assert second.total >= first.total
    for who, amount in first.owed.items():
        assert second.owed.get(who, 0) >= amount  # never less than the floor
    assert s.pw.labeling.verify(cid, 2).matches
    s.pw.advance_time(3_600)
    result = s.pw.labeling.claim(s.relayer, cid)
    a = alice.address.lower()
    assert result.paid.get(a, 0) == second.owed[a] - first.owed[a]
    assert s.ws.token.balance_of(alice.address) == paid_alice + result.paid.get(a, 0)
    assert s.ws.label_payouts.campaign(cid).paid == second.total


def test_eligibility_by_badge_and_by_reputation(setup: LabelingSetup) -> None:
    s = setup
    pw = s.pw
    pw.identity.deploy("dev0")
    pw.identity.create_issuer("proofwork", "dev0")
    pw.identity.register_issuer("proofwork")
    alice, bob, _ = s.labelers
    pw.identity.mint_badge("dev0", alice.address, "data/labeling")
    badge = create(s, eligibility={"kind": "badge", "skill": "data/labeling"})
    assert work.next_batch(s.ws, badge.campaign_id, alice.address).items
    with pytest.raises(LabelRefused, match="no 'data/labeling' skill badge") as err:
        work.next_batch(s.ws, badge.campaign_id, bob.address)
    assert err.value.reason == "not_eligible"
    reputed = create(s, eligibility={"kind": "reputation", "min_reputation": 1})
    with pytest.raises(LabelRefused, match="reputation is 0 ppm") as err:
        work.next_batch(s.ws, reputed.campaign_id, bob.address)
    assert err.value.reason == "not_eligible"
    credential = create(s, eligibility={"kind": "credential", "issuer": "did:web:issuer.example"})
    with pytest.raises(LabelRefused, match="asks for a credential") as err:
        work.next_batch(s.ws, credential.campaign_id, bob.address)
    assert err.value.reason == "not_eligible"


def test_gold_is_revealed_once_labels_per_item_labelers_answered_it_then_never_served(
    setup: LabelingSetup,
) -> None:
    """Revealed at its first answer, a gold item would test one labeler; it waits for labels_per_item
    (2 here) answers, so a labeler working beside the first is tested on it too."""
    s = setup
    created = create(s)
    cid = created.campaign_id
    alice, bob, _ = s.labelers
    gold = set(s.items[:2])
    first = work.next_batch(s.ws, cid, alice.address)
    assert gold <= set(first.items)
    rows = answers_for(s, first)
    work.submit_batch(s.ws, cid, first.batch_id, rows, first.sign(alice.key, rows))
    second = work.next_batch(s.ws, cid, bob.address)
    held = gold & set(second.items)
    assert held  # fewest labels first, with a gold item mixed in
    assert rounds.run_round(s.ws, s.relayer, cid).revealed == 0  # one answer each: still hidden
    rows = answers_for(s, second)
    work.submit_batch(s.ws, cid, second.batch_id, rows, second.sign(bob.key, rows))  # not expired
    s.pw.advance_time(3_600)
    assert rounds.run_round(s.ws, s.relayer, cid).revealed == len(held)
    for labeler in s.labelers:  # a revealed gold item is never served again
        try:
            assert not held & set(work.next_batch(s.ws, cid, labeler.address).items)
        except LabelRefused as exc:
            assert exc.reason == "no_work"


def test_a_challenged_root_is_never_claimable_and_the_round_is_redone(setup: LabelingSetup) -> None:
    s = setup
    created = create(s)
    cid = created.campaign_id
    work_all(s, cid)
    first = rounds.run_round(s.ws, s.relayer, cid)
    payouts = s.ws.label_payouts
    # the contract's own digest of the root is the one the oracles signed here
    message = payouts.root_message(cid, 1, first.root, first.total, created.spec_hash)
    assert payouts.root_digest(cid, 1, first.root, first.total) == payouts.root_digest_of(message)
    with pytest.raises(NotAllowed, match="neither the client nor an oracle"):
        rounds.challenge_round(s.ws, s.labelers[0], cid)
    assert rounds.challenge_round(s.ws, s.client, cid)[0] == 1
    with pytest.raises(NotAllowed, match="no root inside its challenge window"):
        rounds.challenge_round(s.ws, s.client, cid)
    s.pw.advance_time(3_600)
    with pytest.raises(NotAllowed, match="no claimable root"):
        claims.claim(s.ws, s.relayer, cid)
    assert rounds.verify_round(s.ws, cid, 1).challenged
    second = rounds.run_round(s.ws, s.relayer, cid)
    assert second.round == 2 and second.root == first.root  # same answers, same amounts
    s.pw.advance_time(3_600)
    proof = claims.claim_proof(s.ws, cid, s.labelers[0].address)
    assert payouts.verify_proof(second.root, proof.labeler, proof.cumulative, proof.proof)
    assert claims.claim(s.ws, s.relayer, cid).paid == second.owed


def test_close_then_sweep_what_labelers_left_unclaimed(setup: LabelingSetup) -> None:
    s = setup
    created = create(s)
    cid = created.campaign_id
    work_all(s, cid)
    outcome = rounds.run_round(s.ws, s.relayer, cid)
    s.pw.advance_time(3_600)
    alice = s.labelers[0].address.lower()
    claims.claim(s.ws, s.relayer, cid, [alice])
    with pytest.raises(NotAllowed, match="not closed"):
        campaigns.sweep_campaign(s.ws, s.relayer, cid)
    s.pw.advance_time(40 * DAY)
    refunded, _ = campaigns.close_campaign(s.ws, s.relayer, cid)
    assert refunded == 100_000 - outcome.total
    with pytest.raises(NotAllowed, match="may claim"):
        campaigns.sweep_campaign(s.ws, s.relayer, cid)
    before = s.ws.token.balance_of(s.client.address)
    s.pw.advance_time(366 * DAY)
    swept, _ = campaigns.sweep_campaign(s.ws, s.relayer, cid)
    assert swept == outcome.total - outcome.owed[alice]
    assert s.ws.token.balance_of(s.client.address) == before + swept
    assert s.ws.label_payouts.campaign(cid).held == 0
