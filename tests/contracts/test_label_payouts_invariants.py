"""LabelPayouts' money, as a state machine: random rounds (cumulative amounts that only grow), waits,
challenges by the client and the oracles, single and batch claims, the close and the sweep, checked
after every step against a reference model: the contract holds exactly budget - paid - refunded, every
labeler holds exactly what it claimed and never more than the claimable root grants it, paid never
exceeds the claimable total nor that the budget, and once swept, paid + refunded == budget."""

from __future__ import annotations

from collections import Counter

import boa
import hypothesis.strategies as st
import pytest
from escrow_harness import now
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from label_payouts_fixtures import (
    CLAIM_PERIOD,
    DAY,
    HOUR,
    ORACLES,
    PAYOUTS_PATH,
    USD,
    WINDOW,
    Campaigns,
    Tree,
    deploy_committee,
    labelers,
)

L = labelers(4, "machine labeler")
BUDGET = 1_000 * USD
STATS: Counter = Counter()


@pytest.fixture(scope="module")
def committee(escrow):
    return deploy_committee(escrow)


@pytest.fixture(scope="module")
def payouts():
    return boa.load_partial(str(PAYOUTS_PATH)).deploy()


class PayoutsMachine(RuleBasedStateMachine):
    def __init__(self, cp: Campaigns, client: str):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.cp, self.client = cp, client
        self.challengers = [client, *(o.address for o in ORACLES)]

    def teardown(self):
        self._anchor.__exit__(None, None, None)

    @initialize()
    def start(self):
        self.cid = self.cp.create(BUDGET, duration=20 * DAY)
        self.close_time = now() + 20 * DAY
        self.active: Tree | None = None
        self.pending: tuple[Tree, int] | None = None  # tree, posted at
        # whether the contract still stores a pending root: one whose window is over stays stored until
        # a call makes it claimable (the model's `_promote` runs on every check)
        self.stored = False
        self.last_round = 0
        self.claimed = [0] * len(L)
        self.paid = self.refunded = self.closed_at = 0
        self.used: set[str] = set()
        self.base = self.cp.token.balanceOf(self.cp.payouts.address) - BUDGET  # other campaigns' funds

    # ------------------------------------------------------------- model

    def _promote(self) -> None:
        if self.pending is not None and now() >= self.pending[1] + WINDOW:
            self.active, self.pending = self.pending[0], None

    def _latest(self) -> list[int]:
        tree = self.pending[0] if self.pending is not None else self.active
        return [0] * len(L) if tree is None else [tree.amounts[a] for a in L]

    def _expect(self, error: str, call) -> None:
        with boa.reverts(error):
            call()
        STATS[error] += 1

    # ------------------------------------------------------------- rules

    @rule(
        increments=st.lists(st.integers(0, 120 * USD), min_size=len(L), max_size=len(L)),
        skip=st.integers(1, 3),
    )
    def post(self, increments, skip):
        cumulative = [c + i for c, i in zip(self._latest(), increments, strict=True)]
        tree = Tree(dict(zip(L, cumulative, strict=True)))
        round_ = self.last_round + skip
        post = lambda: self.cp.post(self.cid, round_, tree)  # noqa: E731
        if self.closed_at:
            return self._expect("payouts: campaign closed", post)
        if now() >= self.close_time:
            return self._expect("payouts: close time passed", post)
        if tree.total > BUDGET:
            return self._expect("payouts: total above the budget", post)
        post()
        self._promote()
        self.pending, self.last_round, self.stored = (tree, now()), round_, True
        STATS["post"] += 1

    @rule(seconds=st.sampled_from([HOUR, DAY // 2, DAY, DAY, 2 * DAY, 5 * DAY, CLAIM_PERIOD]))
    def wait(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @rule(who=st.integers(0, len(ORACLES)))
    def challenge(self, who):
        sender = self.challengers[who]
        call = lambda: self.cp.payouts.challenge(self.cid, sender=sender)  # noqa: E731
        if self.pending is None:
            return self._expect(
                "payouts: challenge window over" if self.stored else "payouts: no pending root", call
            )
        if now() >= self.pending[1] + WINDOW:
            return self._expect("payouts: challenge window over", call)
        if sender in self.used:
            return self._expect("payouts: already challenged once", call)
        call()
        self.used.add(sender)
        self.pending, self.stored = None, False
        self.close_time = max(self.close_time, now() + WINDOW)  # the committee keeps a window to repost
        STATS["challenge"] += 1

    def _claim_error(self, ks: list[int], batch: bool = False) -> str | None:
        if self.closed_at and now() >= self.closed_at + CLAIM_PERIOD:
            return "payouts: claim period over"
        self._promote()
        if self.active is None:
            return "payouts: no claimable root"
        if batch:  # a batch skips the claims that owe nothing
            return None
        seen = set()
        for k in ks:
            if self.active.amounts[L[k]] <= (self.claimed[k] if k not in seen else self.active.amounts[L[k]]):
                return "payouts: nothing to claim"
            seen.add(k)
        return None

    def _paid(self, ks: list[int]) -> None:
        for k in ks:
            assert self.active is not None
            if self.active.amounts[L[k]] > self.claimed[k]:
                self.paid += self.active.amounts[L[k]] - self.claimed[k]
                self.claimed[k] = self.active.amounts[L[k]]

    @rule(k=st.integers(0, len(L) - 1))
    def claim(self, k):
        error = self._claim_error([k])
        tree = self.active or Tree({L[k]: 1})
        call = lambda: self.cp.claim(self.cid, tree, L[k])  # noqa: E731
        if error:
            return self._expect(error, call)
        call()
        self.stored = self.pending is not None
        self._paid([k])
        STATS["claim"] += 1

    @rule(ks=st.lists(st.integers(0, len(L) - 1), min_size=1, max_size=len(L), unique=True))
    def claim_many(self, ks):
        error = self._claim_error(ks, batch=True)
        tree = self.active or Tree({L[k]: 1 for k in ks})
        call = lambda: self.cp.claim_many(self.cid, tree, [L[k] for k in ks])  # noqa: E731
        if error:
            return self._expect(error, call)
        call()
        self.stored = self.pending is not None
        self._paid(ks)
        STATS["claim_many"] += 1

    @rule()
    def close(self):
        call = lambda: self.cp.payouts.close(self.cid)  # noqa: E731
        if self.closed_at:
            return self._expect("payouts: campaign closed", call)
        if now() < self.close_time:
            return self._expect("payouts: close time not reached", call)
        self._promote()
        if self.pending is not None:
            return self._expect("payouts: a root is pending", call)
        before = self.cp.token.balanceOf(self.client)
        call()
        owed = self.active.total if self.active else 0
        assert self.cp.token.balanceOf(self.client) - before == BUDGET - owed
        self.refunded, self.closed_at, self.stored = BUDGET - owed, now(), False
        STATS["close"] += 1

    @rule()
    def sweep(self):
        call = lambda: self.cp.payouts.sweep(self.cid)  # noqa: E731
        if not self.closed_at:
            return self._expect("payouts: campaign not closed", call)
        if now() < self.closed_at + CLAIM_PERIOD:
            return self._expect("payouts: claim period not over", call)
        rest = BUDGET - self.paid - self.refunded
        if rest == 0:
            return self._expect("payouts: nothing to sweep", call)
        call()
        self.refunded += rest
        assert self.paid + self.refunded == BUDGET
        STATS["sweep"] += 1

    # ------------------------------------------------------------- invariants

    @invariant()
    def money_adds_up(self):
        if not hasattr(self, "cid"):
            return
        payouts, token = self.cp.payouts, self.cp.token
        c = payouts.campaign(self.cid)
        self._promote()
        assert (c.paid, c.refunded) == (self.paid, self.refunded)
        assert token.balanceOf(payouts.address) - self.base == BUDGET - self.paid - self.refunded
        assert c.paid <= c.total <= c.budget == BUDGET
        assert c.root == (self.active.root if self.active else bytes(32))
        assert c.pending_root == (self.pending[0].root if self.pending else bytes(32))
        for k, a in enumerate(L):
            assert payouts.claimed(self.cid, a) == self.claimed[k] == token.balanceOf(a)
            if self.active is not None:
                assert self.claimed[k] <= self.active.amounts[a]


def test_label_payouts_invariants(payouts, token, committee, accounts):
    STATS.clear()
    cp = Campaigns(payouts, token, committee, accounts.owner.address, accounts.client.address)
    run_state_machine_as_test(
        lambda: PayoutsMachine(cp, accounts.client.address),
        settings=settings(
            max_examples=40,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print("outcomes:", sorted(STATS.items()))
    assert STATS["post"] >= 5 and STATS["claim"] + STATS["claim_many"] >= 5 and STATS["close"] >= 3
