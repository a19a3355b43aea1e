"""An ERC-20 handle: StableToken on local chains, any ERC-20 elsewhere (EIP-2612 permits)."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain
from proofwork.chain.events import typed_data
from proofwork.chain.receipts import Receipt
from proofwork.keys.accounts import address_of


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

    def sign_permit(self, key: bytes, spender: str, amount: int, deadline: int) -> tuple[int, bytes, bytes]:
        """An EIP-2612 permit signature (v, r, s) letting `spender` pull `amount`."""
        owner = address_of(key)
        nonce = int(self.chain.call(self.contract.functions.nonces(owner)))
        message = typed_data(
            (self.name, "1", self.chain.chain_id, self.address),
            "Permit",
            [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
            {
                "owner": owner,
                "spender": Web3.to_checksum_address(spender),
                "value": amount,
                "nonce": nonce,
                "deadline": deadline,
            },
        )
        signed = Account.sign_message(message, key)
        return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
