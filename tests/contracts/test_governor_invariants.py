"""Hypothesis over the DAO.

1. A state machine of transfers, delegations (to oneself, to another, to nobody), blocks mined, a
   proposal made at a random moment and votes cast during its voting period (by the voter or by a
   relayed signature): every vote counts exactly the voter's delegated weight at the snapshot as an
   independent Python model of balances and delegations computes it (never what the voter holds when
   it votes), and the tallies are always the sums of those weights by support.
2. The Timelock cannot be bypassed: whatever the votes and whenever anyone tries, the fee moves only
   through a proposal that passed, was queued and executed once its delay was over; every other
   attempt (early, defeated, twice, directly on the Timelock or the escrow) reverts.
"""

from __future__ import annotations

import boa
import hypothesis.strategies as st
import pytest
from escrow_harness import new_account
from governance_fixtures import (
    ABSTAIN,
    AGAINST,
    EXECUTED,
    FOR,
    QUORUM_BPS,
    SUCCEEDED,
    SUPPLY,
    THRESHOLD,
    TIMELOCK_DELAY,
    VOTING_DELAY,
    VOTING_PERIOD,
    Dao,
    mine,
    sign_ballot,
)
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def dao():
    return Dao()


class VotesMachine(RuleBasedStateMachine):
    def __init__(self, dao: Dao):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.dao = dao
        self.accounts = [*dao.holders, new_account("machine a"), new_account("machine b")]
        self.addrs = [a.address for a in self.accounts]

    def teardown(self):
        self._anchor.__exit__(None, None, None)

    @initialize()
    def start(self):
        self.proposer = new_account("machine proposer")
        with boa.env.prank(self.dao.deployer.address):
            self.dao.pwk.transfer(self.proposer.address, THRESHOLD)
        with boa.env.prank(self.proposer.address):
            self.dao.pwk.delegate(self.proposer.address)
        mine()
        self.balance = {a: self.dao.pwk.balanceOf(a) for a in self.addrs}
        self.delegate = {a: self.dao.pwk.delegates(a) for a in self.addrs}
        self.history: dict[int, tuple[dict, dict]] = {}
        self._record()
        self.pid: int | None = None
        self.snapshot = 0
        self.weights: dict[str, tuple[int, int]] = {}  # voter -> (support, weight)

    # ------------------------------------------------------------------ model

    def _record(self) -> None:
        self.history[boa.env.evm.patch.block_number] = (dict(self.balance), dict(self.delegate))

    def _weight_at(self, who: str, block: int) -> int:
        balance, delegate = self.history[max(b for b in self.history if b <= block)]
        return sum(balance[a] for a in self.addrs if delegate[a] == who)

    def _voting(self) -> bool:
        n = boa.env.evm.patch.block_number
        return self.pid is not None and self.snapshot < n <= self.snapshot + VOTING_PERIOD

    # ------------------------------------------------------------------ rules

    @rule(i=st.integers(0, 6), j=st.integers(0, 6), share=st.integers(1, 100))
    def transfer(self, i, j, share):
        src, dst = self.addrs[i], self.addrs[j]
        amount = self.balance[src] * share // 100
        with boa.env.prank(src):
            self.dao.pwk.transfer(dst, amount)
        self.balance[src] -= amount
        self.balance[dst] += amount
        self._record()

    @rule(i=st.integers(0, 6), j=st.integers(-1, 6))
    def delegate_votes(self, i, j):
        src = self.addrs[i]
        to = ZERO if j < 0 else self.addrs[j]
        with boa.env.prank(src):
            self.dao.pwk.delegate(to)
        self.delegate[src] = to
        self._record()

    @rule(blocks=st.integers(1, 6))
    def mine_blocks(self, blocks):
        mine(blocks)
        self._record()

    @precondition(lambda self: self.pid is None)
    @rule()
    def propose(self):
        p = self.dao.proposal(
            self.proposer,
            [(self.dao.escrow, self.dao.escrow.set_fee.prepare_calldata(200))],
            f"machine proposal at block {boa.env.evm.patch.block_number}",
        )
        self.pid = self.dao.propose(p)
        self.snapshot = self.dao.governor.proposalSnapshot(self.pid)
        assert self.snapshot == boa.env.evm.patch.block_number + VOTING_DELAY

    @precondition(lambda self: self.pid is not None)
    @rule(i=st.integers(0, 6), support=st.sampled_from([AGAINST, FOR, ABSTAIN]), by_sig=st.booleans())
    def vote(self, i, support, by_sig):
        voter = self.accounts[i]
        g = self.dao.governor
        expected = self._weight_at(voter.address, self.snapshot) if self._voting() else 0
        if by_sig:
            v, r, s = sign_ballot(voter, g, self.pid, support)

            def cast():
                with boa.env.prank(self.proposer.address):  # anyone relays
                    return g.castVoteBySig(self.pid, support, voter.address, v, r, s)
        else:

            def cast():
                with boa.env.prank(voter.address):
                    return g.castVote(self.pid, support)

        n = boa.env.evm.patch.block_number
        if n <= self.snapshot:
            reason = "governor: voting has not started"
        elif n > self.snapshot + VOTING_PERIOD:
            reason = "governor: voting is over"
        elif voter.address in self.weights:
            reason = "governor: already voted"
        elif expected == 0:
            reason = "governor: no votes at the snapshot"
        else:
            reason = None
        if reason is not None:
            with boa.reverts(reason):
                cast()
            return
        weight = cast()
        assert weight == expected == self.dao.pwk.getPastVotes(voter.address, self.snapshot)
        self.weights[voter.address] = (support, weight)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def tallies_are_the_sums_of_snapshot_weights(self):
        if self.pid is None:
            return
        sums = [0, 0, 0]
        for support, weight in self.weights.values():
            sums[support] += weight
        assert self.dao.governor.proposalVotes(self.pid) == tuple(sums)
        for a in self.addrs:
            assert self.dao.governor.hasVoted(self.pid, a) == (a in self.weights)


