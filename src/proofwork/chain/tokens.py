"""An ERC-20 handle: StableToken on local chains, any ERC-20 elsewhere (EIP-2612 permits)."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain
from proofwork.chain.encoding import keccak
from proofwork.chain.events import typed_data, typed_data_json
from proofwork.chain.receipts import Event, Receipt
from proofwork.domain.errors import TransactionRejected
from proofwork.keys.accounts import address_of

_PERMIT_FIELDS = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


class TokenContract:
    """An ERC-20 (StableToken on local chains, any ERC-20 elsewhere)."""

    def __init__(self, chain: Chain, artifact: Artifact, address: str) -> None:
        self.chain = chain
        self.address = Web3.to_checksum_address(address)
        self.contract = chain.contract(artifact.abi, address)
        self._meta: dict[str, Any] = {}

    def _cached(self, name: str) -> Any:
        if name not in self._meta:
            self._meta[name] = self.chain.call(getattr(self.contract.functions, name)())
        return self._meta[name]

    @property
    def decimals(self) -> int:
        return int(self._cached("decimals"))

    @property
    def symbol(self) -> str:
        return str(self._cached("symbol"))

    @property
    def name(self) -> str:
        return str(self._cached("name"))

    def supports_permit(self) -> bool:
        """Whether the token takes EIP-2612 permits as `sign_permit` signs them: it answers `nonces` and
        its `DOMAIN_SEPARATOR()` is the one of (its name, version "1", this chain, its address). A token
        without (or with another domain) is paid with approve first instead."""
        if "supports_permit" not in self._meta:
            try:
                theirs = bytes(self.chain.call(self.contract.functions.DOMAIN_SEPARATOR()))
                self.chain.call(self.contract.functions.nonces(self.address))
                domain = (self.name, "1", self.chain.chain_id, self.address)
                blank = {
                    "owner": self.address,
                    "spender": self.address,
                    "value": 0,
                    "nonce": 0,
                    "deadline": 0,
                }
                self._meta["supports_permit"] = (
                    theirs == typed_data(domain, "Permit", _PERMIT_FIELDS, blank).header
                )
            except TransactionRejected:
                self._meta["supports_permit"] = False
        return bool(self._meta["supports_permit"])

    def balance_of(self, owner: str) -> int:
        return int(self.chain.call(self.contract.functions.balanceOf(Web3.to_checksum_address(owner))))

    def allowance(self, owner: str, spender: str) -> int:
        fn = self.contract.functions.allowance(
            Web3.to_checksum_address(owner), Web3.to_checksum_address(spender)
        )
        return int(self.chain.call(fn))

    def approve(self, key: bytes, spender: str, amount: int) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.approve(Web3.to_checksum_address(spender), amount)
        )

    def transfer(self, key: bytes, to: str, amount: int) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.transfer(Web3.to_checksum_address(to), amount)
        )

    def mint(self, key: bytes, to: str, amount: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.mint(Web3.to_checksum_address(to), amount))

    def permit_typed_data(self, owner: str, spender: str, amount: int, deadline: int) -> dict[str, Any]:
        """The EIP-2612 permit letting `spender` pull `amount` of `owner`'s, as the EIP-712 JSON a wallet
        signs (`eth_signTypedData_v4`)."""
        nonce = int(self.chain.call(self.contract.functions.nonces(Web3.to_checksum_address(owner))))
        return typed_data_json(
            (self.name, "1", self.chain.chain_id, self.address),
            "Permit",
            _PERMIT_FIELDS,
            {
                "owner": Web3.to_checksum_address(owner),
                "spender": Web3.to_checksum_address(spender),
                "value": amount,
                "nonce": nonce,
                "deadline": deadline,
            },
        )

    def transfers(self, account: str, from_block: int = 0) -> list[Event]:
        """Every `Transfer` of this token from or to `account` since `from_block`, in chain order."""
        topic = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
        padded = "0x" + bytes.fromhex(Web3.to_checksum_address(account)[2:]).rjust(32, b"\0").hex()
        logs = self.chain.get_logs(self.address, [topic, padded], from_block)
        logs += self.chain.get_logs(self.address, [topic, None, padded], from_block)
        logs.sort(key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))
        out = []
        for log in logs:
            # decoded by position: ERC-20s name the arguments differently (from/to, sender/receiver)
            sender = Web3.to_checksum_address(bytes(log["topics"][1])[-20:])
            receiver = Web3.to_checksum_address(bytes(log["topics"][2])[-20:])
            value = int.from_bytes(bytes(log["data"]), "big")
            out.append(
                Event(
                    "Transfer",
                    int(log["blockNumber"]),
                    "0x" + bytes(log["transactionHash"]).hex(),
                    {"sender": sender, "receiver": receiver, "value": value},
                )
            )
        return out

    def sign_permit(self, key: bytes, spender: str, amount: int, deadline: int) -> tuple[int, bytes, bytes]:
        """An EIP-2612 permit signature (v, r, s) letting `spender` pull `amount`."""
        data = self.permit_typed_data(address_of(key), spender, amount, deadline)
        message = typed_data(
            (self.name, "1", self.chain.chain_id, self.address), "Permit", _PERMIT_FIELDS, data["message"]
        )
        signed = Account.sign_message(message, key)
        return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
