"""Hypothesis properties of contracts/funding/FundingRound.vy: for any sequence of contributions
(eligible or not, repeated, of any size, to any project) and pool fundings, the contract's weights
and matching equal `domain.quadratic.split`'s at every step, and the payouts conserve every unit:
pool + contributions == claimed + returned + held, the contract ending empty whatever the claim order."""

from __future__ import annotations

import boa
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from round_fixtures import (
    CREATOR,
    ZERO32,
    acct,
)

PEOPLE = [acct(f"contributor {i}") for i in range(5)]  # 0..2 hold badges, 3..4 do not
RECIPIENTS = [acct(f"recipient {j}") for j in range(4)]
FUNDER = acct("third-party funder")
KEEPER = acct("keeper")

AMOUNT = st.one_of(st.integers(1, 50), st.integers(1, 10**9), st.integers(10**12, 10**18))
OP = st.one_of(
    st.tuples(st.just("contribute"), st.integers(0, 3), st.integers(0, 4), AMOUNT, st.booleans()),
    st.tuples(st.just("self"), st.integers(0, 3), AMOUNT),  # a project's recipient gives to itself
    st.tuples(st.just("fund"), AMOUNT),
)


def check_step(rs, rid: int) -> None:
    exp = rs.expected(rid)
    r = rs.c.round(rid)
    assert r.total_weight == exp.total_weight
    for p in exp.projects:
        onchain = rs.c.project(rid, p.project)
        assert (onchain.contributions, onchain.sqrt_sum, onchain.weight) == (
            p.contributions,
            p.sqrt_sum,
            p.weight,
        )
        assert rs.c.matching_of(rid, p.project) == p.matching
    assert rs.token.balanceOf(rs.c.address) == rs.held(rid)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pool=st.one_of(st.integers(0, 10), st.integers(0, 10**15)),
    projects=st.integers(0, 4),
    ops=st.lists(OP, max_size=14),
    order=st.randoms(use_true_random=False),
)
def test_split_equals_domain_and_every_unit_is_accounted(rs, pool, projects, ops, order):
    rid = rs.create(pool=pool)
    for j in range(projects):
        rs.apply(rid, RECIPIENTS[j])
    creds = [rs.badge(p) for p in PEOPLE[:3]] + [ZERO32, ZERO32]
    funded = {CREATOR: pool}
    for op in ops:
        if op[0] == "contribute" and projects:
            _, j, i, amount, use = op
            rs.contribute(rid, j % projects + 1, PEOPLE[i], amount, creds[i] if use else ZERO32)
        elif op[0] == "self" and projects:
            _, j, amount = op
            rs.contribute(rid, j % projects + 1, RECIPIENTS[j % projects], amount)
        elif op[0] == "fund":
            rs.give(FUNDER, op[1])
            with boa.env.prank(FUNDER):
                rs.c.fund(rid, op[1])
            funded[FUNDER] = funded.get(FUNDER, 0) + op[1]
        check_step(rs, rid)
    exp = rs.expected(rid)
    rs.finalize(rid)
    ids = list(range(1, projects + 1))
    order.shuffle(ids)
    before = {r: rs.token.balanceOf(r) for r in RECIPIENTS}
    with boa.env.prank(KEEPER):
        for j in ids:
            rs.c.claim(rid, j)
            assert rs.token.balanceOf(rs.c.address) == rs.held(rid)
        returned = 0
        for funder in funded:
            due = rs.c.refund_due(rid, funder)
            if due:
                returned += rs.c.refund(rid, funder)
    for j in range(1, projects + 1):
        got = rs.token.balanceOf(RECIPIENTS[j - 1]) - before[RECIPIENTS[j - 1]]
        assert got == exp.projects[j - 1].payout
    assert returned == exp.returned
    r = rs.c.round(rid)
    assert r.pool + r.contributions == r.paid_out + r.returned
    assert rs.held(rid) == 0 and rs.token.balanceOf(rs.c.address) == 0
    assert exp.returned < max(1, sum(1 for p in exp.projects if p.weight)) or exp.total_weight == 0