def test_tallies_equal_snapshot_weights(dao):
    run_state_machine_as_test(
        lambda: VotesMachine(dao),
        settings=settings(
            max_examples=40, stateful_step_count=40, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )


@given(
    supports=st.lists(st.sampled_from([None, AGAINST, FOR, ABSTAIN]), min_size=5, max_size=5),
    attempts=st.lists(st.sampled_from(["queue", "execute", "direct", "wait", "mine"]), max_size=10),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_timelock_cannot_be_bypassed(dao, supports, attempts):
    with boa.env.anchor():
        p = dao.proposal(dao.holders[0], [(dao.escrow, dao.escrow.set_fee.prepare_calldata(200))], "bypass?")
        pid = dao.propose(p)
        dao.start_voting(pid)
        tally = [0, 0, 0]
        for holder, support in zip(dao.holders, supports, strict=True):
            if support is not None:
                tally[support] += dao.vote(holder, pid, support)
        # try everything before the vote ends too
        for when in ("during", "after"):
            if when == "after":
                dao.end_voting(pid)
            passed = (
                when == "after"
                and tally[FOR] > tally[AGAINST]
                and tally[FOR] + tally[ABSTAIN] >= SUPPLY * QUORUM_BPS // 10_000
            )
            eta = None
            for attempt in attempts:
                state = dao.governor.state(pid)
                if attempt == "queue":
                    if passed and eta is None:
                        eta = dao.queue(pid)
                    else:
                        with boa.reverts():
                            dao.queue(pid)
                elif attempt == "execute":
                    if eta is not None and state != EXECUTED and boa.env.timestamp >= eta:
                        dao.execute(p)
                    else:
                        with boa.reverts():
                            dao.execute(p)
                elif attempt == "direct":
                    for who in (dao.deployer, dao.holders[0], dao.outsider):
                        with boa.env.prank(who.address):
                            with boa.reverts():
                                dao.timelock.execute(pid.to_bytes(32, "big"), *p.calls)
                            with boa.reverts():
                                dao.escrow.set_fee(200)
                elif attempt == "wait":  # the clock only: the vote's blocks stay where they are
                    boa.env.evm.patch.timestamp += TIMELOCK_DELAY // 2
                else:
                    mine()
                executed = dao.governor.state(pid) == EXECUTED
                assert (dao.escrow.fee_bps() == 200) == executed
                assert not executed or (passed and eta is not None and boa.env.timestamp >= eta)
            if when == "after" and passed and eta is None:
                assert dao.governor.state(pid) == SUCCEEDED
