"""The DAO through proofwork's chain adapter and service, on the embedded chain: deployed over the
court's PWK, handed the platform, a proposal read back from its event and told in words, a vote relayed
by signature, queued, executed after the timelock's delay."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofwork.chain.governance import Call, check_calls, support_of
from proofwork.domain.errors import InvalidInput, TransactionRejected
from proofwork.sdk import Proofwork
from proofwork.services import governance

E18 = 10**18
DAY = 86_400


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory):
    with Proofwork.open(Path(tmp_path_factory.mktemp("dao")), None) as pw:
        pw.deploy()
        pw.deploy_committee(["dev6", "dev7", "dev8", "dev9"], f=1)
        pw.identity.deploy()
        pw.court.deploy()
        yield pw


def test_dao_lowers_the_fee_and_accredits_an_issuer(platform: Proofwork) -> None:
    ws = platform.ws
    dev0, dev1, dev2, dev3 = (platform.signer(f"dev{i}") for i in range(4))
    params = governance.DaoParams(
        voting_delay=1, voting_period=5, proposal_threshold=1_000 * E18, timelock_delay=DAY
    )
    dao, gas = governance.deploy_dao(ws, dev0, params)
    assert set(gas) == {"deploy Timelock", "deploy Governor", "set governor"}
    pwk = ws.chain.contract(ws.artifacts.get("CourtToken").abi, ws.deployment.court_token)
    for holder in (dev1, dev2):
        ws.chain.transact(dev0.key, pwk.functions.transfer(holder.address, 100_000 * E18))
        ws.chain.transact(holder.key, pwk.functions.delegate(holder.address))
    handed = governance.hand_over(ws, dev0, dao)
    assert handed == ["escrow fee", "escrow treasury", "issuer accreditation", "badge auto-minter"]
    assert ws.escrow.owner() == dao.timelock
    with pytest.raises(TransactionRejected, match="ownable: caller is not the owner"):
        ws.escrow.set_fee(dev0.key, 0)

    governor = governance.governor_handle(ws, dao)
    escrow, registry = ws.escrow.contract, ws.issuer_registry.contract
    calls = [
        Call(ws.escrow.address, 0, bytes.fromhex(escrow.encode_abi("set_fee", args=[200])[2:])),
        Call(
            ws.issuer_registry.address,
            0,
            bytes.fromhex(
                registry.encode_abi("accredit", args=[dev3.address, "did:web:uni.example", "Uni"])[2:]
            ),
        ),
    ]
    pid, _ = governor.propose(dev1.key, calls, "Lower the fee; accredit the university")
    proposal = governor.proposal(pid)
    assert proposal.calls == tuple(calls) and proposal.proposer == dev1.address
    words = [governance.describer(ws, dao).describe(c) for c in proposal.calls]
    assert words == [
        "set the platform fee from 2.5 % to 2 %",
        f"accredit did:web:uni.example (Uni) as a credential issuer, account {dev3.address}",
    ]
    assert governor.state(pid) == "pending"
    ws.chain.advance_time(1)  # the snapshot block passes
    # dev2 votes without gas: dev3 relays its signed ballot
    signature = governor.sign_ballot(dev2.key, pid, support_of("for"))
    governor.vote_by_sig(dev3.key, pid, 1, dev2.address, signature)
    with pytest.raises(TransactionRejected, match="governor: already voted"):
        governor.vote_by_sig(dev3.key, pid, 1, dev2.address, signature)
    governor.vote(dev1.key, pid, support_of("against"))
    assert governor.tallies(pid) == {"for": 100_000 * E18, "against": 100_000 * E18, "abstain": 0}
    for _ in range(5):
        ws.chain.advance_time(1)
    assert governor.state(pid) == "defeated"  # a tie

    pid2, _ = governor.propose(dev1.key, calls, "Lower the fee; accredit the university (again)")
    ws.chain.advance_time(1)
    governor.vote(dev1.key, pid2, 1)
    for _ in range(5):
        ws.chain.advance_time(1)
    assert governor.state(pid2) == "succeeded"
    with pytest.raises(TransactionRejected, match="governor: proposal has not passed"):
        governor.queue(dev3.key, pid)
    governor.queue(dev3.key, pid2)
    assert governor.state(pid2) == "queued"
    assert governor.eta(pid2) == governance.timelock_handle(ws, dao).ready_at(pid2)
    with pytest.raises(TransactionRejected, match="timelock: operation not ready"):
        governor.execute(dev3.key, governor.proposal(pid2))
    ws.chain.advance_time(DAY)
    governor.execute(dev3.key, governor.proposal(pid2))
    assert governor.state(pid2) == "executed"
    assert ws.escrow.fee_bps() == 200
    assert ws.issuer_registry.is_accredited(dev3.address)
    assert [p.id for p in governor.proposals()] == [pid, pid2]


def test_bad_input_is_one_line(platform: Proofwork) -> None:
    with pytest.raises(InvalidInput, match="for, against or abstain"):
        support_of("maybe")
    with pytest.raises(InvalidInput, match="at least one call"):
        check_calls([], "x")
    with pytest.raises(InvalidInput, match="quorum"):
        governance.DaoParams(quorum_bps=0).check()
