"""Use cases of an escrowed job: post, apply, assign, submit, review, pay, claim, reclaim, cancel,
dispute, resolve, and withdrawing payouts the token refused to deliver (credited by the escrow).

Every action rebuilds the job from the chain, checks the escrow's rules for a clear
reason before anything is sent, sends one transaction, and returns the job as the
chain now has it (checked against the hash the contract stores).
Milestones are numbered from 0 here, as in the contract; the CLI shows them from 1.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from proofwork.chain.encoding import job_hash
from proofwork.chain.receipts import Receipt
from proofwork.domain import job as J
from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound, TransactionRejected
from proofwork.domain.units import split_budget
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    from proofwork.domain.job_inputs import InputAsset
    from proofwork.services.job_inputs import JobInputs

Funding = Literal["permit", "approve"]


@dataclass(frozen=True)
class Outcome:
    """The job after an action, with the transactions it took."""

    job: J.Job
    receipts: list[tuple[str, Receipt]] = field(default_factory=list)  # (step name, receipt)
    events: list[J.JobEvent] = field(default_factory=list)
    # payouts the token refused and the escrow credited instead: (token, account, amount)
    credited: list[tuple[str, str, int]] = field(default_factory=list)
    # a job posted with input assets: the licences its terms document records, and its CID
    input_assets: list[InputAsset] = field(default_factory=list)
    terms_cid: str | None = None

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
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            raise InvalidInput(f"invalid job id {job_id!r}: expected an integer")
        if job_id <= 0:
            raise InvalidInput(f"invalid job id {job_id}: ids start at 1")
        escrow = self.ws.escrow
        stored = escrow.stored_hash(job_id) if job_id <= J.MAX_UINT256 else J.ZERO_HASH
        if stored == J.ZERO_HASH:
            count = escrow.job_count()
            known = f"job ids run from 1 to {count}" if count else "no jobs yet"
            raise NotFound(f"no job {job_id} on this escrow ({known})")
        for _ in range(3):
            job = J.rebuild([event for _, event in escrow.events(job_id)])
            if job is None:
                raise DataDirCorrupted(
                    f"job {job_id} exists on chain but its events are missing from the node"
                )
            if job_hash(job) == stored:
                return job
            # a transaction may have landed between reading the hash and the events: read again
            latest = escrow.stored_hash(job_id)
            if latest == stored:
                break
            stored = latest
        raise DataDirCorrupted(
            f"job {job_id}: the state rebuilt from events does not match the chain's hash; "
            "the node may be serving incomplete logs"
        )

    def list(self, involving: str | None = None) -> list[J.Job]:
        """All jobs on the escrow (or those where `involving` is client, freelancer or arbiter)."""
        grouped: dict[int, list[J.JobEvent]] = {}
        for _, event in self.ws.escrow.events():
            grouped.setdefault(event.job_id, []).append(event)
        jobs = [job for events in grouped.values() if (job := J.rebuild(events)) is not None]
        if involving is not None:
            jobs = [j for j in jobs if j.party(involving) is not None]
        return sorted(jobs, key=lambda j: j.job_id)

    def challenge_window(self, job: J.Job) -> int | None:
        """The window the job's arbiter declares (`challenge_window()`), which shortens the time for
        disputes and revision requests (`J.review_window`): the committee's own for a committee job,
        else read as the escrow reads it; None when the arbiter declares none (or there is none)."""
        if job.arbiter == J.ZERO_ADDRESS:
            return None
        if self.judged_by_committee(job):
            return self.ws.committee.challenge_window
        return self.ws.escrow.arbiter_challenge_window(job.arbiter)

    def claimable(self, account: str, token: str | None = None) -> int:
        """What the escrow holds for `account` in `token` (the deployment's token by default): payouts
        the token refused to deliver when they were due, which `withdraw` pulls."""
        account = parse_address(account, "account")
        token = parse_address(token, "token") if token else self.ws.token.address
        return self.ws.escrow.claimable(token, account)

    def credits_of(self, job: J.Job) -> dict[str, tuple[str, int]]:
        """What the escrow holds, in the job's token, for the job's client and freelancer (credited
        payouts of all their jobs, not only this one): role -> (account, units)."""
        escrow = self.ws.escrow
        out = {"client": (job.client, escrow.claimable(job.token, job.client))}
        if not job.is_open:
            out["freelancer"] = (job.freelancer, escrow.claimable(job.token, job.freelancer))
        return out

    def withdraw(self, account: Signer, token: str | None = None) -> Withdrawal:
        """Pulls everything the escrow credited to `account` in `token` (the deployment's token by
        default). While the token still refuses the transfer, the escrow keeps the credit."""
        token = parse_address(token, "token") if token else self.ws.token.address
        escrow = self.ws.escrow
        owed = escrow.claimable(token, account.address)
        if owed == 0:
            raise NotAllowed(f"the escrow holds nothing for {account.address} in token {token}")
        receipt = escrow.withdraw(account.key, token)
        return Withdrawal(token, account.address, owed, receipt)

    def judged_by_committee(self, job: J.Job) -> bool:
        """Whether the job's arbiter is this deployment's oracle committee."""
        committee = self.ws.deployment.committee
        return bool(committee) and J.same_address(job.arbiter, committee)

    def timing(self, job: J.Job) -> builtins.list[J.Deadlines]:
        """Each milestone's deadlines (review window, auto-release, dispute outcomes)."""
        window = self.challenge_window(job)
        judged = self.judged_by_committee(job)
        return [J.deadlines(job, i, window, judged) for i in range(len(job.milestones))]

    def _check_evaluation(self, job: J.Job) -> None:
        """Before work is offered or delivered to a committee job: its registered evaluation must be
        the one its spec hash commits to, with the pass score and direction its spec file states."""
        if not self.judged_by_committee(job):
            return
        from proofwork.services.evaluated_jobs import Evaluations  # it builds on this module

        Evaluations(self.ws).check_binding(job)

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
        inputs: JobInputs | None = None,
    ) -> Outcome:
        """Creates and funds a job in one transaction (EIP-2612 permit), or approve + create.

        `milestones` is a count (the budget is split evenly, remainder to the first) or the
        list of milestone amounts; `deadline` is a unix time. With `inputs` naming input assets,
        their licences are bought first in the same flow and recorded in the job's terms document,
        whose digest becomes the spec hash (`services.job_inputs`).
        """
        terms: dict[str, Any] = {
            "budget": budget,
            "milestones": milestones,
            "deadline": deadline,
            "review_period": review_period,
            "freelancer": freelancer,
            "arbiter": arbiter,
        }
        if inputs is not None and inputs.named:
            from proofwork.services import job_inputs

            return job_inputs.post(self, client, inputs, spec_hash=spec_hash, funding=funding, **terms)
        amounts, freelancer, arbiter = self.check_post(
            client.address, client.name, spec_hash=spec_hash, **terms
        )
        total = sum(amounts)
        now = self.ws.chain.next_timestamp()
        token = self.ws.token
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

    def check_post(
        self,
        client: str,
        client_name: str,
        *,
        budget: int | None,
        milestones: int | builtins.list[int],
        deadline: int,
        review_period: int,
        freelancer: str | None,
        spec_hash: bytes,
        arbiter: str | None,
    ) -> tuple[builtins.list[int], str | None, str | None]:
        """The checks of `post`, before anything is signed: (milestone amounts, freelancer, arbiter)."""
        amounts = self._amounts(budget, milestones)
        total = sum(amounts)
        freelancer = parse_address(freelancer, "freelancer") if freelancer else None
        arbiter = parse_address(arbiter, "arbiter") if arbiter else None
        _check_hash(spec_hash, "spec", allow_zero=True)
        if not isinstance(deadline, int) or deadline >= 2**64:
            raise InvalidInput("the deadline must be a unix time before the year 2^64 seconds")
        if freelancer is not None and freelancer.lower() == client.lower():
            raise InvalidInput("the client cannot be the freelancer of their own job")
        now = self.ws.chain.next_timestamp()
        if deadline <= now:
            raise InvalidInput("the deadline must be in the future")
        if not 0 < review_period <= J.MAX_REVIEW_PERIOD:
            raise InvalidInput("the review window must be longer than zero and at most 365 days")
        committee = self.ws.deployment.committee
        if arbiter is not None and committee and J.same_address(arbiter, committee):
            window = self.ws.committee.challenge_window
            if review_period <= 3 * window:
                raise InvalidInput(
                    f"a job judged by the oracle committee needs a review window longer than three of its "
                    f"challenge windows ({3 * window} s), or its evaluation cannot be registered"
                )
        if total > J.MAX_UINT256:
            raise InvalidInput("the budget is larger than any token can hold")
        token = self.ws.token
        balance = token.balance_of(client)
        if balance < total:
            raise InvalidInput(
                f"insufficient balance: {client_name} has {balance} units of {token.symbol}, the job needs {total}"
            )
        return amounts, freelancer, arbiter

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

    def _act(
        self,
        step: str,
        job_id: int,
        check: Callable[[J.Job, int], None],
        send: Callable[[J.Job], Receipt],
    ) -> Outcome:
        """Rebuilds the job, checks the rule (job, next block time), sends.

        Another party's transaction may land between our read and our send; the
        contract then refuses the stale state and nothing happens. We read again,
        re-check and send once more before giving up.
        """
        for attempt in (1, 2):
            job = self.get(job_id)
            check(job, self.ws.chain.next_timestamp())
            try:
                receipt = send(job)
                break
            except TransactionRejected as exc:
                if "stale job state" not in str(exc):
                    raise
                if attempt == 2:
                    raise TransactionRejected(
                        f"job {job_id} keeps changing under this command; nothing was done, try again"
                    ) from exc
        events = self.ws.escrow.decode_receipt(receipt)
        for event in events:
            job = J.apply_event(job, event)
        self._verify(job)
        return Outcome(job, [(step, receipt)], events, self.ws.escrow.credits_in(receipt))

    def apply(
        self, applicant: Signer, job_id: int, proposal: bytes, relayer: Signer | None = None
    ) -> Outcome:
        """Applies to an open job; with a `relayer`, the applicant only signs (no gas needed)."""
        _check_hash(proposal, "proposal", allow_zero=True)
        escrow = self.ws.escrow

        def check(job: J.Job, now: int) -> None:
            J.check_apply(job, applicant.address)
            self._check_evaluation(job)

        if relayer is None:
            return self._act("apply", job_id, check, lambda job: escrow.apply(applicant.key, job, proposal))
        signature = escrow.sign_apply(applicant.key, job_id, proposal)
        return self._act(
            "apply (relayed)",
            job_id,
            check,
            lambda job: escrow.apply_with_sig(relayer.key, job, applicant.address, proposal, signature),
        )

    def assign(self, client: Signer, job_id: int, freelancer: str) -> Outcome:
        freelancer = parse_address(freelancer, "freelancer")

        def check(job: J.Job, now: int) -> None:
            J.check_assign(job, client.address)
            if not self.ws.escrow.has_applied(job_id, freelancer):
                raise NotAllowed(f"{freelancer} has not applied to job {job_id}")

        return self._act(
            "assign", job_id, check, lambda job: self.ws.escrow.assign(client.key, job, freelancer)
        )

    def submit(
        self,
        freelancer: Signer,
        job_id: int,
        milestone: int,
        deliverable: bytes,
        relayer: Signer | None = None,
    ) -> Outcome:
        """Records a deliverable's hash; with a `relayer`, the freelancer only signs (no gas needed)."""
        _check_hash(deliverable, "deliverable")
        escrow = self.ws.escrow

        def check(job: J.Job, now: int) -> None:
            J.check_submit(job, milestone, freelancer.address, now)
            self._check_evaluation(job)

        if relayer is None:
            return self._act(
                "submit",
                job_id,
                check,
                lambda job: escrow.submit(freelancer.key, job, milestone, deliverable),
            )

        def relayed(job: J.Job) -> Receipt:
            # the signature covers the current state, so it is made fresh for each attempt
            signature = escrow.sign_submit(freelancer.key, job, milestone, deliverable)
            return escrow.submit_with_sig(relayer.key, job, milestone, deliverable, signature)

        return self._act("submit (relayed)", job_id, check, relayed)

    def approve(self, client: Signer, job_id: int, milestone: int) -> Outcome:
        def check(job: J.Job, now: int) -> None:
            J.check_payable(job, milestone, client.address)

        return self._act(
            "approve+pay", job_id, check, lambda job: self.ws.escrow.approve(client.key, job, milestone)
        )

    def pay_partial(self, client: Signer, job_id: int, milestone: int, amount: int) -> Outcome:
        """Pays `amount` of a milestone now; paying all that is left is an approval."""
        if amount <= 0:
            raise InvalidInput("the amount to pay must be positive")

        def check(job: J.Job, now: int) -> None:
            J.check_payable(job, milestone, client.address)
            left = job.milestones[milestone].amount
            if amount > left:
                raise InvalidInput(f"milestone {milestone + 1} only has {left} units left in escrow")

        def send(job: J.Job) -> Receipt:
            if amount == job.milestones[milestone].amount:
                return self.ws.escrow.approve(client.key, job, milestone)
            return self.ws.escrow.pay_partial(client.key, job, milestone, amount)

        return self._act("pay", job_id, check, send)

    def revise(self, client: Signer, job_id: int, milestone: int, feedback: bytes = J.ZERO_HASH) -> Outcome:
        """Sends a submission back, within the review window (shortened to the arbiter's challenge
        window, if it declares one) and at most `J.MAX_REVISIONS` times per milestone."""
        _check_hash(feedback, "feedback", allow_zero=True)

        def check(job: J.Job, now: int) -> None:
            J.check_revision(job, milestone, client.address, now, self.challenge_window(job))

        return self._act(
            "request revision",
            job_id,
            check,
            lambda job: self.ws.escrow.request_revision(client.key, job, milestone, feedback),
        )

    def claim(self, caller: Signer, job_id: int, milestone: int) -> Outcome:
        def check(job: J.Job, now: int) -> None:
            J.check_claim(job, milestone, now)

        return self._act(
            "claim (auto-release)",
            job_id,
            check,
            lambda job: self.ws.escrow.claim(caller.key, job, milestone),
        )

    def reclaim(self, client: Signer, job_id: int) -> Outcome:
        def check(job: J.Job, now: int) -> None:
            J.check_reclaim(job, client.address, now)

        return self._act("reclaim", job_id, check, lambda job: self.ws.escrow.reclaim(client.key, job))

    def cancel(self, party: Signer, job_id: int, freelancer_amount: int) -> Outcome:
        """Offers (or, with the other party's matching offer pending, accepts) a mutual cancellation."""
        if freelancer_amount < 0:
            raise InvalidInput("the freelancer's share cannot be negative")

        def check(job: J.Job, now: int) -> None:
            J.check_cancel(job, party.address, freelancer_amount)

        return self._act(
            "cancel", job_id, check, lambda job: self.ws.escrow.cancel(party.key, job, freelancer_amount)
        )

    def dispute(self, party: Signer, job_id: int, milestone: int) -> Outcome:
        """Freezes a submitted milestone for the arbiter, within the review window (shortened to the
        arbiter's challenge window, if it declares one)."""

        def check(job: J.Job, now: int) -> None:
            J.check_dispute(job, milestone, party.address, now, self.challenge_window(job))

        return self._act(
            "dispute", job_id, check, lambda job: self.ws.escrow.raise_dispute(party.key, job, milestone)
        )

    def resolve(
        self, caller: Signer, job_id: int, milestone: int, freelancer_amount: int | None = None
    ) -> Outcome:
        """The arbiter splits a milestone (`freelancer_amount` gross to the freelancer, the rest to the
        client). Anyone else (a party, a keeper) may end a dispute the arbiter left unruled for
        `J.ARBITRATION_TIMEOUT`: the split is then half each, and `freelancer_amount` may be left out.
        On a job the oracle committee judges, a dispute no quorum settled within the week after any
        quorum could is released in full to the freelancer instead (`OracleCommittee.release_unjudged`,
        from `J.unjudged_releasable_at`, before the escrow's half split could apply)."""
        job = self.get(job_id)
        if self.judged_by_committee(job):
            if freelancer_amount is not None:
                raise InvalidInput(
                    "a dispute on a job the oracle committee judges ends with its verdict, or without one "
                    "in full to the freelancer: leave out the freelancer's share"
                )
            return self.release_unjudged(caller, job_id, milestone)

        def share(job: J.Job) -> int:
            if freelancer_amount is not None:
                return freelancer_amount
            if job.party(caller.address) == "arbiter":
                raise InvalidInput(
                    f"as the arbiter, say how much of milestone {milestone + 1} the freelancer gets"
                )
            return J.fallback_share(job, milestone)

        def check(job: J.Job, now: int) -> None:
            J.check_resolve(job, milestone, caller.address, share(job), now)

        return self._act(
            "resolve",
            job_id,
            check,
            lambda job: self.ws.escrow.resolve(caller.key, job, milestone, share(job)),
        )

    def release_unjudged(self, caller: Signer, job_id: int, milestone: int) -> Outcome:
        """Anyone releases to the freelancer, in full, a disputed milestone of a committee job that no
        quorum settled within the week after any quorum could (no verdict could be had: hidden labels
        the oracles cannot open, an evaluation never registered, a committee that is down)."""
        committee = self.ws.committee

        def check(job: J.Job, now: int) -> None:
            if not self.judged_by_committee(job):
                raise NotAllowed(f"job {job_id} is not judged by the oracle committee")
            J.check_release_unjudged(job, milestone, now, committee.challenge_window)

        return self._act(
            "release unjudged",
            job_id,
            check,
            lambda job: committee.release_unjudged(caller.key, job, milestone),
        )


@dataclass(frozen=True)
class Withdrawal:
    """Credited payouts pulled from the escrow."""

    token: str
    account: str
    amount: int
    receipt: Receipt


def _check_hash(value: bytes, what: str, allow_zero: bool = False) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidInput(f"the {what} hash must be 32 bytes")
    if not allow_zero and value == J.ZERO_HASH:
        raise InvalidInput(f"the {what} hash must not be all zeros")
