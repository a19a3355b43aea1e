"""`LabelPayouts`' handle, the committee's EIP-712 `PayoutRoot` and the labeler's EIP-712 `LabelBatch`.

A labeling campaign's budget is escrowed in `LabelPayouts`; each round the oracle committee signs

    PayoutRoot(uint256 campaignId, uint256 round, bytes32 root, uint256 total, bytes32 specHash)

under the domain ("proofwork LabelPayouts", "1", chain id, the contract), over the root of the
(labeler, cumulative amount) tree (`payouts_tree`). A labeler signs each batch of answers

    LabelBatch(uint256 campaignId, bytes32 batchId, bytes32 answersHash, uint64 expiresAt)

under the domain ("proofwork label batches", "1", chain id, the same contract): a batch signed for one
campaign, chain or deployment is worthless on another, and the service can neither forge nor alter the
answers (`answers_hash` covers every (item, label) pair)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import SignableMessage
from web3 import Web3

from proofwork.chain.encoding import keccak
from proofwork.chain.events import ContractHandle, check_id, typed_data, typed_data_json
from proofwork.chain.receipts import Receipt
from proofwork.chain.unsigned import UnsignedTx
from proofwork.domain.errors import InvalidInput

PAYOUTS_EIP712 = ("proofwork LabelPayouts", "1")
BATCH_EIP712 = ("proofwork label batches", "1")
ROOT_FIELDS = [
    {"name": "campaignId", "type": "uint256"},
    {"name": "round", "type": "uint256"},
    {"name": "root", "type": "bytes32"},
    {"name": "total", "type": "uint256"},
    {"name": "specHash", "type": "bytes32"},
]
BATCH_FIELDS = [
    {"name": "campaignId", "type": "uint256"},
    {"name": "batchId", "type": "bytes32"},
    {"name": "answersHash", "type": "bytes32"},
    {"name": "expiresAt", "type": "uint64"},
]
MAX_CLAIMS = 128  # `claim_many`'s batch bound
SIGNATURE_SIZE = 65


@dataclass(frozen=True)
class CampaignState:
    """A campaign as the contract's `campaign` view returns it (all zero for an unknown id)."""

    client: str
    token: str
    committee: str
    spec_hash: bytes
    budget: int
    paid: int
    refunded: int
    challenge_window: int
    close_time: int
    closed_at: int
    last_round: int
    root: bytes  # the claimable root (zero: none)
    total: int
    round: int
    pending_root: bytes
    pending_total: int
    pending_round: int
    pending_at: int

    @property
    def exists(self) -> bool:
        return int(self.client, 16) != 0

    @property
    def held(self) -> int:
        """What the contract still holds for the campaign."""
        return self.budget - self.paid - self.refunded


def answers_hash(answers: Sequence[tuple[str, str]]) -> bytes:
    """keccak256 of the (item, label) answers, sorted by item, each abi-encoded as (string, string) and
    hashed, the hashes concatenated: what a labeler's batch signature covers."""
    parts = [keccak(abi_encode(["string", "string"], [item, label])) for item, label in sorted(answers)]
    return keccak(b"".join(parts))


def _batch_message(campaign_id: int, batch_id: bytes, digest: bytes, expires_at: int) -> dict[str, Any]:
    check_id(campaign_id, "campaign id")
    if not isinstance(batch_id, bytes) or len(batch_id) != 32:
        raise InvalidInput("a batch id is 32 bytes")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int) or not 0 <= expires_at < 2**64:
        raise InvalidInput(f"invalid batch expiry {expires_at!r}")
    return {"campaignId": campaign_id, "batchId": batch_id, "answersHash": digest, "expiresAt": expires_at}


def batch_typed_data_json(
    chain_id: int,
    payouts: str,
    campaign_id: int,
    batch_id: bytes,
    answers: Sequence[tuple[str, str]],
    expires_at: int,
) -> dict[str, Any]:
    """The EIP-712 JSON a labeler's wallet signs for a batch (`eth_signTypedData_v4`), hashes as 0x hex."""
    message = _batch_message(campaign_id, batch_id, answers_hash(answers), expires_at)
    message["batchId"] = "0x" + batch_id.hex()
    message["answersHash"] = "0x" + message["answersHash"].hex()
    domain = (*BATCH_EIP712, chain_id, Web3.to_checksum_address(payouts))
    return typed_data_json(domain, "LabelBatch", BATCH_FIELDS, message)


