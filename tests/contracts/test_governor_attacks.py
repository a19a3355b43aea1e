"""The DAO builder's own attacks, kept as proofs of concept (each attack fails, or its limit is shown):
flash-loaned and just-bought votes, proposal spam, timelock griefing, signature replay and
malleability."""

from __future__ import annotations

import boa
import pytest
from escrow_harness import new_account
from governance_fixtures import (
    AGAINST,
    DEFEATED,
    EXECUTED,
    FOR,
    HOLDING,
    QUEUED,
    SUPPLY,
    THRESHOLD,
    TIMELOCK_DELAY,
    Dao,
    mine,
    partial,
    sign_ballot,
)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture(scope="module")
def dao():
    return Dao()


def drain_proposal(dao: Dao, proposer, description: str = "Send the treasury to the attacker"):
    """A hostile proposal: hand the escrow (and its fees) to the proposer."""
    return dao.proposal(
        proposer,
        [
            (
                dao.escrow,
                dao.escrow.transfer_ownership.prepare_calldata(str(getattr(proposer, "address", proposer))),
            )
        ],
        description,
    )


# --------------------------------------------------------------------------- borrowed votes


def test_flash_loaned_votes_count_for_nothing(dao):
    """The attacker borrows 40 % of the supply for one block (a flash loan: received, delegated, used,
    returned within the block) during the vote: its weight is its votes at the snapshot, 0."""
    attacker = new_account("flash attacker")
    honest = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "fee 2 %")
    pid = dao.propose(honest)
    dao.start_voting(pid)
    dao.vote(dao.holders[0], pid, FOR)
    lender = dao.deployer.address  # holds 75 % of the supply
    loan = 40 * SUPPLY // 100
    with boa.env.prank(lender):
        dao.pwk.transfer(attacker.address, loan)
    with boa.env.prank(attacker.address):
        dao.pwk.delegate(attacker.address)
        assert dao.pwk.getVotes(attacker.address) == loan
        with boa.reverts("governor: no votes at the snapshot"):
            dao.governor.castVote(pid, AGAINST)
        dao.pwk.transfer(lender, loan)
    dao.end_voting(pid)
    assert dao.governor.proposalVotes(pid) == (0, HOLDING, 0)


def test_flash_loan_cannot_make_a_proposal(dao):
    """Borrowing the threshold in the proposing block does not help: the threshold reads the previous block."""
    attacker = new_account("flash proposer")
    with boa.env.prank(dao.deployer.address):
        dao.pwk.transfer(attacker.address, 10 * THRESHOLD)
    with boa.env.prank(attacker.address):
        dao.pwk.delegate(attacker.address)
        with boa.reverts("governor: votes below the proposal threshold"):
            dao.governor.propose(*drain_proposal(dao, attacker).calls, "drain")


def test_votes_bought_after_the_proposal_and_moved_after_voting_count_once(dao):
    """A holder votes, then sells its tokens to an accomplice who votes again: the accomplice counts only
    its own snapshot weight (0 here), so the same tokens never vote twice."""
    seller, buyer = dao.holders[1], new_account("accomplice")
    p = drain_proposal(dao, dao.holders[0])
    pid = dao.propose(p)
    dao.start_voting(pid)
    dao.vote(seller, pid, FOR)
    with boa.env.prank(seller.address):
        dao.pwk.transfer(buyer.address, HOLDING)
    with boa.env.prank(buyer.address):
        dao.pwk.delegate(buyer.address)
    mine()
    with boa.reverts("governor: no votes at the snapshot"):
        dao.vote(buyer, pid, FOR)
    # and delegating after the snapshot moves nothing either
    with boa.env.prank(dao.holders[2].address):
        dao.pwk.delegate(dao.holders[3].address)
    mine()
    assert dao.vote(dao.holders[3], pid, AGAINST) == HOLDING  # its own snapshot weight only
    assert dao.vote(dao.holders[2], pid, AGAINST) == HOLDING
    assert dao.governor.proposalVotes(pid) == (2 * HOLDING, HOLDING, 0)


# --------------------------------------------------------------------------- proposal spam


