"""A job and its milestones, the events that change them, and the escrow's rules.

This mirrors `contracts/escrow/JobEscrow.vy` exactly: the contract stores only a hash
of the job, so the SDK rebuilds the state from events with `apply_event` and checks
its rebuild against the stored hash. The `check_*` functions state the contract's
rules so that a user gets a clear reason before anything is sent; the contract
enforces them again on chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import IntEnum

from proofwork.domain.errors import InvalidInput, NotAllowed

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_HASH = b"\x00" * 32
MAX_MILESTONES = 16
MAX_FEE_BPS = 1_000
DEFAULT_FEE_BPS = 250  # 2.5 %, for escrows deployed without --fee-bps
MAX_REVIEW_PERIOD = 365 * 86_400
MAX_UINT256 = 2**256 - 1
BPS = 10_000
MAX_REVISIONS = 3  # revision requests per milestone (JobEscrow.MAX_REVISIONS)
ARBITRATION_TIMEOUT = 30 * 86_400  # after this, anyone may end an unruled dispute with a half split
COMMITTEE_DISPUTE_PERIOD = 14 * 86_400  # a disputed committee milestone waits this long for a court
# After the dispute period and the designated quorum's challenge window, any quorum has this long to
# settle a disputed committee milestone; after that anyone releases it in full to the freelancer
# (`OracleCommittee.release_unjudged`: no verdict could be had).
COMMITTEE_VERDICT_GRACE = 7 * 86_400


class MilestoneStatus(IntEnum):
    OPEN = 0
    SUBMITTED = 1
    DISPUTED = 2
    PAID = 3
    REFUNDED = 4
    RESOLVED = 5
    CANCELLED = 6

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def settled(self) -> bool:
        return self >= MilestoneStatus.PAID


class PaymentReason(IntEnum):
    APPROVED = 0
    PARTIAL = 1
    AUTO_RELEASE = 2


@dataclass(frozen=True)
class Milestone:
    amount: int  # still in escrow
    paid: int = 0  # released to the freelancer, fee included
    status: MilestoneStatus = MilestoneStatus.OPEN
    revisions: int = 0
    timestamp: int = 0
    deliverable: bytes = ZERO_HASH


@dataclass(frozen=True)
class Job:
    job_id: int
    client: str
    freelancer: str
    token: str
    arbiter: str
    deadline: int
    review_period: int
    fee_bps: int
    spec_hash: bytes
    cancel_proposer: str = ZERO_ADDRESS
    cancel_amount: int = 0
    milestones: tuple[Milestone, ...] = field(default_factory=tuple)
    # Bookkeeping rebuilt from events; not part of the hashed on-chain state.
    refunded: int = 0  # returned to the client
    paid_on_cancel: int = 0  # gross paid to the freelancer by a mutual cancellation

    @property
    def is_open(self) -> bool:
        """Open for applications: no freelancer assigned yet."""
        return self.freelancer == ZERO_ADDRESS

    @property
    def budget(self) -> int:
        return self.held + self.paid + self.refunded

    @property
    def held(self) -> int:
        """What is still in escrow for this job."""
        return sum(m.amount for m in self.milestones)

    @property
    def paid(self) -> int:
        """Gross amount released to the freelancer so far (fees included)."""
        return sum(m.paid for m in self.milestones) + self.paid_on_cancel

    @property
    def status(self) -> str:
        """One word for people: open, active, completed, refunded, cancelled."""
        if all(m.status.settled for m in self.milestones):
            kinds = {m.status for m in self.milestones}
            if kinds == {MilestoneStatus.CANCELLED}:
                return "cancelled"
            if kinds == {MilestoneStatus.REFUNDED}:
                return "refunded"
            return "completed"
        return "open" if self.is_open else "active"

    def milestone(self, index: int) -> Milestone:
        if not 0 <= index < len(self.milestones):
            raise InvalidInput(
                f"job {self.job_id} has no milestone {index + 1} (it has {len(self.milestones)})"
            )
        return self.milestones[index]

    def due(self, index: int) -> int:
        """Last moment the freelancer may (re)submit milestone `index`."""
        m = self.milestones[index]
        if m.revisions > 0:
            return max(self.deadline, m.timestamp + self.review_period)
        return self.deadline

    def party(self, account: str) -> str | None:
        if same_address(account, self.client):
            return "client"
        if same_address(account, self.freelancer):
            return "freelancer"
        if same_address(account, self.arbiter) and self.arbiter != ZERO_ADDRESS:
            return "arbiter"
        return None


def review_window(job: Job, challenge_window: int | None = None) -> int:
    """Seconds after a submission during which the client may send it back and either party may
    dispute it: the review period, or the arbiter's `challenge_window()` when that is shorter
    (`JobEscrow._review_window`; None: the arbiter declares none)."""
    if challenge_window is None:
        return job.review_period
    return min(job.review_period, challenge_window)


def fallback_resolvable_at(job: Job, index: int) -> int | None:
    """First second at which anyone may end milestone `index`'s dispute with the escrow's fallback
    (half each), or None when it is not disputed."""
    m = job.milestone(index)
    if m.status != MilestoneStatus.DISPUTED:
        return None
    return m.timestamp + ARBITRATION_TIMEOUT + 1


def unjudged_releasable_at(job: Job, index: int, challenge_window: int) -> int | None:
    """First second at which anyone may release milestone `index` of a committee job in full to the
    freelancer because no quorum settled its dispute (`OracleCommittee.release_unjudged`): dispute time
    + COMMITTEE_DISPUTE_PERIOD + the committee's challenge window + COMMITTEE_VERDICT_GRACE + 1, always
    before the escrow's half-each fallback; None when it is not disputed."""
    m = job.milestone(index)
    if m.status != MilestoneStatus.DISPUTED:
        return None
    return m.timestamp + COMMITTEE_DISPUTE_PERIOD + challenge_window + COMMITTEE_VERDICT_GRACE + 1


