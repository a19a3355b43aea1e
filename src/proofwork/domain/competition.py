"""A competition's rules that need no chain: who wins, what a bond defaults to.

The contract checks the committee's winners (revealed, reaching the bar, best first with ties to
the earlier entry); the committee picks them with `winners`, the one place that says who wins."""

from __future__ import annotations

from collections.abc import Iterable

from proofwork.domain.errors import InvalidInput

BPS = 10_000
MAX_PLACES = 10
# `entry_bond` is a uint256 the contract caps at 2^128 (so that bonds times entries cannot overflow)
MAX_ENTRY_BOND = 2**128
# Default bond per entry: this share of the prize (in basis points). Refunded on reveal, so an honest
# entrant only lends it; a flood of entries never revealed (sealed garbage the oracles must still
# open and score for the public leaderboard) costs a hundredth of the prize each, credited to the
# client: a hundred such entries cost as much as the prize itself.
DEFAULT_BOND_BPS = 100


def default_entry_bond(prize: int) -> int:
    """The bond when the client names none: 1 % of the prize, at least one token unit."""
    return max(1, prize * DEFAULT_BOND_BPS // BPS)


def reaches(score: int, bar: int, higher_is_better: bool) -> bool:
    """Whether `score` may win anything: at least the bar (at most, when lower is better)."""
    return score >= bar if higher_is_better else score <= bar


def winners(
    scores: Iterable[tuple[int, int]], places: int, min_score: int, higher_is_better: bool
) -> list[tuple[int, int]]:
    """The winning (entry, score) pairs, first place first: the best `places` entries reaching
    `min_score`, ties to the earliest entry (the lower index), as the contract checks them."""
    eligible = [(entry, score) for entry, score in scores if reaches(score, min_score, higher_is_better)]
    eligible.sort(key=lambda pair: (-pair[1] if higher_is_better else pair[1], pair[0]))
    return eligible[:places]


def prize_of(prize: int, prize_bps: list[int], place: int) -> int:
    """What place `place` (0 = first) is awarded, as the contract computes it."""
    return prize * prize_bps[place] // BPS


def parse_ranking(text: str) -> list[tuple[int, int]]:
    """`ENTRY:SCORE,ENTRY:SCORE...` (scores in fixed point, 1e6 = 1.0), first place first."""
    out: list[tuple[int, int]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        entry, sep, score = part.partition(":")
        try:
            if not sep:
                raise ValueError(part)
            pair = (int(entry), int(score))
            if not (0 <= pair[0] < 2**256 and -(2**255) <= pair[1] < 2**255):
                raise ValueError(part)
            out.append(pair)
        except ValueError:
            raise InvalidInput(
                f"invalid ranking {text[:80]!r}: expected ENTRY:SCORE pairs separated by commas (an entry id, an "
                "int256 score)"
            ) from None
    return out