def test_proposal_spam_needs_the_threshold_and_passes_nothing(dao):
    """Accounts below the threshold cannot propose at all; a holder of the threshold can propose many
    proposals (one per description, as in OpenZeppelin), but each costs it gas, none passes without the
    quorum, and honest proposals are unaffected (proposals are independent: no queue to clog)."""
    for i in range(5):
        sybil = new_account(f"sybil {i}")
        with boa.env.prank(dao.holders[4].address):
            dao.pwk.transfer(sybil.address, THRESHOLD // 10)
        with boa.env.prank(sybil.address):
            dao.pwk.delegate(sybil.address)
    mine()
    with boa.reverts("governor: votes below the proposal threshold"):
        dao.propose(drain_proposal(dao, new_account("sybil 0")))
    spammer = new_account("spammer")
    with boa.env.prank(dao.holders[4].address):
        dao.pwk.transfer(spammer.address, THRESHOLD)
    with boa.env.prank(spammer.address):
        dao.pwk.delegate(spammer.address)
    mine()
    spam = [dao.propose(drain_proposal(dao, spammer, f"spam {i}")) for i in range(10)]
    honest = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "fee 2 %")
    pid = dao.propose(honest)
    dao.start_voting(pid)
    for voter in dao.holders[:3]:
        dao.vote(voter, pid, FOR)
    for s in spam:
        with boa.env.prank(spammer.address):
            dao.governor.castVote(s, FOR)
    dao.end_voting(pid)
    assert all(dao.governor.state(s) == DEFEATED for s in spam)  # 0.1 % of the supply: below quorum
    dao.queue(pid)
    boa.env.time_travel(seconds=TIMELOCK_DELAY)
    dao.execute(honest)
    assert dao.escrow.fee_bps() == 200
    assert dao.escrow.owner() == dao.timelock.address


# --------------------------------------------------------------------------- timelock griefing


def test_nobody_can_cancel_or_requeue_a_queued_proposal(dao):
    p = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "fee 2 %")
    pid = dao.pass_proposal(p)
    dao.queue(pid)
    op = pid.to_bytes(32, "big")
    ready = dao.timelock.ready_at(op)
    # the Timelock's cancel and schedule are the governor's alone
    for who in (dao.deployer, dao.outsider, dao.holders[0]):
        with boa.env.prank(who.address):
            with boa.reverts("timelock: caller is not the governor"):
                dao.timelock.cancel(op)
            with boa.reverts("timelock: caller is not the governor"):
                dao.timelock.schedule(op)
    # the proposer cannot cancel it any more, and queueing again does not push the delay back
    with boa.env.prank(p.proposer), boa.reverts("governor: voting has started or proposal canceled"):
        dao.governor.cancel(*p.calls, p.description_hash)
    boa.env.time_travel(seconds=TIMELOCK_DELAY // 2)
    with boa.reverts("timelock: operation already scheduled"):
        dao.queue(pid)
    assert dao.timelock.ready_at(op) == ready
    assert dao.governor.state(pid) == QUEUED
    boa.env.time_travel(seconds=TIMELOCK_DELAY)
    dao.execute(p)
    # after execution: neither re-queued nor re-executed
    with boa.reverts("governor: proposal has not passed"):
        dao.queue(pid)
    with boa.reverts("governor: proposal executed or canceled"):
        dao.execute(p)
    assert dao.governor.state(pid) == EXECUTED


def test_front_running_a_proposal_id_is_impossible(dao):
    """An attacker who sees a proposal in the mempool and proposes the same calls first gets another id
    (the proposer is hashed in), so the honest proposal still goes through."""
    attacker = new_account("front-runner")
    with boa.env.prank(dao.deployer.address):
        dao.pwk.transfer(attacker.address, THRESHOLD)
    with boa.env.prank(attacker.address):
        dao.pwk.delegate(attacker.address)
    mine()
    honest = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "fee 2 %")
    copy = dao.proposal(attacker, [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "fee 2 %")
    copied = dao.propose(copy)
    pid = dao.propose(honest)
    assert pid != copied
    # the attacker then cancels its copy: the honest proposal is untouched
    with boa.env.prank(attacker.address):
        dao.governor.cancel(*copy.calls, copy.description_hash)
    dao.start_voting(pid)
    dao.vote(dao.holders[0], pid, FOR)


def test_execute_with_other_calls_than_proposed_is_refused(dao):
    p = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "fee 2 %")
    pid = dao.pass_proposal(p)
    dao.queue(pid)
    boa.env.time_travel(seconds=TIMELOCK_DELAY)
    swapped = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(0))], "fee 2 %")
    with boa.reverts("governor: unknown proposal"):
        dao.execute(swapped)
    dao.execute(p)
    assert dao.escrow.fee_bps() == 200


