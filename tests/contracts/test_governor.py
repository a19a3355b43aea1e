"""The proofwork DAO (Governor + Timelock over PWK): a proposal's life, votes and votes by signature,
quorum and threshold, cancellation, the Timelock's own rules, the handover of every lever (no single
key can move one afterwards, a passed proposal can), and a job the DAO posts from its treasury."""

from __future__ import annotations

import boa
import pytest
from escrow_harness import new_account, now
from eth_abi import encode
from eth_utils import keccak
from governance_fixtures import (
    ABSTAIN,
    ACTIVE,
    AGAINST,
    CANCELED,
    DAY,
    DEFEATED,
    EXECUTED,
    FOR,
    HOLDING,
    PENDING,
    QUEUED,
    QUORUM_BPS,
    SUCCEEDED,
    SUPPLY,
    THRESHOLD,
    TIMELOCK_DELAY,
    USD,
    VOTING_DELAY,
    VOTING_PERIOD,
    Dao,
    mine,
    partial,
    sign_ballot,
)


@pytest.fixture(scope="module")
def dao():
    return Dao()


def fee_proposal(dao: Dao, fee_bps: int = 200, proposer=None, description: str | None = None):
    proposer = proposer or dao.holders[0]
    return dao.proposal(
        proposer,
        [(dao.escrow, dao.escrow.set_fee.prepare_calldata(fee_bps))],
        description or f"Set the platform fee to {fee_bps / 100:g} %",
    )


# --------------------------------------------------------------------------- a proposal's life


def test_deployment_parameters(dao):
    g = dao.governor
    assert g.token() == dao.pwk.address and g.timelock() == dao.timelock.address
    assert (g.votingDelay(), g.votingPeriod(), g.quorumBps(), g.proposalThreshold()) == (
        VOTING_DELAY,
        VOTING_PERIOD,
        QUORUM_BPS,
        THRESHOLD,
    )
    assert g.CLOCK_MODE() == dao.pwk.CLOCK_MODE() and g.clock() == dao.pwk.clock()
    assert g.COUNTING_MODE() == "support=bravo&quorum=for,abstain"
    assert dao.timelock.governor() == g.address and dao.timelock.admin() == "0x" + "00" * 20
    assert dao.timelock.min_delay() == TIMELOCK_DELAY


def test_proposal_life_lowers_the_fee(dao):
    p = fee_proposal(dao)
    pid = dao.propose(p)
    assert pid == dao.id_of(p)
    assert dao.governor.state(pid) == PENDING
    snapshot = dao.governor.proposalSnapshot(pid)
    assert snapshot == boa.env.evm.patch.block_number + VOTING_DELAY
    assert dao.governor.proposalDeadline(pid) == snapshot + VOTING_PERIOD
    dao.start_voting(pid)
    assert dao.governor.state(pid) == ACTIVE
    assert dao.vote(dao.holders[0], pid, FOR) == HOLDING
    assert dao.vote(dao.holders[1], pid, AGAINST) == HOLDING
    assert dao.vote(dao.holders[2], pid, FOR) == HOLDING
    assert dao.vote(dao.holders[3], pid, ABSTAIN) == HOLDING
    assert dao.governor.proposalVotes(pid) == (HOLDING, 2 * HOLDING, HOLDING)
    assert dao.governor.hasVoted(pid, dao.holders[0].address)
    assert not dao.governor.hasVoted(pid, dao.holders[4].address)
    dao.end_voting(pid)
    assert dao.governor.state(pid) == SUCCEEDED
    eta = dao.queue(pid)
    assert eta == now() + TIMELOCK_DELAY
    assert dao.governor.state(pid) == QUEUED
    with boa.reverts("timelock: operation not ready"):
        dao.execute(p)
    boa.env.time_travel(seconds=TIMELOCK_DELAY - 1)
    with boa.reverts("timelock: operation not ready"):
        dao.execute(p)
    boa.env.time_travel(seconds=1)
    dao.execute(p)
    assert dao.escrow.fee_bps() == 200
    assert dao.governor.state(pid) == EXECUTED
    with boa.reverts("governor: proposal executed or canceled"):
        dao.execute(p)
    with boa.reverts("governor: proposal has not passed"):
        dao.queue(pid)


