"""Transactions a user's own wallet signs, and the reads a web page needs about transactions.

Nothing here signs. `Chain.prepare` builds an `UnsignedTx` (to, data, value, gas, EIP-1559 fees from
`chain.fees`, nonce, chain id) for the wallet; what the wallet signed comes back raw and is decoded and
checked here (`decode_signed`, then `Chain.check_signed` against an `Expected`: size, chain id, signer,
contract and call, a nonce not already used) before `Chain.send_raw` broadcasts it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_account import Account
from eth_account._utils.legacy_transactions import Transaction as LegacyTransaction
from eth_account.typed_transactions import TypedTransaction
from eth_utils import function_abi_to_4byte_selector, get_abi_input_types
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from proofwork.chain.client import Chain, translate_errors
from proofwork.chain.encoding import keccak
from proofwork.domain.errors import SignedTransactionRefused

TRANSFER_TOPIC = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
# the largest signed transaction accepted (its 0x-hex fits the API's JSON body limit)
MAX_SIGNED_TX_BYTES = 64 * 1024


@dataclass(frozen=True)
class UnsignedTx:
    """One contract call for `sender`'s wallet to sign (EIP-1559); `label` says what it does, for people."""

    label: str
    sender: str
    to: str
    data: str  # 0x hex calldata
    value: int
    chain_id: int
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    def fields(self) -> dict[str, Any]:
        """The transaction as `eth_account.Account.sign_transaction` takes it (integers)."""
        return {
            "from": self.sender,
            "to": self.to,
            "data": self.data,
            "value": self.value,
            "chainId": self.chain_id,
            "nonce": self.nonce,
            "gas": self.gas,
            "maxFeePerGas": self.max_fee_per_gas,
            "maxPriorityFeePerGas": self.max_priority_fee_per_gas,
            "type": 2,
        }

    def rpc(self) -> dict[str, Any]:
        """The transaction as a wallet's JSON-RPC takes it (`eth_signTransaction`: quantities in 0x hex),
        with its `label`."""
        return {
            "label": self.label,
            **{k: (hex(v) if isinstance(v, int) else v) for k, v in self.fields().items()},
        }


@dataclass(frozen=True)
class SignedTx:
    """A raw signed transaction, decoded."""

    raw: bytes
    sender: str
    to: str | None
    data: bytes
    value: int
    nonce: int
    chain_id: int | None  # None: a pre-EIP-155 signature, valid on every chain

    @property
    def tx_hash(self) -> str:
        return "0x" + keccak(self.raw).hex()


@dataclass(frozen=True)
class Expected:
    """What a signed transaction must be to be broadcast: signed by `sender`, a call (no ether sent)
    of one of `calls`: (contract address in lower case, 4-byte selector) -> the function's argument
    types, from `selectors`."""

    sender: str
    calls: dict[tuple[str, bytes], tuple[str, ...]]

    def call_of(self, tx: SignedTx) -> tuple[str, ...] | None:
        """The argument types of the expected call `tx` makes, or None when it makes none of them."""
        if tx.value != 0 or tx.to is None:
            return None
        return self.calls.get((tx.to.lower(), tx.data[:4]))


def selectors(handle: Any, names: Iterable[str]) -> dict[tuple[str, bytes], tuple[str, ...]]:
    """(address, selector) -> argument types of each function named of a contract handle
    (`EscrowContract`, `CommitteeContract`, ...)."""
    wanted = set(names)
    return {
        (handle.address.lower(), bytes(function_abi_to_4byte_selector(item))): tuple(
            get_abi_input_types(item)
        )
        for item in handle.contract.abi
        if item.get("type") == "function" and item.get("name") in wanted
    }


def decodes(types: tuple[str, ...], data: bytes) -> bool:
    """Whether calldata's arguments (after the selector) decode strictly as `types`."""
    try:
        decode(list(types), data[4:], strict=True)
    except Exception:  # eth-abi raises several kinds on bad input
        return False
    return True


def decode_signed(raw: bytes) -> SignedTx:
    """A raw signed transaction (typed or legacy) decoded and its signer recovered; refused, with a
    stable reason, when it is too large or is not one."""
    if len(raw) > MAX_SIGNED_TX_BYTES:
        raise SignedTransactionRefused(
            "tx_too_large",
            f"the signed transaction is {len(raw)} bytes, over the {MAX_SIGNED_TX_BYTES} accepted",
        )
    try:
        if raw and raw[0] <= 0x7F:
            fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            chain_id: int | None = int(fields["chainId"])
        else:
            fields = LegacyTransaction.from_bytes(HexBytes(raw)).as_dict()
            v = int(fields["v"])
            chain_id = (v - 35) // 2 if v >= 35 else None
        sender = str(Account.recover_transaction(raw))
    except Exception as exc:  # eth-account and rlp raise many kinds on malformed input
        raise SignedTransactionRefused(
            "tx_malformed",
            "the signed transaction cannot be decoded: expected 0x-hex of a raw signed transaction",
        ) from exc
    to = bytes(fields.get("to") or b"")
    return SignedTx(
        raw=bytes(raw),
        sender=sender,
        to=Web3.to_checksum_address(to) if len(to) == 20 else None,
        data=bytes(fields.get("data") or b""),
        value=int(fields.get("value") or 0),
        nonce=int(fields["nonce"]),
        chain_id=chain_id,
    )


