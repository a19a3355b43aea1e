"""The one door to an EVM chain: the embedded py-evm chain or any JSON-RPC node.

Everything above this layer deals in addresses (checksummed strings), raw private
keys, bytes and receipts; only this package imports web3.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from eth_account import Account
from web3 import Web3
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)

from proofwork.chain.devnets import ANVIL_DEV_KEYS, EMBEDDED_CHAIN_ID, EMBEDDED_DEV_KEYS
from proofwork.chain.fees import GWEI, HISTORY_BLOCKS, TIP_PERCENTILE, SendPolicy, suggest, tip_from_history
from proofwork.chain.receipts import Receipt
from proofwork.chain.sending import BroadcastUncertain, NodeRefused, Sender
from proofwork.domain.errors import (
    ChainUnavailable,
    InvalidInput,
    NotAllowed,
    SignedTransactionRefused,
    TransactionRejected,
)
from proofwork.domain.units import MAX_DURATION
from proofwork.keys.accounts import address_of

if TYPE_CHECKING:
    from proofwork.chain.unsigned import Expected, SignedTx, UnsignedTx

# Seconds a node's block clock may trail this machine's (see `next_timestamp`): anvil counts whole
# seconds from its start, and on a loaded machine (load 6 on 2 cores) one of its blocks was seen 2 s
# behind `time.time()` read before the transaction was sent.
NODE_CLOCK_SKEW = 2

log = logging.getLogger("proofwork.chain")

T = TypeVar("T")


@contextmanager
def translate_errors(url: str | None) -> Iterator[None]:
    """Turns transport failures into one-line ChainUnavailable errors."""
    try:
        yield
    except requests.exceptions.ConnectionError as exc:
        raise ChainUnavailable(f"cannot reach the node at {url}: connection refused or host down") from exc
    except requests.exceptions.Timeout as exc:
        raise ChainUnavailable(f"the node at {url} did not answer in time") from exc
    except requests.exceptions.RequestException as exc:
        raise ChainUnavailable(f"the node at {url} failed: {exc.__class__.__name__}") from exc
    except Web3RPCError as exc:
        raise ChainUnavailable(f"the node at {url} answered with an error: {_rpc_message(exc)}") from exc
    except json.JSONDecodeError as exc:
        raise ChainUnavailable(f"the node at {url} did not answer with JSON-RPC") from exc


def revert_reason(exc: Exception) -> str:
    """The revert reason of a failed call or estimate, as one line."""
    if isinstance(exc, ContractLogicError | ContractCustomError):
        message = getattr(exc, "message", None) or (str(exc.args[0]) if exc.args else str(exc))
    else:
        message = str(exc)
    message = message.replace("execution reverted: ", "").replace("execution reverted", "").strip()
    return message.splitlines()[0] if message else "reverted without a reason"


class Chain:
    """A connected chain plus what proofwork needs to drive it."""

    def __init__(
        self,
        web3: Web3,
        *,
        description: str,
        url: str | None,
        dev_keys: list[bytes],
        on_close: Callable[[], None] | None = None,
        advance: Callable[[int], int] | None = None,
        next_timestamp: Callable[[], int] | None = None,
        policy: SendPolicy | None = None,
        nonce_dir: Path | None = None,
        notify: Callable[[str], None] | None = None,
        lock_timeout: float = 30.0,
    ) -> None:
        self.web3 = web3
        self.description = description
        self.url = url
        self.dev_keys = dev_keys
        self._on_close = on_close
        self._advance = advance
        self._next_timestamp = next_timestamp
        with translate_errors(url):
            self.chain_id: int = web3.eth.chain_id
        # a node is priced, watched and shares nonces with other processes; the embedded chain mines
        # each transaction as it is sent and is this process's alone (its lock)
        self._sender: Sender | None = None
        if url is not None:
            self._sender = Sender(
                RpcNode(web3),
                policy or SendPolicy(),
                chain_id=self.chain_id,
                nonce_dir=nonce_dir or _shared_nonce_dir(),
                notify=notify or log.warning,
                lock_timeout=lock_timeout,
            )

    # --- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        data_dir: Path,
        rpc_url: str | None = None,
        *,
        lock_timeout: float = 30.0,
        policy: SendPolicy | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> Chain:
        """The chain at `rpc_url` (its senders' nonces kept in `data_dir/nonces`), or the embedded
        chain persisted under `data_dir/chain`."""
        if rpc_url:
            return cls.connect(
                rpc_url,
                policy=policy,
                nonce_dir=data_dir / "nonces",
                notify=notify,
                lock_timeout=lock_timeout,
            )
        from proofwork.chain.embedded import EmbeddedChain

        embedded = EmbeddedChain.open(data_dir / "chain", lock_timeout=lock_timeout)
        try:
            return cls(
                embedded.web3,
                description=f"embedded chain in {data_dir / 'chain'}",
                url=None,
                dev_keys=list(embedded.dev_private_keys),
                on_close=embedded.close,
                advance=embedded.advance_time,
                next_timestamp=embedded.now,
            )
        except BaseException:
            embedded.close()
            raise

    @classmethod
    def connect(
        cls,
        url: str,
        timeout: float = 10.0,
        *,
        policy: SendPolicy | None = None,
        nonce_dir: Path | None = None,
        notify: Callable[[str], None] | None = None,
        lock_timeout: float = 30.0,
    ) -> Chain:
        """The node at `url`. `policy`: how transactions are priced and watched; `nonce_dir`: where the
        processes sending with one key share its nonces (default: a directory of this user's in the
        system's temporary directory); `notify`: told of replacements and resends (default: the
        `proofwork.chain` logger)."""
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"unsupported RPC URL {url!r}: expected http:// or https://")
        web3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        chain = cls(
            web3,
            description=f"node at {url}",
            url=url,
            dev_keys=[],
            policy=policy,
            nonce_dir=nonce_dir,
            notify=notify,
            lock_timeout=lock_timeout,
        )  # fails clearly if unreachable
        if _is_anvil(web3):
            chain.dev_keys = _anvil_dev_keys(web3)
            chain._advance = chain._advance_rpc
        elif _is_served_embedded(web3, chain.chain_id):
            chain.dev_keys = list(EMBEDDED_DEV_KEYS)
            chain._advance = chain._advance_rpc
        return chain

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- facts ---------------------------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        """A development chain whose clock may be moved and whose dev accounts are known."""
        return self._advance is not None

    def now(self) -> int:
        """Timestamp of the latest block: what the contracts compare deadlines against."""
        with translate_errors(self.url):
            return int(self.web3.eth.get_block("latest")["timestamp"])

    def next_timestamp(self) -> int:
        """A lower bound on the timestamp of the next block: what a transaction sent now sees."""
        if self._next_timestamp is not None:
            return self._next_timestamp()
        # A node's clock: anvil may give consecutive blocks the same second, may run ahead of ours, and
        # counts whole seconds from its own start, so it can also trail int(time.time()) by one.
        return max(self.now(), int(time.time()) - NODE_CLOCK_SKEW)

    def block_number(self) -> int:
        with translate_errors(self.url):
            return int(self.web3.eth.block_number)

    def eth_balance(self, address: str) -> int:
        with translate_errors(self.url):
            return int(self.web3.eth.get_balance(Web3.to_checksum_address(address)))

    def has_code(self, address: str) -> bool:
        with translate_errors(self.url):
            return len(self.web3.eth.get_code(Web3.to_checksum_address(address))) > 0

    def advance_time(self, seconds: int) -> int:
        """Moves a local chain's clock forward and mines a block; returns the new time."""
        if self._advance is None:
            raise NotAllowed("the clock can only be moved on a local development chain")
        if not isinstance(seconds, int) or not 0 < seconds <= MAX_DURATION:
            raise InvalidInput("the clock moves forward by 1 second to 100 years at a time")
        with translate_errors(self.url):
            return self._advance(seconds)

    def _advance_rpc(self, seconds: int) -> int:
        self.web3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        return self.now()

    # --- contracts -----------------------------------------------------------------------------

    def contract(self, abi: list[dict[str, Any]], address: str | None = None) -> Any:
        if address is None:
            return self.web3.eth.contract(abi=abi)
        return self.web3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)

    def call(self, fn: Any) -> Any:
        """Runs a contract view call, mapping reverts and transport errors to one-line errors."""
        with translate_errors(self.url):
            try:
                return fn.call()
            except (ContractLogicError, ContractCustomError) as exc:
                raise TransactionRejected(f"call reverted: {revert_reason(exc)}") from exc
            except BadFunctionCallOutput as exc:
                raise TransactionRejected(
                    "call failed: the contract gave no answer of the expected form"
                ) from exc

    def transact(self, key: bytes, fn: Any, *, value: int = 0, pending: bool = False) -> Receipt:
        """Signs a contract call locally with `key`, sends it, and waits for the receipt. `pending`: its
        gas is estimated in the pending block (the block it lands in), not in the latest one, for a
        call that needs a later block than the latest (the court's draw reads the hash of the block
        that armed it, which a node's estimate in the latest block cannot see yet). The embedded
        chain estimates in its pending block anyway."""

        def build(base: dict[str, Any]) -> dict[str, Any]:
            tx = {**base, "value": value}
            if pending and self.url is not None:
                tx["gas"] = fn.estimate_gas(tx, block_identifier="pending")
            return dict(fn.build_transaction(tx))

        return self._send(key, build)

    def send_eth(self, key: bytes, to: str, value: int) -> Receipt:
        def build(base: dict[str, Any]) -> dict[str, Any]:
            tx = {**base, "to": Web3.to_checksum_address(to), "value": value}
            tx["gas"] = self.web3.eth.estimate_gas(tx)  # type: ignore[arg-type]
            return tx if "maxFeePerGas" in tx else {**tx, **self._offer()}

        return self._send(key, build)

    def deploy(self, key: bytes, abi: list[dict[str, Any]], bytecode: bytes, *args: Any) -> Receipt:
        factory = self.web3.eth.contract(abi=abi, bytecode=bytecode)
        return self._send(key, lambda base: factory.constructor(*args).build_transaction(base))

    def _send(self, key: bytes, build: Callable[[dict[str, Any]], dict[str, Any]]) -> Receipt:
        """Builds (estimating gas, so a call that would revert is refused with its reason and
        nothing is sent), signs locally, sends, and waits for the receipt. On a node: priced from
        its fee history, replaced or resent until mined (`sending.Sender`)."""
        sender = Web3.to_checksum_address(address_of(key))
        with translate_errors(self.url):
            base: dict[str, Any] = {"from": sender, "chainId": self.chain_id}
            if self._sender is not None:
                base.update(self._sender.fees())
            try:
                tx = build(base)
            except (ContractLogicError, ContractCustomError) as exc:
                raise TransactionRejected(f"transaction refused, nothing sent: {revert_reason(exc)}") from exc
            except Web3RPCError as exc:
                raise TransactionRejected(f"transaction refused, nothing sent: {_rpc_message(exc)}") from exc
            # Estimates are exact on these chains, but storage refunds and warm slots can shift.
            tx["gas"] = int(tx["gas"] * 1.2) + 10_000
            if self._sender is not None:
                raw = self._sender.send(key, tx)
            else:
                raw = self._send_embedded(key, sender, tx)
        receipt = _receipt(raw)
        if receipt.status != 1:
            raise TransactionRejected(f"transaction {receipt.tx_hash} reverted on chain; no funds moved")
        return receipt

    # --- transactions signed elsewhere (a user's wallet) ----------------------------------------------

    def prepare(self, sender: str, fn: Any, label: str, *, value: int = 0) -> UnsignedTx:
        """The unsigned transaction (EIP-1559) of a contract call from `sender`, for a wallet to sign:
        to, data, value, chain id, the sender's next nonce, gas and fees (`chain.fees`, as this process
        would offer them). Estimated now, so a call that would revert is refused with its reason
        (TransactionRejected) and nothing is returned to sign."""
        from proofwork.chain.unsigned import UnsignedTx

        sender = Web3.to_checksum_address(sender)
        with translate_errors(self.url):
            fees = self._offer()
            base = {"from": sender, "chainId": self.chain_id, "value": value, **fees}
            try:
                tx = dict(fn.build_transaction(base))
            except (ContractLogicError, ContractCustomError) as exc:
                raise TransactionRejected(f"the transaction would revert: {revert_reason(exc)}") from exc
            except Web3RPCError as exc:
                raise TransactionRejected(f"the node refused the transaction: {_rpc_message(exc)}") from exc
            nonce = int(self.web3.eth.get_transaction_count(sender, "pending"))
        data = str(tx["data"])
        return UnsignedTx(
            label=label,
            sender=sender,
            to=Web3.to_checksum_address(str(tx["to"])),
            data=data if data.startswith("0x") else "0x" + data,
            value=int(tx.get("value", 0)),
            chain_id=self.chain_id,
            nonce=nonce,
            gas=int(tx["gas"] * 1.2) + 10_000,  # as `_send`: refunds and warm slots can shift
            max_fee_per_gas=fees["maxFeePerGas"],
            max_priority_fee_per_gas=fees["maxPriorityFeePerGas"],
        )

    def check_signed(self, raw: bytes, expected: Expected) -> SignedTx:
        """A transaction a wallet signed, decoded and checked before broadcast: its size, this chain's
        id, signed by the expected sender, a call of one of the expected contract functions whose
        arguments decode, and a nonce not already used on chain. Refused otherwise
        (`SignedTransactionRefused`, with a stable reason); nothing is sent."""
        from proofwork.chain.unsigned import decode_signed, decodes

        signed = decode_signed(raw)
        if signed.chain_id != self.chain_id:
            on = (
                "no chain id (valid on every chain)"
                if signed.chain_id is None
                else f"chain {signed.chain_id}"
            )
            raise SignedTransactionRefused(
                "tx_wrong_chain", f"the transaction is signed for {on}, not for this chain ({self.chain_id})"
            )
        if signed.sender.lower() != expected.sender.lower():
            raise SignedTransactionRefused(
                "not_your_address", f"the transaction is signed by {signed.sender}, not by {expected.sender}"
            )
        types = expected.call_of(signed)
        if types is None or not decodes(types, signed.data):
            raise SignedTransactionRefused(
                "tx_unexpected_call",
                f"the transaction to {signed.to or 'a new contract'} is not a call this server prepares "
                "for a wallet: sign the transaction it returned",
            )
        with translate_errors(self.url):
            used = int(self.web3.eth.get_transaction_count(Web3.to_checksum_address(signed.sender), "latest"))
        if signed.nonce < used:
            raise SignedTransactionRefused(
                "tx_replayed",
                f"nonce {signed.nonce} of {signed.sender} is already used on chain: this transaction was "
                "sent before (prepare a new one)",
            )
        return signed

    def send_raw(self, raw: bytes) -> Receipt:
        """Broadcasts a transaction a wallet signed (checked by `check_signed`) and waits for its receipt."""
        with translate_errors(self.url):
            try:
                tx_hash = self.web3.eth.send_raw_transaction(raw)
            except (ContractLogicError, ContractCustomError) as exc:
                raise TransactionRejected(f"transaction reverted: {revert_reason(exc)}") from exc
            except Web3RPCError as exc:
                raise TransactionRejected(f"the node refused the transaction: {_rpc_message(exc)}") from exc
            except (ValueError, TypeError) as exc:  # the embedded chain validates before the node would
                raise TransactionRejected(
                    f"the node refused the transaction: {str(exc).splitlines()[0]}"
                ) from exc
            raw_receipt = self._wait(tx_hash)
        return _receipt(raw_receipt)

    def block_time(self, block_number: int) -> int:
        with translate_errors(self.url):
            return int(self.web3.eth.get_block(block_number)["timestamp"])

    def _send_embedded(self, key: bytes, sender: str, tx: dict[str, Any]) -> Any:
        """The embedded chain mines the transaction as it is sent: no fees to watch, no one to share
        the key's nonces with (its lock)."""
        tx["nonce"] = self.web3.eth.get_transaction_count(sender, "pending")  # type: ignore[arg-type]
        signed = Account.sign_transaction(tx, key)
        try:
            tx_hash = self.web3.eth.send_raw_transaction(signed.raw_transaction)
        except (ContractLogicError, ContractCustomError) as exc:
            raise TransactionRejected(f"transaction reverted: {revert_reason(exc)}") from exc
        except Web3RPCError as exc:
            raise TransactionRejected(f"the node refused the transaction: {_rpc_message(exc)}") from exc
        return self._wait(tx_hash)

    def _wait(self, tx_hash: Any) -> Any:
        """The receipt of a transaction just broadcast (the embedded chain mines it as it is sent)."""
        try:
            return self.web3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.05)
        except (TimeExhausted, TransactionNotFound) as exc:
            raise ChainUnavailable(
                f"transaction 0x{bytes(tx_hash).hex()} was sent but not mined within 120 s; check it later"
            ) from exc

    def _offer(self) -> dict[str, int]:
        """The EIP-1559 fees to offer now (`chain.fees`): from a node's fee history and the policy's cap;
        on the embedded chain, twice its base fee plus a 1 gwei tip."""
        if self._sender is not None:
            return self._sender.fees()
        base = int(self.web3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        return suggest(base, GWEI if base else 0, SendPolicy().max_fee_per_gas).as_tx()

    def static_call(self, to: str, data: bytes) -> bytes | None:
        """The answer of a raw `eth_call` (latest block), or None when the call reverts: what a
        contract's `raw_call(..., is_static_call=True, revert_on_failure=False)` sees."""
        with translate_errors(self.url):
            try:
                return bytes(self.web3.eth.call({"to": Web3.to_checksum_address(to), "data": data}))  # type: ignore[typeddict-item]
            except (ContractLogicError, ContractCustomError):
                return None

    def transaction_input(self, tx_hash: str) -> bytes:
        """The calldata of a mined transaction (settlements carry their signed reports there)."""
        with translate_errors(self.url):
            return bytes(self.web3.eth.get_transaction(tx_hash)["input"])  # type: ignore[arg-type]

    def get_logs(self, address: str, topics: list[Any], from_block: int = 0) -> list[Any]:
        with translate_errors(self.url):
            return list(
                self.web3.eth.get_logs(
                    {
                        "address": Web3.to_checksum_address(address),
                        "topics": topics,
                        "fromBlock": from_block,
                        "toBlock": "latest",
                    }
                )
            )


class RpcNode:
    """What `sending.Sender` asks of a JSON-RPC node, through web3."""

    def __init__(self, web3: Web3) -> None:
        self.web3 = web3

    def pending_count(self, address: str) -> int:
        return int(self.web3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))

    def mined_count(self, address: str) -> int:
        return int(self.web3.eth.get_transaction_count(Web3.to_checksum_address(address), "latest"))

    def fee_data(self) -> tuple[int, int]:
        """The next block's base fee (the last of `eth_feeHistory`'s, one past the newest block) and
        the median tip paid in recent blocks; the node's suggested tip when they held nothing."""
        try:
            history = self.web3.eth.fee_history(HISTORY_BLOCKS, "latest", [TIP_PERCENTILE])
            base = int(history["baseFeePerGas"][-1])
            tip = tip_from_history(
                [[int(v) for v in row] for row in history.get("reward") or []],
                [float(r) for r in history["gasUsedRatio"]],
            )
        except Web3RPCError:  # a node without eth_feeHistory: the latest block's base fee may rise 12.5 %
            latest = int(self.web3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            base, tip = latest + -(-latest // 8), None
        if tip is None:
            try:
                tip = int(self.web3.eth.max_priority_fee)
            except (Web3RPCError, ValueError):
                tip = 0
        return base, tip

    def broadcast(self, raw: bytes) -> None:
        try:
            self.web3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            raise NodeRefused(_rpc_message(exc)) from exc
        except (ContractLogicError, ContractCustomError) as exc:
            raise TransactionRejected(f"transaction reverted: {revert_reason(exc)}") from exc
        except requests.exceptions.Timeout as exc:
            raise BroadcastUncertain() from exc

    def receipt(self, tx_hash: str) -> Any | None:
        try:
            receipt = self.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
        return receipt if receipt.get("blockNumber") is not None else None

    def known(self, tx_hash: str) -> bool:
        try:
            self.web3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return True


def _shared_nonce_dir() -> Path:
    """Where a chain opened without a data directory keeps its senders' nonces: per user, so that
    every process of the user sending with a key shares them."""
    return Path(tempfile.gettempdir()) / f"proofwork-nonces-{os.getuid()}"


# what a node that is not anvil may do with a method it does not know: answer an error, refuse the
# HTTP request (some providers answer 4xx), or send something that is not JSON-RPC
_PROBE_ERRORS = (Web3Exception, ValueError, TypeError, requests.exceptions.RequestException)


def _is_anvil(web3: Web3) -> bool:
    """Whether the node is anvil: it says so (web3_clientVersion) and answers anvil's own methods
    (anvil_metadata names the same client). Any chain id: `anvil --chain-id 4242` is as local as
    the default 31337, and a node that only calls itself anvil has no clock to move."""
    try:
        client = str(web3.client_version)
        if not client.lower().startswith("anvil/"):
            return False
        answer = web3.provider.make_request("anvil_metadata", [])  # type: ignore[arg-type]
    except _PROBE_ERRORS:
        return False
    metadata = answer.get("result") if isinstance(answer, dict) else None
    return isinstance(metadata, dict) and str(metadata.get("clientVersion", "")).lower().startswith("anvil/")


def _is_served_embedded(web3: Web3, chain_id: int) -> bool:
    """Whether the node is an embedded chain served by `proofwork serve` (`chain.rpc_server`): a dev
    chain with the embedded chain's id and dev accounts, whose clock moves by evm_increaseTime."""
    if chain_id != EMBEDDED_CHAIN_ID:
        return False
    try:
        return str(web3.client_version).lower().startswith("proofwork/")
    except _PROBE_ERRORS:
        return False


def _anvil_dev_keys(web3: Web3) -> list[bytes]:
    """The well-known dev keys whose accounts this anvil holds: all ten with its default mnemonic,
    none when it was started with another (its accounts are then unknown to proofwork)."""
    try:
        held = {str(a).lower() for a in web3.eth.accounts}
    except _PROBE_ERRORS:
        return []
    keys = list(ANVIL_DEV_KEYS)
    return [k for k in keys if address_of(k).lower() in held]


def _receipt(raw: Any) -> Receipt:
    return Receipt(
        tx_hash="0x" + bytes(raw["transactionHash"]).hex(),
        block_number=int(raw["blockNumber"]),
        gas_used=int(raw["gasUsed"]),
        status=int(raw["status"]),
        contract_address=raw.get("contractAddress"),
        logs=list(raw["logs"]),
    )


def _rpc_message(exc: Web3RPCError) -> str:
    """The node's own words: the JSON-RPC error's message, else what web3 made of it."""
    response = getattr(exc, "rpc_response", None)
    error = response.get("error") if isinstance(response, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message.strip():
        message = getattr(exc, "message", None) or str(exc)
    return str(message).strip().splitlines()[0]
