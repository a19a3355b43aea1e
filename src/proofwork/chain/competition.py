"""`Competition`'s handle: prizes open to many, entries with a bond once the committee confirmed the
labels, commit-reveal, committee-signed final scores (a Merkle root and the winners), ranking challenges
heard by an ERC-792 court, pulled payouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from proofwork.chain.client import translate_errors
from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Receipt
from proofwork.chain.scores_tree import winners_hash

COMPETITION_EIP712 = ("proofwork Competition", "1")

FINAL_SCORES_FIELDS = [
    {"name": "competitionId", "type": "uint256"},
    {"name": "scoresRoot", "type": "bytes32"},
    {"name": "entries", "type": "uint256"},
    {"name": "winnersHash", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
]
LABELS_CONFIRMED_FIELDS = [
    {"name": "competitionId", "type": "uint256"},
    {"name": "commitment", "type": "bytes32"},
]

OPEN, FINALIZED, CANCELLED, RANKED = 0, 1, 2, 3
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class ChallengeState:
    """A competition's ranking challenges as the contract's `challenges` view returns them."""

    challenger: str
    dispute_id: int
    ranking: bytes  # the challenger's ranking hash
    opened_at: int
    count: int  # challenges made so far
    open: bool  # the last one awaits its ruling


@dataclass(frozen=True)
class CompetitionState:
    """A competition as the contract's `competition` view returns it (all zero for an unknown id)."""

    client: str
    token: str
    prize: int
    spec_hash: bytes
    commitment: bytes
    deadline: int
    reveal_period: int
    daily_limit: int
    entry_bond: int
    public_percent: int
    prize_bps: list[int]
    min_score: int
    higher_is_better: bool
    status: int  # OPEN, FINALIZED (prizes credited), CANCELLED or RANKED (prizes held for challenges)
    labels_confirmed: bool
    entry_count: int
    revealed_count: int
    scores_root: bytes  # zero until finalized (and when nothing was revealed)


