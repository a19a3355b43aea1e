"""What comes back from the chain, as plain values: a mined transaction's receipt and a decoded event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    gas_used: int
    status: int
    contract_address: str | None
    logs: list[Any]


@dataclass(frozen=True)
class Event:
    name: str
    block: int
    tx_hash: str
    args: dict[str, Any]
