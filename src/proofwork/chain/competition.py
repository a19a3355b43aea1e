"""`Competition`'s handle: prizes open to many, commit-reveal entries, committee-signed final scores."""

from __future__ import annotations

from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from proofwork.chain.encoding import keccak
from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Receipt

COMPETITION_EIP712 = ("proofwork Competition", "1")

FINAL_SCORES_FIELDS = [
    {"name": "competitionId", "type": "uint256"},
    {"name": "scoresHash", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
]


class CompetitionContract(ContractHandle):
    """`Competition`: bounties open to many, commit-reveal entries, committee-signed final scores."""

    def competition(self, comp_id: int) -> Any:
        return self.chain.call(self.contract.functions.competition(check_id(comp_id, "competition id")))

    def count(self) -> int:
        return int(self.chain.call(self.contract.functions.competition_count()))

    def revealed_count(self, comp_id: int) -> int:
        """Entries revealed so far (the length the final ranking must have)."""
        fn = self.contract.functions.revealed_count(check_id(comp_id, "competition id"))
        return int(self.chain.call(fn))

    def create(
        self,
        key: bytes,
        *,
        token: str,
        prize: int,
        spec_hash: bytes,
        commitment: bytes,
        deadline: int,
        reveal_period: int,
        daily_limit: int,
        public_percent: int,
        prize_bps: list[int],
        min_score: int,
        higher_is_better: bool,
        sealed_labels: bytes,
    ) -> Receipt:
        fn = self.contract.functions.create(
            Web3.to_checksum_address(token),
            prize,
            spec_hash,
            commitment,
            deadline,
            reveal_period,
            daily_limit,
            public_percent,
            prize_bps,
            min_score,
            higher_is_better,
            sealed_labels,
        )
        return self.chain.transact(key, fn)

    def commit(self, key: bytes, comp_id: int, commitment: bytes, sealed_submission: bytes) -> Receipt:
        return self.chain.transact(
            key, self.contract.functions.commit(comp_id, commitment, sealed_submission)
        )

    def reveal(self, key: bytes, comp_id: int, entry: int, cid: bytes, salt: bytes) -> Receipt:
        return self.chain.transact(key, self.contract.functions.reveal(comp_id, entry, cid, salt))

    def finalize(
        self,
        key: bytes,
        comp_id: int,
        labels_cid: bytes,
        labels_salt: bytes,
        ranking: list[tuple[int, int]],
        signatures: list[bytes],
    ) -> Receipt:
        fn = self.contract.functions.finalize(comp_id, labels_cid, labels_salt, ranking, signatures)
        return self.chain.transact(key, fn)

    def cancel_unjudged(self, key: bytes, comp_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.cancel_unjudged(comp_id))

    @staticmethod
    def scores_hash(ranking: list[tuple[int, int]]) -> bytes:
        return keccak(abi_encode(["(uint256,int256)[]"], [ranking]))

    def final_message(
        self, comp_id: int, ranking: list[tuple[int, int]], commitment: bytes
    ) -> dict[str, Any]:
        return {"competitionId": comp_id, "scoresHash": self.scores_hash(ranking), "commitment": commitment}

    def sign_final(self, key: bytes, message: dict[str, Any]) -> bytes:
        return self._sign(key, COMPETITION_EIP712, "FinalScores", FINAL_SCORES_FIELDS, message)

    def final_signer(self, message: dict[str, Any], signature: bytes | str) -> str | None:
        """The address that signed a final ranking, or None if it cannot be recovered."""
        return self._recover(COMPETITION_EIP712, "FinalScores", FINAL_SCORES_FIELDS, message, signature)

    # --- public (leaderboard) scores: EIP-191 personal messages ------------------------------------

    def public_score_text(self, comp_id: int, entry: int, score: int) -> str:
        return f"proofwork public score {self.address.lower()} {comp_id} {entry} {score}"

    def sign_public_score(self, key: bytes, comp_id: int, entry: int, score: int) -> bytes:
        """An oracle's signature on an entry's public-split score (shown on the leaderboard)."""
        message = encode_defunct(text=self.public_score_text(comp_id, entry, score))
        return bytes(Account.sign_message(message, key).signature)

    def public_score_signer(self, comp_id: int, entry: int, score: int, signature: bytes | str) -> str | None:
        """The address that signed a public score, or None if the inputs or signature are unusable."""
        try:
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (comp_id, entry, score)):
                return None
            message = encode_defunct(text=self.public_score_text(comp_id, entry, score))
            return str(Account.recover_message(message, signature=signature))
        except Exception:  # eth_keys BadSignature, ValidationError, ValueError on bad hex...
            return None