def parse_raw_hex(text: str) -> bytes:
    """The bytes of a 0x-hex raw transaction (refused as malformed otherwise; as too large before
    decoding hex longer than any accepted transaction)."""
    text = text.strip()
    if len(text) > 2 + 2 * MAX_SIGNED_TX_BYTES:
        raise SignedTransactionRefused(
            "tx_too_large", f"the signed transaction is over the {MAX_SIGNED_TX_BYTES} bytes accepted"
        )
    if not text.startswith("0x") or len(text) < 4 or len(text) % 2:
        raise SignedTransactionRefused("tx_malformed", "the signed transaction must be 0x-hex, whole bytes")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise SignedTransactionRefused(
            "tx_malformed", "the signed transaction must be 0x-hex, whole bytes"
        ) from None


@dataclass(frozen=True)
class TxStatus:
    tx_hash: str
    status: str  # "pending" (not mined, or unknown to the node), "success" or "failed"
    block: int | None = None
    sender: str | None = None
    to: str | None = None
    gas_used: int | None = None
    timestamp: int | None = None
    logs: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (emitter, topics) of each log, 0x hex


def transaction_status(chain: Chain, tx_hash: str) -> TxStatus:
    """Whether a transaction is mined, and how it went."""
    with translate_errors(chain.url):
        try:
            raw = chain.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return TxStatus(tx_hash, "pending")
        block = int(raw["blockNumber"])
        return TxStatus(
            tx_hash,
            "success" if int(raw["status"]) == 1 else "failed",
            block,
            str(raw["from"]),
            str(raw["to"]) if raw.get("to") else None,
            int(raw["gasUsed"]),
            block_timestamp(chain, block),
            tuple(
                (str(log["address"]).lower(), tuple("0x" + bytes(t).hex() for t in log["topics"]))
                for log in raw["logs"]
            ),
        )


def jobs_created(escrow: Any, status: TxStatus) -> list[int]:
    """The ids of the jobs a mined transaction created on `escrow`."""
    topic = next(t for t, name in escrow._topics.items() if name == "JobCreated")
    return [
        int(topics[1], 16)
        for address, topics in status.logs
        if address == escrow.address.lower() and len(topics) > 1 and topics[0] == topic
    ]


def block_timestamp(chain: Chain, block: int) -> int:
    with translate_errors(chain.url):
        return int(chain.web3.eth.get_block(block)["timestamp"])


@dataclass(frozen=True)
class Transfer:
    """An ERC-20 Transfer log."""

    block: int
    tx_hash: str
    log_index: int
    sender: str
    recipient: str
    amount: int


def transfers(chain: Chain, token: str, account: str, from_block: int = 0) -> list[Transfer]:
    """Every Transfer of `token` from or to `account`, in chain order."""
    padded = "0x" + bytes.fromhex(Web3.to_checksum_address(account)[2:]).rjust(32, b"\0").hex()
    logs = chain.get_logs(token, [TRANSFER_TOPIC, padded], from_block) + chain.get_logs(
        token, [TRANSFER_TOPIC, None, padded], from_block
    )
    seen: dict[tuple[str, int], Transfer] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) != 3:
            continue
        tx_hash = "0x" + bytes(log["transactionHash"]).hex()
        index = int(log["logIndex"])
        seen[(tx_hash, index)] = Transfer(
            int(log["blockNumber"]),
            tx_hash,
            index,
            Web3.to_checksum_address(bytes(topics[1])[-20:]),
            Web3.to_checksum_address(bytes(topics[2])[-20:]),
            int.from_bytes(bytes(log["data"]), "big"),
        )
    return sorted(seen.values(), key=lambda t: (t.block, t.log_index))


def job_event_transactions(escrow: Any, job_id: int | None = None) -> list[tuple[int, str, str, int]]:
    """(block, transaction hash, event name, job id) of each escrow job event (one job's, or every
    job's), in chain order."""
    topics: list[Any] = [list(escrow._topics)]
    if job_id is not None:
        topics.append("0x" + job_id.to_bytes(32, "big").hex())
    logs = escrow.chain.get_logs(escrow.address, topics, escrow.deploy_block)
    return [
        (
            int(log["blockNumber"]),
            "0x" + bytes(log["transactionHash"]).hex(),
            escrow._topics["0x" + bytes(log["topics"][0]).hex()],
            int.from_bytes(bytes(log["topics"][1]), "big"),
        )
        for log in logs
    ]