def test_multi_call_proposal_runs_every_call_in_order(dao):
    issuer = new_account("uni issuer")
    p = dao.proposal(
        dao.holders[0],
        [
            (dao.escrow, dao.escrow.set_fee.prepare_calldata(200)),
            (
                dao.registry,
                dao.registry.accredit.prepare_calldata(issuer.address, "did:web:uni.example", "Uni"),
            ),
            (dao.escrow, dao.escrow.set_fee.prepare_calldata(150)),
        ],
        "Lower the fee and accredit did:web:uni.example",
    )
    dao.run(p)
    assert dao.escrow.fee_bps() == 150
    assert dao.registry.is_accredited(issuer.address)


def test_a_failing_call_reverts_the_whole_batch_with_its_reason(dao):
    p = dao.proposal(
        dao.holders[0],
        [
            (dao.escrow, dao.escrow.set_fee.prepare_calldata(200)),
            (dao.escrow, dao.escrow.set_fee.prepare_calldata(5_000)),  # above the escrow's 10 % cap
        ],
        "A fee above the cap",
    )
    pid = dao.pass_proposal(p)
    dao.queue(pid)
    boa.env.time_travel(seconds=TIMELOCK_DELAY)
    with boa.reverts("escrow: fee above cap"):
        dao.execute(p)
    assert dao.escrow.fee_bps() == 250
    assert dao.governor.state(pid) == QUEUED  # still queued: nothing happened


def test_bad_proposals_are_refused(dao):
    h = dao.holders[0].address
    e = dao.escrow
    data = e.set_fee.prepare_calldata(200)
    with boa.env.prank(h), boa.reverts("governor: empty proposal"):
        dao.governor.propose([], [], [], "nothing")
    with boa.env.prank(h), boa.reverts("governor: length mismatch"):
        dao.governor.propose([e.address], [0, 0], [data], "mismatch")
    with boa.env.prank(h), boa.reverts("governor: length mismatch"):
        dao.governor.propose([e.address, e.address], [0, 0], [data], "mismatch")
    p = fee_proposal(dao)
    dao.propose(p)
    with boa.reverts("governor: proposal already exists"):
        dao.propose(p)
    # the same calls by another proposer are another proposal
    dao.propose(fee_proposal(dao, proposer=dao.holders[1]))


def test_proposal_threshold(dao):
    with boa.reverts("governor: votes below the proposal threshold"):
        dao.propose(fee_proposal(dao, proposer=dao.outsider))
    # just enough votes, delegated before the previous block
    with boa.env.prank(dao.holders[0].address):
        dao.pwk.transfer(dao.outsider.address, THRESHOLD)
    with boa.env.prank(dao.outsider.address):
        dao.pwk.delegate(dao.outsider.address)
    with boa.reverts("governor: votes below the proposal threshold"):
        dao.propose(fee_proposal(dao, proposer=dao.outsider))  # same block: not counted yet
    mine()
    dao.propose(fee_proposal(dao, proposer=dao.outsider))


def test_votes_outside_the_period_and_double_votes_revert(dao):
    pid = dao.propose(fee_proposal(dao))
    voter = dao.holders[1]
    with boa.reverts("governor: voting has not started"):
        dao.vote(voter, pid)
    mine(VOTING_DELAY)  # the snapshot block itself
    with boa.reverts("governor: voting has not started"):
        dao.vote(voter, pid)
    mine()
    dao.vote(voter, pid)
    with boa.reverts("governor: already voted"):
        dao.vote(voter, pid, AGAINST)
    v, r, s = sign_ballot(voter, dao.governor, pid, AGAINST)
    with boa.env.prank(dao.outsider.address), boa.reverts("governor: already voted"):
        dao.governor.castVoteBySig(pid, AGAINST, voter.address, v, r, s)
    dao.end_voting(pid)
    with boa.reverts("governor: voting is over"):
        dao.vote(dao.holders[2], pid)
    with boa.reverts("governor: invalid vote type"):
        dao.vote(dao.holders[2], pid, 3)
    with boa.reverts("governor: unknown proposal"):
        dao.vote(dao.holders[2], 12345)
    with boa.reverts("governor: unknown proposal"):
        dao.governor.state(12345)


