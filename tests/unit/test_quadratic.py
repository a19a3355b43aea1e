"""domain/quadratic.py: the quadratic funding split as FundingRound.vy makes it (integer roots,
weights maintained per contribution, floor shares, remainder to the funders)."""

from __future__ import annotations

import random
from math import isqrt

import hypothesis.strategies as st
import pytest
from hypothesis import given

from proofwork.domain.errors import InvalidInput
from proofwork.domain.quadratic import Contribution, split

PEOPLE = [f"0x{i:040x}" for i in range(1, 6)]
CONTRIBUTION = st.builds(
    Contribution,
    project=st.integers(1, 4),
    contributor=st.sampled_from(PEOPLE + [p.upper().replace("0X", "0x") for p in PEOPLE]),
    amount=st.integers(1, 10**15),
    matched=st.booleans(),
)


def incremental_weights(projects: int, contributions: list[Contribution]) -> list[int]:
    """The contract's update: s grows by d, w by 2 * d * (S - s_before)."""
    totals: dict[tuple[int, str], int] = {}
    sums, weights = [0] * (projects + 1), [0] * (projects + 1)
    for c in contributions:
        if not c.matched:
            continue
        key = (c.project, c.contributor.lower())
        before = totals.get(key, 0)
        totals[key] = before + c.amount
        d = isqrt(before + c.amount) - isqrt(before)
        weights[c.project] += 2 * d * (sums[c.project] - isqrt(before))
        sums[c.project] += d
    return weights[1:]


def test_worked_example() -> None:
    usd = 10**6
    s = split(
        1_000 * usd,
        3,
        [Contribution(1, p, usd, True) for p in PEOPLE[:4]]
        + [Contribution(2, PEOPLE[0], 100 * usd, True), Contribution(3, PEOPLE[1], 9 * usd, True)]
        + [Contribution(3, PEOPLE[2], 16 * usd, True), Contribution(3, PEOPLE[4], 5 * usd, False)],
    )
    assert [p.weight for p in s.projects] == [12 * 10**6, 0, 24 * 10**6]
    assert [p.matching for p in s.projects] == [333_333_333, 0, 666_666_666]
    assert s.returned == 1 and s.projects[2].payout == 30 * usd + 666_666_666


@given(contributions=st.lists(CONTRIBUTION, max_size=30), pool=st.integers(0, 10**18), seed=st.integers())
def test_split_is_the_contract_s_incremental_one_in_any_order(contributions, pool, seed) -> None:
    s = split(pool, 4, contributions)
    assert [p.weight for p in s.projects] == incremental_weights(4, contributions)
    shuffled = list(contributions)
    random.Random(seed).shuffle(shuffled)
    assert split(pool, 4, shuffled) == s
    # every unit accounted, the remainder below one unit per weighted project
    assert s.matching + s.returned == pool
    weighted = sum(1 for p in s.projects if p.weight)
    assert s.returned == pool if s.total_weight == 0 else s.returned < weighted
    assert sum(p.payout for p in s.projects) == s.contributions + s.matching
    # weights are never negative; eligible is part of received
    for p in s.projects:
        assert p.weight >= 0 and p.eligible_contributions <= p.contributions


def test_bad_input() -> None:
    with pytest.raises(InvalidInput, match="unknown project 3"):
        split(10, 2, [Contribution(3, PEOPLE[0], 1, True)])
    with pytest.raises(InvalidInput, match="must be positive"):
        split(10, 2, [Contribution(1, PEOPLE[0], 0, True)])
    with pytest.raises(InvalidInput):
        split(-1, 2, [])
