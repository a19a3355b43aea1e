"""Quadratic funding: a round's matching pool split among its projects, as `FundingRound.vy` splits it.

For project j, with c_ij the total an eligible contributor i gave j and s_ij = isqrt(c_ij) (square
root rounded down), the weight is w_j = (sum_i s_ij)**2 - sum_i s_ij**2: the quadratic funding
subsidy (sum_i sqrt(c_ij))**2 - sum_i c_ij with the roots rounded down, never negative (the cross
terms 2 * sum_{i<k} s_ij * s_kj), whatever the order of the contributions. A project's matching is
floor(pool * w_j / W) with W = sum_j w_j (zero when W is zero). Remainder rule: with W > 0 the pool
minus the matching (less than one unit per weighted project) returns to the round's creator; with
W = 0 the whole pool returns to its funders. Contributions that are not eligible reach their project
and add no weight. Pure integer arithmetic: the contract's split is recomputed exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import isqrt

from proofwork.domain.errors import InvalidInput


@dataclass(frozen=True)
class Contribution:
    """One contribution: to a project (id from 1), by a contributor (an address), an amount in token
    units, and whether it counted toward matching (its contributor passed the round's rule)."""

    project: int
    contributor: str
    amount: int
    matched: bool


@dataclass(frozen=True)
class ProjectSplit:
    """One project's part of the split."""

    project: int
    contributions: int  # every contribution received
    eligible_contributions: int  # those that counted toward matching
    sqrt_sum: int  # sum over eligible contributors of isqrt(their total)
    weight: int  # sqrt_sum**2 - sum of isqrt(total)**2
    matching: int  # floor(pool * weight / total weight)

    @property
    def payout(self) -> int:
        """What the project is paid: its contributions plus its matching."""
        return self.contributions + self.matching


@dataclass(frozen=True)
class Split:
    """A round's split: per project (ids 1..n in order), the total weight and what returns to funders."""

    pool: int
    total_weight: int
    projects: tuple[ProjectSplit, ...]
    returned: int  # pool - matching: the creator's remainder (W > 0), or the whole pool (W = 0)

    @property
    def matching(self) -> int:
        """The matching paid to projects in all."""
        return sum(p.matching for p in self.projects)

    @property
    def contributions(self) -> int:
        """Every contribution received."""
        return sum(p.contributions for p in self.projects)


def weight(totals: Iterable[int]) -> tuple[int, int]:
    """(sum of roots, weight) of one project from its eligible contributors' totals."""
    roots = [isqrt(c) for c in totals]
    s = sum(roots)
    return s, s * s - sum(r * r for r in roots)


def split(pool: int, project_count: int, contributions: Iterable[Contribution]) -> Split:
    """The split of `pool` among projects 1..project_count after `contributions` (in any order).
    Raises InvalidInput for a negative amount or an unknown project."""
    if pool < 0 or project_count < 0:
        raise InvalidInput("pool and project count must not be negative")
    received = [0] * (project_count + 1)
    eligible = [0] * (project_count + 1)
    totals: list[dict[str, int]] = [{} for _ in range(project_count + 1)]
    for c in contributions:
        if not 1 <= c.project <= project_count:
            raise InvalidInput(f"contribution to unknown project {c.project}")
        if c.amount <= 0:
            raise InvalidInput(f"contribution of {c.amount}: amounts must be positive")
        received[c.project] += c.amount
        if c.matched:
            who = c.contributor.lower()
            eligible[c.project] += c.amount
            totals[c.project][who] = totals[c.project].get(who, 0) + c.amount
    sums = [weight(totals[j].values()) for j in range(project_count + 1)]
    total_weight = sum(w for _, w in sums[1:])
    projects = tuple(
        ProjectSplit(
            project=j,
            contributions=received[j],
            eligible_contributions=eligible[j],
            sqrt_sum=sums[j][0],
            weight=sums[j][1],
            matching=pool * sums[j][1] // total_weight if total_weight else 0,
        )
        for j in range(1, project_count + 1)
    )
    return Split(
        pool=pool,
        total_weight=total_weight,
        projects=projects,
        returned=pool - sum(p.matching for p in projects),
    )