def test_vote_needs_votes_at_the_snapshot(dao):
    pid = dao.propose(fee_proposal(dao))
    dao.start_voting(pid)
    with boa.reverts("governor: no votes at the snapshot"):
        dao.vote(dao.outsider, pid)


def test_vote_by_signature_is_relayed_by_anyone(dao):
    pid = dao.propose(fee_proposal(dao))
    dao.start_voting(pid)
    voter = dao.holders[2]
    v, r, s = sign_ballot(voter, dao.governor, pid, FOR)
    relayer = new_account("relayer")
    with boa.env.prank(relayer.address):
        assert dao.governor.castVoteBySig(pid, FOR, voter.address, v, r, s) == HOLDING
    assert dao.governor.hasVoted(pid, voter.address)
    assert not dao.governor.hasVoted(pid, relayer.address)
    assert dao.governor.proposalVotes(pid) == (0, HOLDING, 0)


def test_defeated_proposal_cannot_be_queued_or_executed(dao):
    p = fee_proposal(dao)
    pid = dao.propose(p)
    dao.start_voting(pid)
    dao.vote(dao.holders[0], pid, FOR)
    dao.vote(dao.holders[1], pid, AGAINST)  # a tie: for must exceed against
    dao.end_voting(pid)
    assert dao.governor.state(pid) == DEFEATED
    with boa.reverts("governor: proposal has not passed"):
        dao.queue(pid)
    with boa.reverts("timelock: operation not scheduled"):
        dao.execute(p)
    assert dao.escrow.fee_bps() == 250


