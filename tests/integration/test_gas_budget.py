"""Gas is deterministic, so the benchmark's budget is also guarded here (figures from real receipts)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.integration.conftest import Market

_spec = importlib.util.spec_from_file_location(
    "bench_gas", Path(__file__).resolve().parents[2] / "bench" / "gas.py"
)
assert _spec and _spec.loader
bench_gas = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_gas)


def test_a_one_milestone_lifecycle_stays_under_200k_gas(market: Market) -> None:
    bench_gas.lifecycle(market.pw, market.client.name)  # warm-up, as on a live escrow
    steps = bench_gas.lifecycle(market.pw, market.client.name)
    assert set(steps) == {"create+fund", "submit", "approve+pay"}
    assert sum(steps.values()) <= bench_gas.BUDGET_LIMIT, steps