def check_release_unjudged(job: Job, index: int, now: int, challenge_window: int) -> None:
    """The committee releases a disputed milestone nobody judged: only a disputed one, only once the
    week any quorum had for a verdict is over."""
    m = job.milestone(index)
    opens = unjudged_releasable_at(job, index, challenge_window)
    _require(
        opens is not None,
        f"milestone {index + 1} of job {job.job_id} is {m.status.label}: only a disputed milestone of a "
        "committee job can be released without a verdict",
    )
    assert opens is not None
    _require(
        now >= opens,
        f"the disputed milestone {index + 1} of job {job.job_id} may still get the committee's verdict "
        f"until unix time {opens - 1} ({opens - now} s from now); after that anyone may release it to the "
        "freelancer",
    )


def fallback_share(job: Job, index: int) -> int:
    """The freelancer's gross share when a dispute ends by the timeout: half of what is left."""
    return job.milestone(index).amount // 2


@dataclass(frozen=True)
class Deadlines:
    """When a milestone's next outcomes open (unix times; None: not applicable to its status)."""

    review_until: int | None = None  # SUBMITTED: last second for revision requests and disputes
    claimable_from: int | None = None  # SUBMITTED: auto-release to the freelancer from then
    verdict_from: int | None = None  # DISPUTED, committee job: the committee's verdict may settle it
    released_from: int | None = None  # DISPUTED, committee job: no verdict by then, anyone releases it
    resolvable_from: int | None = None  # DISPUTED: anyone may end it, half each


def deadlines(
    job: Job, index: int, challenge_window: int | None, committee_judged: bool = False
) -> Deadlines:
    """The milestone's time rules as the escrow (and, for a committee job, the committee) apply them."""
    m = job.milestone(index)
    if m.status == MilestoneStatus.SUBMITTED:
        return Deadlines(
            review_until=m.timestamp + review_window(job, challenge_window),
            claimable_from=m.timestamp + job.review_period + 1,
        )
    if m.status == MilestoneStatus.DISPUTED:
        released = None
        if committee_judged and challenge_window is not None:
            released = unjudged_releasable_at(job, index, challenge_window)
        return Deadlines(
            verdict_from=m.timestamp + COMMITTEE_DISPUTE_PERIOD + 1 if committee_judged else None,
            released_from=released,
            resolvable_from=fallback_resolvable_at(job, index),
        )
    return Deadlines()


