"""Pure-Python reference model of `contracts/escrow/JobEscrow.vy`.

The model mirrors the escrow's rules, including the order of its checks, so a
test can predict for any call either the exact revert reason or the exact new
state, events and token transfers. `EscrowHarness` (see `escrow_harness.py`)
runs every call against both the model and the chain and compares them.

Nothing here talks to the chain.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import eth_abi
from eth_utils import keccak

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO32 = b"\x00" * 32

OPEN, SUBMITTED, DISPUTED, PAID, REFUNDED, RESOLVED, CANCELLED = range(7)
UNSETTLED = (OPEN, SUBMITTED, DISPUTED)
PAID_APPROVED, PAID_PARTIAL, PAID_AUTO_RELEASE = range(3)

BPS = 10_000
MAX_FEE_BPS = 1_000
MAX_MILESTONES = 16
MAX_REVIEW_PERIOD = 365 * 86_400
MAX_REVISIONS = 3
ARBITRATION_TIMEOUT = 30 * 86_400
MAX_UINT256 = 2**256 - 1
# revert reason of the test BlocklistToken (tests/contracts/mocks/BlocklistToken.vy), bubbled up by a pull
BLOCKED = "blocklist: account blocked"

MILESTONE_ABI = "(uint256,uint256,uint8,uint8,uint64,bytes32)"
JOB_ABI = f"(address,address,address,address,uint64,uint64,uint16,bytes32,address,uint256,{MILESTONE_ABI}[])"


def norm(value):
    """Canonical form for comparing addresses, bytes and containers."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [norm(v) for v in value]
    return value


def same(a, b) -> bool:
    return norm(str(a)) == norm(str(b))


def is_zero(a) -> bool:
    return same(a, ZERO_ADDRESS)


def fee_of(gross: int, fee_bps: int) -> int:
    return gross * fee_bps // BPS


@dataclass
class Milestone:
    amount: int
    paid: int = 0
    status: int = OPEN
    revisions: int = 0
    timestamp: int = 0
    deliverable: bytes = ZERO32

    def as_tuple(self) -> tuple:
        return (self.amount, self.paid, self.status, self.revisions, self.timestamp, self.deliverable)


@dataclass
class Job:
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
    milestones: list[Milestone] = field(default_factory=list)

    def as_tuple(self) -> tuple:
        return (
            str(self.client),
            str(self.freelancer),
            str(self.token),
            str(self.arbiter),
            self.deadline,
            self.review_period,
            self.fee_bps,
            self.spec_hash,
            str(self.cancel_proposer),
            self.cancel_amount,
            [m.as_tuple() for m in self.milestones],
        )

    def hash(self) -> bytes:
        """keccak256(abi_encode(job)) exactly as Vyper computes it."""
        return keccak(eth_abi.encode([JOB_ABI], [self.as_tuple()]))

    @property
    def held(self) -> int:
        return sum(m.amount for m in self.milestones)

    @property
    def assigned(self) -> bool:
        return not is_zero(self.freelancer)

    def due(self, i: int) -> int:
        """Time until which milestone `i` may be (re)submitted."""
        m = self.milestones[i]
        due = self.deadline
        if m.revisions > 0:
            due = max(due, m.timestamp + self.review_period)
        return due

    def clone(self) -> Job:
        return copy.deepcopy(self)


