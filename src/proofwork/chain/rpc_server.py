"""The embedded chain served over JSON-RPC on 127.0.0.1, so wallets, other CLIs and the oracle daemons
use it at the same time while one process (the server) holds its lock.

py-evm stays the engine: every chain method goes through the embedded chain's own web3 provider
(`EmbeddedChain.web3.provider`, which holds the chain's request lock and already answers failures as a
node does: code 3 with the revert data, -32000 for a refused transaction). This module only does what a
node's transport does: the wire format (web3's eth-tester request and result formatters, then every
integer as a hex quantity), JSON-RPC 2.0 (batches, notifications, error objects), and HTTP.

A plain ASGI application served by uvicorn rather than FastAPI: JSON-RPC is one POST endpoint whose
body is itself the protocol, so routing, validation models and OpenAPI would add nothing, and reading
the body by hand lets an oversized request be refused before it is buffered.

Guards of a node bound to loopback: the interface must be a loopback address; a request whose Host is
not loopback is refused (DNS rebinding), as is one from a web page of another origin (loopback pages and
wallet extensions are allowed, with CORS), and a body that is not `application/json` (a cross-site form
cannot post one without a preflight). No keys are held: `eth_accounts` is empty and `eth_sendTransaction`
is refused; clients sign locally and send raw transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from proofwork.domain.errors import InvalidInput, ProofworkError
from proofwork.domain.jsonsafe import check_nesting
from proofwork.domain.loopback import check_loopback, is_loopback_name, loopback_host_header
from proofwork.keys.accounts import address_of

if TYPE_CHECKING:
    from proofwork.chain.embedded import EmbeddedChain

__all__ = ["MAX_BATCH", "MAX_BODY_BYTES", "RpcServer", "check_loopback", "serve_embedded"]

MAX_BODY_BYTES: Final = 5 * 1024 * 1024  # as geth: a contract deployment is well under 1 MiB of hex
MAX_BATCH: Final = 1000
MAX_JSON_DEPTH: Final = 64  # a batch of calls with filter topics nests 6 levels
MAX_FEE_HISTORY: Final = 1024  # blocks in one eth_feeHistory, as geth caps it
ZERO_ADDRESS: Final = "0x" + "00" * 20

# JSON-RPC 2.0 error codes
PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
SERVER_ERROR: Final = -32000

# Served through the embedded chain's provider as they are (after the wire formatters).
TESTER_METHODS: Final = frozenset(
    {
        "eth_blockNumber",
        "eth_getBalance",
        "eth_getTransactionCount",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_call",
        "eth_estimateGas",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_blobBaseFee",
        "eth_sendRawTransaction",
        "eth_getTransactionByHash",
        "eth_getTransactionReceipt",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getBlockTransactionCountByHash",
        "eth_getBlockTransactionCountByNumber",
        "eth_getTransactionByBlockHashAndIndex",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getLogs",
        "eth_syncing",
        "net_listening",
        "net_peerCount",
        "web3_sha3",
    }
)


_EXTENSION_SCHEMES: Final = ("chrome-extension", "moz-extension", "safari-web-extension")


def _origin_allowed(origin: str) -> bool:
    """A page served from loopback, or a wallet extension; never another web site."""
    parts = urlsplit(origin)
    if parts.scheme in _EXTENSION_SCHEMES:
        return True
    return parts.scheme in ("http", "https") and is_loopback_name(parts.hostname or "")


def _to_wire(value: Any) -> Any:
    """eth-tester's Python values as JSON-RPC sends them: integers as hex quantities."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_wire(v) for v in value]
    return value