def same_address(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def fee_of(gross: int, fee_bps: int) -> int:
    return gross * fee_bps // BPS


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobCreated:
    job_id: int
    client: str
    freelancer: str
    token: str
    arbiter: str
    deadline: int
    review_period: int
    fee_bps: int
    spec_hash: bytes
    amounts: tuple[int, ...]


@dataclass(frozen=True)
class Applied:
    job_id: int
    applicant: str
    proposal: bytes


@dataclass(frozen=True)
class FreelancerAssigned:
    job_id: int
    freelancer: str


@dataclass(frozen=True)
class MilestoneSubmitted:
    job_id: int
    milestone: int
    deliverable: bytes
    timestamp: int


@dataclass(frozen=True)
class RevisionRequested:
    job_id: int
    milestone: int
    feedback: bytes
    timestamp: int


@dataclass(frozen=True)
class MilestonePaid:
    job_id: int
    milestone: int
    gross: int
    fee: int
    reason: PaymentReason


@dataclass(frozen=True)
class MilestoneRefunded:
    job_id: int
    milestone: int
    amount: int


@dataclass(frozen=True)
class CancelProposed:
    job_id: int
    proposer: str
    freelancer_amount: int


@dataclass(frozen=True)
class JobCancelled:
    job_id: int
    freelancer_gross: int
    fee: int
    client_amount: int


@dataclass(frozen=True)
class DisputeRaised:
    job_id: int
    milestone: int
    by: str
    timestamp: int


@dataclass(frozen=True)
class MilestoneResolved:
    job_id: int
    milestone: int
    freelancer_gross: int
    fee: int
    client_amount: int


JobEvent = (
    JobCreated
    | Applied
    | FreelancerAssigned
    | MilestoneSubmitted
    | RevisionRequested
    | MilestonePaid
    | MilestoneRefunded
    | CancelProposed
    | JobCancelled
    | DisputeRaised
    | MilestoneResolved
)

# the escrow's events by their name on chain: the chain adapter decodes logs into these, the chain index
# reads its stored arguments back into them
EVENT_TYPES: dict[str, type] = {
    t.__name__: t
    for t in (
        JobCreated,
        Applied,
        FreelancerAssigned,
        MilestoneSubmitted,
        RevisionRequested,
        MilestonePaid,
        MilestoneRefunded,
        CancelProposed,
        JobCancelled,
        DisputeRaised,
        MilestoneResolved,
    )
}


def new_job(event: JobCreated) -> Job:
    return Job(
        job_id=event.job_id,
        client=event.client,
        freelancer=event.freelancer,
        token=event.token,
        arbiter=event.arbiter,
        deadline=event.deadline,
        review_period=event.review_period,
        fee_bps=event.fee_bps,
        spec_hash=event.spec_hash,
        milestones=tuple(Milestone(amount=a) for a in event.amounts),
    )


def _with_milestone(job: Job, index: int, **changes: object) -> Job:
    milestones = list(job.milestones)
    milestones[index] = replace(milestones[index], **changes)  # type: ignore[arg-type]
    return replace(job, milestones=tuple(milestones))


def apply_event(job: Job, event: JobEvent) -> Job:
    """The state after `event`, exactly as the contract computes it."""
    if isinstance(event, JobCreated):
        return new_job(event)
    if isinstance(event, Applied):
        return job
    if isinstance(event, FreelancerAssigned):
        return replace(job, freelancer=event.freelancer)
    if isinstance(event, MilestoneSubmitted):
        return _with_milestone(
            job,
            event.milestone,
            status=MilestoneStatus.SUBMITTED,
            timestamp=event.timestamp,
            deliverable=event.deliverable,
        )
    if isinstance(event, RevisionRequested):
        m = job.milestones[event.milestone]
        return _with_milestone(
            job,
            event.milestone,
            status=MilestoneStatus.OPEN,
            revisions=m.revisions + 1,
            timestamp=event.timestamp,
        )
    if isinstance(event, MilestonePaid):
        m = job.milestones[event.milestone]
        left = m.amount - event.gross
        status = MilestoneStatus.PAID if left == 0 else m.status
        job = _with_milestone(job, event.milestone, amount=left, paid=m.paid + event.gross, status=status)
        # money left the escrow: a pending cancellation offer about it is void
        return replace(job, cancel_proposer=ZERO_ADDRESS, cancel_amount=0)
    if isinstance(event, MilestoneRefunded):
        job = _with_milestone(job, event.milestone, amount=0, status=MilestoneStatus.REFUNDED)
        # reclaim always clears a pending cancellation offer
        return replace(
            job,
            cancel_proposer=ZERO_ADDRESS,
            cancel_amount=0,
            refunded=job.refunded + event.amount,
        )
    if isinstance(event, CancelProposed):
        return replace(job, cancel_proposer=event.proposer, cancel_amount=event.freelancer_amount)
    if isinstance(event, JobCancelled):
        milestones = tuple(
            replace(m, amount=0, status=MilestoneStatus.CANCELLED) if m.amount > 0 else m
            for m in job.milestones
        )
        return replace(
            job,
            milestones=milestones,
            cancel_proposer=ZERO_ADDRESS,
            cancel_amount=0,
            refunded=job.refunded + event.client_amount,
            paid_on_cancel=job.paid_on_cancel + event.freelancer_gross,
        )
    if isinstance(event, DisputeRaised):
        return _with_milestone(
            job, event.milestone, status=MilestoneStatus.DISPUTED, timestamp=event.timestamp
        )
    if isinstance(event, MilestoneResolved):
        m = job.milestones[event.milestone]
        job = _with_milestone(
            job,
            event.milestone,
            amount=0,
            paid=m.paid + event.freelancer_gross,
            status=MilestoneStatus.RESOLVED,
        )
        return replace(
            job, refunded=job.refunded + event.client_amount, cancel_proposer=ZERO_ADDRESS, cancel_amount=0
        )
    raise TypeError(f"unknown job event {event!r}")


def rebuild(events: Iterable[JobEvent]) -> Job | None:
    """The job its events (in chain order) make, from its `JobCreated` on (None: no JobCreated).
    The one fold: jobs rebuilt from logs and the chain index's jobs projection both go through it."""
    job: Job | None = None
    for event in events:
        job = fold(job, event)
    return job


def fold(job: Job | None, event: JobEvent) -> Job | None:
    """One step of `rebuild`: events before the job's creation change nothing."""
    if isinstance(event, JobCreated):
        return new_job(event)
    return apply_event(job, event) if job is not None else None


# --- rules (the contract enforces them too; these give a reason before sending) ----------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise NotAllowed(message)


def check_client(job: Job, account: str) -> None:
    _require(
        same_address(account, job.client), f"only the client of job {job.job_id} ({job.client}) may do this"
    )


def check_assigned(job: Job) -> None:
    _require(not job.is_open, f"job {job.job_id} has no freelancer assigned yet")


def check_submit(job: Job, index: int, account: str, now: int) -> None:
    m = job.milestone(index)
    check_assigned(job)
    _require(
        same_address(account, job.freelancer),
        f"only the freelancer of job {job.job_id} ({job.freelancer}) may submit",
    )
    _require(
        m.status == MilestoneStatus.OPEN,
        f"milestone {index + 1} of job {job.job_id} is {m.status.label}, not awaiting delivery",
    )
    _require(now <= job.due(index), f"the delivery deadline of milestone {index + 1} has passed")


def check_payable(job: Job, index: int, account: str) -> None:
    m = job.milestone(index)
    check_client(job, account)
    check_assigned(job)
    _require(
        m.status in (MilestoneStatus.OPEN, MilestoneStatus.SUBMITTED, MilestoneStatus.DISPUTED),
        f"milestone {index + 1} of job {job.job_id} is {m.status.label} and cannot be paid",
    )


def check_revision(job: Job, index: int, account: str, now: int, challenge_window: int | None = None) -> None:
    """`challenge_window`: the arbiter's (None when it declares none); see `review_window`."""
    m = job.milestone(index)
    check_client(job, account)
    _require(
        m.status == MilestoneStatus.SUBMITTED,
        f"milestone {index + 1} of job {job.job_id} is {m.status.label}, nothing to revise",
    )
    _require(
        now <= m.timestamp + review_window(job, challenge_window),
        f"the review window of milestone {index + 1} is over: revisions are accepted for "
        f"{review_window(job, challenge_window)} s after a submission",
    )
    _require(
        m.revisions < MAX_REVISIONS,
        f"milestone {index + 1} has had the maximum of {MAX_REVISIONS} revisions",
    )


def check_claim(job: Job, index: int, now: int) -> None:
    m = job.milestone(index)
    _require(
        m.status == MilestoneStatus.SUBMITTED,
        f"milestone {index + 1} of job {job.job_id} is {m.status.label}; only a submitted milestone can be claimed",
    )
    opens_at = m.timestamp + job.review_period + 1
    _require(
        now >= opens_at,
        f"the client's review window for milestone {index + 1} is still open ({opens_at - now}s left)",
    )


def reclaimable(job: Job, now: int) -> list[int]:
    """Indexes of the milestones the client could reclaim at time `now`."""
    return [
        i
        for i, m in enumerate(job.milestones)
        if m.status == MilestoneStatus.OPEN and (job.is_open or now > job.due(i))
    ]


def check_reclaim(job: Job, account: str, now: int) -> None:
    check_client(job, account)
    _require(
        bool(reclaimable(job, now)),
        f"nothing in job {job.job_id} can be reclaimed yet: undelivered milestones are due "
        f"until the deadline, and submitted ones follow the review window",
    )


def check_cancel(job: Job, account: str, freelancer_amount: int) -> None:
    _require(
        job.party(account) in ("client", "freelancer"),
        f"only the client or freelancer of job {job.job_id} may cancel it",
    )
    _require(not job.is_open, f"job {job.job_id} has no freelancer; use reclaim to take the budget back")
    _require(job.held > 0, f"job {job.job_id} has nothing left in escrow")
    if freelancer_amount > job.held:
        raise InvalidInput(f"the freelancer's share exceeds what job {job.job_id} still holds")


def check_dispute(job: Job, index: int, account: str, now: int, challenge_window: int | None = None) -> None:
    """Only delivered work can be disputed, within `review_window` of its submission."""
    _require(
        job.party(account) in ("client", "freelancer"),
        f"only the client or freelancer of job {job.job_id} may raise a dispute",
    )
    _require(job.arbiter != ZERO_ADDRESS, f"job {job.job_id} has no arbiter to take a dispute")
    m = job.milestone(index)
    _require(
        m.status == MilestoneStatus.SUBMITTED,
        f"milestone {index + 1} of job {job.job_id} is {m.status.label}: only a submitted (delivered, "
        "unsettled) milestone can be disputed",
    )
    window = review_window(job, challenge_window)
    _require(
        now <= m.timestamp + window,
        f"the dispute window of milestone {index + 1} is over ({window} s after its submission)",
    )


def check_resolve(job: Job, index: int, account: str, freelancer_amount: int, now: int) -> None:
    """The arbiter splits any unsettled milestone as it rules; anyone else only ends a dispute the
    arbiter left unruled for ARBITRATION_TIMEOUT, and then the split is half each (`fallback_share`)."""
    m = job.milestone(index)
    if job.party(account) != "arbiter":
        opens = fallback_resolvable_at(job, index)
        _require(
            opens is not None,
            f"only the arbiter of job {job.job_id} may resolve milestone {index + 1} (it is {m.status.label}; "
            "anyone may end a dispute only once it has waited 30 days for a ruling)",
        )
        assert opens is not None
        _require(
            now >= opens,
            f"the dispute of milestone {index + 1} of job {job.job_id} waits 30 days for its arbiter's "
            f"ruling (until unix time {opens - 1}, {opens - now} s from now); after that anyone may end it, "
            "half each",
        )
        if freelancer_amount != fallback_share(job, index):
            raise InvalidInput(
                f"a dispute ended by the timeout splits milestone {index + 1} in half: the freelancer gets "
                f"{fallback_share(job, index)} units, not {freelancer_amount}"
            )
    check_assigned(job)
    _require(not m.status.settled, f"milestone {index + 1} of job {job.job_id} is already {m.status.label}")
    if not 0 <= freelancer_amount <= m.amount:
        raise InvalidInput(
            f"the freelancer's share must be between 0 and the {m.amount} units milestone {index + 1} holds"
        )


def check_assign(job: Job, account: str) -> None:
    check_client(job, account)
    _require(job.is_open, f"job {job.job_id} already has a freelancer")


def check_apply(job: Job, account: str) -> None:
    _require(job.is_open, f"job {job.job_id} is not open for applications")
    _require(not same_address(account, job.client), "the client cannot apply to their own job")
    _require(not same_address(account, job.arbiter), "the job's arbiter cannot apply to it")
