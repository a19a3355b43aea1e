"""Exact conversions between what people type and what contracts store.

Money is always an integer count of token units; decimal strings are parsed with
`decimal.Decimal` and refused if they carry more precision than the token has.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from proofwork.domain.errors import InvalidInput

_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_DURATION = re.compile(r"^([0-9]+)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MAX_DURATION = 100 * 365 * 86_400  # far beyond any job, far below the contracts' uint64 clocks


def parse_amount(text: str, decimals: int) -> int:
    """'1500.50' with 6 decimals -> 1_500_500_000. Refuses negatives, exponents and excess precision."""
    cleaned = str(text).strip().replace("_", "")
    if not _AMOUNT.match(cleaned):
        raise InvalidInput(f"invalid amount {text!r}: expected a non-negative decimal such as 1500.50")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise InvalidInput(f"invalid amount {text!r}") from exc
    units = value.scaleb(decimals)
    if units != units.to_integral_value():
        raise InvalidInput(f"amount {text!r} has more than {decimals} decimal places")
    if units >= 2**256:
        raise InvalidInput(f"amount {text!r} is larger than any token can hold")
    return int(units)


def format_amount(units: int, decimals: int) -> str:
    """1_500_500_000 with 6 decimals -> '1500.5'; exact, no float."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**decimals)
    if decimals == 0 or frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


def parse_duration(text: str) -> int:
    """'7d' -> 604800 seconds; units s, m, h, d, w; a bare number is seconds."""
    cleaned = str(text).strip().lower()
    if cleaned.isascii() and cleaned.isdigit():
        seconds = int(cleaned)
    else:
        match = _DURATION.match(cleaned)
        if not match:
            raise InvalidInput(f"invalid duration {text!r}: expected a number and a unit, e.g. 7d, 36h, 90m")
        seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if seconds <= 0:
        raise InvalidInput(f"invalid duration {text!r}: must be longer than zero")
    if seconds > MAX_DURATION:
        raise InvalidInput(f"invalid duration {text!r}: at most 100 years")
    return seconds


def format_duration(seconds: int) -> str:
    """604800 -> '7d'; 5400 -> '90m'; uses the largest unit that divides exactly."""
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _SECONDS[unit] == 0:
            return f"{seconds // _SECONDS[unit]}{unit}"
    return f"{seconds}s"


def format_utc(timestamp: int) -> str:
    """A unix time as people read it: `2026-12-05 16:20 UTC`."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def split_budget(total: int, parts: int) -> list[int]:
    """Splits `total` units into `parts` milestones that differ by at most one unit; the remainder goes first."""
    if not 1 <= parts <= 16:
        raise InvalidInput(f"milestones must be between 1 and 16, got {parts}")
    if total < parts:
        raise InvalidInput("budget is too small to split into that many milestones")
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]