class Revert(Exception):
    """The model predicts that the call reverts with `reason`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Outcome:
    """What a successful call does: events of the escrow and token transfers out of it."""

    events: list[tuple[str, dict]] = field(default_factory=list)
    transfers: list[tuple[str, int]] = field(default_factory=list)  # (receiver, amount) sent by the escrow
    pulled: list[tuple[str, int]] = field(default_factory=list)  # (sender, amount) pulled by the escrow
    value: object = None  # the function's return value


def _require(cond: bool, reason: str) -> None:
    if not cond:
        raise Revert(reason)


class EscrowModel:
    """State of one JobEscrow deployment, as the escrow's rules define it."""

    def __init__(self, owner: str, treasury: str, fee_bps: int):
        self.owner = owner
        self.treasury = treasury
        self.fee_bps = fee_bps
        self.job_count = 0
        self.jobs: dict[int, Job] = {}
        self.applied: set[tuple[int, str]] = set()
        self.fees_owed: dict[str, int] = {}
        # challenge_window() of arbiters that are contracts declaring one (lower-case address)
        self.arbiter_windows: dict[str, int] = {}
        # (token, account), lower-case, of accounts a token refuses to pay (a blocklist)
        self.blocked: set[tuple[str, str]] = set()
        # tokens (lower-case) that answer a blocked transfer with False instead of reverting
        self.quiet_tokens: set[str] = set()
        # payments the token refused, credited: (token, account) -> amount (`claimable`)
        self.credits: dict[tuple[str, str], int] = {}

    def clone(self) -> EscrowModel:
        return copy.deepcopy(self)

    # ---------------------------------------------------------------- helpers

    def fees(self, token: str) -> int:
        return self.fees_owed.get(norm(str(token)), 0)

    def _add_fee(self, token: str, fee: int) -> None:
        key = norm(str(token))
        self.fees_owed[key] = self.fees_owed.get(key, 0) + fee

    def held(self, token: str | None = None) -> int:
        return sum(j.held for j in self.jobs.values() if token is None or same(j.token, token))

    def review_window(self, j: Job) -> int:
        """Seconds after a submission for revision requests and disputes: the review period,
        or the arbiter's shorter challenge window."""
        return min(j.review_period, self.arbiter_windows.get(norm(str(j.arbiter)), j.review_period))

    def has_applied(self, job_id: int, account: str) -> bool:
        return (job_id, norm(str(account))) in self.applied

    def check(self, job_id: int, state: tuple | None) -> Job:
        """The escrow's `_check`: known job and matching state."""
        job = self.jobs.get(job_id)
        _require(job is not None, "escrow: unknown job")
        if state is not None:
            given = keccak(eth_abi.encode([JOB_ABI], [state]))
            _require(given == job.hash(), "escrow: stale job state")
        return job.clone()

    def is_blocked(self, token: str, account: str) -> bool:
        return (norm(str(token)), norm(str(account))) in self.blocked

    def claimable(self, token: str, account: str) -> int:
        return self.credits.get((norm(str(token)), norm(str(account))), 0)

    def credited(self, token: str | None = None) -> int:
        """All credits (of one token, or of every token)."""
        return sum(v for (t, _), v in self.credits.items() if token is None or t == norm(str(token)))

    def refusal(self, token: str) -> str:
        """Revert reason of a pull (`withdraw`, `withdraw_fees`) the token refuses."""
        return "escrow: transfer failed" if norm(str(token)) in self.quiet_tokens else BLOCKED

    def _send(self, out: Outcome, token: str, to: str, amount: int) -> None:
        """The escrow's `_send`: a transfer, or a credit when the token refuses to pay `to`."""
        if amount == 0:
            return
        if self.is_blocked(token, to):
            key = (norm(str(token)), norm(str(to)))
            self.credits[key] = self.credits.get(key, 0) + amount
            out.events.append(("PaymentCredited", {"token": token, "account": to, "amount": amount}))
        else:
            out.transfers.append((to, amount))

    def _pay(self, job_id: int, j: Job, i: int, gross: int, reason: int, out: Outcome) -> None:
        fee = fee_of(gross, j.fee_bps)
        m = j.milestones[i]
        m.amount -= gross
        m.paid += gross
        if m.amount == 0:
            m.status = PAID
        # money left the escrow: a pending cancel offer is void (finding 2)
        j.cancel_proposer = ZERO_ADDRESS
        j.cancel_amount = 0
        self._add_fee(j.token, fee)
        self.jobs[job_id] = j
        out.events.append(
            (
                "MilestonePaid",
                {"job_id": job_id, "milestone": i, "gross": gross, "fee": fee, "reason": reason},
            )
        )
        self._send(out, j.token, j.freelancer, gross - fee)

    # ------------------------------------------------------------ transitions
    # Each transition mutates `self` only when it does not raise `Revert`;
    # callers that need all-or-nothing semantics run it on a clone.

    def create_job(
        self,
        sender: str,
        token: str,
        freelancer: str,
        amounts: list[int],
        deadline: int,
        review_period: int,
        spec_hash: bytes,
        arbiter: str,
        now: int,
        token_is_contract: bool = True,
    ) -> Outcome:
        # calldata decoding rejects more than MAX_MILESTONES amounts, without a reason
        _require(len(amounts) <= MAX_MILESTONES, "")
        _require(token_is_contract, "escrow: token is not a contract")
        _require(len(amounts) > 0, "escrow: no milestones")
        _require(not same(freelancer, sender), "escrow: client cannot be the freelancer")
        _require(
            not same(arbiter, sender) and (not same(arbiter, freelancer) or is_zero(arbiter)),
            "escrow: arbiter is a party",
        )
        _require(deadline > now, "escrow: deadline in the past")
        _require(0 < review_period <= MAX_REVIEW_PERIOD, "escrow: bad review period")
        for amount in amounts:
            _require(amount > 0, "escrow: zero milestone")
        total = sum(amounts)
        _require(total <= MAX_UINT256, "")
        _require(total <= MAX_UINT256 // BPS, "escrow: budget too large")
        job = Job(
            client=sender,
            freelancer=freelancer,
            token=token,
            arbiter=arbiter,
            deadline=deadline,
            review_period=review_period,
            fee_bps=self.fee_bps,
            spec_hash=spec_hash,
            milestones=[Milestone(amount=a) for a in amounts],
        )
        self.job_count += 1
        job_id = self.job_count
        self.jobs[job_id] = job
        out = Outcome(value=job_id)
        out.events.append(
            (
                "JobCreated",
                {
                    "job_id": job_id,
                    "client": sender,
                    "freelancer": freelancer,
                    "token": token,
                    "arbiter": arbiter,
                    "deadline": deadline,
                    "review_period": review_period,
                    "fee_bps": self.fee_bps,
                    "spec_hash": spec_hash,
                    "amounts": list(amounts),
                },
            )
        )
        out.pulled.append((sender, total))
        return out

    def apply(self, job_id: int, state: tuple | None, applicant: str, proposal: bytes) -> Outcome:
        j = self.check(job_id, state)
        _require(not j.assigned, "escrow: job is not open")
        _require(not same(applicant, j.client), "escrow: client cannot apply")
        _require(not same(applicant, j.arbiter), "escrow: arbiter cannot apply")
        self.applied.add((job_id, norm(str(applicant))))
        return Outcome(events=[("Applied", {"job_id": job_id, "applicant": applicant, "proposal": proposal})])

    def apply_with_sig(
        self, job_id: int, state: tuple | None, applicant: str, proposal: bytes, sig_ok: bool
    ) -> Outcome:
        _require(not is_zero(applicant), "escrow: zero applicant")  # finding 1
        _require(sig_ok, "escrow: bad signature")
        return self.apply(job_id, state, applicant, proposal)

    def assign(self, sender: str, job_id: int, state: tuple | None, freelancer: str) -> Outcome:
        j = self.check(job_id, state)
        _require(same(sender, j.client), "escrow: caller is not the client")
        _require(not j.assigned, "escrow: freelancer already assigned")
        _require(not is_zero(freelancer), "escrow: zero freelancer")
        _require(self.has_applied(job_id, freelancer), "escrow: account did not apply")
        j.freelancer = freelancer
        self.jobs[job_id] = j
        return Outcome(events=[("FreelancerAssigned", {"job_id": job_id, "freelancer": freelancer})])

    def _submit(self, job_id: int, j: Job, i: int, deliverable: bytes, now: int) -> Outcome:
        _require(i < len(j.milestones), "escrow: no such milestone")
        _require(deliverable != ZERO32, "escrow: empty deliverable")
        m = j.milestones[i]
        _require(m.status == OPEN, "escrow: milestone not awaiting delivery")
        _require(now <= j.due(i), "escrow: delivery deadline passed")
        m.status = SUBMITTED
        m.timestamp = now
        m.deliverable = deliverable
        self.jobs[job_id] = j
        return Outcome(
            events=[
                (
                    "MilestoneSubmitted",
                    {"job_id": job_id, "milestone": i, "deliverable": deliverable, "timestamp": now},
                )
            ]
        )

    def submit(
        self, sender: str, job_id: int, state: tuple | None, i: int, deliverable: bytes, now: int
    ) -> Outcome:
        j = self.check(job_id, state)
        _require(same(sender, j.freelancer), "escrow: caller is not the freelancer")
        return self._submit(job_id, j, i, deliverable, now)

    def submit_with_sig(
        self, job_id: int, state: tuple | None, i: int, deliverable: bytes, now: int, sig_ok: bool
    ) -> Outcome:
        j = self.check(job_id, state)
        _require(j.assigned, "escrow: no freelancer assigned")
        _require(sig_ok, "escrow: bad signature")
        return self._submit(job_id, j, i, deliverable, now)

    def _payable(self, sender: str, j: Job, i: int) -> None:
        _require(same(sender, j.client), "escrow: caller is not the client")
        _require(i < len(j.milestones), "escrow: no such milestone")
        _require(j.milestones[i].status in UNSETTLED, "escrow: milestone not payable")
        _require(j.assigned, "escrow: no freelancer assigned")

    def approve(self, sender: str, job_id: int, state: tuple | None, i: int) -> Outcome:
        j = self.check(job_id, state)
        self._payable(sender, j, i)
        out = Outcome()
        self._pay(job_id, j, i, j.milestones[i].amount, PAID_APPROVED, out)
        return out

    def pay_partial(self, sender: str, job_id: int, state: tuple | None, i: int, amount: int) -> Outcome:
        j = self.check(job_id, state)
        self._payable(sender, j, i)
        _require(amount > 0, "escrow: zero amount")
        _require(amount < j.milestones[i].amount, "escrow: use approve to pay it all")
        out = Outcome()
        self._pay(job_id, j, i, amount, PAID_PARTIAL, out)
        return out

    def request_revision(
        self, sender: str, job_id: int, state: tuple | None, i: int, feedback: bytes, now: int
    ) -> Outcome:
        j = self.check(job_id, state)
        _require(same(sender, j.client), "escrow: caller is not the client")
        _require(i < len(j.milestones), "escrow: no such milestone")
        m = j.milestones[i]
        _require(m.status == SUBMITTED, "escrow: milestone not submitted")
        _require(now <= m.timestamp + self.review_window(j), "escrow: review window over")
        _require(m.revisions < MAX_REVISIONS, "escrow: too many revisions")
        m.status = OPEN
        m.revisions += 1
        m.timestamp = now
        self.jobs[job_id] = j
        return Outcome(
            events=[
                (
                    "RevisionRequested",
                    {"job_id": job_id, "milestone": i, "feedback": feedback, "timestamp": now},
                )
            ]
        )

    def claim(self, job_id: int, state: tuple | None, i: int, now: int) -> Outcome:
        j = self.check(job_id, state)
        _require(i < len(j.milestones), "escrow: no such milestone")
        m = j.milestones[i]
        _require(m.status == SUBMITTED, "escrow: milestone not submitted")
        _require(now > m.timestamp + j.review_period, "escrow: review window still open")
        out = Outcome()
        self._pay(job_id, j, i, m.amount, PAID_AUTO_RELEASE, out)
        return out

    def reclaim(self, sender: str, job_id: int, state: tuple | None, now: int) -> Outcome:
        j = self.check(job_id, state)
        _require(same(sender, j.client), "escrow: caller is not the client")
        out = Outcome()
        refund = 0
        for i, m in enumerate(j.milestones):
            if m.status != OPEN:
                continue
            if not j.assigned or now > j.due(i):
                refund += m.amount
                out.events.append(
                    ("MilestoneRefunded", {"job_id": job_id, "milestone": i, "amount": m.amount})
                )
                m.amount = 0
                m.status = REFUNDED
        _require(refund > 0, "escrow: nothing to reclaim yet")
        j.cancel_proposer = ZERO_ADDRESS
        j.cancel_amount = 0
        self.jobs[job_id] = j
        self._send(out, j.token, j.client, refund)
        out.value = refund
        return out

    def cancel(self, sender: str, job_id: int, state: tuple | None, freelancer_amount: int) -> Outcome:
        j = self.check(job_id, state)
        _require(same(sender, j.client) or same(sender, j.freelancer), "escrow: caller is not a party")
        _require(j.assigned, "escrow: no freelancer assigned; use reclaim")
        held = j.held
        _require(held > 0, "escrow: nothing left in escrow")
        _require(freelancer_amount <= held, "escrow: split exceeds escrow")
        if (
            is_zero(j.cancel_proposer)
            or same(j.cancel_proposer, sender)
            or j.cancel_amount != freelancer_amount
        ):
            j.cancel_proposer = sender
            j.cancel_amount = freelancer_amount
            self.jobs[job_id] = j
            return Outcome(
                events=[
                    (
                        "CancelProposed",
                        {"job_id": job_id, "proposer": sender, "freelancer_amount": freelancer_amount},
                    )
                ]
            )
        for m in j.milestones:
            if m.amount > 0:
                m.amount = 0
                m.status = CANCELLED
        j.cancel_proposer = ZERO_ADDRESS
        j.cancel_amount = 0
        fee = fee_of(freelancer_amount, j.fee_bps)
        self._add_fee(j.token, fee)
        self.jobs[job_id] = j
        out = Outcome(
            events=[
                (
                    "JobCancelled",
                    {
                        "job_id": job_id,
                        "freelancer_gross": freelancer_amount,
                        "fee": fee,
                        "client_amount": held - freelancer_amount,
                    },
                )
            ]
        )
        self._send(out, j.token, j.freelancer, freelancer_amount - fee)
        self._send(out, j.token, j.client, held - freelancer_amount)
        return out

    def raise_dispute(self, sender: str, job_id: int, state: tuple | None, i: int, now: int) -> Outcome:
        j = self.check(job_id, state)
        _require(same(sender, j.client) or same(sender, j.freelancer), "escrow: caller is not a party")
        _require(not is_zero(j.arbiter), "escrow: job has no arbiter")
        _require(i < len(j.milestones), "escrow: no such milestone")
        m = j.milestones[i]
        _require(m.status == SUBMITTED, "escrow: milestone not disputable")
        _require(now <= m.timestamp + self.review_window(j), "escrow: dispute window over")
        j.milestones[i].status = DISPUTED
        j.milestones[i].timestamp = now
        self.jobs[job_id] = j
        return Outcome(
            events=[("DisputeRaised", {"job_id": job_id, "milestone": i, "by": sender, "timestamp": now})]
        )

    def resolve(
        self, sender: str, job_id: int, state: tuple | None, i: int, freelancer_amount: int, now: int = 0
    ) -> Outcome:
        j = self.check(job_id, state)
        _require(i < len(j.milestones), "escrow: no such milestone")
        m = j.milestones[i]
        if not same(sender, j.arbiter):
            # a dispute the arbiter let time out: anyone ends it, half each
            _require(
                m.status == DISPUTED and now > m.timestamp + ARBITRATION_TIMEOUT,
                "escrow: caller is not the arbiter",
            )
            freelancer_amount = m.amount // 2
        _require(j.assigned, "escrow: no freelancer assigned")
        _require(m.status in UNSETTLED, "escrow: milestone settled")
        _require(freelancer_amount <= m.amount, "escrow: split exceeds milestone")
        fee = fee_of(freelancer_amount, j.fee_bps)
        held = m.amount
        m.paid += freelancer_amount
        m.amount = 0
        m.status = RESOLVED
        j.cancel_proposer = ZERO_ADDRESS
        j.cancel_amount = 0
        self._add_fee(j.token, fee)
        self.jobs[job_id] = j
        out = Outcome(
            events=[
                (
                    "MilestoneResolved",
                    {
                        "job_id": job_id,
                        "milestone": i,
                        "freelancer_gross": freelancer_amount,
                        "fee": fee,
                        "client_amount": held - freelancer_amount,
                    },
                )
            ]
        )
        self._send(out, j.token, j.freelancer, freelancer_amount - fee)
        self._send(out, j.token, j.client, held - freelancer_amount)
        return out

    def set_fee(self, sender: str, fee_bps: int) -> Outcome:
        _require(same(sender, self.owner), "ownable: caller is not the owner")
        _require(fee_bps <= MAX_FEE_BPS, "escrow: fee above cap")
        self.fee_bps = fee_bps
        return Outcome(events=[("FeeChanged", {"fee_bps": fee_bps})])

    def set_treasury(self, sender: str, treasury: str) -> Outcome:
        _require(same(sender, self.owner), "ownable: caller is not the owner")
        _require(not is_zero(treasury), "escrow: zero treasury")
        self.treasury = treasury
        return Outcome(events=[("TreasuryChanged", {"treasury": treasury})])

    def withdraw_fees(self, token: str) -> Outcome:
        amount = self.fees(token)
        _require(amount > 0, "escrow: no fees")
        # a pull: the transfer must go through (the owner can name another treasury)
        _require(not self.is_blocked(token, self.treasury), self.refusal(token))
        self.fees_owed[norm(str(token))] = 0
        return Outcome(
            events=[("FeesWithdrawn", {"token": token, "treasury": self.treasury, "amount": amount})],
            transfers=[(self.treasury, amount)],
            value=amount,
        )

    def withdraw(self, sender: str, token: str) -> Outcome:
        """An account pulls what was credited to it; refused while the token still blocks it."""
        amount = self.claimable(token, sender)
        _require(amount > 0, "escrow: nothing to withdraw")
        _require(not self.is_blocked(token, sender), self.refusal(token))
        del self.credits[(norm(str(token)), norm(str(sender)))]
        return Outcome(
            events=[("Withdrawn", {"token": token, "account": sender, "amount": amount})],
            transfers=[(sender, amount)],
            value=amount,
        )
