"""`LabelerRoyalties`'s handle: the labelers' part of what a labeled dataset earns, shared by the
campaign's committee-signed payout root (one contract per dataset, named among the asset's creators)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from web3 import Web3

from proofwork.chain.artifacts import Artifact
from proofwork.chain.client import Chain
from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Receipt

MAX_BATCH = 128  # the contract's claim_many bound


@dataclass(frozen=True)
class RoyaltyShares:
    payouts: str  # the LabelPayouts contract
    campaign_id: int
    shares_root: bytes  # the campaign's payout root the shares come from
    total_shares: int
    shares_round: int


@dataclass(frozen=True)
class ShareClaim:
    labeler: str
    shares: int
    proof: Sequence[bytes]

    def as_arg(self) -> tuple[str, int, list[bytes]]:
        return (Web3.to_checksum_address(self.labeler), self.shares, list(self.proof))


class LabelerRoyaltiesContract(ContractHandle):
    """One dataset's labelers' royalties: shares bound to a campaign's payout root at deployment."""

    @classmethod
    def deploy(
        cls, chain: Chain, artifact: Artifact, key: bytes, payouts: str, campaign_id: int
    ) -> LabelerRoyaltiesContract:
        """Deploys the contract for `campaign_id` of `payouts` (its claimable root becomes the shares)."""
        receipt = chain.deploy(
            key,
            artifact.abi,
            artifact.bytecode,
            Web3.to_checksum_address(payouts),
            check_id(campaign_id, "campaign id"),
        )
        assert receipt.contract_address is not None
        return cls(chain, artifact, receipt.contract_address, receipt.block_number)

    def shares(self) -> RoyaltyShares:
        f = self.contract.functions
        return RoyaltyShares(
            str(self.chain.call(f.payouts())),
            int(self.chain.call(f.campaign_id())),
            bytes(self.chain.call(f.shares_root())),
            int(self.chain.call(f.total_shares())),
            int(self.chain.call(f.shares_round())),
        )

    def releasable(self, token: str, claim: ShareClaim) -> int:
        return int(
            self.chain.call(
                self.contract.functions.releasable(Web3.to_checksum_address(token), *claim.as_arg())
            )
        )

    def withdrawn(self, token: str, labeler: str) -> int:
        return int(
            self.chain.call(
                self.contract.functions.withdrawn(
                    Web3.to_checksum_address(token), Web3.to_checksum_address(labeler)
                )
            )
        )

    def claim(self, key: bytes, token: str, claim: ShareClaim) -> Receipt:
        """Pays the labeler its share of `token` received so far (anyone may send it)."""
        return self.chain.transact(
            key, self.contract.functions.claim(Web3.to_checksum_address(token), *claim.as_arg())
        )

    def claim_many(self, key: bytes, token: str, claims: Sequence[ShareClaim]) -> list[Receipt]:
        """Pays every claim, MAX_BATCH per transaction."""
        checked = Web3.to_checksum_address(token)
        return [
            self.chain.transact(
                key,
                self.contract.functions.claim_many(checked, [c.as_arg() for c in claims[i : i + MAX_BATCH]]),
            )
            for i in range(0, len(claims), MAX_BATCH)
        ]
