"""A committee job's signed score reports: the message an oracle signs, and gathering the valid
reports for a milestone's current round from the oracles' endpoints (the settling oracle, and an
attestation of a milestone the client approved, both need them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proofwork.domain import job as J
from proofwork.services.oracle.passes import PeerClient

if TYPE_CHECKING:
    from proofwork.chain.committee import CommitteeContract

Reports = dict[str, tuple[int, bytes]]  # lower-case oracle address -> (score, signature)


def report_message(
    committee: CommitteeContract, job: J.Job, index: int, commitment: bytes, score: int
) -> dict[str, Any]:
    """The EIP-712 `ScoreReport` for a milestone's current submission (its round and deliverable);
    `specHash` is the job's spec hash (its evaluation's hash)."""
    milestone = job.milestones[index]
    return committee.report_message(
        job.job_id, index, milestone.deliverable, milestone.revisions, score, job.spec_hash, commitment
    )


def gather_reports(
    committee: CommitteeContract,
    peers: PeerClient,
    job: J.Job,
    index: int,
    commitment: bytes,
    held: dict[str, dict[str, Any]] | None = None,
) -> Reports:
    """Every valid report for the milestone's current round and deliverable: each oracle's report
    as `held` has it (by lower-case address, the served JSON form), else as its endpoint serves it;
    only reports whose signature recovers to that oracle count."""
    milestone = job.milestones[index]
    wanted = (index, milestone.revisions, "0x" + milestone.deliverable.hex())
    collected: Reports = {}
    for oracle in committee.oracles:
        if held is not None and oracle.lower() in held:
            candidates = [held[oracle.lower()]]
        else:
            endpoint = committee.endpoint(oracle)
            candidates = peers.reports(endpoint, committee.address, "job", job.job_id) if endpoint else []
        for r in candidates:
            try:
                same = (int(r["item"]), int(r["round"]), str(r["deliverable"])) == wanted
                score, signature = int(r["score"]), bytes.fromhex(str(r["signature"]).removeprefix("0x"))
            except (KeyError, ValueError, TypeError):
                continue
            if not same:
                continue
            signer = committee.report_signer(
                report_message(committee, job, index, commitment, score), signature
            )
            if signer is not None and signer.lower() == oracle.lower():
                collected[oracle.lower()] = (score, signature)
                break
    return collected
