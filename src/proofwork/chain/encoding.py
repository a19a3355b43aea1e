"""How proofwork's values are encoded and hashed as the contracts see them: the `Job` struct and its
stored hash, the labels and entry commitments, a committee job's evaluation hash and the designated
quorum of a round. Pure functions (eth_abi and keccak, no web3), so the services can check and
commit without opening a chain."""

from __future__ import annotations

from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak as _keccak
from eth_utils import to_checksum_address

from proofwork.domain import job as J

EVALUATION_TYPE = (
    "Evaluation(bytes32 specDigest,bytes32 commitment,int256 threshold,bool higherIsBetter,uint256 tolerance)"
)
JOB_ABI_TYPE = (
    "(address,address,address,address,uint64,uint64,uint16,bytes32,address,uint256,"
    "(uint256,uint256,uint8,uint8,uint64,bytes32)[])"
)


def keccak(data: bytes) -> bytes:
    """keccak256, as the EVM computes it."""
    return bytes(_keccak(data))


def job_tuple(job: J.Job) -> tuple[Any, ...]:
    """The `Job` struct as the contract's ABI expects it."""
    return (
        to_checksum_address(job.client),
        to_checksum_address(job.freelancer),
        to_checksum_address(job.token),
        to_checksum_address(job.arbiter),
        job.deadline,
        job.review_period,
        job.fee_bps,
        job.spec_hash,
        to_checksum_address(job.cancel_proposer),
        job.cancel_amount,
        [(m.amount, m.paid, int(m.status), m.revisions, m.timestamp, m.deliverable) for m in job.milestones],
    )


def job_hash(job: J.Job) -> bytes:
    """keccak256(abi_encode(job)), as `JobEscrow` stores it."""
    return keccak(abi_encode([JOB_ABI_TYPE], [job_tuple(job)]))


def labels_commitment(labels_cid: bytes, salt: bytes, spec_hash: bytes) -> bytes:
    """keccak256(abi_encode(labels_cid, salt, spec_hash)): what the client commits to on chain."""
    return keccak(abi_encode(["bytes", "bytes32", "bytes32"], [labels_cid, salt, spec_hash]))


def submission_commitment(submission_cid: bytes, salt: bytes, submitter: str) -> bytes:
    """keccak256(abi_encode(cid, salt, submitter)): a competition entry's commitment."""
    return keccak(
        abi_encode(["bytes", "bytes32", "address"], [submission_cid, salt, to_checksum_address(submitter)])
    )


EVALUATION_TYPEHASH = keccak(EVALUATION_TYPE.encode())


def evaluation_hash(
    spec_digest: bytes, commitment: bytes, threshold: int, higher_is_better: bool, tolerance: int
) -> bytes:
    """The EIP-712 hashStruct of an `Evaluation`: the `spec_hash` a job judged by the oracle committee
    must be created with (`OracleCommittee.evaluation_hash`), binding the spec file's digest, the
    labels commitment, the pass score, the metric's direction and the outlier tolerance."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "int256", "bool", "uint256"],
            [EVALUATION_TYPEHASH, spec_digest, commitment, threshold, higher_is_better, tolerance],
        )
    )


def designated_quorum(
    job_id: int, milestone: int, round_: int, oracles: list[str], threshold: int
) -> list[str]:
    """The oracles whose reports alone may settle a round during its designated period, as
    `OracleCommittee.canonical_signers` computes it before any late settlement: `threshold` oracles
    taken in ascending address order from index keccak256(abi_encode(job_id, milestone, round)) % n,
    wrapping around; returned in ascending address order."""
    ordered = sorted(oracles, key=lambda a: int(a, 16))
    n = len(ordered)
    if n == 0:
        return []
    start = int.from_bytes(keccak(abi_encode(["uint256"] * 3, [job_id, milestone, round_])), "big") % n
    return [o for i, o in enumerate(ordered) if (i - start) % n < threshold]
