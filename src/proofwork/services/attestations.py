"""JobCompleted attestations of paid milestones (EAS data model), the skill a job earns, and reviews
between the parties of a paid job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proofwork.domain import job as J
from proofwork.domain.errors import NotAllowed, NotFound, ProofworkError
from proofwork.services.badges import check_skill
from proofwork.services.jobs import Jobs
from proofwork.services.workspace import Signer, Workspace


@dataclass(frozen=True)
class Attested:
    job_id: int
    milestone: int
    uid: bytes
    verified: bool
    score: int
    badge: int  # token id awarded, 0 for none
    gas: int


def declare_skill(ws: Workspace, client: Signer, job_id: int, skill: str) -> int:
    """The client names the job's skill category (once, before anything settles); returns gas."""
    skill = check_skill(skill)
    job = Jobs(ws).get(job_id)
    if job.client.lower() != client.address.lower():
        raise NotAllowed(f"only job {job_id}'s client declares its skill")
    return ws.job_attester.declare_skill(client.key, job, skill).gas_used


def attest_settled(ws: Workspace, caller: Signer, job_id: int) -> list[Attested]:
    """Attests JobCompleted for every milestone of the job that paid the freelancer and is not yet
    attested. Anyone may call it: the attester derives everything from the escrow's state, and a
    committee-resolved milestone's score from the committee's signed reports, read back from the
    settling transaction. A milestone that cannot be attested does not stop the others; if any
    failed, NotAllowed names them after the rest are done."""
    job = Jobs(ws).get(job_id)
    attester = ws.job_attester
    committee = ws.committee if ws.deployment.committee else None
    judged = committee is not None and job.arbiter.lower() == committee.address.lower()
    out: list[Attested] = []
    failed: list[str] = []
    for index, milestone in enumerate(job.milestones):
        if (
            milestone.status not in (J.MilestoneStatus.PAID, J.MilestoneStatus.RESOLVED)
            or milestone.paid == 0
        ):
            continue
        if attester.attestation_of(job_id, index) != J.ZERO_HASH:
            continue
        settlement = None
        if judged and milestone.status == J.MilestoneStatus.RESOLVED:
            assert committee is not None
            settlement = committee.settlement(job_id, index, milestone.deliverable)
            if settlement is None or not settlement.scores:
                failed.append(
                    f"milestone {index + 1}: the committee's signed reports cannot be read back from the chain "
                    "(settled through another contract)"
                )
                continue
        try:
            receipt = attester.attest_job(caller.key, job, index, settlement)
        except ProofworkError as exc:
            failed.append(f"milestone {index + 1}: {exc}")
            continue
        uid, verified, score, badge = b"", False, 0, 0
        for event in attester.receipt_events(receipt):
            if event.name == "JobAttested":
                uid, verified = bytes(event.args["uid"]), bool(event.args["verified"])
                score = int(event.args["score"])
            elif event.name == "BadgeAwarded":
                badge = int(event.args["token_id"])
        out.append(Attested(job_id, index, uid, verified, score, badge, receipt.gas_used))
    if failed:
        done = f"attested {len(out)} milestone(s); " if out else ""
        raise NotAllowed(f"job {job_id}: {done}could not attest " + "; ".join(failed))
    return out


def review(
    ws: Workspace, reviewer: Signer, job_id: int, milestone: int, rating: int, comment: str = ""
) -> bytes:
    """A client or freelancer reviews the other party of a paid, attested job (EAS refUID)."""
    from proofwork.chain.attestations import review_data
    from proofwork.chain.encoding import keccak

    uid = ws.job_attester.attestation_of(job_id, milestone)
    if uid == J.ZERO_HASH:
        raise NotFound(f"job {job_id} milestone {milestone + 1} has no JobCompleted attestation to review")
    job = Jobs(ws).get(job_id)
    me = reviewer.address.lower()
    if me == job.client.lower():
        other = job.freelancer
    elif me == job.freelancer.lower():
        other = job.client
    else:
        raise NotAllowed(f"only job {job_id}'s client or freelancer may review it")
    data = review_data(rating, keccak(comment.encode()))
    schema = bytes.fromhex(ws.deployment.review_schema[2:])
    receipt = ws.attestations.attest(reviewer.key, schema, other, uid, data, revocable=True)
    return ws.attestations.attested_uid(receipt)


@dataclass(frozen=True)
class Review:
    uid: bytes
    job_id: int
    milestone: int
    reviewer: str
    reviewee: str
    rating: int
    comment_hash: bytes
    time: int


def reviews_of(ws: Workspace, address: str | None = None) -> list[Review]:
    """Reviews (not revoked), optionally only those received by `address`, with the job each
    references through its JobCompleted."""
    from eth_abi import decode as abi_decode

    from proofwork.chain.attestations import REVIEW_TYPES, decode_job_completed

    attestations = ws.attestations
    schema = bytes.fromhex(ws.deployment.review_schema[2:])
    out = []
    for uid in attestations.uids(schema, ws.address(address) if address else None):
        record = attestations.get(uid)
        if record.revocation_time:
            continue
        rating, comment_hash = abi_decode(REVIEW_TYPES, record.data)
        job = decode_job_completed(attestations.get(record.ref_uid))
        out.append(
            Review(
                uid,
                job.job_id,
                job.milestone,
                record.attester,
                record.recipient,
                int(rating),
                bytes(comment_hash),
                record.time,
            )
        )
    return out


def job_completions(ws: Workspace, freelancer: str | None = None) -> list[Any]:
    """Every JobCompleted attestation (not revoked), decoded; only `freelancer`'s when given (the
    attestation's recipient, filtered by the node)."""
    from proofwork.chain.attestations import decode_job_completed

    attestations = ws.attestations
    schema = bytes.fromhex(ws.deployment.job_completed_schema[2:])
    # Only the job attester can attest this schema (the resolver refuses anyone else); checked again
    # here so that a misconfigured deployment cannot feed the graph.
    attester = ws.deployment.job_attester.lower()
    records = [attestations.get(uid) for uid in attestations.uids(schema, freelancer)]
    completed = [decode_job_completed(r) for r in records if r.attester.lower() == attester]
    return [c for c in completed if not c.revoked]