def _quantity(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            number = int(value, 16)
        except ValueError:
            raise _RpcError(INVALID_PARAMS, f"invalid {what} {value!r}: expected a hex quantity") from None
    else:
        raise _RpcError(INVALID_PARAMS, f"invalid {what} {value!r}: expected a hex quantity")
    if number < 0:
        raise _RpcError(INVALID_PARAMS, f"invalid {what} {value!r}: negative")
    return number


def _undecodable() -> tuple[type[Exception], ...]:
    """What py-evm raises on bytes that are no transaction: bad params, not a server failure."""
    from eth.exceptions import UnrecognizedTransactionType
    from rlp.exceptions import RLPException

    return (UnrecognizedTransactionType, RLPException)


# failures that mean the params were wrong (a server failure is anything else)
_BAD_PARAMS: Final[tuple[type[BaseException], ...]] = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    *_undecodable(),
)


class _RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


class RpcDispatcher:
    """JSON-RPC requests (already parsed) answered over one embedded chain; thread-safe (the chain's
    provider serialises requests), used by the HTTP app from its one chain thread."""

    def __init__(self, chain: EmbeddedChain) -> None:
        from web3.providers.eth_tester.middleware import request_formatters, result_formatters

        self.chain = chain
        self.chain_id = chain.chain_id
        self._provider = chain.web3.provider
        self._request_formatters = dict(request_formatters)
        self._result_formatters = dict(result_formatters or {})
        self._default_from = address_of(chain.dev_private_keys[0]) if chain.dev_private_keys else ZERO_ADDRESS
        try:
            version = metadata.version("proofwork")
        except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
            version = "0"
        self.client_version = f"proofwork/v{version}/py-evm"
        self._own: dict[str, Callable[[list[Any]], Any]] = {
            "eth_chainId": lambda _: hex(self.chain_id),
            "net_version": lambda _: str(self.chain_id),
            "web3_clientVersion": lambda _: self.client_version,
            "eth_accounts": lambda _: [],
            "eth_call": lambda p: self._tester("eth_call", self._call_params(p)),
            "eth_estimateGas": self._estimate_gas,
            "eth_getLogs": self._get_logs,
            "eth_feeHistory": self._fee_history,
            "evm_mine": self._mine,
            "evm_increaseTime": self._increase_time,
            "evm_setNextBlockTimestamp": self._set_next_timestamp,
            "evm_revert": self._revert,
            "evm_snapshot": self._snapshot,
        }
        self._offsets: dict[str, int] = {}  # snapshot id -> the dev clock's lead when it was taken

    # --- JSON-RPC ----------------------------------------------------------------------------------

    def handle(self, payload: Any) -> Any:
        """The response to a parsed body: one object, a list (batch), or None (only notifications)."""
        if isinstance(payload, list):
            if not payload:
                return _error(None, INVALID_REQUEST, "invalid request: empty batch")
            if len(payload) > MAX_BATCH:
                return _error(
                    None, INVALID_REQUEST, f"invalid request: more than {MAX_BATCH} calls in a batch"
                )
            answers = [self.handle_one(item) for item in payload]
            kept = [a for a in answers if a is not None]
            return kept or None
        return self.handle_one(payload)

    def handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _error(None, INVALID_REQUEST, "invalid request: expected a JSON-RPC object")
        request_id = request.get("id")
        notification = "id" not in request
        if not isinstance(request_id, str | int | type(None)) or isinstance(request_id, bool):
            return _error(None, INVALID_REQUEST, "invalid request: id must be a string, a number or null")
        method, params = request.get("method"), request.get("params", [])
        if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
            return _error(request_id, INVALID_REQUEST, "invalid request: expected jsonrpc 2.0 and a method")
        if params is None:
            params = []
        if not isinstance(params, list):
            return _error(request_id, INVALID_PARAMS, "invalid params: expected an array")
        try:
            result = self.call(method, params)
        except _RpcError as exc:
            answer = _error(request_id, exc.code, exc.message, exc.data)
        else:
            answer = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return None if notification else answer

    def call(self, method: str, params: list[Any]) -> Any:
        """One method's result in wire format, or _RpcError."""
        own = self._own.get(method)
        try:
            if own is not None:
                return own(params)
            if method in TESTER_METHODS:
                return self._tester(method, params)
        except _RpcError:
            raise
        except ProofworkError as exc:  # the chain closed, its database failing...
            raise _RpcError(SERVER_ERROR, str(exc)) from exc
        except _BAD_PARAMS as exc:
            detail = str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__
            raise _RpcError(INVALID_PARAMS, f"invalid params: {detail}") from exc
        except Exception as exc:
            name = exc.__class__.__name__
            if name in ("BlockNotFound", "TransactionNotFound"):
                raise _RpcError(SERVER_ERROR, str(exc) or "not found") from exc
            detail = str(exc).splitlines()[0][:200] if str(exc) else ""
            raise _RpcError(INTERNAL_ERROR, f"internal error: {name}: {detail}") from exc
        if method == "eth_sendTransaction":
            raise _RpcError(
                METHOD_NOT_FOUND,
                "eth_sendTransaction is not available: this node holds no keys; sign locally and use "
                "eth_sendRawTransaction",
            )
        raise _RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")

    # --- through the embedded chain's provider -------------------------------------------------------

    def _tester(self, method: str, params: list[Any]) -> Any:
        formatter = self._request_formatters.get(method)  # type: ignore[call-overload]
        if formatter is not None:
            params = list(formatter(params))
        response = self._provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            error: dict[str, Any] = dict(response["error"])
            raise _RpcError(int(error["code"]), str(error["message"]), error.get("data"))
        result = response["result"]
        formatter = self._result_formatters.get(method)  # type: ignore[call-overload]
        if formatter is not None:
            result = formatter(result)
        return _to_wire(_fixup(method, result))

    def _call_params(self, params: list[Any]) -> list[Any]:
        """eth_call and eth_estimateGas: `from` defaults to the first dev account, as on the in-process
        chain (py-evm charges a call's gas to its sender: the zero address cannot pay for 30M gas),
        `input` is accepted for `data`, the block defaults to latest."""
        if not params or not isinstance(params[0], dict) or len(params) > 3:
            raise _RpcError(INVALID_PARAMS, "invalid params: expected a transaction object and a block")
        tx = {k: v for k, v in params[0].items() if v is not None}
        if "input" in tx:
            data = tx.pop("input")
            tx.setdefault("data", data)
        tx.setdefault("from", self._default_from)
        # eth-tester validates these strictly and a call needs none of them
        for key in ("type", "chainId", "accessList", "nonce", "blobVersionedHashes", "maxFeePerBlobGas"):
            tx.pop(key, None)
        block = params[1] if len(params) > 1 and params[1] is not None else "latest"
        if isinstance(block, str) and block.startswith("0x"):
            block = _quantity(block, "block number")
        if isinstance(block, dict):
            raise _RpcError(INVALID_PARAMS, "invalid params: a block is named by number or tag here")
        return [tx, block]

    def _estimate_gas(self, params: list[Any]) -> Any:
        """eth-tester has no estimate in the pending block; the embedded chain's estimate in the latest
        block already runs in the pending block's context (`estimate_gas` there), which is what a
        client asking for "pending" wants (the court's draw reads the hash of the latest block)."""
        tx, block = self._call_params(params)
        return self._tester("eth_estimateGas", [tx, "latest" if block == "pending" else block])

    def _get_logs(self, params: list[Any]) -> Any:
        if len(params) != 1 or not isinstance(params[0], dict):
            raise _RpcError(INVALID_PARAMS, "invalid params: expected one filter object")
        query = {k: v for k, v in params[0].items() if v is not None}
        block_hash = query.pop("blockHash", None)
        if block_hash is not None:
            if "fromBlock" in query or "toBlock" in query:
                raise _RpcError(INVALID_PARAMS, "invalid params: blockHash excludes fromBlock and toBlock")
            block = self._tester("eth_getBlockByHash", [block_hash, False])
            if block is None:
                raise _RpcError(SERVER_ERROR, f"unknown block {block_hash}")
            query["fromBlock"] = query["toBlock"] = block["number"]
        unknown = set(query) - {"fromBlock", "toBlock", "address", "topics"}
        if unknown:
            raise _RpcError(INVALID_PARAMS, f"invalid params: unknown filter field {sorted(unknown)[0]!r}")
        return self._tester("eth_getLogs", [query])

    def _fee_history(self, params: list[Any]) -> Any:
        """eth_feeHistory as geth answers it (eth-tester's lacks the next block's base fee and the
        rewards): per block its base fee and gas used ratio, the next block's base fee, and per block
        the priority fee paid at each requested percentile of its gas."""
        if not 2 <= len(params) <= 3:
            raise _RpcError(INVALID_PARAMS, "invalid params: expected a block count, a block and percentiles")
        count = min(_quantity(params[0], "block count"), MAX_FEE_HISTORY)
        percentiles = params[2] if len(params) == 3 and params[2] is not None else []
        if (
            not isinstance(percentiles, list)
            or not all(
                isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 100 for p in percentiles
            )
            or percentiles != sorted(percentiles)
        ):
            raise _RpcError(INVALID_PARAMS, "invalid params: percentiles must rise from 0 to 100")
        newest = self._tester("eth_getBlockByNumber", [params[1], False])
        if newest is None:
            raise _RpcError(SERVER_ERROR, f"unknown block {params[1]}")
        last = int(newest["number"], 16)
        first = max(0, last - count + 1) if count else last + 1
        blocks = [self._tester("eth_getBlockByNumber", [hex(n), True]) for n in range(first, last + 1)]
        following = self._tester("eth_getBlockByNumber", [hex(last + 1), False]) or self._tester(
            "eth_getBlockByNumber", ["pending", False]
        )
        base_fees = [int(b.get("baseFeePerGas", "0x0"), 16) for b in blocks]
        base_fees.append(int(following.get("baseFeePerGas", "0x0"), 16))
        answer: dict[str, Any] = {
            "oldestBlock": hex(first),
            "baseFeePerGas": [hex(fee) for fee in base_fees],
            "gasUsedRatio": [int(b["gasUsed"], 16) / int(b["gasLimit"], 16) for b in blocks],
        }
        if percentiles:
            answer["reward"] = [
                [hex(r) for r in self._rewards(block, fee, percentiles)]
                for block, fee in zip(blocks, base_fees, strict=False)
            ]
        return answer

    def _rewards(self, block: dict[str, Any], base_fee: int, percentiles: list[float]) -> list[int]:
        """The priority fee per gas at each percentile of the block's gas, as geth weighs it."""
        paid: list[tuple[int, int]] = []  # (tip per gas, gas used)
        for tx in block["transactions"]:
            receipt = self._tester("eth_getTransactionReceipt", [tx["hash"]])
            gas_used = int(receipt["gasUsed"], 16) if receipt else 0
            if "maxPriorityFeePerGas" in tx:
                tip = min(int(tx["maxPriorityFeePerGas"], 16), int(tx["maxFeePerGas"], 16) - base_fee)
            else:
                tip = int(tx["gasPrice"], 16) - base_fee
            paid.append((max(tip, 0), gas_used))
        if not paid:
            return [0 for _ in percentiles]
        paid.sort()
        total = sum(gas for _, gas in paid)
        rewards, index, cumulative = [], 0, paid[0][1]
        for p in percentiles:
            threshold = total * p / 100
            while cumulative < threshold and index < len(paid) - 1:
                index += 1
                cumulative += paid[index][1]
            rewards.append(paid[index][0])
        return rewards

    def _mine(self, params: list[Any]) -> Any:
        """evm_mine, optionally with the new block's timestamp (as anvil and hardhat take it)."""
        if params and params[0] is not None:
            self._set_next_timestamp(params[:1])
        self._tester("evm_mine", [])
        return "0x0"

    def _increase_time(self, params: list[Any]) -> Any:
        if len(params) != 1:
            raise _RpcError(INVALID_PARAMS, "invalid params: expected the seconds to add")
        seconds = _quantity(params[0], "seconds")
        try:
            return hex(self.chain.increase_time(seconds))
        except InvalidInput as exc:
            raise _RpcError(INVALID_PARAMS, f"invalid params: {exc}") from exc

    def _set_next_timestamp(self, params: list[Any]) -> Any:
        if len(params) != 1:
            raise _RpcError(INVALID_PARAMS, "invalid params: expected a timestamp")
        try:
            self.chain.set_next_block_timestamp(_quantity(params[0], "timestamp"))
        except InvalidInput as exc:
            raise _RpcError(INVALID_PARAMS, f"invalid params: {exc}") from exc
        return None

    def _revert(self, params: list[Any]) -> Any:
        if len(params) != 1:
            raise _RpcError(INVALID_PARAMS, "invalid params: expected a snapshot id")
        _quantity(params[0], "snapshot id")
        from eth_tester.exceptions import SnapshotNotFound

        try:
            self._tester("evm_revert", params)
        except SnapshotNotFound:
            return False
        offset = self._offsets.get(hex(_quantity(params[0], "snapshot id")))
        if offset is not None:  # as anvil: the clock goes back with the chain
            self.chain.restore_time_offset(offset)
        return True  # as anvil and hardhat answer

    def _snapshot(self, params: list[Any]) -> Any:
        offset = self.chain.time_offset
        snapshot = self._tester("evm_snapshot", params)
        self._offsets[hex(_quantity(snapshot, "snapshot id"))] = offset
        return snapshot


