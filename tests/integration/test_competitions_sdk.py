"""Competitions end to end, on the embedded chain and on anvil: four oracles (one lying) confirm the
hidden labels, score sealed entries in the real sandbox for the public leaderboard, and after the
reveal period sign the Merkle root of every revealed entry's private score with the winners; every
payout is credited and pulled. The scores tree is checked against the contract's own `verify_score`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from proofwork.chain.compiler import ContractCompiler
from proofwork.chain.encoding import labels_commitment, submission_commitment
from proofwork.chain.scores_tree import ScoresTree, verify_score
from proofwork.domain.errors import NotAllowed, TransactionRejected
from proofwork.keys.sealing import seal
from proofwork.network.peers import HttpPeers
from proofwork.sdk import Signer
from proofwork.services.competitions import Competitions
from proofwork.services.evaluated_jobs import AGGREGATION_GRACE, INT256_MIN
from proofwork.services.task_files import HiddenLabels, committee_recipients
from proofwork.storage.unixfs import cid_of_bytes, cid_to_bytes
from tests.integration.conftest import BACKENDS
from tests.integration.ml_fixtures import DAY, MlMarket, open_ml_market

MOCKS = Path(__file__).resolve().parents[1] / "contracts" / "mocks"


@pytest.fixture(scope="module", params=BACKENDS)
def ml(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, digits_task: dict[str, Path]
) -> Iterator[MlMarket]:
    """The embedded chain with an SQLite file per oracle; anvil with the four oracles sharing one
    PostgreSQL database."""
    rpc_url = request.getfixturevalue("anvil_url") if request.param == "anvil" else None
    oracle_db = request.getfixturevalue("postgres").create_database() if request.param == "anvil" else None
    data_dir = tmp_path_factory.mktemp(f"competitions-{request.param}")
    with open_ml_market(request.param, rpc_url, data_dir, digits_task, oracle_db) as market:
        yield market


def create(ml: MlMarket, prize: str | int = "10", client: Signer | None = None, **terms: object) -> int:
    """A competition of `prize` tokens (token units when an int; a bond of 1 token, one place, no
    bar unless given), by `client` (default: the market's client)."""
    pw = ml.pw
    options: dict[str, object] = {
        "prize": pw.amount(prize) if isinstance(prize, str) else prize,
        "deadline": pw.now() + DAY,
        "reveal_period": DAY,
        "prize_bps": [10_000],
        "min_score": 0,
        "entry_bond": pw.amount("1"),
    }
    options.update(terms)
    comp_id, _ = Competitions(pw.ws).create(client or ml.client, ml.spec, ml.labels, **options)  # type: ignore[arg-type]
    return comp_id


def confirm(ml: MlMarket, comp_id: int) -> None:
    """Oracle passes until the committee has confirmed the labels (two at most: the designated
    oracle relays once a quorum of its peers has signed)."""
    for _ in range(2):
        steps = ml.run_oracles()
        if Competitions(ml.pw.ws).get(comp_id).labels_confirmed:
            assert sum(comp_id in s.confirmed for s in steps) == 1, "one oracle relayed it"
            return
    pytest.fail(f"competition {comp_id} was not confirmed: {[s.failures for s in steps]}")


def finalize(ml: MlMarket, comp_id: int) -> None:
    """Past the reveal period and the relay grace: the committee signs and one oracle finalizes."""
    ml.pw.advance_time(DAY + AGGREGATION_GRACE + 1)
    for _ in range(2):
        ml.run_oracles()
        if Competitions(ml.pw.ws).get(comp_id).finalized:
            return
    pytest.fail(f"competition {comp_id} was not finalized")


def commit_raw(ml: MlMarket, who: Signer, comp_id: int, sealed: bytes) -> tuple[int, bytes, bytes]:
    """An entry committed straight through the contract (bond approved): (entry, cid, salt)."""
    ws = ml.pw.ws
    comps = ws.competitions
    if ws.token.allowance(who.address, comps.address) < 2**200:
        ws.token.approve(who.key, comps.address, 2**255)
    cid, salt = os.urandom(36), os.urandom(32)
    receipt = comps.commit(who.key, comp_id, submission_commitment(cid, salt, who.address), sealed)
    return int(comps.receipt_events(receipt)[0].args["entry"]), cid, salt


def claimable(ml: MlMarket, who: str, token: str | None = None) -> int:
    return Competitions(ml.pw.ws).claimable(who, token)


def test_competition_public_leaderboard_then_private_winners(ml: MlMarket) -> None:
    pw = ml.pw
    comps = Competitions(pw.ws)
    prize, bond = pw.amount("1000"), pw.amount("1")
    comp_id = create(ml, "1000", prize_bps=[7000, 3000], daily_limit=1, public_percent=30)
    confirm(ml, comp_id)
    third = pw.signer("dev4")
    pw.fund(third.address, pw.amount("5"))
    # credits are per account across competitions: what earlier tests left unwithdrawn is counted apart
    credited = {who.address: claimable(ml, who.address) for who in (ml.good, ml.weak, third)}
    good_entry, _ = comps.enter(ml.good, comp_id, ml.models["good"])
    weak_entry, _ = comps.enter(ml.weak, comp_id, ml.models["weak"])
    broken_entry, _ = comps.enter(third, comp_id, ml.models["broken"])
    with pytest.raises(TransactionRejected, match="daily submission limit"):
        comps.enter(ml.good, comp_id, ml.models["weak"])
    ml.run_oracles()
    peers = HttpPeers()
    try:
        comp, rows = comps.leaderboard(comp_id, peers)
        by_entry = {r.entry: r for r in rows}
        assert rows[0].entry == good_entry
        assert by_entry[good_entry].public_score > by_entry[weak_entry].public_score > 0
        assert all(r.private_score is None and r.proof is None for r in rows), "private scores stay hidden"
        assert by_entry[good_entry].oracles == 4
        pw.advance_time(DAY + 1)
        for who in (ml.good, ml.weak, third):
            comps.reveal_all(who, comp_id)
        assert claimable(ml, ml.weak.address) - credited[ml.weak.address] == bond, (
            "a revealed entry's bond is credited back"
        )
        finalize(ml, comp_id)
        comp, rows = comps.leaderboard(comp_id, peers)
    finally:
        peers.close()
    assert comp.finalized and [e for e, _ in comp.winners] == [good_entry, weak_entry]
    assert [(r.entry, r.place, r.prize) for r in rows] == [
        (good_entry, 0, prize * 7000 // 10_000),
        (weak_entry, 1, prize * 3000 // 10_000),
        (broken_entry, None, 0),
    ]
    assert {r.entry: r.private_score for r in rows}[broken_entry] == INT256_MIN
    # every revealed entry's private score is proven against the root the committee signed, by the
    # contract itself; a proof is good for its own score only
    contract = pw.ws.competitions
    assert comp.scores_root == contract.competition(comp_id).scores_root != bytes(32)
    for r in rows:
        assert r.proof is not None and r.private_score is not None
        assert contract.verify_score(comp_id, r.entry, r.private_score, r.proof)
        assert verify_score(comp.scores_root, r.entry, r.private_score, r.proof)
        assert not contract.verify_score(comp_id, r.entry, r.private_score + 1, r.proof)
    # the liar's private scores (1.0 for all) were outvoted: the winners' scores are the honest ones
    assert 900_000 < comp.winners[0][1] < 1_000_000
    # payouts are pulled: each winner withdraws its prize with its bond
    before = pw.balance(ml.good.address)
    amount, _ = comps.withdraw(ml.good)
    assert amount - credited[ml.good.address] == prize * 7000 // 10_000 + bond
    assert pw.balance(ml.good.address) - before == amount
    assert claimable(ml, ml.good.address) == 0
    with pytest.raises(NotAllowed, match="nothing to withdraw"):
        comps.withdraw(ml.good)
    assert (
        claimable(ml, third.address) - credited[third.address] == bond
    )  # a losing entry revealed gets its bond back too


def test_garbage_and_copied_competition_entries_do_not_block_the_rest(ml: MlMarket) -> None:
    pw, ws = ml.pw, ml.pw.ws
    comps = Competitions(ws)
    comp_id = create(ml)
    confirm(ml, comp_id)
    good_entry, _ = comps.enter(ml.good, comp_id, ml.models["good"])
    copier, garbler = pw.signer("dev4"), pw.signer("dev5")
    for who in (copier, garbler):
        pw.fund(who.address, pw.amount("5"))
    garbage = commit_raw(ml, garbler, comp_id, b"not a cid")
    copied_envelope = cid_to_bytes(comps.get(comp_id).entries[good_entry].sealed_submission or "")
    copy = commit_raw(ml, copier, comp_id, copied_envelope)
    ml.run_oracles()
    public = {r.item: r for r in ml.states[0].reports(ws.competitions.address, "public", comp_id)}
    assert public[good_entry].ok and public[good_entry].score > 900_000
    assert not public[garbage[0]].ok and public[garbage[0]].score == INT256_MIN
    assert not public[copy[0]].ok and "copy" in public[copy[0]].reason
    pw.advance_time(DAY + 1)
    comps.reveal_all(ml.good, comp_id)
    for who, (entry, cid, salt) in ((garbler, garbage), (copier, copy)):
        ws.competitions.reveal(who.key, comp_id, entry, cid, salt)
    before = claimable(ml, ml.good.address)
    finalize(ml, comp_id)
    comp = comps.get(comp_id)
    assert comp.winners == [(good_entry, comp.winners[0][1])] and comp.winners[0][1] > 900_000
    assert claimable(ml, ml.good.address) - before == pw.amount("10")
    # revealed, so in the tree, scoring nothing
    peers = HttpPeers()
    try:
        tree = comps.scores_tree(comp, peers)
    finally:
        peers.close()
    assert tree is not None and tree.scores[garbage[0]] == tree.scores[copy[0]] == INT256_MIN


def test_a_competition_takes_no_entries_until_the_committee_confirms_its_labels(ml: MlMarket) -> None:
    pw, ws = ml.pw, ml.pw.ws
    comps = Competitions(ws)
    comp_id = create(ml)
    with pytest.raises(NotAllowed, match="not confirmed that its hidden labels"):
        comps.enter(ml.good, comp_id, ml.models["good"])
    with pytest.raises(TransactionRejected, match="labels not confirmed"):
        commit_raw(ml, ml.good, comp_id, b"anything")
    assert comps.get(comp_id).entries == []
    confirm(ml, comp_id)
    entry, steps = comps.enter(ml.good, comp_id, ml.models["good"])
    assert entry == 0 and [name for name, _ in steps][-1] == "commit"
    # a client whose sealed labels do not open its commitment never gets a confirmation; nobody can
    # enter, and it may take its prize back at once
    labels = ml.labels.read_bytes()
    honest = HiddenLabels(labels, cid_of_bytes(labels), os.urandom(32))
    scrambled = labels.replace(b"1", b"7")
    sealed = ws.store.add_bytes(
        seal(
            HiddenLabels(scrambled, cid_of_bytes(scrambled), honest.salt).to_json(),
            committee_recipients(ws.committee),
        )
    )
    spec_hash = comps.get(comp_id).spec_hash
    ws.token.approve(ml.client.key, ws.competitions.address, pw.amount("10"))
    receipt = ws.competitions.create(
        ml.client.key,
        token=ws.token.address,
        prize=pw.amount("10"),
        spec_hash=spec_hash,
        commitment=labels_commitment(honest.cid_bytes, honest.salt, spec_hash),
        deadline=pw.now() + DAY,
        reveal_period=DAY,
        daily_limit=5,
        entry_bond=pw.amount("1"),
        public_percent=30,
        prize_bps=[10_000],
        min_score=0,
        higher_is_better=True,
        sealed_labels=cid_to_bytes(sealed),
    )
    cheat = int(ws.competitions.receipt_events(receipt)[0].args["comp_id"])
    for _ in range(2):
        steps = ml.run_oracles()
        assert all(any("do not match" in line for line in s.failures) for s in steps)
    assert not comps.get(cheat).labels_confirmed
    assert all(not s.reports(ws.competitions.address, "labels", cheat) for s in ml.states)
    with pytest.raises(NotAllowed, match="takes no entries yet"):
        comps.enter(ml.good, cheat, ml.models["good"])
    before = claimable(ml, ml.client.address)
    refund, _ = comps.cancel(ml.client, cheat)
    assert refund == pw.amount("10") and claimable(ml, ml.client.address) - before == refund


def test_the_designated_oracle_relays_first_and_the_others_after_a_grace(ml: MlMarket) -> None:
    """With the competition's designated oracle down, the other three sign the confirmation at once
    but relay it only after `AGGREGATION_GRACE`: one of them does, and entries open."""
    pw = ml.pw
    comp_id = create(ml)
    oracles = pw.ws.committee.oracles
    designated = oracles[comp_id % len(oracles)].lower()
    others = [n for n in ml.nodes if n.signer.address.lower() != designated]
    for _ in range(2):
        ml.run_oracles(others)
    assert not Competitions(pw.ws).get(comp_id).labels_confirmed
    signed = [s for s in ml.states if s.reports(pw.ws.competitions.address, "labels", comp_id)]
    assert len(signed) == 3, "three confirmations signed and served, not relayed yet"
    pw.advance_time(AGGREGATION_GRACE + 1)
    steps = ml.run_oracles(others)
    assert Competitions(pw.ws).get(comp_id).labels_confirmed
    assert sum(comp_id in s.confirmed for s in steps) == 1
    assert not any("confirming the labels refused" in line for s in steps for line in s.failures)


def test_bonds_of_unrevealed_entries_go_to_the_client(ml: MlMarket) -> None:
    pw = ml.pw
    comps = Competitions(pw.ws)
    prize, bond = pw.amount("10"), pw.amount("2")
    client = pw.signer("dev0")  # a client of no other competition: its credits are this one's only
    pw.fund(client.address, prize)
    comp_id = create(ml, "10", client, entry_bond=bond, prize_bps=[6000, 4000], min_score=900_000)
    confirm(ml, comp_id)
    spammer = pw.signer("dev5")
    pw.fund(spammer.address, pw.amount("10"))
    good_entry, _ = comps.enter(ml.good, comp_id, ml.models["good"])
    spam = [commit_raw(ml, spammer, comp_id, b"not a cid") for _ in range(3)]
    ml.run_oracles()
    pw.advance_time(DAY + 1)
    comps.reveal(ml.good, comp_id, good_entry)
    entry, cid, salt = spam[0]
    pw.ws.competitions.reveal(spammer.key, comp_id, entry, cid, salt)  # one of three revealed
    spammer_before = claimable(ml, spammer.address)
    finalize(ml, comp_id)
    comp = comps.get(comp_id)
    # one winner (the spam scores nothing and is under the bar): 60 % to it, the unawarded 40 % and
    # the two forfeited bonds to the client
    assert [e for e, _ in comp.winners] == [good_entry]
    assert comp.refunded == prize * 4000 // 10_000 + 2 * bond
    assert claimable(ml, client.address) == comp.refunded
    assert claimable(ml, spammer.address) - spammer_before == 0  # its revealed bond came at reveal
    assert spammer_before >= bond
    assert claimable(ml, ml.good.address) >= prize * 6000 // 10_000 + bond


@pytest.mark.slow
@pytest.mark.anvil
@pytest.mark.parametrize("ml", ["anvil"], indirect=True)
def test_a_flood_of_entries_is_all_revealed_and_ranked(ml: MlMarket) -> None:
    """More entries than the old cap of 256 revealed rankings: every one is revealed, scored and
    proven in the tree; the flood (copies of the good entry's envelope) scores nothing. On anvil only:
    its 520 transactions take 90 s on the embedded chain (py-evm's gas estimation) against 35 s there,
    and the contract's own property (every entry of 400+ revealable) is checked for every backend by
    tests/contracts/test_competition_invariants.py."""
    pw, ws = ml.pw, ml.pw.ws
    comps = Competitions(ws)
    comp_id = create(ml, daily_limit=255, entry_bond=1)
    confirm(ml, comp_id)
    good_entry, _ = comps.enter(ml.good, comp_id, ml.models["good"])
    envelope = cid_to_bytes(comps.get(comp_id).entries[good_entry].sealed_submission or "")
    flooders = [pw.signer("dev4"), pw.signer("dev5")]
    for who in flooders:
        pw.fund(who.address, 1_000)
    flood = [commit_raw(ml, flooders[i // 255], comp_id, envelope) for i in range(260)]
    ml.run_oracles()
    pw.advance_time(DAY + 1)
    comps.reveal(ml.good, comp_id, good_entry)
    for i, (entry, cid, salt) in enumerate(flood):
        ws.competitions.reveal(flooders[i // 255].key, comp_id, entry, cid, salt)
    assert ws.competitions.revealed_count(comp_id) == 261
    finalize(ml, comp_id)
    peers = HttpPeers()
    try:
        comp, rows = comps.leaderboard(comp_id, peers)
    finally:
        peers.close()
    assert comp.winners[0][0] == good_entry and len(comp.winners) == 1
    assert len(rows) == 261 and all(r.proof is not None for r in rows)
    tree = ScoresTree((r.entry, r.private_score or 0) for r in rows)
    assert tree.root == comp.scores_root
    assert {r.private_score for r in rows if r.entry != good_entry} == {INT256_MIN}
    for r in rows[:3] + rows[-3:]:
        assert ws.competitions.verify_score(comp_id, r.entry, r.private_score or 0, r.proof or [])


def test_a_winner_whose_transfer_reverts_blocks_nobody(
    ml: MlMarket, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Prizes in a token with a blocklist: the first winner is blocked before the result; the
    result goes through, and the second winner and the client (the third place nobody took)
    withdraw theirs."""
    pw, ws = ml.pw, ml.pw.ws
    cache = Path(os.environ.get("PROOFWORK_CACHE_DIR") or tmp_path_factory.mktemp("artifacts"))
    artifact = ContractCompiler(cache, MOCKS).get("BlocklistToken")
    deployed = ws.chain.deploy(pw.signer("dev0").key, artifact.abi, artifact.bytecode)
    address = str(deployed.contract_address)
    blocklist = ws.chain.contract(artifact.abi, address)
    token = ws.token_at(address)
    prize, bond = 1_000_000, 10
    for who in (ml.client, ml.good, ml.weak):
        token.mint(pw.signer("dev0").key, who.address, 10 * prize)
    comps = Competitions(ws)
    comp_id = create(ml, prize, token=address, entry_bond=bond, prize_bps=[6000, 3000, 1000])
    confirm(ml, comp_id)
    good_entry, _ = comps.enter(ml.good, comp_id, ml.models["good"])
    weak_entry, _ = comps.enter(ml.weak, comp_id, ml.models["weak"])
    ml.run_oracles()
    pw.advance_time(DAY + 1)
    comps.reveal_all(ml.good, comp_id)
    comps.reveal_all(ml.weak, comp_id)
    ws.chain.transact(pw.signer("dev0").key, blocklist.functions.set_blocked(ml.good.address, True))
    finalize(ml, comp_id)
    comp = comps.get(comp_id)
    assert [e for e, _ in comp.winners] == [good_entry, weak_entry]
    with pytest.raises(TransactionRejected, match="blocklist: account blocked"):
        comps.withdraw(ml.good, address)
    assert claimable(ml, ml.good.address, address) == prize * 6000 // 10_000 + bond  # still owed
    before = token.balance_of(ml.weak.address)
    amount, _ = comps.withdraw(ml.weak, address)
    assert amount == prize * 3000 // 10_000 + bond
    assert token.balance_of(ml.weak.address) - before == amount
    assert comps.withdraw(ml.client, address)[0] == comp.refunded == prize * 1000 // 10_000