def _batch_signable(
    chain_id: int,
    payouts: str,
    campaign_id: int,
    batch_id: bytes,
    answers: Sequence[tuple[str, str]],
    expires_at: int,
) -> SignableMessage:
    message = _batch_message(campaign_id, batch_id, answers_hash(answers), expires_at)
    domain = (*BATCH_EIP712, chain_id, Web3.to_checksum_address(payouts))
    return typed_data(domain, "LabelBatch", BATCH_FIELDS, message)


def sign_batch(
    key: bytes,
    chain_id: int,
    payouts: str,
    campaign_id: int,
    batch_id: bytes,
    answers: Sequence[tuple[str, str]],
    expires_at: int,
) -> bytes:
    """The labeler's 65-byte signature (r, s, v) of a batch of answers."""
    signable = _batch_signable(chain_id, payouts, campaign_id, batch_id, answers, expires_at)
    return bytes(Account.sign_message(signable, key).signature)


def batch_signer(
    signature: bytes,
    chain_id: int,
    payouts: str,
    campaign_id: int,
    batch_id: bytes,
    answers: Sequence[tuple[str, str]],
    expires_at: int,
) -> str | None:
    """The lower-case address that signed a batch, or None when the signature recovers to nothing."""
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
        return None
    try:
        signable = _batch_signable(chain_id, payouts, campaign_id, batch_id, answers, expires_at)
        return str(Account.recover_message(signable, signature=signature)).lower()
    except InvalidInput:
        return None
    except Exception:  # eth_keys BadSignature / ValidationError, eth_abi EncodingError: not a signature
        return None


def _hex32(value: bytes) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidInput("expected 32 bytes")
    return value


