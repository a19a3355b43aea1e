"""What the chain indexer moves from the chain into SQL: one decoded contract event, in plain values.

`args` is JSON as stored: every integer a decimal string (uint256 amounts and ids do not fit a JSON
number without loss; money is never a float), bytes as 0x hex, addresses as lower-case 0x hex, tuples
as objects by component name, arrays as lists. Indexed arguments of dynamic types (string, bytes,
arrays) are only their keccak hash on chain: they are stored as that 0x hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonArgs = dict[str, Any]


@dataclass(frozen=True)
class IndexedEvent:
    block_number: int
    block_hash: str  # 0x hex, lower case
    tx_hash: str
    tx_index: int
    log_index: int
    address: str  # lower case
    contract: str  # the contract's name (JobEscrow...), as the deployment records it
    name: str  # the event's name; "" for a log the contract's ABI does not describe
    args: JsonArgs

    @classmethod
    def from_row(cls, row: Any) -> IndexedEvent:
        """The event a stored row holds (anything with these fields as attributes: an ORM row, a result
        row)."""
        return cls(
            row.block_number,
            row.block_hash,
            row.tx_hash,
            row.tx_index,
            row.log_index,
            row.address,
            row.contract,
            row.name,
            row.args,
        )


def arg_value(value: object) -> object:
    """A query value as args store it: integers as decimal text, addresses and hex lower case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        return value.lower()
    return value
