"""Raw logs for the indexer: ranges fetched in chunks, block hashes, and decoding into plain values.

The indexer (services/indexer.py) asks for every log of a set of addresses over a block range and
for the hash of a block (to notice reorgs); this module is the only part of it that speaks web3.
Decoding uses the ABI each contract was deployed with (the deployment manifest records it) and plain
eth_abi, an order of magnitude faster than web3's per-event `process_log`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

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


# A reader decodes one 32-byte word of a static elementary type straight into its plain JSON value, or
# answers _SLOW when the word is not what eth_abi's strict decoding accepts (then eth_abi decides).
_SLOW: Any = object()
_Reader = Callable[[bytes], Any]
_ZERO = bytes(32)


def _uint_reader(bits: int) -> _Reader:
    limit = 1 << bits

    def read(word: bytes) -> Any:
        value = int.from_bytes(word, "big")
        return str(value) if value < limit else _SLOW

    return read


def _int_reader(bits: int) -> _Reader:
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)

    def read(word: bytes) -> Any:
        value = int.from_bytes(word, "big", signed=True)
        return str(value) if low <= value < high else _SLOW

    return read


def _read_address(word: bytes) -> Any:
    return "0x" + word[12:].hex() if word[:12] == _ZERO[:12] else _SLOW


def _read_bool(word: bytes) -> Any:
    if word[:31] != _ZERO[:31] or word[31] > 1:
        return _SLOW
    return word[31] == 1


def _bytes_reader(size: int) -> _Reader:
    padding = _ZERO[size:]

    def read(word: bytes) -> Any:
        return "0x" + word[:size].hex() if word[size:] == padding else _SLOW

    return read


_SIZED = re.compile(r"(uint|int|bytes)(\d+)")


def _reader(kind: str) -> _Reader | None:
    """The word reader of a static elementary ABI type; None for any other type."""
    if kind == "address":
        return _read_address
    if kind == "bool":
        return _read_bool
    if kind in ("uint", "int"):
        kind += "256"
    match = _SIZED.fullmatch(kind)
    if match is None:
        return None
    base, size = match.group(1), int(match.group(2))
    if base == "bytes":
        return _bytes_reader(size) if 1 <= size <= 32 else None
    if not (8 <= size <= 256 and size % 8 == 0):
        return None
    return _uint_reader(size) if base == "uint" else _int_reader(size)


@dataclass(frozen=True)
class _EventSpec:
    name: str
    indexed: tuple[dict[str, Any], ...]
    data_items: tuple[dict[str, Any], ...]
    data_types: tuple[str, ...]
    names: tuple[str, ...]  # every input's name in ABI order
    # fast paths, built once per event type: a word reader per indexed input (None: a dynamic value,
    # whose hash is the topic) and per data input with whether it is a dynamic array of such words
    # (None: a type without a fast path is in the data, eth_abi decodes it)
    topic_readers: tuple[_Reader | None, ...]
    data_readers: tuple[tuple[_Reader, bool], ...] | None


def _spec(item: dict[str, Any]) -> _EventSpec:
    inputs = item["inputs"]
    indexed = tuple(i for i in inputs if i.get("indexed"))
    data_items = tuple(i for i in inputs if not i.get("indexed"))
    data_readers = tuple(_data_reader(str(i["type"])) for i in data_items)
    return _EventSpec(
        item["name"],
        indexed,
        data_items,
        tuple(_decoding_type(i) for i in data_items),
        tuple(i["name"] for i in inputs),
        tuple(None if _is_dynamic(i) else _reader(str(i["type"])) for i in indexed),
        None
        if any(r is None for r in data_readers)
        else cast(tuple[tuple[_Reader, bool], ...], data_readers),
    )


def _data_reader(kind: str) -> tuple[_Reader, bool] | None:
    """A data input's reader: of a static elementary type, or of a dynamic array of one (T[])."""
    if kind.endswith("[]"):
        inner = _reader(kind[:-2])
        return None if inner is None else (inner, True)
    reader = _reader(kind)
    return None if reader is None else (reader, False)


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
    fast = _fast_args(spec, log)
    return fast if fast is not None else _abi_args(spec, log)


def _fast_args(spec: _EventSpec, log: RawLog) -> JsonArgs | None:
    """The arguments read word by word (static elementary types and dynamic arrays of them, in the
    standard encoding); None when eth_abi must decide (another type, an unusual layout, a bad word)."""
    readers = spec.data_readers
    if readers is None:
        return None
    values: dict[str, Any] = {}
    for item, reader, topic in zip(spec.indexed, spec.topic_readers, log.topics[1:], strict=True):
        if reader is None:
            if not _is_dynamic(item):
                return None
            values[item["name"]] = "0x" + topic.hex()  # only the value's hash is on chain
            continue
        value = reader(topic)
        if value is _SLOW:
            return None
        values[item["name"]] = value
    data = log.data
    tail = 32 * len(readers)  # where the next dynamic value must start in the standard encoding
    for index, (item, (reader, is_array)) in enumerate(zip(spec.data_items, readers, strict=True)):
        word = data[32 * index : 32 * index + 32]
        if is_array:
            if int.from_bytes(word, "big") != tail or len(data) < tail + 32:
                return None
            count = int.from_bytes(data[tail : tail + 32], "big")
            start, tail = tail + 32, tail + 32 + 32 * count
            if len(data) < tail:
                return None
            value = [reader(data[i : i + 32]) for i in range(start, tail, 32)]
            if _SLOW in value:
                return None
        else:
            value = reader(word)
            if value is _SLOW:
                return None
        values[item["name"]] = value
    if len(data) != tail:
        return None
    return {name: values[name] for name in spec.names}


def _abi_args(spec: _EventSpec, log: RawLog) -> JsonArgs | None:
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