class LabelPayoutsContract(ContractHandle):
    """`LabelPayouts`: escrowed labeling budgets paid through committee-signed cumulative roots."""

    # --- reads -----------------------------------------------------------------------------------

    def campaign(self, campaign_id: int) -> CampaignState:
        raw = self.chain.call(self.contract.functions.campaign(check_id(campaign_id, "campaign id")))
        v = list(raw.values()) if isinstance(raw, dict) else list(raw)
        a = [int(x) for x in v[4:11]]
        return CampaignState(
            str(v[0]),
            str(v[1]),
            str(v[2]),
            bytes(v[3]),
            budget=a[0],
            paid=a[1],
            refunded=a[2],
            challenge_window=a[3],
            close_time=a[4],
            closed_at=a[5],
            last_round=a[6],
            root=bytes(v[11]),
            total=int(v[12]),
            round=int(v[13]),
            pending_root=bytes(v[14]),
            pending_total=int(v[15]),
            pending_round=int(v[16]),
            pending_at=int(v[17]),
        )

    def count(self) -> int:
        return int(self.chain.call(self.contract.functions.campaign_count()))

    def claimed(self, campaign_id: int, labeler: str) -> int:
        fn = self.contract.functions.claimed(
            check_id(campaign_id, "campaign id"), Web3.to_checksum_address(labeler)
        )
        return int(self.chain.call(fn))

    def challenged(self, campaign_id: int, account: str) -> bool:
        fn = self.contract.functions.challenged(
            check_id(campaign_id, "campaign id"), Web3.to_checksum_address(account)
        )
        return bool(self.chain.call(fn))

    def root_digest(self, campaign_id: int, round_: int, root: bytes, total: int) -> bytes:
        """The contract's own EIP-712 digest of a round's root (a cross-check of `root_message`)."""
        fn = self.contract.functions.root_digest(campaign_id, round_, _hex32(root), total)
        return bytes(self.chain.call(fn))

    def verify_proof(self, root: bytes, labeler: str, cumulative: int, proof: list[bytes]) -> bool:
        fn = self.contract.functions.verify(
            _hex32(root), Web3.to_checksum_address(labeler), cumulative, proof
        )
        return bool(self.chain.call(fn))

    # --- transactions ----------------------------------------------------------------------------

    def create(
        self,
        key: bytes,
        *,
        token: str,
        budget: int,
        committee: str,
        spec_hash: bytes,
        challenge_window: int,
        close_time: int,
    ) -> tuple[int, Receipt]:
        """Creates a campaign escrowing `budget` (approved to this contract first); its id and receipt."""
        fn = self.contract.functions.create(
            Web3.to_checksum_address(token),
            budget,
            Web3.to_checksum_address(committee),
            _hex32(spec_hash),
            challenge_window,
            close_time,
        )
        receipt = self.chain.transact(key, fn)
        created = [e for e in self.receipt_events(receipt) if e.name == "CampaignCreated"]
        return int(created[0].args["campaign_id"]), receipt

    def post_root(
        self, key: bytes, campaign_id: int, round_: int, root: bytes, total: int, signatures: list[bytes]
    ) -> Receipt:
        fn = self.contract.functions.post_root(campaign_id, round_, _hex32(root), total, signatures)
        return self.chain.transact(key, fn)

    def challenge(self, key: bytes, campaign_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.challenge(campaign_id))

    def _claim_fn(self, campaign_id: int, labeler: str, cumulative: int, proof: list[bytes]) -> Any:
        return self.contract.functions.claim(
            campaign_id, Web3.to_checksum_address(labeler), cumulative, proof
        )

    def _claim_many_fn(self, campaign_id: int, claims: Sequence[tuple[str, int, list[bytes]]]) -> Any:
        if not 1 <= len(claims) <= MAX_CLAIMS:
            raise InvalidInput(f"a batch claim pays 1 to {MAX_CLAIMS} labelers, not {len(claims)}")
        rows = [(Web3.to_checksum_address(who), amount, proof) for who, amount, proof in claims]
        return self.contract.functions.claim_many(campaign_id, rows)

    def claim(
        self, key: bytes, campaign_id: int, labeler: str, cumulative: int, proof: list[bytes]
    ) -> Receipt:
        """Pays `labeler` (anyone may send it: the tokens go to the labeler)."""
        return self.chain.transact(key, self._claim_fn(campaign_id, labeler, cumulative, proof))

    def claim_many(
        self, key: bytes, campaign_id: int, claims: Sequence[tuple[str, int, list[bytes]]]
    ) -> Receipt:
        return self.chain.transact(key, self._claim_many_fn(campaign_id, claims))

    def prepare_claim(
        self, sender: str, campaign_id: int, labeler: str, cumulative: int, proof: list[bytes]
    ) -> UnsignedTx:
        """The unsigned `claim` for a wallet (or a relayer's) to sign."""
        return self.chain.prepare(
            sender, self._claim_fn(campaign_id, labeler, cumulative, proof), f"claim for {labeler}"
        )

    def prepare_claim_many(
        self, sender: str, campaign_id: int, claims: Sequence[tuple[str, int, list[bytes]]]
    ) -> UnsignedTx:
        return self.chain.prepare(
            sender, self._claim_many_fn(campaign_id, claims), f"claim for {len(claims)} labelers"
        )

    def close(self, key: bytes, campaign_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.close(campaign_id))

    def sweep(self, key: bytes, campaign_id: int) -> Receipt:
        return self.chain.transact(key, self.contract.functions.sweep(campaign_id))

    # --- the committee's signed root (EIP-712) ---------------------------------------------------

    @staticmethod
    def root_message(
        campaign_id: int, round_: int, root: bytes, total: int, spec_hash: bytes
    ) -> dict[str, Any]:
        return {
            "campaignId": check_id(campaign_id, "campaign id"),
            "round": check_id(round_, "round"),
            "root": _hex32(root),
            "total": check_id(total, "total"),
            "specHash": _hex32(spec_hash),
        }

    def sign_root(self, key: bytes, message: dict[str, Any]) -> bytes:
        return self._sign(key, PAYOUTS_EIP712, "PayoutRoot", ROOT_FIELDS, message)

    def root_signer(self, message: dict[str, Any], signature: bytes | str) -> str | None:
        """The address that signed a payout root, or None if it cannot be recovered."""
        return self._recover(PAYOUTS_EIP712, "PayoutRoot", ROOT_FIELDS, message, signature)

    def root_digest_of(self, message: dict[str, Any]) -> bytes:
        """The EIP-712 digest of a root message as this process computes it."""
        signable = typed_data(
            (*PAYOUTS_EIP712, self.chain.chain_id, self.address), "PayoutRoot", ROOT_FIELDS, message
        )
        return keccak(b"\x19" + signable.version + signable.header + signable.body)
