"""What every contract handle shares: EIP-712 messages, event signatures and decoding, id checks."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain
from proofwork.chain.encoding import keccak
from proofwork.chain.receipts import Event, Receipt
from proofwork.domain.errors import InvalidInput

_EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def typed_data_json(
    domain: tuple[str, str, int, str], primary: str, fields: list[dict[str, str]], message: dict[str, Any]
) -> dict[str, Any]:
    """An EIP-712 message under the domain (name, version, chainId, verifyingContract), as the JSON a
    wallet signs (`eth_signTypedData_v4`)."""
    name, version, chain_id, contract = domain
    return {
        "types": {"EIP712Domain": _EIP712_DOMAIN, primary: fields},
        "primaryType": primary,
        "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract},
        "message": message,
    }


def typed_data(
    domain: tuple[str, str, int, str], primary: str, fields: list[dict[str, str]], message: dict[str, Any]
) -> Any:
    """An EIP-712 message under the domain (name, version, chainId, verifyingContract), to sign."""
    return encode_typed_data(full_message=typed_data_json(domain, primary, fields, message))


def event_signature(event_abi: dict[str, Any]) -> str:
    def kind(item: dict[str, Any]) -> str:
        if item["type"].startswith("tuple"):
            return "(" + ",".join(kind(c) for c in item["components"]) + ")" + item["type"][5:]
        return str(item["type"])

    return f"{event_abi['name']}({','.join(kind(i) for i in event_abi['inputs'])})"


def check_id(value: object, what: str = "id") -> int:
    """A uint256 id (job, competition, entry), or a one-line InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise InvalidInput(f"invalid {what} {shown}: expected a whole number from 0 to 2^256 - 1")
    return value


def event_topics(abi: list[dict[str, Any]], names: Container[str] | None = None) -> dict[str, str]:
    """topic0 (0x hex) -> event name, for the ABI's events (only `names` when given)."""
    return {
        "0x" + keccak(event_signature(item).encode()).hex(): item["name"]
        for item in abi
        if item.get("type") == "event" and (names is None or item["name"] in names)
    }


class ContractHandle:
    """A deployed contract: its web3 handle, event scanning and decoding, EIP-712 signing."""

    def __init__(self, chain: Chain, artifact: Artifact, address: str, deploy_block: int) -> None:
        self.chain = chain
        self.address = Web3.to_checksum_address(address)
        self.contract = chain.contract(artifact.abi, address)
        self.deploy_block = deploy_block
        self.abi = artifact.abi
        self._topics = event_topics(artifact.abi)
        self._by_name = {name: topic for topic, name in self._topics.items()}
        self._event_abis = {
            item["name"]: item
            for item in artifact.abi
            if item.get("type") == "event" and not item.get("anonymous")
        }

    def event_abi(self, name: str) -> dict[str, Any]:
        """The ABI entry of the contract's event `name` (InvalidInput for an unknown one)."""
        item = self._event_abis.get(name)
        if item is None:
            raise InvalidInput(f"{self.__class__.__name__} has no event {name!r}")
        return item

    def events(
        self, *names: str, subject: int | None = None, where: Mapping[str, object] | None = None
    ) -> list[Event]:
        """Events of the given names in chain order; `subject` filters on the first indexed argument
        (a uint256 id), `where` on indexed arguments by name (every named event must have them, at
        the same position)."""
        topics: list[Any] = [[self._by_name[n] for n in names]]
        if subject is not None:
            topics.append("0x" + check_id(subject).to_bytes(32, "big").hex())
        for position, topic in self._where_topics(names, where or {}).items():
            topics.extend([None] * (position + 1 - len(topics)))
            if topics[position] is not None:
                raise InvalidInput("an indexed argument is filtered twice")
            topics[position] = topic
        return [self._decode(log) for log in self.chain.get_logs(self.address, topics, self.deploy_block)]

    def _where_topics(self, names: tuple[str, ...], where: Mapping[str, object]) -> dict[int, str]:
        """topic position -> 0x topic, for filters on static indexed arguments."""
        out: dict[int, str] = {}
        for arg, value in where.items():
            found: set[tuple[int, str]] = set()
            for name in names:
                indexed = [i for i in self.event_abi(name)["inputs"] if i.get("indexed")]
                spots = [(n + 1, str(i["type"])) for n, i in enumerate(indexed) if i["name"] == arg]
                if not spots or spots[0][1].endswith("]") or spots[0][1] in ("string", "bytes"):
                    raise InvalidInput(f"{name} has no static indexed argument {arg!r} to filter on")
                found.add(spots[0])
            if len(found) != 1:
                raise InvalidInput(f"{arg!r} is not at one topic position in {', '.join(names)}")
            position, kind = found.pop()
            if kind == "address" and isinstance(value, str):
                value = Web3.to_checksum_address(value)
            try:
                out[position] = "0x" + abi_encode([kind], [value]).hex()
            except (EncodingError, TypeError, ValueError) as exc:
                raise InvalidInput(f"{value!r} is not a {kind} for {arg!r}") from exc
        return out

    def receipt_events(self, receipt: Receipt) -> list[Event]:
        return [
            self._decode(log)
            for log in receipt.logs
            if log["address"].lower() == self.address.lower()
            and log["topics"]
            and "0x" + bytes(log["topics"][0]).hex() in self._topics
        ]

    def _decode(self, log: Any) -> Event:
        name = self._topics["0x" + bytes(log["topics"][0]).hex()]
        decoded = getattr(self.contract.events, name)().process_log(log)
        args = {k: (bytes(v) if isinstance(v, bytes | bytearray) else v) for k, v in decoded["args"].items()}
        return Event(name, int(log["blockNumber"]), "0x" + bytes(log["transactionHash"]).hex(), args)

    def _sign(self, key: bytes, domain: tuple[str, str], primary: str, fields: Any, message: Any) -> bytes:
        typed = typed_data(
            (domain[0], domain[1], self.chain.chain_id, self.address), primary, fields, message
        )
        return bytes(Account.sign_message(typed, key).signature)

    def _recover(
        self, domain: tuple[str, str], primary: str, fields: Any, message: Any, sig: bytes | str
    ) -> str | None:
        """The signer of an EIP-712 message, or None when the message or signature cannot be
        encoded or recovered (whatever a peer sent: wrong lengths, scores beyond int256, bad v...)."""
        if not _well_formed(fields, message):
            return None
        try:
            typed = typed_data(
                (domain[0], domain[1], self.chain.chain_id, self.address), primary, fields, message
            )
            return str(Account.recover_message(typed, signature=sig))
        except Exception:  # eth_utils/eth_keys ValidationError, eth_abi EncodingError, ValueError...
            return None


def _well_formed(fields: list[dict[str, str]], message: Any) -> bool:
    """Exactly the fields, each of its exact type: no padding of short hashes, no out-of-range
    numbers (the encoder would otherwise sign something other than what was sent)."""
    if not isinstance(message, dict) or set(message) != {f["name"] for f in fields}:
        return False
    ranges = {"uint256": (0, 2**256), "int256": (-(2**255), 2**255)}
    for field in fields:
        value = message[field["name"]]
        if field["type"] == "bytes32":
            ok = isinstance(value, bytes | bytearray) and len(value) == 32
        else:
            low, high = ranges[field["type"]]
            ok = isinstance(value, int) and not isinstance(value, bool) and low <= value < high
        if not ok:
            return False
    return True
