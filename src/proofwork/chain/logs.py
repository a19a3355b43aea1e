"""Raw logs for the indexer: ranges fetched in chunks, block hashes, and decoding into plain values.

The indexer (services/indexer.py) asks for every log of a set of addresses over a block range and
for the hash of a block (to notice reorgs); this module is the only part of it that speaks web3.
Decoding uses the ABI each contract was deployed with (the deployment manifest records it) and plain
eth_abi, an order of magnitude faster than web3's per-event `process_log`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3RPCError

from proofwork.chain.client import Chain, translate_errors
from proofwork.chain.encoding import keccak
from proofwork.chain.events import event_signature
from proofwork.domain.errors import ChainUnavailable
from proofwork.domain.indexing import IndexedEvent, JsonArgs

# What nodes answer when an eth_getLogs range or its result is more than they serve (geth, erigon,
# public RPC providers...): "exceed maximum block range: 5000", "query returned more than 10000
# results", "block range is too wide", "Log response size exceeded", "limited to a 10,000 range".
_TOO_LARGE = re.compile(
    r"block range|range (is )?too|too (many|large|wide|big)|exceed|more than [\d,]+ results|"
    r"response size|limited to|max(imum)? (block )?range|range limit",
    re.IGNORECASE,
)


class LogRangeTooLarge(ChainUnavailable):
    """The node refused an eth_getLogs request for its range or the size of its answer."""


@dataclass(frozen=True)
class RawLog:
    block_number: int
    block_hash: str  # 0x hex, lower case
    tx_hash: str
    tx_index: int
    log_index: int
    address: str  # lower case
    topics: tuple[bytes, ...]
    data: bytes


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


def fetch_logs(chain: Chain, addresses: Iterable[str], from_block: int, to_block: int) -> list[RawLog]:
    """Every log the addresses emitted in blocks `from_block`..`to_block` (inclusive), in chain order.
    A node refusing the range raises LogRangeTooLarge (the caller asks for a smaller one)."""
    query = {
        "address": [Web3.to_checksum_address(a) for a in addresses],
        "fromBlock": from_block,
        "toBlock": to_block,
    }
    with translate_errors(chain.url):
        try:
            logs = chain.web3.eth.get_logs(query)  # type: ignore[arg-type]
        except Web3RPCError as exc:
            message = str(getattr(exc, "message", None) or exc)
            if _TOO_LARGE.search(message):
                raise LogRangeTooLarge(
                    f"the node refused logs of blocks {from_block}-{to_block}: {message.splitlines()[0]}"
                ) from exc
            raise
    out = [
        RawLog(
            int(log["blockNumber"]),
            _hex(log["blockHash"]),
            _hex(log["transactionHash"]),
            int(log["transactionIndex"]),
            int(log["logIndex"]),
            str(log["address"]).lower(),
            tuple(bytes(t) for t in log["topics"]),
            bytes(log["data"]),
        )
        for log in logs
    ]
    out.sort(key=lambda log: (log.block_number, log.tx_index, log.log_index))
    return out


def block_hash(chain: Chain, number: int) -> str | None:
    """The hash of the canonical block `number`, or None when the chain is not that high (any more)."""
    with translate_errors(chain.url):
        try:
            block = chain.web3.eth.get_block(number)
        except BlockNotFound:
            return None
    return _hex(block["hash"]) if block is not None else None


# --- decoding ------------------------------------------------------------------------------------

_DYNAMIC_BASES = ("string", "bytes")


def _decoding_type(item: dict[str, Any]) -> str:
    """The eth_abi type to decode an ABI input with; strings are read as bytes (decoded leniently)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_decoding_type(c) for c in item["components"]) + ")" + kind[5:]
    if kind.startswith("string"):
        return "bytes" + kind[6:]
    return kind


def _is_dynamic(item: dict[str, Any]) -> bool:
    kind = str(item["type"])
    return kind.endswith("]") or kind.startswith("tuple") or kind in _DYNAMIC_BASES


def plain(value: Any, item: dict[str, Any]) -> Any:
    """A decoded ABI value as JSON: integers as decimal text, bytes as 0x hex, tuples as objects."""
    kind = str(item["type"])
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [plain(v, inner) for v in value]
    if kind.startswith("tuple"):
        return {c["name"]: plain(v, c) for c, v in zip(item["components"], value, strict=True)}
    if kind == "string":
        # no NUL: PostgreSQL's JSON operators refuse it; invalid UTF-8 becomes U+FFFD on every database
        return bytes(value).decode("utf-8", "replace").replace("\x00", "\ufffd")
    if kind == "bool":
        return bool(value)
    if kind == "address":
        return str(value).lower()
    if kind.startswith(("uint", "int")):
        return str(int(value))
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return value


@dataclass(frozen=True)
class _EventSpec:
    name: str
    indexed: tuple[dict[str, Any], ...]
    data_items: tuple[dict[str, Any], ...]
    data_types: tuple[str, ...]
    names: tuple[str, ...]  # every input's name in ABI order


def _spec(item: dict[str, Any]) -> _EventSpec:
    inputs = item["inputs"]
    data_items = tuple(i for i in inputs if not i.get("indexed"))
    return _EventSpec(
        item["name"],
        tuple(i for i in inputs if i.get("indexed")),
        data_items,
        tuple(_decoding_type(i) for i in data_items),
        tuple(i["name"] for i in inputs),
    )


class EventDecoder:
    """Decodes the logs of known contracts: address -> (contract name, ABI)."""

    def __init__(self, contracts: Iterable[tuple[str, str, list[dict[str, Any]]]]) -> None:
        self._names: dict[str, str] = {}
        self._specs: dict[str, dict[bytes, _EventSpec]] = {}
        for address, name, abi in contracts:
            key = address.lower()
            self._names[key] = name
            self._specs[key] = {
                keccak(event_signature(item).encode()): _spec(item)
                for item in abi
                if item.get("type") == "event" and not item.get("anonymous")
            }

    def decode(self, log: RawLog) -> IndexedEvent:
        """The log as an event; a log its contract's ABI does not describe (or that does not decode
        by it) keeps its raw topics and data, under the name ""."""
        specs = self._specs.get(log.address, {})
        spec = specs.get(log.topics[0]) if log.topics else None
        args = _decode_args(spec, log) if spec is not None else None
        if spec is None or args is None:
            raw = {"topics": ["0x" + t.hex() for t in log.topics], "data": "0x" + log.data.hex()}
            return self._event(log, "", raw)
        return self._event(log, spec.name, args)

    def _event(self, log: RawLog, name: str, args: JsonArgs) -> IndexedEvent:
        return IndexedEvent(
            log.block_number,
            log.block_hash,
            log.tx_hash,
            log.tx_index,
            log.log_index,
            log.address,
            self._names.get(log.address, ""),
            name,
            args,
        )


def _decode_args(spec: _EventSpec, log: RawLog) -> JsonArgs | None:
    if len(log.topics) != len(spec.indexed) + 1:
        return None
    try:
        values: dict[str, Any] = {}
        for item, topic in zip(spec.indexed, log.topics[1:], strict=True):
            if _is_dynamic(item):
                values[item["name"]] = "0x" + topic.hex()  # only the value's hash is on chain
            else:
                values[item["name"]] = plain(abi_decode([_decoding_type(item)], topic)[0], item)
        decoded = abi_decode(list(spec.data_types), log.data) if spec.data_types else ()
        for item, value in zip(spec.data_items, decoded, strict=True):
            values[item["name"]] = plain(value, item)
    except (DecodingError, ValueError, TypeError, OverflowError):
        return None
    return {name: values[name] for name in spec.names}
