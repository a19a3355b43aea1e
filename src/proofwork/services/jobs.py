"""Use cases of an escrowed job: post, apply, assign, submit, review, pay, claim, reclaim, cancel.

Every action rebuilds the job from the chain, checks the escrow's rules for a clear
reason before anything is sent, sends one transaction, and returns the job as the
chain now has it (checked against the hash the contract stores).
Milestones are numbered from 0 here, as in the contract; the CLI shows them from 1.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Literal

from proofwork.chain.client import Receipt
from proofwork.chain.contracts import job_hash
from proofwork.domain import job as J
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound, TransactionRejected
from proofwork.domain.units import split_budget
from proofwork.services.workspace import Signer, Workspace

Funding = Literal["permit", "approve"]


@dataclass(frozen=True)
class Outcome:
    """The job after an action, with the transactions it took."""

    job: J.Job
    receipts: list[tuple[str, Receipt]] = field(default_factory=list)  # (step name, receipt)
    events: list[J.JobEvent] = field(default_factory=list)

    @property
    def gas(self) -> int:
        return sum(r.gas_used for _, r in self.receipts)


class Jobs:
    """The job use cases over one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    # --- reads -----------------------------------------------------------------------------------

    def get(self, job_id: int) -> J.Job:
        """The job's current state, rebuilt from its events and checked against the chain."""
        if job_id <= 0:
            raise InvalidInput(f"invalid job id {job_id}: ids start at 1")
        escrow = self.ws.escrow
        stored = escrow.stored_hash(job_id) if job_id <= J.MAX_UINT256 else J.ZERO_HASH
        if stored == J.ZERO_HASH:
            count = escrow.job_count()
            known = f"job ids run from 1 to {count}" if count else "no jobs yet"
            raise NotFound(f"no job {job_id} on this escrow ({known})")
        job = _rebuild([event for _, event in escrow.events(job_id)])
        if job is None:
            raise DataDirCorrupted(f"job {job_id} exists on chain but its events are missing from the node")
        self._verify(job, stored)
        return job

    def list(self, involving: str | None = None) -> list[J.Job]:
        """All jobs on the escrow (or those where `involving` is client, freelancer or arbiter)."""
        grouped: dict[int, list[J.JobEvent]] = {}
        for _, event in self.ws.escrow.events():
            grouped.setdefault(event.job_id, []).append(event)
        jobs = [job for events in grouped.values() if (job := _rebuild(events)) is not None]
        if involving is not None:
            jobs = [j for j in jobs if j.party(involving) is not None]
        return sorted(jobs, key=lambda j: j.job_id)

    def _verify(self, job: J.Job, stored: bytes | None = None) -> None:
        stored = stored if stored is not None else self.ws.escrow.stored_hash(job.job_id)
        if job_hash(job) != stored:
            raise DataDirCorrupted(
                f"job {job.job_id}: the state rebuilt from events does not match the chain's hash; "
                "the node may be serving incomplete logs"
            )

    # --- post ------------------------------------------------------------------------------------

    def post(
        self,
        client: Signer,
        *,
        budget: int | None = None,
        milestones: int | builtins.list[int] = 1,
        deadline: int,
        review_period: int,
        freelancer: str | None = None,
        spec_hash: bytes = J.ZERO_HASH,
        arbiter: str | None = None,
        funding: Funding = "permit",
    ) -> Outcome:
        """Creates and funds a job in one transaction (EIP-2612 permit), or approve + create.

        `milestones` is a count (the budget is split evenly, remainder to the first) or the
        list of milestone amounts; `deadline` is a unix time.
        """
        amounts = self._amounts(budget, milestones)
        total = sum(amounts)
        if freelancer is not None and freelancer.lower() == client.address.lower():
            raise InvalidInput("the client cannot be the freelancer of their own job")
        now = self.ws.chain.next_timestamp()
        if deadline <= now:
            raise InvalidInput("the deadline must be in the future")
        if not 0 < review_period <= J.MAX_REVIEW_PERIOD:
            raise InvalidInput("the review window must be longer than zero and at most 365 days")
        if total > J.MAX_UINT256:
            raise InvalidInput("the budget is larger than any token can hold")
        token = self.ws.token
        balance = token.balance_of(client.address)
        if balance < total:
            raise InvalidInput(
                f"insufficient balance: {client.name} has {balance} units of {token.symbol}, the job needs {total}"
            )
        escrow = self.ws.escrow
        receipts: list[tuple[str, Receipt]] = []
        permit = None
        if token.allowance(client.address, escrow.address) < total:
            if funding == "permit":
                v, r, s = token.sign_permit(client.key, escrow.address, total, now + 3600)
                permit = (now + 3600, v, r, s)
            else:
                receipts.append(("approve", token.approve(client.key, escrow.address, total)))
        receipt = escrow.create_job(
            client.key,
            token.address,
            freelancer or J.ZERO_ADDRESS,
            amounts,
            deadline,
            review_period,
            spec_hash,
            arbiter or J.ZERO_ADDRESS,
            permit=permit,
        )
        receipts.append(("create+fund", receipt))
        events = escrow.decode_receipt(receipt)
        created = next(e for e in events if isinstance(e, J.JobCreated))
        job = J.new_job(created)
        self._verify(job)
        return Outcome(job, receipts, events)

    @staticmethod
    def _amounts(budget: int | None, milestones: int | builtins.list[int]) -> builtins.list[int]:
        if isinstance(milestones, list):
            if not 1 <= len(milestones) <= J.MAX_MILESTONES:
                raise InvalidInput(f"a job has 1 to {J.MAX_MILESTONES} milestones, got {len(milestones)}")
            if any(a <= 0 for a in milestones):
                raise InvalidInput("every milestone amount must be positive")
            if budget is not None and budget != sum(milestones):
                raise InvalidInput("the milestone amounts do not add up to the budget")
            return list(milestones)
        if budget is None or budget <= 0:
            raise InvalidInput("the budget must be positive")
        return split_budget(budget, milestones)

    # --- transitions ---------------------------------------------------------------------------

    def _act(self, step: str, job: J.Job, send: object) -> Outcome:
        try:
            receipt = send()  # type: ignore[operator]
        except TransactionRejected as exc:
            if "stale job state" in str(exc):
                raise TransactionRejected(
                    f"job {job.job_id} changed while this command ran; nothing was sent, run it again"
                ) from exc
            raise
        events = self.ws.escrow.decode_receipt(receipt)
        for event in events:
            job = J.apply_event(job, event)
        self._verify(job)
        return Outcome(job, [(step, receipt)], events)

    def apply(
        self, applicant: Signer, job_id: int, proposal: bytes, relayer: Signer | None = None
    ) -> Outcome:
        """Applies to an open job; with a `relayer`, the applicant only signs (no gas needed)."""
        job = self.get(job_id)
        J.check_apply(job, applicant.address)
        escrow = self.ws.escrow
        if relayer is None:
            return self._act("apply", job, lambda: escrow.apply(applicant.key, job, proposal))
        signature = escrow.sign_apply(applicant.key, job_id, proposal)
        return self._act(
            "apply (relayed)",
            job,
            lambda: escrow.apply_with_sig(relayer.key, job, applicant.address, proposal, signature),
        )

    def assign(self, client: Signer, job_id: int, freelancer: str) -> Outcome:
        job = self.get(job_id)
        J.check_assign(job, client.address)
        if not self.ws.escrow.has_applied(job_id, freelancer):
            raise NotAllowed(f"{freelancer} has not applied to job {job_id}")
        return self._act("assign", job, lambda: self.ws.escrow.assign(client.key, job, freelancer))

    def submit(
        self,
        freelancer: Signer,
        job_id: int,
        milestone: int,
        deliverable: bytes,
        relayer: Signer | None = None,
    ) -> Outcome:
        """Records a deliverable's hash; with a `relayer`, the freelancer only signs (no gas needed)."""
        if len(deliverable) != 32 or deliverable == J.ZERO_HASH:
            raise InvalidInput("the deliverable hash must be 32 non-zero bytes")
        job = self.get(job_id)
        J.check_submit(job, milestone, freelancer.address, self.ws.chain.next_timestamp())
        escrow = self.ws.escrow
        if relayer is None:
            return self._act(
                "submit", job, lambda: escrow.submit(freelancer.key, job, milestone, deliverable)
            )
        signature = escrow.sign_submit(freelancer.key, job, milestone, deliverable)
        return self._act(
            "submit (relayed)",
            job,
            lambda: escrow.submit_with_sig(relayer.key, job, milestone, deliverable, signature),
        )

    def approve(self, client: Signer, job_id: int, milestone: int) -> Outcome:
        job = self.get(job_id)
        J.check_payable(job, milestone, client.address)
        return self._act("approve+pay", job, lambda: self.ws.escrow.approve(client.key, job, milestone))

    def pay_partial(self, client: Signer, job_id: int, milestone: int, amount: int) -> Outcome:
        job = self.get(job_id)
        J.check_payable(job, milestone, client.address)
        left = job.milestones[milestone].amount
        if amount <= 0:
            raise InvalidInput("the amount to pay must be positive")
        if amount > left:
            raise InvalidInput(f"milestone {milestone + 1} only has {left} units left in escrow")
        if amount == left:
            return self.approve(client, job_id, milestone)
        return self._act(
            "pay part", job, lambda: self.ws.escrow.pay_partial(client.key, job, milestone, amount)
        )

    def revise(self, client: Signer, job_id: int, milestone: int, feedback: bytes = J.ZERO_HASH) -> Outcome:
        job = self.get(job_id)
        J.check_revision(job, milestone, client.address, self.ws.chain.next_timestamp())
        return self._act(
            "request revision",
            job,
            lambda: self.ws.escrow.request_revision(client.key, job, milestone, feedback),
        )

    def claim(self, caller: Signer, job_id: int, milestone: int) -> Outcome:
        job = self.get(job_id)
        J.check_claim(job, milestone, self.ws.chain.next_timestamp())
        return self._act(
            "claim (auto-release)", job, lambda: self.ws.escrow.claim(caller.key, job, milestone)
        )

    def reclaim(self, client: Signer, job_id: int) -> Outcome:
        job = self.get(job_id)
        J.check_reclaim(job, client.address, self.ws.chain.next_timestamp())
        return self._act("reclaim", job, lambda: self.ws.escrow.reclaim(client.key, job))

    def cancel(self, party: Signer, job_id: int, freelancer_amount: int) -> Outcome:
        """Offers (or, with the other party's matching offer pending, accepts) a mutual cancellation."""
        job = self.get(job_id)
        if freelancer_amount < 0:
            raise InvalidInput("the freelancer's share cannot be negative")
        J.check_cancel(job, party.address, freelancer_amount)
        return self._act("cancel", job, lambda: self.ws.escrow.cancel(party.key, job, freelancer_amount))

    def dispute(self, party: Signer, job_id: int, milestone: int) -> Outcome:
        job = self.get(job_id)
        if job.arbiter == J.ZERO_ADDRESS:
            raise NotAllowed(f"job {job_id} has no arbiter to take a dispute")
        if job.party(party.address) not in ("client", "freelancer"):
            raise NotAllowed(f"only the client or freelancer of job {job_id} may raise a dispute")
        return self._act("dispute", job, lambda: self.ws.escrow.raise_dispute(party.key, job, milestone))

    def resolve(self, arbiter: Signer, job_id: int, milestone: int, freelancer_amount: int) -> Outcome:
        job = self.get(job_id)
        if job.party(arbiter.address) != "arbiter":
            raise NotAllowed(f"only the arbiter of job {job_id} may resolve its milestones")
        job.milestone(milestone)
        return self._act(
            "resolve", job, lambda: self.ws.escrow.resolve(arbiter.key, job, milestone, freelancer_amount)
        )


def _rebuild(events: list[J.JobEvent]) -> J.Job | None:
    job: J.Job | None = None
    for event in events:
        if isinstance(event, J.JobCreated):
            job = J.new_job(event)
        elif job is not None:
            job = J.apply_event(job, event)
    return job
