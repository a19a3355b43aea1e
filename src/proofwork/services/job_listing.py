"""The reads behind the API's job board and job pages, in one place.

`list_jobs` is the one function lists go through: today it rebuilds every job from the escrow's
logs; an indexer can later answer it from SQL without its callers changing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotFound
from proofwork.services.jobs import Jobs
from proofwork.services.workspace import Workspace

MAX_PAGE = 100
STATES = ("open", "active", "completed", "refunded", "cancelled")


@dataclass(frozen=True)
class JobFilter:
    skill: str | None = None
    min_budget: int | None = None
    max_budget: int | None = None
    state: str | None = None
    client: str | None = None
    freelancer: str | None = None


@dataclass(frozen=True)
class ListedJob:
    job: J.Job
    skill: str | None


@dataclass(frozen=True)
class JobPage:
    jobs: list[ListedJob]
    next_cursor: int | None  # the id to pass as `before` for the next page (newest first)
    total: int  # jobs matching the filter, all pages


def _skill_reader(ws: Workspace) -> Any:
    """job id -> declared skill (None when none is declared or the identity contracts are absent)."""
    if not ws.has_identity:
        return lambda job_id: None
    attester = ws.job_attester

    def skill(job_id: int) -> str | None:
        return attester.skill_of(job_id) or None

    return skill


def list_jobs(ws: Workspace, where: JobFilter, *, before: int | None = None, limit: int = 20) -> JobPage:
    """Jobs matching `where`, newest first, at most `limit`, with ids below `before` (a cursor)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}")
    if where.state is not None and where.state not in STATES:
        raise InvalidInput(f"unknown state {where.state!r}: expected one of {', '.join(STATES)}")
    jobs = sorted(Jobs(ws).list(), key=lambda j: -j.job_id)
    if where.client:
        jobs = [j for j in jobs if J.same_address(j.client, where.client)]
    if where.freelancer:
        jobs = [j for j in jobs if J.same_address(j.freelancer, where.freelancer)]
    if where.state:
        jobs = [j for j in jobs if j.status == where.state]
    if where.min_budget is not None:
        jobs = [j for j in jobs if j.budget >= where.min_budget]
    if where.max_budget is not None:
        jobs = [j for j in jobs if j.budget <= where.max_budget]
    skill_of = _skill_reader(ws)
    listed = [ListedJob(j, skill_of(j.job_id)) for j in jobs]
    if where.skill:
        listed = [item for item in listed if item.skill == where.skill]
    total = len(listed)
    if before is not None:
        listed = [item for item in listed if item.job.job_id < before]
    page = listed[:limit]
    more = len(listed) > limit
    return JobPage(page, page[-1].job.job_id if more and page else None, total)


@dataclass(frozen=True)
class Submission:
    milestone: int
    deliverable: bytes
    timestamp: int
    block: int


@dataclass(frozen=True)
class MilestoneScore:
    milestone: int
    round: int
    median: int
    passed: bool
    signers: list[str]
    scores: list[int]
    signatures: list[bytes]  # each signer's EIP-712 report, as settled (empty when not decodable)
    tx_hash: str


@dataclass(frozen=True)
class JobDispute:
    milestone: int
    by: str
    timestamp: int
    block: int
    case_id: int | None = None
    resolved: tuple[int, int, int] | None = None  # (freelancer gross, fee, client amount)


@dataclass(frozen=True)
class JobDetail:
    job: J.Job
    skill: str | None
    deadlines: list[J.Deadlines]
    submissions: list[Submission] = field(default_factory=list)
    applicants: list[str] = field(default_factory=list)
    scores: list[MilestoneScore] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    disputes: list[JobDispute] = field(default_factory=list)
    judged_by_committee: bool = False


def job_detail(ws: Workspace, job_id: int) -> JobDetail:
    """A job with its milestones' deadlines, submissions, applicants, committee scores (the signed
    reports each settlement was made from), registered evaluation and disputes."""
    jobs = Jobs(ws)
    job = jobs.get(job_id)
    events = ws.escrow.events(job_id)
    submissions = [
        Submission(e.milestone, e.deliverable, e.timestamp, block)
        for block, e in events
        if isinstance(e, J.MilestoneSubmitted)
    ]
    applicants = [e.applicant for _, e in events if isinstance(e, J.Applied)]
    resolved = {e.milestone: e for _, e in events if isinstance(e, J.MilestoneResolved)}
    disputes = []
    court = _court_case_reader(ws, job)
    for block, e in events:
        if isinstance(e, J.DisputeRaised):
            r = resolved.get(e.milestone)
            disputes.append(
                JobDispute(
                    e.milestone,
                    e.by,
                    e.timestamp,
                    block,
                    court(e.milestone),
                    (r.freelancer_gross, r.fee, r.client_amount) if r else None,
                )
            )
    judged = jobs.judged_by_committee(job)
    scores: list[MilestoneScore] = []
    evaluation = None
    if judged:
        committee = ws.committee
        for index in range(len(job.milestones)):
            s = committee.settlement(job_id, index)
            if s is not None:
                scores.append(
                    MilestoneScore(
                        index, s.round, s.median, s.passed, s.signers, s.scores, s.signatures, s.tx_hash
                    )
                )
        registered = committee.evaluation(job_id)
        if registered is not None:
            evaluation = {
                "spec_hash": "0x" + registered.spec_hash.hex(),
                "threshold": registered.threshold,
                "higher_is_better": registered.higher_is_better,
                "tolerance": registered.tolerance,
                "labels_revealed": bool(committee.revealed_labels(job_id)),
            }
    return JobDetail(
        job,
        _skill_reader(ws)(job_id),
        jobs.timing(job),
        submissions,
        applicants,
        scores,
        evaluation,
        disputes,
        judged,
    )


def _court_case_reader(ws: Workspace, job: J.Job) -> Any:
    """milestone -> the court's case id, when the job's arbiter is the court adapter."""
    arbitrable = ws.deployment.arbitrable
    if not arbitrable or not J.same_address(job.arbiter, arbitrable):
        return lambda milestone: None
    from proofwork.services.disputes import Disputes

    disputes = Disputes(ws)

    def case(milestone: int) -> int | None:
        try:
            return disputes.case_of(job.job_id, milestone) or None  # 0: no case opened
        except NotFound:
            return None

    return case
