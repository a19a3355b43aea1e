"""Any contract's indexed event read back as the chain adapter decodes it from a log.

The index stores event arguments as plain JSON (`domain.indexing`: integers as decimal text, bytes as
0x hex, addresses lower case, tuples as objects by component name). `event_args` turns them back,
guided by the event's ABI entry, into the values `chain.events.ContractHandle` gives for the same log
(web3's decoding): integers as int, addresses EIP-55 checksummed, bytes as bytes, strings as str,
booleans as bool, arrays as lists and tuples as dicts by component name. An indexed argument of a
dynamic type (string, bytes, an array, a tuple) is only its keccak hash on chain: it comes back as
those 32 bytes, as web3 gives it.

`domain.indexed_jobs` reads the escrow's events into the domain's job events the same way, by their
dataclass fields; both share `checksummed`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from eth_utils import to_checksum_address

AbiItem = Mapping[str, Any]


@functools.lru_cache(maxsize=65_536)
def checksummed(address: str) -> str:
    """EIP-55 (a keccak per address: the same accounts come back all the time)."""
    return str(to_checksum_address(address.lower()))


def _hex_bytes(stored: Any) -> bytes:
    text = str(stored)
    if not text.startswith("0x"):
        raise ValueError(f"not 0x hex: {text[:20]!r}")
    return bytes.fromhex(text[2:])


def is_dynamic(item: AbiItem) -> bool:
    """Whether an indexed argument of this ABI type is stored as its hash (string, bytes, arrays,
    tuples)."""
    kind = str(item["type"])
    return kind.endswith("]") or kind.startswith("tuple") or kind in ("string", "bytes")


def arg_value(stored: Any, item: AbiItem) -> Any:
    """One stored JSON argument as the chain adapter's value for the ABI input `item`."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        if not isinstance(stored, list):
            raise ValueError(f"not a list for {kind}")
        return [arg_value(v, inner) for v in stored]
    if kind.startswith("tuple"):
        if not isinstance(stored, Mapping):
            raise ValueError(f"not an object for {kind}")
        return {c["name"]: arg_value(stored[c["name"]], c) for c in item["components"]}
    if kind == "address":
        return checksummed(str(stored))
    if kind.startswith(("uint", "int")):
        if isinstance(stored, bool):
            raise ValueError("not an integer")
        return int(stored)
    if kind == "bool":
        if not isinstance(stored, bool):
            raise ValueError("not a boolean")
        return stored
    if kind == "string":
        return str(stored)
    if kind.startswith("bytes"):
        return _hex_bytes(stored)
    raise ValueError(f"no conversion for ABI type {kind}")


def event_args(event_abi: AbiItem, args: Mapping[str, Any]) -> dict[str, Any]:
    """The stored arguments of an event as the chain adapter decodes them (ValueError: they do not
    match the event's ABI, e.g. a log stored undecoded)."""
    out: dict[str, Any] = {}
    try:
        for item in event_abi["inputs"]:
            stored = args[item["name"]]
            if item.get("indexed") and is_dynamic(item):
                out[item["name"]] = _hex_bytes(stored)  # only its hash is on chain
            else:
                out[item["name"]] = arg_value(stored, item)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"stored {event_abi.get('name')} arguments do not match its ABI: {exc}") from exc
    return out
