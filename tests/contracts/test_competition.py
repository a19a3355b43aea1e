"""Tests of contracts/evaluation/Competition.vy: ML bounties with committed
submissions (each with a refundable bond), a committed hidden label set the committee
confirms before anyone enters, and a committee-signed result (the Merkle root of every
revealed entry's score and the winners), paid by pull.

The committee is `mocks/CommitteeStub.vy` (fixed members and threshold). Every
hash the contract checks is recomputed in `competition_fixtures` with eth_abi /
eth_account, and payouts are compared with a Python reference of the rule.
"""

from __future__ import annotations

import boa
import hypothesis.strategies as st
import pytest
from competition_fixtures import (
    BOND,
    BPS,
    CANCELLED,
    DAY,
    DOMAIN_NAME,
    FINALIZED,
    GRACE_PERIOD,
    LABELS_CID,
    LABELS_SALT,
    OPEN,
    SCORE_ONE,
    SEALED_LABELS,
    SPEC,
    USD,
    Arena,
    digest_of,
    events,
    final_scores_message,
    labels_commitment,
    labels_confirmed_message,
    oracle_accounts,
    players,
    reference_payouts,
    score_proof,
    scores_root,
    sign_all,
    submission_commitment,
    travel_to,
    winners_hash,
)
from conftest import MOCKS, REPO
from escrow_harness import chain_id, compact, new_account, now, permit_signature
from escrow_model import ZERO_ADDRESS
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings

COMPETITION_PATH = REPO / "contracts" / "evaluation" / "Competition.vy"
ZERO32 = b"\x00" * 32
ORACLES = oracle_accounts(4)
THRESHOLD = 3
P = players(4)  # submitters


@pytest.fixture(scope="session")
def competition_deployer():
    return boa.load_partial(str(COMPETITION_PATH))


@pytest.fixture(scope="session")
def committee_deployer():
    return boa.load_partial(str(MOCKS / "CommitteeStub.vy"))


@pytest.fixture(scope="module")
def committee(committee_deployer):
    return committee_deployer.deploy([o.address for o in ORACLES], THRESHOLD)


@pytest.fixture(scope="module")
def comp(competition_deployer, committee):
    return competition_deployer.deploy(committee.address, ZERO_ADDRESS)


def make_arena(comp, token, committee, accounts) -> Arena:
    arena = Arena(comp, token, committee, accounts.owner.address, accounts.client.address, list(ORACLES))
    arena.bankroll(*P)  # the players can pay entry bonds
    return arena


@pytest.fixture
def arena(comp, token, committee, accounts):
    return make_arena(comp, token, committee, accounts)


@pytest.fixture
def a(accounts):
    return accounts


@pytest.fixture(scope="module")
def blocklist_token():
    return boa.load_partial(str(MOCKS / "BlocklistToken.vy")).deploy()


def bal(token, who) -> int:
    return token.balanceOf(getattr(who, "address", who))


def owed(comp, token, who) -> int:
    return comp.claimable(token.address, getattr(who, "address", who))


# --------------------------------------------------------------------------- deployment, encodings


def test_deployment(comp, committee, competition_deployer):
    assert comp.committee() == committee.address
    assert comp.competition_count() == 0
    _, name, version, chain, verifying, _, _ = comp.eip712Domain()
    assert (name, version, chain, verifying) == (DOMAIN_NAME, "1", chain_id(), comp.address)
    with boa.reverts("competition: committee is not a contract"):
        competition_deployer.deploy(new_account("not a contract").address, ZERO_ADDRESS)


def test_encodings_match_the_sdk(comp, arena):
    """The contract's hashes equal the ones computed independently with eth_abi / eth_account."""
    # the labels and submission commitments (computed in Python, see proofwork.chain.encoding) are
    # checked by the contract itself in every reveal and finalize of these tests
    # so are the winners hash (finalize checks the committee's signatures over it) and the scores
    # tree's leaves (verify_score)
    cid = arena.create(confirm=False)
    assert comp.labels_confirmed_digest(cid) == digest_of(
        labels_confirmed_message(comp, cid, labels_commitment())
    )
    root, wh = scores_root([(0, 1)]), winners_hash([(0, 1)])
    message = final_scores_message(comp, cid, root, 0, wh, labels_commitment())
    assert comp.final_scores_digest(cid, root, wh) == digest_of(message)


# --------------------------------------------------------------------------- create


def test_create_stores_everything_and_pulls_the_prize(arena, comp, token, a):
    p = arena.params(prize_bps=[6_000, 2_500, 1_500], min_score=-7, higher_is_better=False, daily_limit=3)
    arena.fund(a.client.address, p["prize"])
    cid = comp.create(*p.values(), sender=a.client.address)
    (ev,) = events(comp, "CompetitionCreated")
    assert cid == 1 and comp.competition_count() == 1
    assert ev.comp_id == 1 and ev.client == a.client.address and ev.token == token.address
    assert (ev.prize, ev.spec_hash, ev.commitment) == (p["prize"], SPEC, labels_commitment())
    assert (ev.deadline, ev.reveal_period, ev.daily_limit, ev.entry_bond, ev.public_percent) == (
        p["deadline"],
        p["reveal_period"],
        3,
        BOND,
        30,
    )
    assert list(ev.prize_bps) == [6_000, 2_500, 1_500]
    assert (ev.min_score, ev.higher_is_better, ev.sealed_labels) == (-7, False, SEALED_LABELS)
    c = comp.competition(cid)
    assert c.client == a.client.address and c.token == token.address and c.prize == p["prize"]
    assert (c.spec_hash, c.commitment) == (SPEC, labels_commitment())
    assert (c.deadline, c.reveal_period, c.daily_limit, c.public_percent) == (
        p["deadline"],
        p["reveal_period"],
        3,
        30,
    )
    assert list(c.prize_bps) == [6_000, 2_500, 1_500]
    assert (c.min_score, c.higher_is_better, c.status, c.entry_count, c.revealed_count) == (
        -7,
        False,
        OPEN,
        0,
        0,
    )
    assert (c.entry_bond, c.labels_confirmed, c.scores_root) == (BOND, False, ZERO32)
    assert bal(token, comp) == p["prize"] and bal(token, a.client) == 0
    assert arena.create(prize=5, prize_bps=[10_000]) == 2
    assert list(comp.competition(2).prize_bps) == [10_000]
    assert bal(token, comp) == p["prize"] + 5


