"""Domain values -> response bodies."""

from __future__ import annotations

from typing import Any

from proofwork.api.v1 import schemas as S
from proofwork.domain import job as J
from proofwork.domain.units import format_amount
from proofwork.services.competitions import Competition, LeaderboardRow
from proofwork.services.job_inputs import view_json
from proofwork.services.job_listing import JobDetail


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _or_none(address: str) -> str | None:
    return None if address == J.ZERO_ADDRESS else address


def job_public(job: J.Job, skill: str | None, decimals: int) -> S.JobPublic:
    held, paid = job.held, job.paid
    budget = held + paid + job.refunded  # J.Job.budget, its sums taken once (a page has many jobs)
    return S.JobPublic(
        id=job.job_id,
        status=job.status,
        client=job.client,
        freelancer=_or_none(job.freelancer),
        token=job.token,
        arbiter=_or_none(job.arbiter),
        budget=str(budget),
        budget_display=format_amount(budget, decimals),
        held=str(held),
        paid=str(paid),
        refunded=str(job.refunded),
        deadline=job.deadline,
        review_period=job.review_period,
        fee_bps=job.fee_bps,
        spec_hash=_hex(job.spec_hash),
        skill=skill,
        milestone_count=len(job.milestones),
    )


def job_detail(detail: JobDetail, decimals: int, dev_mode: bool) -> S.JobDetailPublic:
    job = detail.job
    milestones = []
    for i, m in enumerate(job.milestones):
        d = detail.deadlines[i] if i < len(detail.deadlines) else None
        milestones.append(
            S.MilestonePublic(
                index=i,
                amount=str(m.amount),
                paid=str(m.paid),
                status=m.status.label,
                revisions=m.revisions,
                timestamp=m.timestamp,
                deliverable=None if m.deliverable == J.ZERO_HASH else _hex(m.deliverable),
                deadlines=S.DeadlinesPublic(
                    due=job.due(i),
                    review_until=d.review_until,
                    claimable_from=d.claimable_from,
                    verdict_from=d.verdict_from,
                    released_from=d.released_from,
                    resolvable_from=d.resolvable_from,
                )
                if d is not None
                else None,
            )
        )
    return S.JobDetailPublic(
        **job_public(job, detail.skill, decimals).model_dump(),
        milestones=milestones,
        submissions=[
            S.SubmissionPublic(
                milestone=s.milestone, deliverable=_hex(s.deliverable), timestamp=s.timestamp, block=s.block
            )
            for s in detail.submissions
        ],
        applicants=detail.applicants,
        judged_by_committee=detail.judged_by_committee,
        inputs=S.JobInputsPublic.model_validate(inputs) if (inputs := view_json(detail.inputs)) else None,
        scores=[
            S.ScorePublic(
                milestone=s.milestone,
                round=s.round,
                median=str(s.median),
                passed=s.passed,
                signers=s.signers,
                scores=[str(x) for x in s.scores],
                signatures=[_hex(x) for x in s.signatures],
                tx_hash=s.tx_hash,
            )
            for s in detail.scores
        ],
        evaluation=S.EvaluationPublic(
            spec_hash=detail.evaluation["spec_hash"],
            threshold=str(detail.evaluation["threshold"]),
            higher_is_better=detail.evaluation["higher_is_better"],
            tolerance=str(detail.evaluation["tolerance"]),
            labels_revealed=detail.evaluation["labels_revealed"],
        )
        if detail.evaluation
        else None,
        disputes=[
            S.DisputePublic(
                milestone=d.milestone,
                by=d.by,
                timestamp=d.timestamp,
                block=d.block,
                case_id=d.case_id,
                resolved={
                    "freelancer_gross": str(d.resolved[0]),
                    "fee": str(d.resolved[1]),
                    "client_amount": str(d.resolved[2]),
                }
                if d.resolved
                else None,
            )
            for d in detail.disputes
        ],
        dev_mode=dev_mode,
    )


def competition_public(c: Competition) -> S.CompetitionPublic:
    return S.CompetitionPublic(
        id=c.comp_id,
        client=c.client,
        token=c.token,
        prize=str(c.prize),
        deadline=c.deadline,
        reveal_end=c.reveal_end,
        entry_bond=str(c.entry_bond),
        public_percent=c.public_percent,
        prize_bps=list(c.prize_bps),
        higher_is_better=c.higher_is_better,
        labels_confirmed=c.labels_confirmed,
        entries=len(c.entries),
        revealed=len(c.revealed),
        ranked=c.ranked,
        finalized=c.finalized,
        cancelled=c.cancelled,
        challenge_end=c.challenge_end,
        winners=[
            {"place": a.place, "entry": a.entry, "winner": a.winner, "amount": str(a.amount)}
            for a in c.awards
        ],
    )


def leaderboard_row(r: LeaderboardRow) -> S.LeaderboardRowPublic:
    return S.LeaderboardRowPublic(
        entry=r.entry,
        submitter=r.submitter,
        revealed=r.revealed,
        public_score=None if r.public_score is None else str(r.public_score),
        oracles=r.oracles,
        private_score=None if r.private_score is None else str(r.private_score),
        place=r.place,
        prize=str(r.prize),
    )


def jsonable(value: Any) -> Any:
    """Bytes to 0x-hex, big ints to strings, dataclasses to dicts: for the free-form parts."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "label"):
        return value.label
    return str(value)
