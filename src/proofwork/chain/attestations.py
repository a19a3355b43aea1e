"""Handles on the attestation contracts: `Attestations` (the EAS data model) and `JobAttester`
(JobCompleted from settled milestones), with the schemas proofwork registers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from web3 import Web3

from proofwork.chain.encoding import job_tuple
from proofwork.chain.events import ContractHandle, check_id
from proofwork.chain.receipts import Receipt
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput

# The schemas proofwork registers (EAS schema strings: the attestation data is abi-encoded so).
# JobCompleted (contracts/attestations/job_completed.vy): a verified record carries the pass score,
# the metric's direction and the job's spec hash (its evaluation's hash) it was judged against; an
# unverified one threshold 0, higherIsBetter false and the job's spec hash.
JOB_COMPLETED_SCHEMA = (
    "uint256 jobId,uint256 milestone,address client,address freelancer,address token,"
    "uint256 amountPaid,int256 score,bool verified,int256 threshold,bool higherIsBetter,bytes32 specHash,"
    "string skill"
)
JOB_COMPLETED_TYPES = [
    "uint256",
    "uint256",
    "address",
    "address",
    "address",
    "uint256",
    "int256",
    "bool",
    "int256",
    "bool",
    "bytes32",
    "string",
]
REVIEW_SCHEMA = "uint8 rating,bytes32 commentHash"
REVIEW_TYPES = ["uint8", "bytes32"]


def _checksum(address: str) -> str:
    return Web3.to_checksum_address(address)


@dataclass(frozen=True)
class AttestationRecord:
    """An attestation as the EAS data model stores it."""

    uid: bytes
    schema: bytes
    time: int
    expiration_time: int
    revocation_time: int
    ref_uid: bytes
    recipient: str
    attester: str
    revocable: bool
    data: bytes


@dataclass(frozen=True)
class JobCompleted:
    """The decoded data of a JobCompleted attestation."""

    uid: bytes
    job_id: int
    milestone: int
    client: str
    freelancer: str
    token: str
    amount_paid: int
    score: int
    verified: bool
    threshold: int  # the pass score a verified record was judged against (0 when unverified)
    higher_is_better: bool
    spec_hash: bytes  # the job's spec hash (for a committee job, its evaluation's hash)
    skill: str
    time: int
    revoked: bool

    @property
    def passed(self) -> bool | None:
        """Whether a verified score passes its threshold; None for an unverified record."""
        if not self.verified:
            return None
        return self.score >= self.threshold if self.higher_is_better else self.score <= self.threshold


def decode_job_completed(record: AttestationRecord) -> JobCompleted:
    values = abi_decode(JOB_COMPLETED_TYPES, record.data)
    return JobCompleted(
        record.uid,
        int(values[0]),
        int(values[1]),
        _checksum(values[2]),
        _checksum(values[3]),
        _checksum(values[4]),
        int(values[5]),
        int(values[6]),
        bool(values[7]),
        int(values[8]),
        bool(values[9]),
        bytes(values[10]),
        str(values[11]),
        record.time,
        record.revocation_time != 0,
    )


class AttestationsContract(ContractHandle):
    """`Attestations`: the EAS core (attest, revoke, getAttestation; EAS's events)."""

    def get(self, uid: bytes) -> AttestationRecord:
        raw = self.chain.call(self.contract.functions.get_attestation(uid))
        return AttestationRecord(
            bytes(raw[0]),
            bytes(raw[1]),
            int(raw[2]),
            int(raw[3]),
            int(raw[4]),
            bytes(raw[5]),
            str(raw[6]),
            str(raw[7]),
            bool(raw[8]),
            bytes(raw[9]),
        )

    def uids(self, schema: bytes, recipient: str | None = None) -> list[bytes]:
        """uids of the attestations made in `schema` (optionally to `recipient`), in chain order."""
        topics: list[Any] = [self._by_name["Attested"]]
        topics.append(
            None if recipient is None else "0x" + bytes(12).hex() + _checksum(recipient)[2:].lower()
        )
        topics.append(None)
        topics.append("0x" + schema.hex())
        logs = self.chain.get_logs(self.address, topics, self.deploy_block)
        return [bytes(self._decode(log).args["uid"]) for log in logs]

    def attest(
        self, key: bytes, schema: bytes, recipient: str, ref_uid: bytes, data: bytes, revocable: bool = True
    ) -> Receipt:
        request = (schema, (_checksum(recipient), 0, revocable, ref_uid, data, 0))
        return self.chain.transact(key, self.contract.functions.attest(request))

    def attested_uid(self, receipt: Receipt) -> bytes:
        for event in self.receipt_events(receipt):
            if event.name == "Attested":
                return bytes(event.args["uid"])
        raise InvalidInput("the transaction made no attestation")


class JobAttesterContract(ContractHandle):
    """`JobAttester`: attests JobCompleted for settled milestones from the escrow's state (and the
    committee's signed reports for verified scores), and awards skill badges."""

    def skill_of(self, job_id: int) -> str:
        return str(self.chain.call(self.contract.functions.skill_of(check_id(job_id, "job id"))))

    def attestation_of(self, job_id: int, milestone: int) -> bytes:
        fn = self.contract.functions.attestation_of(
            check_id(job_id, "job id"), check_id(milestone, "milestone")
        )
        return bytes(self.chain.call(fn))

    def declare_skill(self, key: bytes, job: J.Job, skill: str) -> Receipt:
        fn = self.contract.functions.declare_skill(job.job_id, job_tuple(job), skill)
        return self.chain.transact(key, fn)

    def attest_job(
        self,
        key: bytes,
        job: J.Job,
        milestone: int,
        signers: Sequence[str] = (),
        scores: Sequence[int] = (),
        signatures: Sequence[bytes] = (),
    ) -> Receipt:
        """Attests JobCompleted for a settled milestone: verified with the committee reports of exactly
        the round's canonical signers (ascending, each with its score and signature), else unverified
        (no reports)."""
        fn = self.contract.functions.attest_job(
            job.job_id,
            job_tuple(job),
            milestone,
            list(scores),
            [_checksum(s) for s in signers],
            list(signatures),
        )
        return self.chain.transact(key, fn)


def review_data(rating: int, comment_hash: bytes) -> bytes:
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("a review's rating is a whole number from 1 to 5")
    if len(comment_hash) != 32:
        raise InvalidInput("a review's comment hash must be 32 bytes")
    return abi_encode(REVIEW_TYPES, [rating, comment_hash])