def test_create_extreme_values_round_trip(arena, comp):
    """The packed fields keep their full ranges."""
    deadline = now() + 730 * DAY
    cid = arena.create(
        deadline=deadline,
        reveal_period=90 * DAY,
        daily_limit=255,
        public_percent=99,
        prize_bps=[1_000] * 10,
        min_score=-(2**255),
    )
    c = comp.competition(cid)
    assert (c.deadline, c.reveal_period, c.daily_limit, c.public_percent) == (deadline, 90 * DAY, 255, 99)
    assert list(c.prize_bps) == [1_000] * 10 and c.min_score == -(2**255) and c.higher_is_better


BAD_CREATE = [
    ({"prize": 0}, "competition: zero prize"),
    ({"prize": (2**256 - 1) // BPS + 1}, "competition: prize too large"),
    ({"spec_hash": ZERO32}, "competition: empty spec hash"),
    ({"commitment": ZERO32}, "competition: empty labels commitment"),
    ({"deadline": 0}, "competition: deadline in the past"),
    ({"deadline": "now"}, "competition: deadline in the past"),
    ({"deadline": "too far"}, "competition: deadline too far"),
    ({"reveal_period": 0}, "competition: bad reveal period"),
    ({"reveal_period": 90 * DAY + 1}, "competition: bad reveal period"),
    ({"daily_limit": 0}, "competition: zero daily limit"),
    ({"entry_bond": 0}, "competition: zero entry bond"),
    ({"entry_bond": 2**128}, "competition: entry bond too large"),
    ({"public_percent": 0}, "competition: bad public percent"),
    ({"public_percent": 100}, "competition: bad public percent"),
    ({"prize_bps": []}, "competition: no prize places"),
    ({"prize_bps": [10_000, 0]}, "competition: zero prize share"),
    ({"prize_bps": [4_000, 6_000]}, "competition: prize split increasing"),
    ({"prize_bps": [5_000, 2_000, 3_000]}, "competition: prize split increasing"),
    ({"prize_bps": [5_000, 4_000]}, "competition: prize split must sum to 10000"),
    ({"prize_bps": [9_000, 1_001]}, "competition: prize split must sum to 10000"),
    ({"prize_bps": [1_000] * 9}, "competition: prize split must sum to 10000"),
]


@pytest.mark.parametrize(("override", "reason"), BAD_CREATE, ids=[r for _, r in BAD_CREATE])
def test_create_refuses_bad_parameters(arena, comp, token, a, override, reason):
    override = dict(override)
    if override.get("deadline") == "now":
        override["deadline"] = now()
    elif override.get("deadline") == "too far":
        override["deadline"] = now() + 730 * DAY + 1
    p = arena.params(**override)
    arena.fund(a.client.address, Arena.PRIZE)
    with boa.reverts(reason):
        comp.create(*p.values(), sender=a.client.address)
    assert comp.competition_count() == 0 and bal(token, comp) == 0


def test_create_refuses_a_token_that_is_no_contract(arena, comp, a):
    with boa.reverts("competition: token is not a contract"):
        comp.create(*arena.params(token=a.outsider.address).values(), sender=a.client.address)


def test_create_more_than_ten_places_cannot_even_be_encoded(arena, comp, a):
    with pytest.raises(Exception):  # noqa: B017 - the ABI encoder refuses an 11-element DynArray[.., 10]
        comp.create(*arena.params(prize_bps=[1_000] * 9 + [500, 500]).values(), sender=a.client.address)


def test_create_without_allowance_or_balance_fails(arena, comp, token, a):
    p = arena.params()
    with boa.reverts():
        comp.create(*p.values(), sender=a.client.address)
    token.approve(comp.address, p["prize"], sender=a.client.address)
    with boa.reverts():
        comp.create(*p.values(), sender=a.client.address)
    assert comp.competition_count() == 0


def test_fee_on_transfer_token_refused(arena, comp, a, fot_deployer):
    fot = fot_deployer.deploy()
    fot.mint(a.client.address, 1_000 * USD)
    fot.approve(comp.address, 1_000 * USD, sender=a.client.address)
    with boa.reverts("competition: token delivered less than sent"):
        comp.create(*arena.params(token=fot.address, prize=1_000 * USD).values(), sender=a.client.address)
    assert comp.competition_count() == 0
    assert fot.balanceOf(comp.address) == 0 and fot.balanceOf(a.client.address) == 1_000 * USD
    # control: below 100 units the mock burns nothing and the same call goes through
    assert comp.create(*arena.params(token=fot.address, prize=99).values(), sender=a.client.address) == 1


def test_token_returning_false_refused(arena, comp, a, reentrant_deployer):
    t = reentrant_deployer.deploy()
    t.set_return_false(True)
    t.mint(a.client.address, 5 * USD)
    t.approve(comp.address, 5 * USD, sender=a.client.address)
    with boa.reverts("competition: transfer failed"):
        comp.create(*arena.params(token=t.address, prize=5 * USD).values(), sender=a.client.address)


def test_create_with_permit(arena, comp, token, a):
    p = arena.params()
    token.mint(a.client.address, p["prize"], sender=a.owner.address)
    deadline = now() + DAY
    v, r, s = permit_signature(a.client, token, comp.address, p["prize"], deadline)
    cid = comp.create_with_permit(*p.values(), deadline, v, r, s, sender=a.client.address)
    assert cid == 1 and bal(token, comp) == p["prize"] and bal(token, a.client) == 0
    # a used permit is ignored; with no allowance left the transfer itself fails
    token.mint(a.client.address, p["prize"], sender=a.owner.address)
    with boa.reverts():
        comp.create_with_permit(*p.values(), deadline, v, r, s, sender=a.client.address)


# --------------------------------------------------------------------------- commit


def test_commit_numbers_entries_in_order_and_logs(arena, comp):
    cid = arena.create()
    salt = keccak(b"s")
    commitment = submission_commitment(b"bafkcid0", salt, P[0].address)
    assert comp.commit(cid, commitment, b"sealed!", sender=P[0].address) == 0
    (ev,) = events(comp, "SubmissionCommitted")
    assert (ev.comp_id, ev.entry, ev.submitter, ev.commitment) == (cid, 0, P[0].address, commitment)
    assert (ev.sealed_submission, ev.timestamp) == (b"sealed!", now())
    assert arena.commit(P[1], cid) == 1
    assert arena.commit(P[0], cid) == 2
    assert comp.entry_count(cid) == 3 and comp.competition(cid).entry_count == 3
    e = comp.entry(cid, 0)
    assert (e.submitter, e.commitment, e.revealed) == (P[0].address, commitment, False)
    assert comp.entry(cid, 3).submitter == "0x" + "00" * 20
    # entries are numbered per competition
    other = arena.create()
    assert arena.commit(P[2], other) == 0


def test_commit_closes_after_the_deadline(arena, comp):
    cid = arena.create()
    travel_to(arena.deadline(cid))
    assert arena.commit(P[0], cid) == 0  # the deadline itself is still open
    boa.env.time_travel(seconds=1)
    with boa.reverts("competition: submissions closed"):
        arena.commit(P[1], cid)


def test_commit_refuses_client_oracles_empty_and_unknown(arena, comp, committee, a):
    cid = arena.create()
    commitment = submission_commitment(b"c", ZERO32, a.client.address)
    with boa.reverts("competition: client cannot enter"):
        comp.commit(cid, commitment, b"", sender=a.client.address)
    with boa.reverts("competition: oracle cannot enter"):
        comp.commit(cid, commitment, b"", sender=ORACLES[1].address)
    with boa.reverts("competition: empty commitment"):
        comp.commit(cid, ZERO32, b"", sender=P[0].address)
    with boa.reverts("competition: unknown competition"):
        comp.commit(cid + 1, commitment, b"", sender=P[0].address)
    # a removed oracle may enter
    committee.set_oracle(ORACLES[1].address, False)
    arena.bankroll(ORACLES[1])
    assert comp.commit(cid, commitment, b"", sender=ORACLES[1].address) == 0


def test_daily_limit_and_day_rollover(arena, comp):
    cid = arena.create(daily_limit=2, deadline=now() + 10 * DAY)
    other = arena.create(daily_limit=2)
    day = now() // DAY
    arena.commit(P[0], cid)
    assert comp.commits_today(cid, P[0].address, day) == 1
    arena.commit(P[0], cid)
    assert comp.commits_today(cid, P[0].address, day) == 2
    with boa.reverts("competition: daily submission limit reached"):
        arena.commit(P[0], cid)
    # other submitters and other competitions have their own quota
    arena.commit(P[1], cid)
    arena.commit(P[0], other)
    assert comp.commits_today(other, P[0].address, day) == 1
    # the next UTC day (not 24 h after the first commit) resets the quota
    travel_to((day + 1) * DAY - 1)
    with boa.reverts("competition: daily submission limit reached"):
        arena.commit(P[0], cid)
    boa.env.time_travel(seconds=1)
    assert now() // DAY == day + 1
    assert comp.commits_today(cid, P[0].address, day + 1) == 0
    assert arena.commit(P[0], cid) == 3
    assert comp.commits_today(cid, P[0].address, day + 1) == 1
    assert comp.commits_today(cid, P[0].address, day) == 0  # only the latest day is kept
    arena.commit(P[0], cid)
    with boa.reverts("competition: daily submission limit reached"):
        arena.commit(P[0], cid)
    boa.env.time_travel(seconds=3 * DAY)
    arena.commit(P[0], cid)
    assert comp.entry_count(cid) == 6


def test_nobody_enters_before_the_committee_confirms_the_labels(arena, comp, token):
    cid = arena.create(confirm=False)
    commitment = submission_commitment(b"c", ZERO32, P[0].address)
    with boa.reverts("competition: labels not confirmed"):
        comp.commit(cid, commitment, b"", sender=P[0].address)
    arena.confirm(cid)
    (ev,) = events(comp, "LabelsConfirmed")
    assert (ev.comp_id, ev.commitment) == (cid, labels_commitment())
    assert comp.competition(cid).labels_confirmed
    assert comp.commit(cid, commitment, b"", sender=P[0].address) == 0
    with boa.reverts("competition: labels already confirmed"):
        arena.confirm(cid)


def test_confirmation_rules(arena, comp, committee):
    cid = arena.create(confirm=False)
    o = sorted(ORACLES, key=lambda acc: int(acc.address, 16))
    with boa.reverts("competition: too few signatures"):
        comp.confirm_labels(cid, arena.confirm_signatures(cid, signers=o[:2]))
    with boa.reverts("competition: signer is not an oracle"):  # signed for other labels
        comp.confirm_labels(cid, arena.confirm_signatures(cid, commitment=keccak(b"other")))
    with boa.reverts("competition: signer is not an oracle"):  # signed on another chain
        comp.confirm_labels(cid, arena.confirm_signatures(cid, chain=chain_id() + 1))
    with boa.reverts("competition: signers not strictly ascending"):
        comp.confirm_labels(
            cid, sign_all(o[:3], labels_confirmed_message(comp, cid, labels_commitment()), order="descending")
        )
    with boa.reverts("competition: unknown competition"):
        comp.confirm_labels(cid + 1, arena.confirm_signatures(cid))
    travel_to(arena.deadline(cid) + 1)
    with boa.reverts("competition: submissions closed"):
        arena.confirm(cid)


def test_commit_pulls_the_bond_and_reveal_returns_it(arena, comp, token):
    cid = arena.create()
    before = bal(token, P[0])
    e = arena.commit(P[0], cid)
    assert bal(token, P[0]) == before - BOND and bal(token, comp) == Arena.PRIZE + BOND
    arena.to_reveal(cid)
    arena.reveal(cid, e)
    assert owed(comp, token, P[0]) == BOND
    assert arena.withdraw(P[0]) == BOND
    (ev,) = events(comp, "Withdrawn")
    assert (ev.token, ev.account, ev.amount) == (token.address, P[0].address, BOND)
    assert bal(token, P[0]) == before and owed(comp, token, P[0]) == 0
    with boa.reverts("competition: nothing to withdraw"):
        comp.withdraw(token.address, sender=P[0].address)


def test_commit_without_the_bond_fails(arena, comp, token, a):
    cid = arena.create()
    commitment = submission_commitment(b"c", ZERO32, a.outsider.address)
    with boa.reverts():
        comp.commit(cid, commitment, b"", sender=a.outsider.address)
    assert comp.entry_count(cid) == 0


# --------------------------------------------------------------------------- reveal


def test_reveal_marks_the_entry(arena, comp):
    cid = arena.create()
    e0 = arena.commit(P[0], cid)
    e1 = arena.commit(P[1], cid)
    arena.to_reveal(cid)
    arena.reveal(cid, e1)
    (ev,) = events(comp, "SubmissionRevealed")
    s = arena.secrets[(cid, e1)]
    assert (ev.comp_id, ev.entry, ev.submitter, ev.submission_cid) == (cid, e1, P[1].address, s.cid)
    assert comp.entry(cid, e1).revealed and comp.entry(cid, e1).commitment == ZERO32
    assert not comp.entry(cid, e0).revealed
    assert comp.revealed_count(cid) == 1 and comp.competition(cid).revealed_count == 1
    with boa.reverts("competition: already revealed"):
        arena.reveal(cid, e1)


def test_reveal_window(arena, comp):
    cid = arena.create()
    e0 = arena.commit(P[0], cid)
    e1 = arena.commit(P[1], cid)
    travel_to(arena.deadline(cid))
    with boa.reverts("competition: reveal period not started"):
        arena.reveal(cid, e0)
    boa.env.time_travel(seconds=1)
    arena.reveal(cid, e0)
    travel_to(arena.deadline(cid) + Arena.REVEAL_PERIOD)  # the last second of the period
    arena.reveal(cid, e1)
    cid2 = arena.create()
    e = arena.commit(P[0], cid2)
    travel_to(arena.deadline(cid2) + Arena.REVEAL_PERIOD + 1)
    with boa.reverts("competition: reveal period over"):
        arena.reveal(cid2, e)


def test_reveal_checks_commitment_and_sender(arena, comp):
    cid = arena.create()
    e0 = arena.commit(P[0], cid)
    s = arena.secrets[(cid, e0)]
    # P[1] copies P[0]'s commitment: it is bound to P[0], so P[1] can never open it
    copied = comp.commit(cid, comp.entry(cid, e0).commitment, b"", sender=P[1].address)
    arena.to_reveal(cid)
    with boa.reverts("competition: commitment mismatch"):
        comp.reveal(cid, e0, s.cid, keccak(b"wrong salt"), sender=P[0].address)
    with boa.reverts("competition: commitment mismatch"):
        comp.reveal(cid, e0, s.cid + b"x", s.salt, sender=P[0].address)
    with boa.reverts("competition: caller is not the submitter"):
        comp.reveal(cid, e0, s.cid, s.salt, sender=P[1].address)
    with boa.reverts("competition: commitment mismatch"):
        comp.reveal(cid, copied, s.cid, s.salt, sender=P[1].address)
    with boa.reverts("competition: no such entry"):
        comp.reveal(cid, 5, s.cid, s.salt, sender=P[0].address)
    with boa.reverts("competition: unknown competition"):
        comp.reveal(cid + 1, 0, s.cid, s.salt, sender=P[0].address)
    comp.reveal(cid, e0, s.cid, s.salt, sender=P[0].address)
    assert comp.revealed_count(cid) == 1


# --------------------------------------------------------------------------- finalize: payouts


def assert_paid(comp, token, expected_payouts, refund, before: dict, client: str):
    """PrizeAwarded events, CompetitionFinalized and the credits match the reference."""
    paid = [(ev.place, ev.entry, ev.amount) for ev in events(comp, "PrizeAwarded")]
    assert paid == expected_payouts
    (fin,) = events(comp, "CompetitionFinalized")
    assert (fin.winners, fin.refunded) == (len(expected_payouts), refund)
    delta: dict[str, int] = {}
    for ev in events(comp, "PrizeAwarded"):
        delta[ev.winner] = delta.get(ev.winner, 0) + ev.amount
    delta[client] = delta.get(client, 0) + refund
    for who, b in before.items():
        assert owed(comp, token, who) - b == delta.get(who, 0), who
    # everything the contract holds is owed to someone (nothing else is open in these tests)
    assert bal(token, comp) == sum(owed(comp, token, who) for who in before)


def credits(comp, token, a) -> dict:
    return {p.address: owed(comp, token, p) for p in P} | {a.client.address: owed(comp, token, a.client)}


def test_finalize_pays_the_top_three_higher_is_better(arena, comp, token, a):
    scores = [int(0.81 * SCORE_ONE), int(0.93 * SCORE_ONE), int(0.77 * SCORE_ONE), int(0.90 * SCORE_ONE)]
    cid, ranking = arena.run(scores, submitters=P)
    before = credits(comp, token, a)
    refund = arena.finalize(cid, ranking, sender=a.outsider.address)  # anyone may relay
    logs = comp.get_logs()
    assert refund == 0
    prize = Arena.PRIZE
    assert [(ev.place, ev.entry, ev.winner, ev.amount) for ev in events(comp, "PrizeAwarded")] == [
        (0, 1, P[1].address, prize // 2),
        (1, 3, P[3].address, prize * 3 // 10),
        (2, 0, P[0].address, prize // 5),
    ]
    assert_paid(
        comp,
        token,
        [(0, 1, prize // 2), (1, 3, prize * 3 // 10), (2, 0, prize // 5)],
        0,
        before,
        a.client.address,
    )
    (lab,) = events(comp, "LabelsRevealed", logs)
    assert (lab.comp_id, lab.labels_cid, lab.labels_salt) == (cid, LABELS_CID, LABELS_SALT)
    (fin,) = events(comp, "CompetitionFinalized", logs)
    assert fin.scores_root == scores_root(ranking) and fin.entries == len(ranking)
    assert [tuple(s) for s in fin.ranking] == [(1, scores[1]), (3, scores[3]), (0, scores[0])]
    c = comp.competition(cid)
    assert c.status == FINALIZED and c.scores_root == scores_root(ranking)
    assert owed(comp, token, P[2]) == BOND  # its bond back, no prize
    # every entry, winner or not, can prove its score against the signed root
    for e, sc in ranking:
        assert comp.verify_score(cid, e, sc, score_proof(ranking, e, sc))
        assert not comp.verify_score(cid, e, sc + 1, score_proof(ranking, e, sc))


def test_finalize_lower_is_better(arena, comp, token, a):
    rmse = [400_000, 120_000, 950_000, 130_000, 110_000]
    cid, ranking = arena.run(rmse, higher_is_better=False, min_score=SCORE_ONE, prize_bps=[7_000, 3_000])
    before = credits(comp, token, a)
    assert arena.finalize(cid, ranking) == 0
    logs = comp.get_logs()
    prize = Arena.PRIZE
    assert_paid(comp, token, [(0, 4, prize * 7 // 10), (1, 1, prize * 3 // 10)], 0, before, a.client.address)
    # entry 4 came from P[0] (submitters cycle), entry 1 from P[1]
    assert [ev.winner for ev in events(comp, "PrizeAwarded", logs)] == [P[0].address, P[1].address]


def test_winners_must_be_revealed_ranked_and_above_the_bar(arena, comp):
    """The committee signs the winners; the contract still refuses a list that breaks the rule."""
    cid, ranking = arena.run([10, 20, 30, 40], reveal=[True, True, False, True], min_score=15)
    for winners, reason in [
        ([(1, 20), (3, 40)], "competition: winners not ranked"),
        ([(3, 40), (3, 40)], "competition: winners not ranked"),
        ([(3, 40), (2, 30)], "competition: entry not revealed"),
        ([(3, 40), (9, 30)], "competition: entry not revealed"),
        ([(3, 40), (1, 20), (0, 10)], "competition: winner below the bar"),
        ([(3, 40), (1, 20), (1, 20), (1, 20)], "competition: more winners than places"),
    ]:
        with boa.reverts(reason):
            arena.finalize(cid, ranking, winners=winners)  # correctly signed, but against the rule
    arena.finalize(cid, ranking)
    assert [(ev.place, ev.entry) for ev in events(comp, "PrizeAwarded")] == [(0, 3), (1, 1)]


def test_ties_go_to_the_earliest_commit(arena, comp, token, a):
    scores = [5, 7, 7, 5, 7]
    cid, ranking = arena.run(scores, submitters=P, prize_bps=[5_000, 3_000, 2_000])
    arena.finalize(cid, ranking)
    assert [(ev.place, ev.entry) for ev in events(comp, "PrizeAwarded")] == [(0, 1), (1, 2), (2, 4)]
    cid, ranking = arena.run(
        scores, submitters=P, prize_bps=[5_000, 3_000, 2_000], higher_is_better=False, min_score=10
    )
    arena.finalize(cid, ranking)
    assert [(ev.place, ev.entry) for ev in events(comp, "PrizeAwarded")] == [(0, 0), (1, 3), (2, 1)]


def test_min_score_bar_and_refund(arena, comp, token, a):
    # higher is better, bar 0.8: only two entries reach it (0.8 itself counts)
    scores = [int(0.79 * SCORE_ONE), int(0.80 * SCORE_ONE), int(0.95 * SCORE_ONE), -SCORE_ONE]
    cid, ranking = arena.run(scores, min_score=int(0.8 * SCORE_ONE))
    before = credits(comp, token, a)
    prize = Arena.PRIZE
    refund = arena.finalize(cid, ranking)
    assert refund == prize // 5
    assert_paid(
        comp, token, [(0, 2, prize // 2), (1, 1, prize * 3 // 10)], prize // 5, before, a.client.address
    )
    # lower is better, bar -1.0: nobody reaches it, everything goes back
    cid, ranking = arena.run([0, 5, -SCORE_ONE + 1], min_score=-SCORE_ONE, higher_is_better=False)
    before = owed(comp, token, a.client)
    assert arena.finalize(cid, ranking) == prize
    assert events(comp, "PrizeAwarded") == []
    assert owed(comp, token, a.client) - before == prize


def test_fewer_entries_than_places_refunds_the_rest(arena, comp, token, a):
    cid, ranking = arena.run([3, 9], prize_bps=[4_000, 3_000, 2_000, 1_000])
    before = credits(comp, token, a)
    prize = Arena.PRIZE
    refund = arena.finalize(cid, ranking)
    assert refund == prize * 3 // 10
    assert_paid(
        comp, token, [(0, 1, prize * 4 // 10), (1, 0, prize * 3 // 10)], refund, before, a.client.address
    )


def test_rounding_dust_goes_back_to_the_client(arena, comp, token, a):
    cid, ranking = arena.run([1, 2, 3], prize=10, prize_bps=[3_334, 3_333, 3_333])
    before = credits(comp, token, a)
    assert arena.finalize(cid, ranking) == 1
    assert_paid(comp, token, [(0, 2, 3), (1, 1, 3), (2, 0, 3)], 1, before, a.client.address)


def test_unrevealed_entries_cannot_win_and_forfeit_their_bond(arena, comp, token, a):
    cid, ranking = arena.run([100, 1, 50], reveal=[False, True, True], prize_bps=[10_000])
    assert ranking == [(1, 1), (2, 50)]
    with boa.reverts("competition: entry not revealed"):
        arena.finalize(cid, [(0, 100), (1, 1), (2, 50)])
    # the prize all goes to the winner; the client gets the forfeited bond of entry 0
    assert arena.finalize(cid, ranking) == BOND
    assert [(ev.place, ev.entry) for ev in events(comp, "PrizeAwarded")] == [(0, 2)]


def test_one_submitter_may_take_several_places(arena, comp, token, a):
    cid, ranking = arena.run([9, 8, 1], submitters=[P[0], P[0], P[1]], prize_bps=[6_000, 4_000])
    before = owed(comp, token, P[0])
    arena.finalize(cid, ranking)
    assert owed(comp, token, P[0]) - before == Arena.PRIZE


def test_finalize_with_nothing_revealed_refunds_everything(arena, comp, token, a):
    cid, ranking = arena.run([5, 6], reveal=[False, False])
    assert ranking == []
    before = owed(comp, token, a.client)
    assert arena.finalize(cid, []) == Arena.PRIZE + 2 * BOND
    assert owed(comp, token, a.client) - before == Arena.PRIZE + 2 * BOND
    assert comp.competition(cid).status == FINALIZED


def test_every_entry_is_revealable_and_ranked(arena, comp, token, a):
    """No reveal cap: 300 entries all reveal, and the finalization costs the same whatever
    their number (a root and the winners, not the whole ranking)."""
    cid = arena.create(daily_limit=255, prize_bps=[1_000] * 10)
    entries = [arena.commit(P[i % 2], cid) for i in range(300)]
    arena.to_reveal(cid)
    for e in entries:
        arena.reveal(cid, e)
    assert comp.revealed_count(cid) == 300
    arena.to_finalize(cid)
    ranking = [(e, (e * 7919) % 1000) for e in entries]
    refund = arena.finalize(cid, ranking)
    gas = comp._computation.get_gas_used()
    assert refund == 0 and len(events(comp, "PrizeAwarded")) == 10
    assert gas < 500_000, gas  # execution gas (titanoboa leaves out calldata and the 21k base)
    last = ranking[-1]
    assert comp.verify_score(cid, *last, score_proof(ranking, *last))


# --------------------------------------------------------------------------- finalize: refusals


@pytest.fixture
def judged(arena):
    """A competition past its reveal period with entries 0, 1, 3 revealed (2 is not)."""
    cid, ranking = arena.run([10, 20, 30, 40], reveal=[True, True, False, True])
    assert ranking == [(0, 10), (1, 20), (3, 40)]
    return cid, ranking


def test_the_signed_entry_count_must_be_the_revealed_count(arena, comp, judged):
    cid, ranking = judged
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, ranking[:2], arena.signatures(cid, ranking[:2]))  # an entry left out
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, ranking, arena.signatures(cid, ranking, entries=4))
    assert comp.competition(cid).status == OPEN
    arena.finalize(cid, ranking)


def test_finalize_only_after_the_reveal_period(arena, comp):
    cid = arena.create()
    e = arena.commit(P[0], cid)
    arena.to_reveal(cid)
    arena.reveal(cid, e)
    travel_to(arena.deadline(cid) + Arena.REVEAL_PERIOD)
    with boa.reverts("competition: reveal period not over"):
        arena.finalize(cid, [(e, 1)])
    boa.env.time_travel(seconds=1)
    arena.finalize(cid, [(e, 1)])


def test_wrong_labels_reveal_refused(arena, comp, judged):
    cid, ranking = judged
    with boa.reverts("competition: labels do not match the commitment"):
        arena.finalize(cid, ranking, labels_cid=LABELS_CID + b"x")
    with boa.reverts("competition: labels do not match the commitment"):
        arena.finalize(cid, ranking, labels_salt=keccak(b"other salt"))
    with boa.reverts("competition: unknown competition"):
        arena.finalize(cid + 1, ranking, [])


def test_signature_rules(arena, comp, committee, judged):
    cid, ranking = judged
    root, winners = arena.result(cid, ranking)
    message = final_scores_message(comp, cid, root, len(ranking), winners_hash(winners), labels_commitment())
    o = sorted(ORACLES, key=lambda acc: int(acc.address, 16))
    sig = {acc.address: s for acc, s in zip(o, sign_all(o, message), strict=True)}
    with boa.reverts("competition: too few signatures"):
        arena.finalize(cid, ranking, [sig[o[0].address], sig[o[1].address]])
    with boa.reverts("competition: too few signatures"):
        arena.finalize(cid, ranking, [])
    with boa.reverts("competition: signers not strictly ascending"):  # one member counted twice
        arena.finalize(cid, ranking, [sig[o[0].address], sig[o[0].address], sig[o[1].address]])
    with boa.reverts("competition: signers not strictly ascending"):
        arena.finalize(cid, ranking, sign_all(o[:3], message, order="descending"))
    outsider = new_account("not an oracle")
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, ranking, sign_all([o[0], o[1], outsider], message))
    with boa.reverts():  # garbage signature
        arena.finalize(cid, ranking, [sig[o[0].address], sig[o[1].address], b"\x01" * 65])
    with boa.reverts("competition: signer is not an oracle"):  # wrong length recovers no one
        arena.finalize(cid, ranking, [sig[o[0].address], sig[o[1].address], b"\x01" * 10])
    # a member removed from the committee no longer counts
    committee.set_oracle(o[2].address, False)
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, ranking, [sig[o[0].address], sig[o[1].address], sig[o[2].address]])
    committee.set_oracle(o[2].address, True)
    # a committee misconfigured with threshold 0 cannot wave results through
    committee.set_threshold(0)
    with boa.reverts("competition: committee threshold is zero"):
        arena.finalize(cid, ranking, [])
    committee.set_threshold(THRESHOLD)
    # more than the threshold is fine, and EIP-2098 compact signatures work too
    all_four = sign_all(o, message)
    arena.finalize(cid, ranking, [compact(all_four[0]), *all_four[1:]])
    assert comp.competition(cid).status == FINALIZED


def test_signatures_bind_scores_competition_labels_and_chain(arena, comp, judged):
    cid, ranking = judged
    o = ORACLES[:THRESHOLD]
    tampered = [(0, 10), (1, 99), (3, 40)]  # the signed result, other scores relayed
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, tampered, arena.signatures(cid, ranking))
    root, winners = arena.result(cid, ranking)
    wh = winners_hash(winners)
    # replay: the same oracles sign the same result for another competition
    cid2, ranking2 = arena.run([10, 20, 30, 40], reveal=[True, True, False, True])
    assert ranking2 == ranking
    replay = sign_all(o, final_scores_message(comp, cid2, root, 3, wh, labels_commitment()))
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, ranking, replay)
    other_labels = sign_all(o, final_scores_message(comp, cid, root, 3, wh, keccak(b"other labels")))
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, ranking, other_labels)
    other_chain = sign_all(
        o, final_scores_message(comp, cid, root, 3, wh, labels_commitment(), chain=chain_id() + 1)
    )
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, ranking, other_chain)
    other_domain = sign_all(
        o, final_scores_message(comp, cid, root, 3, wh, labels_commitment(), name="proofwork JobEscrow")
    )
    with boa.reverts("competition: signer is not an oracle"):
        arena.finalize(cid, ranking, other_domain)
    arena.finalize(cid2, ranking, replay)  # ... and they are valid where they belong


def test_finalize_twice_refused(arena, comp, judged):
    cid, ranking = judged
    sigs = arena.signatures(cid, ranking)
    arena.finalize(cid, ranking, sigs)
    with boa.reverts("competition: already closed"):
        arena.finalize(cid, ranking, sigs)
    with boa.reverts("competition: already closed"):
        comp.cancel_unjudged(cid, sender=arena.client)
    travel_to(now() + GRACE_PERIOD + Arena.REVEAL_PERIOD)
    with boa.reverts("competition: already closed"):
        comp.cancel_unjudged(cid, sender=arena.client)


def test_withdraw_is_not_reentrant(arena, comp, a, reentrant_deployer):
    t = reentrant_deployer.deploy()
    t.mint(a.client.address, Arena.PRIZE)
    t.approve(comp.address, Arena.PRIZE, sender=a.client.address)
    cid = comp.create(*arena.params(token=t.address, prize_bps=[10_000]).values(), sender=a.client.address)
    arena.confirm(cid)
    t.mint(P[0].address, BOND)
    t.approve(comp.address, BOND, sender=P[0].address)
    e = comp.commit(cid, submission_commitment(b"c", ZERO32, P[0].address), b"", sender=P[0].address)
    arena.to_reveal(cid)
    comp.reveal(cid, e, b"c", ZERO32, sender=P[0].address)
    arena.to_finalize(cid)
    assert arena.finalize(cid, [(e, 1)]) == 0
    # the payment to the winner calls withdraw again from inside the token
    t.arm(comp.address, comp.withdraw.prepare_calldata(t.address), False)
    assert comp.withdraw(t.address, sender=P[0].address) == Arena.PRIZE + BOND
    assert t.attempts() == 1 and not t.last_ok()  # the nested withdraw was refused
    assert t.balanceOf(P[0].address) == Arena.PRIZE + BOND and t.balanceOf(comp.address) == 0


def test_a_winner_that_cannot_receive_blocks_nobody(arena, comp, a, blocklist_token):
    """Payouts are pulled: a winner whose transfers revert keeps its credit; the others,
    and the client, withdraw theirs."""
    t = blocklist_token
    arena = Arena(comp, t, arena.committee, None, a.client.address, list(ORACLES))
    arena.bankroll(*P)
    cid, ranking = arena.run([9, 8, 7], submitters=P[:3])
    t.set_blocked(P[1].address, True)
    assert arena.finalize(cid, ranking) == 0
    with boa.reverts("blocklist: account blocked"):
        comp.withdraw(t.address, sender=P[1].address)
    for winner, share in ((P[0], 5_000), (P[2], 2_000)):
        before = t.balanceOf(winner.address)
        assert arena.withdraw(winner) == Arena.PRIZE * share // BPS + BOND
        assert t.balanceOf(winner.address) - before == Arena.PRIZE * share // BPS + BOND
    assert owed(comp, t, P[1]) == Arena.PRIZE * 3_000 // BPS + BOND
    t.set_blocked(P[1].address, False)
    assert arena.withdraw(P[1]) == Arena.PRIZE * 3_000 // BPS + BOND
    assert t.balanceOf(comp.address) == 0


# --------------------------------------------------------------------------- cancel_unjudged


def test_cancel_with_no_commits_right_after_the_deadline(arena, comp, token, a):
    cid = arena.create()
    travel_to(arena.deadline(cid))
    with boa.reverts("competition: too early to cancel"):
        comp.cancel_unjudged(cid, sender=a.client.address)
    boa.env.time_travel(seconds=1)
    with boa.reverts("competition: caller is not the client"):
        comp.cancel_unjudged(cid, sender=a.outsider.address)
    assert comp.cancel_unjudged(cid, sender=a.client.address) == Arena.PRIZE
    (ev,) = events(comp, "CompetitionCancelled")
    assert (ev.comp_id, ev.refunded) == (cid, Arena.PRIZE)
    assert arena.withdraw(a.client) == Arena.PRIZE
    assert bal(token, a.client) == Arena.PRIZE and bal(token, comp) == 0
    assert comp.competition(cid).status == CANCELLED
    with boa.reverts("competition: already closed"):
        comp.cancel_unjudged(cid, sender=a.client.address)
    with boa.reverts("competition: already closed"):
        arena.finalize(cid, [])
    with boa.reverts("competition: unknown competition"):
        comp.cancel_unjudged(cid + 1, sender=a.client.address)


def test_cancel_when_nothing_was_revealed(arena, comp, token, a):
    cid = arena.create()
    arena.commit(P[0], cid)
    arena.to_reveal(cid)
    with boa.reverts("competition: too early to cancel"):
        comp.cancel_unjudged(cid, sender=a.client.address)
    arena.to_finalize(cid)
    assert comp.cancel_unjudged(cid, sender=a.client.address) == Arena.PRIZE + BOND  # the bond is forfeited
    assert arena.withdraw(a.client) == Arena.PRIZE + BOND


def test_cancel_any_time_while_the_labels_are_unconfirmed(arena, comp, token, a):
    """Nobody can have entered: the client may take the prize back at once."""
    cid = arena.create(confirm=False)
    assert comp.cancel_unjudged(cid, sender=a.client.address) == Arena.PRIZE
    with boa.reverts("competition: already closed"):
        arena.confirm(cid)


def test_cancel_after_the_grace_period_when_the_committee_is_silent(arena, comp, token, a, judged):
    cid, ranking = judged
    c = comp.competition(cid)
    end = c.deadline + c.reveal_period + GRACE_PERIOD
    with boa.reverts("competition: too early to cancel"):
        comp.cancel_unjudged(cid, sender=a.client.address)
    travel_to(end)
    with boa.reverts("competition: too early to cancel"):
        comp.cancel_unjudged(cid, sender=a.client.address)
    boa.env.time_travel(seconds=1)
    before = owed(comp, token, a.client)
    assert comp.cancel_unjudged(cid, sender=a.client.address) == Arena.PRIZE + BOND  # entry 2 never revealed
    assert owed(comp, token, a.client) - before == Arena.PRIZE + BOND
    with boa.reverts("competition: already closed"):
        arena.finalize(cid, ranking)


def test_finalize_still_possible_late_if_nobody_cancelled(arena, comp, judged):
    cid, ranking = judged
    travel_to(now() + GRACE_PERIOD + 10 * DAY)
    arena.finalize(cid, ranking)
    assert comp.competition(cid).status == FINALIZED


def test_prizes_of_competitions_are_kept_apart(arena, comp, token, a):
    c1, r1 = arena.run([1, 2], prize=1_000)
    c2 = arena.create(prize=7_000)
    arena.finalize(c1, r1)
    for who in [*P, a.client]:
        arena.withdraw(who)
    assert bal(token, comp) == 7_000
    assert comp.competition(c2).status == OPEN


# --------------------------------------------------------------------------- property


@st.composite
def prize_splits(draw):
    k = draw(st.integers(1, 10))
    weights = sorted(draw(st.lists(st.integers(1, 1_000), min_size=k, max_size=k)), reverse=True)
    bps = [w * BPS // sum(weights) for w in weights]
    bps[0] += BPS - sum(bps)
    return bps


@st.composite
def contests(draw):
    n = draw(st.integers(0, 12))
    scores = draw(st.lists(st.integers(-3, 3).map(lambda x: x * SCORE_ONE // 2), min_size=n, max_size=n))
    reveal = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return {
        "scores": scores,
        "reveal": reveal,
        "prize_bps": draw(prize_splits()),
        "prize": draw(st.integers(1, 10**15)),
        "min_score": draw(st.integers(-2, 2)) * SCORE_ONE // 2,
        "higher_is_better": draw(st.booleans()),
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(contest=contests())
def test_payouts_match_the_reference(comp, token, committee, accounts, contest):
    """Random scores, reveals and prize splits: the winners are the true top k reaching
    the bar (ties to the earliest commit), each paid prize * bps // 10000, the client gets
    the rest, and sum(payouts) + refund == prize."""
    arena = make_arena(comp, token, committee, accounts)
    client = accounts.client.address
    cid, ranking = arena.run(
        contest["scores"],
        reveal=contest["reveal"],
        prize=contest["prize"],
        prize_bps=contest["prize_bps"],
        min_score=contest["min_score"],
        higher_is_better=contest["higher_is_better"],
    )
    before = {p.address: owed(comp, token, p) for p in P} | {client: owed(comp, token, client)}
    refund = arena.finalize(cid, ranking)
    logs = comp.get_logs()
    expected, expected_refund = reference_payouts(
        ranking, contest["prize_bps"], contest["prize"], contest["min_score"], contest["higher_is_better"]
    )
    forfeited = (len(contest["scores"]) - len(ranking)) * BOND
    assert refund == expected_refund + forfeited
    assert sum(x for _, _, x in expected) + refund == contest["prize"] + forfeited
    assert_paid(comp, token, expected, refund, before, client)
    winners = [ev.winner for ev in events(comp, "PrizeAwarded", logs)]
    assert winners == [arena.secrets[(cid, e)].submitter for _, e, _ in expected]