def test_reentering_execute_cannot_run_another_proposal_early(dao):
    """A proposal whose call re-enters the governor to run another queued proposal before that one's
    delay is over: the Timelock checks each id's own delay, so the whole batch reverts until then."""
    inner = dao.proposal(dao.holders[1], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(100))], "inner")
    outer = dao.proposal(
        dao.holders[0],
        [
            (
                dao.governor,
                dao.governor.execute.prepare_calldata(inner.proposer, *inner.calls, inner.description_hash),
            )
        ],
        "outer",
    )
    outer_id = dao.pass_proposal(outer)
    dao.queue(outer_id)
    boa.env.time_travel(seconds=TIMELOCK_DELAY // 2)
    inner_id = dao.pass_proposal(inner)
    dao.queue(inner_id)  # ready half a delay after the outer one
    boa.env.evm.patch.timestamp = dao.timelock.ready_at(outer_id.to_bytes(32, "big"))
    with boa.reverts("timelock: operation not ready"):
        dao.execute(outer)
    assert dao.escrow.fee_bps() == 250
    boa.env.evm.patch.timestamp = dao.timelock.ready_at(inner_id.to_bytes(32, "big"))
    dao.execute(outer)  # now both delays are over: the inner proposal runs through the outer
    assert dao.escrow.fee_bps() == 100
    assert dao.governor.state(inner_id) == EXECUTED
    with boa.reverts("governor: proposal executed or canceled"):
        dao.execute(inner)


# --------------------------------------------------------------------------- signatures


def test_signature_replay_and_malleability(dao):
    p1 = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "one")
    p2 = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "two")
    pid1, pid2 = dao.propose(p1), dao.propose(p2)
    dao.start_voting(pid2)
    voter, relayer = dao.holders[1], dao.outsider
    g = dao.governor
    v, r, s = sign_ballot(voter, g, pid1, FOR)
    with boa.env.prank(relayer.address):
        # the ballot for proposal 1 on proposal 2, or with another support: another signer, refused
        with boa.reverts("governor: invalid signature"):
            g.castVoteBySig(pid2, FOR, voter.address, v, r, s)
        with boa.reverts("governor: invalid signature"):
            g.castVoteBySig(pid1, AGAINST, voter.address, v, r, s)
        # claimed for another holder
        with boa.reverts("governor: invalid signature"):
            g.castVoteBySig(pid1, FOR, dao.holders[2].address, v, r, s)
        # the malleable twin (n - s, other v)
        s_twin = (SECP256K1_N - int.from_bytes(s, "big")).to_bytes(32, "big")
        with boa.reverts("governor: invalid signature"):
            g.castVoteBySig(pid1, FOR, voter.address, 55 - v, r, s_twin)
        # garbage
        with boa.reverts("governor: invalid signature"):
            g.castVoteBySig(pid1, FOR, voter.address, 29, r, s)
        # another chain's ballot
        cv, cr, cs = sign_ballot(voter, g, pid1, FOR, chain=999)
        with boa.reverts("governor: invalid signature"):
            g.castVoteBySig(pid1, FOR, voter.address, cv, cr, cs)
        assert g.castVoteBySig(pid1, FOR, voter.address, v, r, s) == HOLDING
        with boa.reverts("governor: already voted"):
            g.castVoteBySig(pid1, FOR, voter.address, v, r, s)


def test_ballot_for_another_governor_is_refused(dao):
    """A ballot signed for one governor (same token, same proposal id) replayed on another."""
    other = partial("governance/Governor.vy").deploy(
        dao.pwk.address, dao.timelock.address, 2, 50, 400, THRESHOLD
    )
    p = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "twin")
    pid = dao.propose(p)
    with boa.env.prank(p.proposer):
        assert other.propose(*p.calls, p.description) == pid  # same id on both governors
    dao.start_voting(pid)
    v, r, s = sign_ballot(dao.holders[1], other, pid, FOR)
    with boa.env.prank(dao.outsider.address), boa.reverts("governor: invalid signature"):
        dao.governor.castVoteBySig(pid, FOR, dao.holders[1].address, v, r, s)
    with boa.env.prank(dao.outsider.address):
        other.castVoteBySig(pid, FOR, dao.holders[1].address, v, r, s)