def test_quorum_counts_for_and_abstain(dao):
    # quorum: 4 % of the supply; a holder with 3 % for and one with 2 % abstaining reach it together
    small, abstainer = new_account("small holder"), new_account("abstainer")
    with boa.env.prank(dao.deployer.address):
        dao.pwk.transfer(small.address, 3 * SUPPLY // 100)
        dao.pwk.transfer(abstainer.address, 2 * SUPPLY // 100)
    for a in (small, abstainer):
        with boa.env.prank(a.address):
            dao.pwk.delegate(a.address)
    mine()
    pid = dao.propose(fee_proposal(dao))
    dao.start_voting(pid)
    dao.vote(small, pid, FOR)
    assert dao.governor.quorum(dao.governor.proposalSnapshot(pid)) == SUPPLY * QUORUM_BPS // 10_000
    pid2 = dao.propose(fee_proposal(dao, description="same, second"))
    dao.start_voting(pid2)
    dao.vote(small, pid2, FOR)
    dao.vote(abstainer, pid2, ABSTAIN)
    dao.end_voting(pid2)
    assert dao.governor.state(pid) == DEFEATED  # 3 % < 4 %
    assert dao.governor.state(pid2) == SUCCEEDED  # 3 % + 2 %


def test_cancel_by_proposer_before_voting(dao):
    p = fee_proposal(dao)
    pid = dao.propose(p)
    with boa.env.prank(dao.holders[1].address), boa.reverts("governor: no such proposal by the caller"):
        dao.governor.cancel(*p.calls, p.description_hash)
    with boa.env.prank(p.proposer):
        assert dao.governor.cancel(*p.calls, p.description_hash) == pid
    assert dao.governor.state(pid) == CANCELED
    dao.start_voting(pid)
    with boa.reverts("governor: proposal canceled"):
        dao.vote(dao.holders[0], pid)
    dao.end_voting(pid)
    with boa.reverts("governor: proposal has not passed"):
        dao.queue(pid)
    with boa.reverts("governor: proposal executed or canceled"):
        dao.execute(p)
    # once voting started, the proposer cannot cancel
    p2 = fee_proposal(dao, description="second")
    pid2 = dao.propose(p2)
    dao.start_voting(pid2)
    with boa.env.prank(p2.proposer), boa.reverts("governor: voting has started or proposal canceled"):
        dao.governor.cancel(*p2.calls, p2.description_hash)


def test_constructor_checks(dao):
    gov = partial("governance/Governor.vy")
    pwk, tl = dao.pwk.address, dao.timelock.address
    with boa.reverts("governor: bad voting delay"):
        gov.deploy(pwk, tl, 0, 10, 400, 0)
    with boa.reverts("governor: bad voting period"):
        gov.deploy(pwk, tl, 1, 0, 400, 0)
    with boa.reverts("governor: bad quorum"):
        gov.deploy(pwk, tl, 1, 10, 10_001, 0)
    with boa.reverts("governor: not a contract"):
        gov.deploy(dao.outsider.address, tl, 1, 10, 400, 0)
    with boa.reverts("timelock: bad delay"):
        partial("governance/Timelock.vy").deploy(0)


# --------------------------------------------------------------------------- the Timelock


def test_timelock_obeys_only_its_governor(dao):
    t = dao.timelock
    ident = keccak(b"op")
    for who in (dao.deployer, dao.holders[0], dao.outsider):
        with boa.env.prank(who.address):
            with boa.reverts("timelock: caller is not the governor"):
                t.schedule(ident)
            with boa.reverts("timelock: caller is not the governor"):
                t.execute(ident, [dao.escrow.address], [0], [dao.escrow.set_fee.prepare_calldata(0)])
            with boa.reverts("timelock: caller is not the governor"):
                t.cancel(ident)
            with boa.reverts("timelock: caller is not the admin or the timelock"):
                t.set_governor(who.address)
            with boa.reverts("timelock: caller is not the timelock"):
                t.update_delay(DAY)
            with boa.reverts("timelock: caller is not the admin"):
                t.renounce_admin()


def test_timelock_delay_and_governor_change_only_by_proposal(dao):
    p = dao.proposal(
        dao.holders[0], [(dao.timelock, dao.timelock.update_delay.prepare_calldata(3 * DAY))], "delay 3d"
    )
    dao.run(p)
    assert dao.timelock.min_delay() == 3 * DAY
    bad = dao.proposal(
        dao.holders[0], [(dao.timelock, dao.timelock.update_delay.prepare_calldata(60))], "delay 1m"
    )
    pid = dao.pass_proposal(bad)
    dao.queue(pid)
    boa.env.time_travel(seconds=3 * DAY)
    with boa.reverts("timelock: bad delay"):
        dao.execute(bad)
    # a new governor installed by the DAO
    new_gov = partial("governance/Governor.vy").deploy(dao.pwk.address, dao.timelock.address, 1, 10, 1_000, 0)
    dao.run(
        dao.proposal(
            dao.holders[0],
            [(dao.timelock, dao.timelock.set_governor.prepare_calldata(new_gov.address))],
            "g2",
        )
    )
    assert dao.timelock.governor() == new_gov.address


def test_admin_sets_the_governor_then_renounces():
    fresh = Dao(hand_over=False)
    t = fresh.timelock
    with boa.env.prank(fresh.deployer.address):
        with boa.reverts("timelock: no governor yet"):
            t.renounce_admin()
        with boa.reverts("timelock: governor is not a contract"):
            t.set_governor(fresh.outsider.address)
    fresh.hand_over()
    with (
        boa.env.prank(fresh.deployer.address),
        boa.reverts("timelock: caller is not the admin or the timelock"),
    ):
        t.set_governor(fresh.escrow.address)


# --------------------------------------------------------------------------- handover


def test_after_handover_no_single_key_moves_any_lever(dao):
    issuer = new_account("rogue issuer")
    keys = [dao.deployer, *dao.holders, dao.outsider]
    levers = [
        (lambda: dao.escrow.set_fee(0), "ownable: caller is not the owner"),
        (lambda: dao.escrow.set_treasury(dao.outsider.address), "ownable: caller is not the owner"),
        (lambda: dao.escrow.transfer_ownership(dao.outsider.address), "ownable: caller is not the owner"),
        (
            lambda: dao.registry.accredit(issuer.address, "did:web:rogue.example", "Rogue"),
            "ownable: caller is not the owner",
        ),
        (lambda: dao.registry.revoke_accreditation(issuer.address), "ownable: caller is not the owner"),
        (lambda: dao.registry.transfer_ownership(dao.outsider.address), "ownable: caller is not the owner"),
        (lambda: dao.badge.set_auto_minter(dao.outsider.address), "ownable: caller is not the owner"),
        (lambda: dao.badge.transfer_ownership(dao.outsider.address), "ownable: caller is not the owner"),
        (
            lambda: dao.timelock.set_governor(dao.governor.address),
            "timelock: caller is not the admin or the timelock",
        ),
        (lambda: dao.timelock.update_delay(DAY), "timelock: caller is not the timelock"),
        (lambda: dao.timelock.schedule(keccak(b"x")), "timelock: caller is not the governor"),
    ]
    for key in keys:
        for call, reason in levers:
            with boa.env.prank(key.address), boa.reverts(reason):
                call()
    assert dao.escrow.owner() == dao.registry.owner() == dao.badge.owner() == dao.timelock.address
    assert dao.escrow.treasury() == dao.timelock.address
    # ... and a passed proposal moves them: fee 2.5 % -> 2 %, accredit an issuer
    uni = new_account("uni")
    p = dao.proposal(
        dao.holders[0],
        [
            (dao.escrow, dao.escrow.set_fee.prepare_calldata(200)),
            (dao.registry, dao.registry.accredit.prepare_calldata(uni.address, "did:web:uni.example", "Uni")),
        ],
        "Set the platform fee from 2.5 % to 2 %; accredit did:web:uni.example",
    )
    assert dao.escrow.fee_bps() == 250
    dao.run(p)
    assert dao.escrow.fee_bps() == 200
    assert dao.registry.is_accredited(uni.address)
    assert dao.registry.issuer_of_did(keccak(text="did:web:uni.example")) == uni.address


# --------------------------------------------------------------------------- the DAO as a client


def test_treasury_posts_an_escrowed_job(dao):
    budget = 1_000 * USD
    with boa.env.prank(dao.deployer.address):
        dao.usd.mint(dao.timelock.address, budget)
    freelancer, arbiter = new_account("dao freelancer"), new_account("dao committee")
    deadline = now() + 30 * DAY
    spec = keccak(text="evaluation spec: F1 >= 0.9 on the hidden labels")
    p = dao.proposal(
        dao.holders[0],
        [
            (dao.usd, dao.usd.approve.prepare_calldata(dao.escrow.address, budget)),
            (
                dao.escrow,
                dao.escrow.create_job.prepare_calldata(
                    dao.usd.address,
                    freelancer.address,
                    [600 * USD, 400 * USD],
                    deadline,
                    3 * DAY,
                    spec,
                    arbiter.address,
                ),
            ),
        ],
        "Fund a sentiment model: 1,000 pUSD in two milestones, judged by the committee",
    )
    jobs_before = dao.escrow.job_count()
    dao.run(p)
    job_id = dao.escrow.job_count()
    assert job_id == jobs_before + 1
    assert dao.usd.balanceOf(dao.timelock.address) == 0
    assert dao.usd.balanceOf(dao.escrow.address) >= budget
    # the job's stored hash is that of a job whose client is the timelock (the DAO)

    job = (
        dao.timelock.address,
        freelancer.address,
        dao.usd.address,
        arbiter.address,
        deadline,
        3 * DAY,
        dao.escrow.fee_bps(),
        spec,
        "0x" + "00" * 20,
        0,
        [(600 * USD, 0, 0, 0, 0, b"\0" * 32), (400 * USD, 0, 0, 0, 0, b"\0" * 32)],
    )
    encoded = encode(
        [
            "(address,address,address,address,uint64,uint64,uint16,bytes32,address,uint256,(uint256,uint256,uint8,uint8,uint64,bytes32)[])"
        ],
        [job],
    )
    assert dao.escrow.job_state(job_id) == keccak(encoded)
