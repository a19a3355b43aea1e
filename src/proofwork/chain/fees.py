"""EIP-1559 fees for a JSON-RPC chain, as plain integer arithmetic (no web3): what to offer from a
node's `eth_feeHistory`, how much a replacement adds, and the user's cap on both.

A transaction offers `maxFeePerGas` (the most it pays per gas, base fee included) and
`maxPriorityFeePerGas` (the tip to the block producer, within that maximum). We offer twice the base
fee of the next block plus a tip, the median of recent blocks' tips at a percentile: the offer stays
valid through six full blocks of base-fee rises (12.5 % each), and only base fee + tip is charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from proofwork.domain.errors import TransactionRejected

GWEI = 10**9
# How many recent blocks the tip is taken from, and at which percentile of each block's tips.
HISTORY_BLOCKS = 10
TIP_PERCENTILE = 50
# geth refuses a replacement that does not raise both the fee cap and the tip by 10 %.
MIN_BUMP_PERCENT = 10


@dataclass(frozen=True)
class SendPolicy:
    """How transactions are priced and watched on a JSON-RPC chain (from `Settings`).

    `max_fee_per_gas`: the cap (wei) on any offer, replacements included; `replace_after`: seconds a
    transaction may stay unmined before it is replaced with higher fees; `bump_percent`: how much a
    replacement raises both fees (geth needs 10 at least); `max_wait`: seconds after which the sender
    stops waiting (the transaction may still be mined later)."""

    max_fee_per_gas: int = 200 * GWEI
    replace_after: float = 30.0
    bump_percent: float = 12.5
    max_wait: float = 300.0


@dataclass(frozen=True)
class Fees:
    max_fee: int  # maxFeePerGas, wei
    tip: int  # maxPriorityFeePerGas, wei

    def as_tx(self) -> dict[str, int]:
        return {"maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.tip}

    def describe(self) -> str:
        return f"up to {gwei(self.max_fee)} gwei per gas (tip {gwei(self.tip)} gwei)"


def gwei(wei: int) -> str:
    """`wei` in gwei for a person: exact, without trailing zeros ("2.5", "0.001", "30")."""
    whole, rest = divmod(wei, GWEI)
    return f"{whole}.{rest:09d}".rstrip("0").rstrip(".") if rest else str(whole)


def median(values: Sequence[int]) -> int:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) // 2


def tip_from_history(rewards: Sequence[Sequence[int]], gas_used_ratio: Sequence[float]) -> int | None:
    """The median, over the recent blocks that held transactions, of each block's tip at the chosen
    percentile (the first column of `eth_feeHistory`'s `reward`); None when no block held any."""
    tips = [int(row[0]) for row, used in zip(rewards, gas_used_ratio, strict=False) if row and used > 0]
    return median(tips) if tips else None


def suggest(next_base_fee: int, tip: int, cap: int) -> Fees:
    """The fees to offer: twice the next block's base fee plus `tip`, at most `cap`. Refused when the
    cap is below the base fee itself (nothing could be mined)."""
    if next_base_fee < 0 or tip < 0 or cap <= 0:
        raise ValueError("fees and the cap are positive")
    if cap < next_base_fee:
        raise TransactionRejected(
            f"the chain's base fee is {gwei(next_base_fee)} gwei per gas, above the fee cap of "
            f"{gwei(cap)} gwei (PROOFWORK_MAX_FEE_GWEI): nothing sent"
        )
    max_fee = min(2 * next_base_fee + tip, cap)
    return Fees(max_fee, min(tip, max_fee))


def _raised(value: int, percent: float) -> int:
    """`value` raised by `percent` (rounded up, in basis points), and by 1 wei at least."""
    basis_points = round(percent * 100)
    return value + max(1, -(-value * basis_points // 10_000))


def bump(current: Fees, fresh: Fees | None, percent: float, cap: int) -> Fees | None:
    """The fees of a replacement for a transaction offering `current`: both raised by `percent`, or to
    what the chain asks now (`fresh`) when that is more, within `cap`. None when the cap leaves no
    room for a replacement a node accepts (both fees up by `MIN_BUMP_PERCENT` at least)."""
    max_fee = _raised(current.max_fee, percent)
    tip = _raised(current.tip, percent)
    if fresh is not None:
        max_fee, tip = max(max_fee, fresh.max_fee), max(tip, fresh.tip)
    max_fee = min(max_fee, cap)
    tip = min(tip, max_fee)
    least = Fees(_raised(current.max_fee, MIN_BUMP_PERCENT), _raised(current.tip, MIN_BUMP_PERCENT))
    if max_fee < least.max_fee or tip < least.tip:
        return None
    return Fees(max_fee, tip)


def at_least(current: Fees, fresh: Fees) -> Fees:
    """Fees no lower than `current` and than what the chain asks now (a dropped transaction resent)."""
    max_fee = max(current.max_fee, fresh.max_fee)
    return Fees(max_fee, min(max(current.tip, fresh.tip), max_fee))
