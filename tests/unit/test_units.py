from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofwork.domain.errors import InvalidInput
from proofwork.domain.units import format_amount, format_duration, parse_amount, parse_duration, split_budget


@pytest.mark.parametrize(
    ("text", "units"),
    [("1500.50", 1_500_500_000), ("0", 0), ("0.000001", 1), ("1_000", 1_000_000_000), (" 7 ", 7_000_000)],
)
def test_parse_amount_is_exact(text: str, units: int) -> None:
    assert parse_amount(text, 6) == units


@pytest.mark.parametrize("text", ["-1", "1e3", "abc", "", "1.2.3", "0x10", "NaN", "inf", "1,5"])
def test_parse_amount_refuses_malformed(text: str) -> None:
    with pytest.raises(InvalidInput, match="invalid amount"):
        parse_amount(text, 6)


def test_parse_amount_refuses_excess_precision() -> None:
    with pytest.raises(InvalidInput, match="more than 6 decimal places"):
        parse_amount("0.0000001", 6)
    assert parse_amount("0.10000000", 6) == 100_000  # trailing zeros are not precision


@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=0, max_value=24))
def test_format_then_parse_round_trips(units: int, decimals: int) -> None:
    assert parse_amount(format_amount(units, decimals), decimals) == units


@pytest.mark.parametrize(
    ("text", "seconds"), [("7d", 604_800), ("36h", 129_600), ("90m", 5_400), ("2w", 1_209_600), ("45", 45)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["0d", "soon", "-3d", "3 days", "1.5d", ""])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(InvalidInput, match="invalid duration"):
        parse_duration(text)


def test_format_duration_picks_the_largest_exact_unit() -> None:
    assert [format_duration(s) for s in (604_800, 259_200, 5_400, 61)] == ["1w", "3d", "90m", "61s"]


@given(st.integers(min_value=16, max_value=10**24), st.integers(min_value=1, max_value=16))
def test_split_budget_adds_up_and_is_even(total: int, parts: int) -> None:
    amounts = split_budget(total, parts)
    assert sum(amounts) == total and len(amounts) == parts
    assert max(amounts) - min(amounts) <= 1


def test_split_budget_refuses_bad_counts() -> None:
    with pytest.raises(InvalidInput):
        split_budget(100, 0)
    with pytest.raises(InvalidInput):
        split_budget(100, 17)
    with pytest.raises(InvalidInput, match="too small"):
        split_budget(2, 3)


def test_durations_are_capped_below_the_contract_clocks() -> None:
    with pytest.raises(InvalidInput, match="at most 100 years"):
        parse_duration("99999999w")
