"""`IssuerRegistry`'s handle: accredited credential issuers, their DIDs, key history and status-list anchors."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from proofwork.chain.encoding import keccak
from proofwork.chain.events import ContractHandle
from proofwork.chain.receipts import Receipt


@dataclass(frozen=True)
class IssuerInfo:
    address: str
    did: str
    name: str
    accredited: bool
    since: int
    revoked_at: int


class IssuerRegistryContract(ContractHandle):
    """`IssuerRegistry`: accredited credential issuers, their DIDs, key history and status-list anchors."""

    def owner(self) -> str:
        return str(self.chain.call(self.contract.functions.owner()))

    def is_accredited(self, issuer: str) -> bool:
        return bool(self.chain.call(self.contract.functions.is_accredited(Web3.to_checksum_address(issuer))))

    def info(self, issuer: str) -> IssuerInfo:
        raw = self.chain.call(self.contract.functions.issuer_info(Web3.to_checksum_address(issuer)))
        did, name, accredited, since, revoked_at = raw
        return IssuerInfo(
            Web3.to_checksum_address(issuer),
            str(did),
            str(name),
            bool(accredited),
            int(since),
            int(revoked_at),
        )

    def issuers(self) -> list[IssuerInfo]:
        count = int(self.chain.call(self.contract.functions.issuer_count()))
        addresses = [str(self.chain.call(self.contract.functions.issuer_at(i))) for i in range(count)]
        return [self.info(a) for a in addresses]

    def issuer_of_did(self, did: str) -> str | None:
        found = str(self.chain.call(self.contract.functions.issuer_of_did(keccak(did.encode()))))
        return None if int(found, 16) == 0 else found

    def key_valid_at(self, issuer: str, thumbprint: bytes, at: int) -> bool:
        if not 0 <= at < 2**64:
            return False
        fn = self.contract.functions.key_valid_at(Web3.to_checksum_address(issuer), thumbprint, at)
        return bool(self.chain.call(fn))

    def status_list_anchor(self, issuer: str, list_id: bytes) -> tuple[bytes, int]:
        digest, updated_at = self.chain.call(
            self.contract.functions.status_list_anchor(Web3.to_checksum_address(issuer), list_id)
        )
        return bytes(digest), int(updated_at)

    def accredit(self, key: bytes, issuer: str, did: str, name: str) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.accredit(Web3.to_checksum_address(issuer), did, name)
        )

    def revoke_accreditation(self, key: bytes, issuer: str) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.revoke_accreditation(Web3.to_checksum_address(issuer))
        )

    def add_key(self, key: bytes, thumbprint: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.add_key(thumbprint))

    def retire_key(self, key: bytes, thumbprint: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.retire_key(thumbprint))

    def anchor_status_list(self, key: bytes, list_id: bytes, digest: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.anchor_status_list(list_id, digest))
