"""Court invariant machine (Hypothesis stateful, titanoboa).

Invariants: tokens conserved (court token: stakes + credits == balance; fee token: fees of
undistributed rounds + credits == balance), no juror's locked stake above its balance (so no
juror drawn beyond its stake), rule() at most once per dispute, and in the teardown every
dispute reaches a ruling through timeouts alone, rule() then called exactly once."""

from __future__ import annotations

from collections import Counter

import boa
from court_fixtures import (
    PERIODS,
    PWK,
    SEAT_LOCK,
    TREASURY,
    USD,
    commitment,
    deploy,
    extra,
    juror,
    pin_clock,
    seal_hashes,
    stake,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

SALT = b"\x33" * 32
STATS: Counter = Counter()  # freeze paths reached by the machine, checked after the run
JURORS = [juror(1000 + i) for i in range(6)]


class CourtMachine(RuleBasedStateMachine):
    def __init__(self, deployed) -> None:
        super().__init__()
        # One deployment per test; each run starts from it and is rolled back in the teardown.
        self.pwk, self.usd, self.court, self.arb = deployed
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        self.panels: dict[tuple[int, int], list[str]] = {}
        self.disputes: list[int] = []
        self.fees_held = 0  # fee-token amount of undistributed rounds

    # ------------------------------------------------------------ actions
    @rule(i=st.integers(0, 5), amount=st.integers(1, 5))
    def do_stake(self, i, amount):
        if self.court.draw_pending():  # an armed draw waits: nobody may move the tree
            with boa.env.prank(JURORS[i]), boa.reverts("court: draw pending"):
                self.court.stake(amount * 100 * PWK)
            STATS["frozen stake"] += 1
            return
        stake(self.pwk, self.court, JURORS[i], amount * 100 * PWK)

    @rule(i=st.integers(0, 5))
    def do_unstake(self, i):
        who = JURORS[i]
        w = self.court.weight(who)
        if w:
            with boa.env.prank(who):
                if self.court.draw_pending():
                    with boa.reverts("court: draw pending"):
                        self.court.unstake(w)
                    return
                self.court.unstake(w)

    @rule(k=st.integers(0, 20))
    def arm_only(self, k):
        """Arms a draw and leaves it waiting (stake changes and distribute must wait too)."""
        if not self.disputes:
            return
        d = self.disputes[k % len(self.disputes)]
        p, _r, start = self.court.dispute_clock(d)
        if p == 0 and self.court.draw_block(d) == 0:
            wait = start + PERIODS[0] - boa.env.timestamp
            if wait > 0:
                boa.env.time_travel(seconds=wait)
            self.court.pass_period(d)
            assert self.court.draw_pending()
            STATS["armed"] += 1
            self.do_stake(k % len(JURORS), 1)  # refused while it waits

    @rule(jurors=st.sampled_from([1, 3]), amount=st.integers(10, 2_000))
    def open(self, jurors, amount):
        ex = extra(self.usd.address, amount * USD, jurors)
        cost = self.court.arbitrationCost(ex)
        d = self.arb.open(self.court.address, self.usd.address, 3, ex)
        self.fees_held += cost
        self.disputes.append(d)

    def _advance(self, d):
        p, r, _ = self.court.dispute_clock(d)
        if p == 4:
            return
        boa.env.time_travel(seconds=PERIODS[p])
        if p == 0:
            armed = self.court.draw_block(d)
            if armed == 0 or boa.env.evm.patch.block_number > armed + 256:
                self.court.pass_period(d)  # arms (again, if its window ended)
            boa.env.time_travel(blocks=1)
            seal_hashes()
            self.court.pass_period(d)  # draws
            self.panels[(d, r)] = [
                str(list(e._asdict().values())[2])
                for e in self.court.get_logs()
                if type(e).__name__ == "Draw"
            ]
        else:
            self.court.pass_period(d)

    @rule(k=st.integers(0, 20))
    def advance(self, k):
        if self.disputes:
            self._advance(self.disputes[k % len(self.disputes)])

    @rule(
        k=st.integers(0, 20),
        choices=st.lists(st.integers(0, 3), min_size=7, max_size=7),
        reveal=st.booleans(),
    )
    def vote(self, k, choices, reveal):
        if not self.disputes:
            return
        d = self.disputes[k % len(self.disputes)]
        p, r, start = self.court.dispute_clock(d)
        panel = self.panels.get((d, r), [])
        # other disputes' timeouts move the clock: a period can be over before it is passed
        open_period = boa.env.timestamp < start + PERIODS[p] if p < 4 else False
        if p == 1 and open_period:
            for i, who in enumerate(panel):
                with boa.env.prank(who):
                    self.court.commit(d, i, panel, commitment(choices[i], SALT, who))
                if p != self.court.dispute_clock(d)[0]:
                    break
        p, r, start = self.court.dispute_clock(d)
        if p == 2 and reveal and boa.env.timestamp < start + PERIODS[2]:
            for i in range(len(panel)):
                if self.court.vote_of(d, r, i) >= 2**64:
                    self.court.reveal(d, i, panel, choices[i], SALT)
                    if self.court.dispute_clock(d)[0] != 2:
                        break

    @rule(k=st.integers(0, 20))
    def appeal(self, k):
        if not self.disputes:
            return
        d = self.disputes[k % len(self.disputes)]
        p, r, start = self.court.dispute_clock(d)
        if p == 3 and r < 3 and boa.env.timestamp < start + PERIODS[3]:
            self.fees_held += self.court.appealCost(d, b"")
            self.arb.appeal(self.court.address, d)

    @rule(k=st.integers(0, 20))
    def execute_and_distribute(self, k):
        if not self.disputes:
            return
        d = self.disputes[k % len(self.disputes)]
        self._settle(d)

    def _settle(self, d):
        p, r, _ = self.court.dispute_clock(d)
        if p != 4:
            return
        if self.arb.rule_calls(d) == 0:
            self.court.execute_ruling(d)
        if self.court.draw_pending():
            with boa.reverts("court: draw pending"):
                self.court.distribute(d, 0, self.panels.get((d, 0), []))
            return
        fee = self.court.dispute_info(d)[3]
        for rr in range(r + 1):
            requested, _, _, _, done = self.court.round_info(d, rr)
            if not done:
                self.court.distribute(d, rr, self.panels.get((d, rr), []))
                self.fees_held -= requested * fee

    # ------------------------------------------------------------ invariants
    @invariant()
    def tokens_conserved(self):
        owners = [*JURORS, TREASURY]
        pwk_liab = sum(self.court.stake_balance(j) for j in JURORS) + sum(
            self.court.credit(o, self.pwk.address) for o in owners
        )
        assert self.pwk.balanceOf(self.court.address) == pwk_liab
        usd_liab = self.fees_held + sum(self.court.credit(o, self.usd.address) for o in owners)
        assert self.usd.balanceOf(self.court.address) == usd_liab

    @invariant()
    def never_beyond_stake(self):
        for j in JURORS:
            assert self.court.locked(j) <= self.court.stake_balance(j)
            assert self.court.locked(j) % SEAT_LOCK == 0

    @invariant()
    def ruled_at_most_once(self):
        for d in self.disputes:
            assert self.arb.rule_calls(d) <= 1

    def teardown(self):
        try:
            self._every_dispute_ends()
        finally:
            self.anchor.__exit__(None, None, None)

    def _every_dispute_ends(self):
        for d in self.disputes:
            for _ in range(30):
                if self.court.dispute_clock(d)[0] == 4:
                    break
                self._advance(d)
            assert self.court.disputeStatus(d) == 2
        # every draw is made: the freeze ends at the latest with the last window
        boa.env.time_travel(blocks=257)
        assert not self.court.draw_pending()
        for d in self.disputes:
            self._settle(d)
            assert self.arb.rule_calls(d) == 1
        self.tokens_conserved()
        for j in JURORS:
            assert self.court.locked(j) == 0


MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def test_court_invariants():
    """titanoboa rolls back each Hypothesis example, so the contracts are deployed outside them."""
    STATS.clear()
    with boa.env.anchor():
        pin_clock()
        deployed = deploy()
        run_state_machine_as_test(lambda: CourtMachine(deployed), settings=MACHINE_SETTINGS)
    print("coverage:", sorted(STATS.items()))
    assert STATS["armed"] > 0 and STATS["frozen stake"] > 0, STATS