class CompetitionContract(ContractHandle):
    """`Competition`: bounties open to many, commit-reveal entries, committee-signed final scores."""

    def competition(self, comp_id: int) -> CompetitionState:
        raw = self.chain.call(self.contract.functions.competition(check_id(comp_id, "competition id")))
        values = list(raw.values()) if isinstance(raw, dict) else list(raw)
        (client, token, prize, spec_hash, commitment, deadline, reveal_period, daily_limit, bond) = values[:9]
        (public, bps, min_score, higher, status, confirmed, entries, revealed, root) = values[9:]
        return CompetitionState(
            str(client),
            str(token),
            int(prize),
            bytes(spec_hash),
            bytes(commitment),
            int(deadline),
            int(reveal_period),
            int(daily_limit),
            int(bond),
            int(public),
            [int(b) for b in bps],
            int(min_score),
            bool(higher),
            int(status),
            bool(confirmed),
            int(entries),
            int(revealed),
            bytes(root),
        )

    def count(self) -> int:
        return int(self.chain.call(self.contract.functions.competition_count()))

    def court(self) -> str:
        """The ERC-792 arbitrator that hears ranking challenges, or the zero address."""
        return str(self.chain.call(self.contract.functions.court()))

    def challenges(self, comp_id: int) -> ChallengeState:
        raw = self.chain.call(self.contract.functions.challenges(check_id(comp_id, "competition id")))
        values = list(raw.values()) if isinstance(raw, dict) else list(raw)
        challenger, dispute, ranking, opened, count, is_open = values
        return ChallengeState(
            str(challenger), int(dispute), bytes(ranking), int(opened), int(count), bool(is_open)
        )

    def ranking_hash(self, comp_id: int) -> bytes:
        """The ranking in force of a ranked competition (keccak256 of its abi-encoded winners)."""
        return bytes(
            self.chain.call(self.contract.functions.ranking_hash(check_id(comp_id, "competition id")))
        )

    def challenge_cost(self, comp_id: int) -> int:
        """The arbitration fee a challenge pulls, in the prize token (zero without a court)."""
        fn = self.contract.functions.challenge_cost(check_id(comp_id, "competition id"))
        return int(self.chain.call(fn))

    def revealed_count(self, comp_id: int) -> int:
        """Entries revealed so far (the leaves of the scores tree the committee signs)."""
        fn = self.contract.functions.revealed_count(check_id(comp_id, "competition id"))
        return int(self.chain.call(fn))

    def claimable(self, token: str, account: str) -> int:
        """What `account` may withdraw in `token`: prizes, refunds and returned bonds."""
        fn = self.contract.functions.claimable(
            Web3.to_checksum_address(token), Web3.to_checksum_address(account)
        )
        return int(self.chain.call(fn))

    def verify_score(self, comp_id: int, entry: int, score: int, proof: list[bytes]) -> bool:
        """The contract's own check of an entry's score against the finalized scores root."""
        fn = self.contract.functions.verify_score(check_id(comp_id, "competition id"), entry, score, proof)
        return bool(self.chain.call(fn))

    def block_time(self, block_number: int) -> int:
        """When block `block_number` was mined (a competition's creation, say)."""
        with translate_errors(self.chain.url):
            return int(self.chain.web3.eth.get_block(block_number)["timestamp"])

    # --- transactions ----------------------------------------------------------------------------

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
        entry_bond: int,
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
            entry_bond,
            public_percent,
            prize_bps,
            min_score,
            higher_is_better,
            sealed_labels,
        )
        return self.chain.transact(key, fn)

    def confirm_labels(self, key: bytes, comp_id: int, signatures: list[bytes]) -> Receipt:
        """Relays the committee's `LabelsConfirmed` signatures (ascending signer order)."""
        return self.chain.transact(key, self.contract.functions.confirm_labels(comp_id, signatures))

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
        scores_root: bytes,
        winners: list[tuple[int, int]],
        signatures: list[bytes],
    ) -> Receipt:
        fn = self.contract.functions.finalize(
            comp_id, labels_cid, labels_salt, scores_root, winners, signatures
        )
        return self.chain.transact(key, fn)

    def challenge(
        self, key: bytes, comp_id: int, entry: int, ranking: list[tuple[int, int]], meta_evidence: str
    ) -> Receipt:
        fn = self.contract.functions.challenge(comp_id, entry, ranking, meta_evidence)
        return self.chain.transact(key, fn)

    def submit_evidence(self, key: bytes, comp_id: int, evidence: str) -> Receipt:
        return self.chain.transact(key, self.contract.functions.submit_evidence(comp_id, evidence))

    def appeal(self, key: bytes, comp_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.appeal(comp_id))

    def payout(self, key: bytes, comp_id: int, winners: list[tuple[int, int]]) -> Receipt:
        return self.chain.transact(key, self.contract.functions.payout(comp_id, winners))

    def cancel_unjudged(self, key: bytes, comp_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.cancel_unjudged(comp_id))

    def withdraw(self, key: bytes, token: str) -> Receipt:
        """Pulls everything credited to the sender in `token`."""
        return self.chain.transact(key, self.contract.functions.withdraw(Web3.to_checksum_address(token)))

    # --- the committee's signed messages (EIP-712) -----------------------------------------------

    @staticmethod
    def labels_message(comp_id: int, commitment: bytes) -> dict[str, Any]:
        """`LabelsConfirmed`: the labels sealed to the committee open the competition's commitment."""
        return {"competitionId": comp_id, "commitment": commitment}

    def sign_labels(self, key: bytes, message: dict[str, Any]) -> bytes:
        return self._sign(key, COMPETITION_EIP712, "LabelsConfirmed", LABELS_CONFIRMED_FIELDS, message)

    def labels_signer(self, message: dict[str, Any], signature: bytes | str) -> str | None:
        """The address that confirmed the labels, or None if it cannot be recovered."""
        return self._recover(
            COMPETITION_EIP712, "LabelsConfirmed", LABELS_CONFIRMED_FIELDS, message, signature
        )

    @staticmethod
    def final_message(
        comp_id: int, scores_root: bytes, entries: int, winners: list[tuple[int, int]], commitment: bytes
    ) -> dict[str, Any]:
        """`FinalScores`: the root of every revealed entry's score, their number and the winners."""
        return {
            "competitionId": comp_id,
            "scoresRoot": scores_root,
            "entries": entries,
            "winnersHash": winners_hash(winners),
            "commitment": commitment,
        }

    def sign_final(self, key: bytes, message: dict[str, Any]) -> bytes:
        return self._sign(key, COMPETITION_EIP712, "FinalScores", FINAL_SCORES_FIELDS, message)

    def final_signer(self, message: dict[str, Any], signature: bytes | str) -> str | None:
        """The address that signed a competition's final scores, or None if it cannot be recovered."""
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