def _fixup(method: str, result: Any) -> Any:
    """What eth-tester's result formatters leave in its own spelling: a block's full transactions, a
    transaction's y parity, and logs' `removed`."""
    if method in ("eth_getBlockByNumber", "eth_getBlockByHash") and isinstance(result, dict):
        transactions = result.get("transactions", [])
        result = {
            **result,
            "transactions": [_transaction(t) if isinstance(t, dict) else t for t in transactions],
        }
    if method.startswith("eth_getTransactionBy") and isinstance(result, dict):
        result = _transaction(result)
    if method == "eth_getTransactionReceipt" and isinstance(result, dict):
        result = {**result, "logs": [{**log, "removed": False} for log in result.get("logs", [])]}
    if method == "eth_getLogs" and isinstance(result, list):
        result = [{**log, "removed": False} if isinstance(log, dict) else log for log in result]
    return result


def _transaction(tx: dict[str, Any]) -> dict[str, Any]:
    from web3.providers.eth_tester.middleware import transaction_result_formatter, transaction_result_remapper

    tx = dict(transaction_result_formatter(transaction_result_remapper(tx)))
    if "y_parity" in tx:
        tx["yParity"] = tx.pop("y_parity")
    return tx


# --- HTTP -------------------------------------------------------------------------------------------

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class _HttpError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class RpcApp:
    """The ASGI application: POST / with a JSON-RPC body; requests run one at a time on a thread of
    their own (the chain is serial anyway), so the event loop keeps accepting and refusing."""

    def __init__(self, dispatcher: RpcDispatcher, *, max_body: int = MAX_BODY_BYTES) -> None:
        self.dispatcher = dispatcher
        self.max_body = max_body
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="proofwork-rpc-chain")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; websockets are not served
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        cors = self._cors(origin)
        try:
            self._check_headers(scope, headers, origin)
            if scope["method"] == "OPTIONS":
                await self._respond(send, 204, b"", cors)
                return
            if scope["method"] != "POST":
                raise _HttpError(405, INVALID_REQUEST, "JSON-RPC is served by POST")
            content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if content_type != "application/json":
                raise _HttpError(415, INVALID_REQUEST, "the body must be application/json")
            body = await self._read_body(headers, receive)
            try:
                # counted before parsing: json.loads recurses in C per level, and with the recursion
                # limit web3 sets a body of brackets overflows the C stack and kills the process
                check_nesting(body.decode("utf-8"), MAX_JSON_DEPTH)
                payload = json.loads(body)
            except (ValueError, UnicodeDecodeError, InvalidInput):
                await self._json(
                    send, 200, _error(None, PARSE_ERROR, "parse error: the body is not JSON"), cors
                )
                return
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self.executor, self.dispatcher.handle, payload)
        except _HttpError as exc:
            await self._json(send, exc.status, _error(None, exc.code, exc.message), cors)
            return
        if answer is None:  # notifications only
            await self._respond(send, 204, b"", cors)
            return
        await self._json(send, 200, answer, cors)

    def _check_headers(self, scope: dict[str, Any], headers: dict[str, str], origin: str | None) -> None:
        if not loopback_host_header(headers.get("host", "")):
            raise _HttpError(403, INVALID_REQUEST, "refused: the Host header must name a loopback address")
        if origin is not None and not _origin_allowed(origin):
            raise _HttpError(403, INVALID_REQUEST, f"refused: requests from {origin} are not allowed")

    def _cors(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        if origin is None or not _origin_allowed(origin):
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", b"POST, OPTIONS"),
            (b"access-control-allow-headers", b"content-type"),
            (b"access-control-max-age", b"600"),
            (b"vary", b"origin"),
        ]

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        too_big = _HttpError(413, INVALID_REQUEST, f"request too large: the limit is {self.max_body} bytes")
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _HttpError(400, INVALID_REQUEST, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise too_big
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _json(self, send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        await self._respond(send, status, data, [(b"content-type", b"application/json"), *extra])

    @staticmethod
    async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        # a length, not chunks: chunked answers cost a client's delayed ACK (about 40 ms) each
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def close(self) -> None:
        self.executor.shutdown(wait=True)


class RpcServer:
    """The embedded chain's JSON-RPC endpoint on a background thread. Binds in the constructor (a port
    in use is a one-line InvalidInput there); `stop` ends the server, then (when it owns it) closes the
    chain, which releases its lock."""

    def __init__(
        self,
        chain: EmbeddedChain,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body: int = MAX_BODY_BYTES,
        owns_chain: bool = False,
    ) -> None:
        import uvicorn

        check_loopback(host)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidInput(f"invalid RPC port {port!r}: expected 0 (any free port) to 65535")
        self.chain = chain
        self._owns_chain = owns_chain
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and without it
        # every answer waits for the client's delayed ACK (about 40 ms)
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
            self._sock.listen(128)
        except (OSError, OverflowError, UnicodeError) as exc:
            self._sock.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
            raise InvalidInput(f"cannot serve JSON-RPC on {host}:{port}: {reason}") from exc
        self.host, self.port = self._sock.getsockname()[:2]
        self.app = RpcApp(RpcDispatcher(chain), max_body=max_body)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
            # a wallet polls on keep-alive connections; closing idle ones quickly lets a stop be quick
            timeout_keep_alive=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="proofwork-rpc", daemon=True
        )
        self._stopped = False

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> RpcServer:
        self._thread.start()
        started = threading.Event()
        for _ in range(1000):
            if self._server.started or not self._thread.is_alive():
                break
            started.wait(0.01)
        if not self._server.started:
            self.stop()
            raise InvalidInput(f"the JSON-RPC server on {self.url} did not start")
        return self

    def stop(self) -> None:
        """Stops serving (open requests finish), then closes the chain if it owns it. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self._sock.close()
        self.app.close()
        if self._owns_chain:
            self.chain.close()

    def __enter__(self) -> RpcServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_embedded(
    directory: Path, host: str = "127.0.0.1", port: int = 0, *, lock_timeout: float = 30.0
) -> RpcServer:
    """Opens the embedded chain in `directory` (taking its lock) and serves it; `stop` releases both."""
    from proofwork.chain.embedded import EmbeddedChain

    check_loopback(host)
    chain = EmbeddedChain.open(directory, lock_timeout=lock_timeout)
    try:
        return RpcServer(chain, host, port, owns_chain=True).start()
    except BaseException:
        chain.close()
        raise
