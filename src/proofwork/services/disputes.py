"""Disputes of plain escrow jobs before proofwork's court: open a case (or pay one's fee), settle, give
evidence, appeal, show a case, and advance it (anyone): the fee default, the court's periods, the
ruling's execution on the escrow and the jurors' rewards.

A job is judged by the court when its arbiter is the deployment's `EscrowArbitrable` adapter (`job post
--arbiter court`). Cases are the adapter's case ids (from 1); the court's own dispute id is shown beside.
Fees are paid in the job's token: each party deposits the arbitration cost; the winner's comes back.
Appeals are funded by both sides (`appeal`): the loser of the current ruling deposits 2x the appeal cost
in the first half of the appeal period, the winner 1.5x until its end (1.5x each, all period, after a
half-half ruling); the appeal is made when the second side funds, and what is left of both deposits is
a pot shared by the final ruling. A side that funds alone wins by default (the winner of the current
ruling keeps that ruling: a split stays a split); nobody funding: final.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofwork.chain.court_values import (
    REVEALED_BELOW,
    AppealFunding,
    Case,
    DisputeState,
    RoundInfo,
    Seat,
    extra_data,
)
from proofwork.chain.receipts import Receipt
from proofwork.domain import court as C
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound
from proofwork.domain.units import format_amount, format_utc
from proofwork.services.jobs import Jobs
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    from proofwork.chain.tokens import TokenContract

MAX_STATEMENT = 2_000


@dataclass(frozen=True)
class Step:
    name: str
    receipt: Receipt


@dataclass(frozen=True)
class CaseOutcome:
    """A case after an action, with the transactions it took."""

    case: Case
    steps: list[Step] = field(default_factory=list)
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # what an action reports besides (token units)

    @property
    def gas(self) -> int:
        return sum(s.receipt.gas_used for s in self.steps)


@dataclass(frozen=True)
class RoundView:
    round: int
    info: RoundInfo
    panel: list[Seat]
    votes: dict[int, int]  # seat -> revealed choice
    ruling: int | None  # the round's ruling (revealed majority), None before its reveal period ends


@dataclass(frozen=True)
class ArmedDraw:
    """A draw the court armed and has not made yet (Court.draw_block): its dispute's inputs are frozen
    (stake, unstake and distribute refused) until it is made or its window ends."""

    dispute: int
    round: int
    draw_block: int
    case_id: int  # 0 when the dispute is not one of the adapter's
    open: bool  # still within its window (anyone may make it); else `court advance` arms it again

    @property
    def until(self) -> int:
        """The last block in which it can be made."""
        return self.draw_block + C.DRAW_WINDOW


@dataclass(frozen=True)
class AppealSide:
    """One side's part in the current appeal round."""

    party: str  # "client" or "freelancer"
    address: str
    role: str  # "loser", "winner" or "shared" (a half-half ruling) of the current ruling
    requirement: int | None  # what it must deposit (None: no further appeal is possible)
    paid: int  # what it deposited this round
    funded: bool
    deadline: int  # the second its funding window closes (the loser's: the middle of the period)


@dataclass(frozen=True)
class AppealView:
    """The appeal funding of a case: appeals made, the pot, and each side of the current round (the
    sides only during an open appeal period)."""

    appeals: int
    pot: int
    cost: int | None  # the appeal cost now (None: no further appeal), during an appeal period
    sides: dict[str, AppealSide] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseView:
    """Everything `dispute show` prints."""

    case: Case
    job: J.Job
    created: bool  # the dispute exists at the court
    dispute: DisputeState | None
    deadline: int | None  # when the current court period (or the fee wait) runs out
    rounds: list[RoundView]
    fee_due: int  # what the awaited party must still pay
    appeal_cost: int | None  # during the appeal period
    meta_evidence: str
    evidence: list[dict[str, Any]]
    close: dict[str, Any] | None  # reason, freelancer_bps once closed
    next_step: str
    draw_block: int = 0  # the armed draw's block while the current round waits for its draw
    appeal: AppealView | None = None  # once the dispute exists at the court


def court_arbiter(ws: Workspace) -> str:
    """The arbiter a job names to be judged by the court: the deployment's adapter."""
    address = ws.deployment.arbitrable
    if not address:
        raise NotFound("no court is deployed here: run `proofwork court deploy`")
    return address


class Disputes:
    """The dispute use cases over one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.jobs = Jobs(ws)

    # --- reads -----------------------------------------------------------------------------------

    def case(self, case_id: int) -> Case:
        if isinstance(case_id, bool) or not isinstance(case_id, int) or case_id < 1:
            raise InvalidInput(f"invalid case id {case_id!r}: cases are numbered from 1")
        adapter = self.ws.arbitrable
        if case_id >= 2**256:
            raise InvalidInput("invalid case id: above 2^256 - 1")
        case = adapter.case(case_id)
        if case.status == C.CaseStatus.NONE:
            count = adapter.case_count()
            known = f"cases run from 1 to {count}" if count else "no cases yet"
            raise NotFound(f"no case {case_id} at the court adapter ({known})")
        return case

    def created(self, case: Case) -> bool:
        """Whether the case reached the court (a dispute exists for it)."""
        if case.status in (C.CaseStatus.DISPUTED, C.CaseStatus.RULED):
            return True
        if case.status != C.CaseStatus.CLOSED:
            return False
        return self.ws.arbitrable.case_of_dispute(case.dispute_id) == case.case_id

    def case_of(self, job_id: int, milestone: int) -> int:
        return self.ws.arbitrable.case_of(job_id, milestone)

    def params(self) -> dict[str, Any]:
        params = self.ws.deployment.court_params
        if not params:
            raise NotFound("no court is deployed here: run `proofwork court deploy`")
        return params

    def periods(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.params()["periods"])

    def deadline(self, state: DisputeState) -> int | None:
        return C.period_end(state.period, state.period_start, self.periods())

    def round_votes(self, dispute: int, round_: int, panel: list[Seat], distributed: bool) -> dict[int, int]:
        """A round's revealed votes, seat -> choice. Once the round is distributed the court clears its
        vote slots, so they come from the VoteRevealed events (which name the juror, not the seat: a
        juror's reveals fill its seats in seat order, as `juror reveal` sends them)."""
        court = self.ws.court
        votes: dict[int, int] = {}
        if not distributed:
            for seat in panel:
                slot = court.vote_of(dispute, round_, seat.position)
                if 0 < slot < REVEALED_BELOW:
                    votes[seat.position] = slot - 1
            return votes
        revealed: dict[str, list[int]] = {}
        for e in court.events("VoteRevealed", subject=dispute):
            if int(e.args["_round"]) == round_:
                revealed.setdefault(str(e.args["_juror"]).lower(), []).append(int(e.args["_choice"]))
        for seat in panel:
            choices = revealed.get(seat.juror.lower())
            if choices:
                votes[seat.position] = choices.pop(0)
        return votes

    def armed_draws(self) -> list[ArmedDraw]:
        """Every draw the court armed and has not made, from its DrawArmed events."""
        court, adapter = self.ws.court, self.ws.arbitrable
        block = self.ws.chain.block_number() + 1  # the block a transaction sent now lands in
        out: list[ArmedDraw] = []
        seen: set[int] = set()
        for dispute, round_, _ in reversed(court.armed_draws()):
            if dispute in seen:
                continue
            seen.add(dispute)
            target = court.draw_block(dispute)
            if not target or court.state(dispute).round != round_:
                continue
            case_id = adapter.case_of_dispute(dispute)
            out.append(ArmedDraw(dispute, round_, target, case_id, block <= target + C.DRAW_WINDOW))
        return sorted(out, key=lambda a: a.dispute)

    def check_not_frozen(self, what: str) -> None:
        """Refuses `what` in one line while an armed draw waits (the court would revert with "court: draw
        pending"), naming the case whose draw anyone may make with `court advance`."""
        if not self.ws.court.draw_pending():
            return
        block = self.ws.chain.block_number()
        armed = [a for a in self.armed_draws() if a.open]
        if armed:
            a = armed[0]
            which = f"case {a.case_id}" if a.case_id else f"dispute {a.dispute}"
            hint = f"`proofwork court advance {a.case_id}` makes it" if a.case_id else "anyone may make it"
            raise NotAllowed(
                f"{what} waits: the jury draw of {which} is armed (block {a.draw_block}) and the court "
                f"freezes stakes until it is made; {hint}, or wait until block {a.until + 1}"
            )
        raise NotAllowed(
            f"{what} waits: a jury draw was armed and the court freezes stakes for at most "
            f"{C.DRAW_WINDOW} blocks (now block {block}); try again in a few blocks"
        )

    def make_armed_draws(self, caller: Signer, but: int = 0) -> list[Step]:
        """Makes every armed draw still in its window (except dispute `but`'s): ends the freeze."""
        steps = []
        for a in self.armed_draws():
            if a.open and a.dispute != but:
                which = f"case {a.case_id}" if a.case_id else f"dispute {a.dispute}"
                steps.append(
                    Step(f"draw the jurors of {which}", self.ws.court.pass_period(caller.key, a.dispute))
                )
        return steps

    def fee_for(self, job: J.Job, milestone: int) -> int:
        """The arbitration cost each party deposits for a milestone's case now."""
        extra = extra_data(job.token, job.milestones[milestone].amount, self.ws.arbitrable.jurors)
        return self.ws.court.arbitration_cost(extra)

    def show(self, case_id: int) -> CaseView:
        case = self.case(case_id)
        adapter, court = self.ws.arbitrable, self.ws.court
        job = self.jobs.get(case.job_id)
        created = self.created(case)
        state = court.state(case.dispute_id) if created else None
        rounds: list[RoundView] = []
        deadline: int | None = None
        appeal: int | None = None
        draw_block = 0
        if state is not None:
            for r in range(state.round + 1):
                panel = court.panel(state.dispute, r)
                info = court.round_info(state.dispute, r)
                votes = self.round_votes(state.dispute, r, panel, info.distributed)
                final = r < state.round or state.period >= C.Period.APPEAL
                rounds.append(RoundView(r, info, panel, votes, C.majority(votes.values()) if final else None))
            if state.period == C.Period.EVIDENCE:
                draw_block = court.draw_block(state.dispute)
            deadline = self.deadline(state) if state.period != C.Period.EXECUTION else None
            if state.period == C.Period.APPEAL:
                cost = court.appeal_cost(state.dispute, adapter.extra_data(case.case_id))
                appeal = None if cost >= 2**255 else cost
        elif case.status.awaiting_fee:
            deadline = case.fee_deadline
        funding = self.appeal_view(case, state) if created else None
        evidence = [
            {
                "party": str(e.args["_party"]),
                "uri": str(e.args["_evidence"]),
                "block": e.block,
                "tx": e.tx_hash,
            }
            for e in adapter.events("Evidence")
            if int(e.args["_evidenceGroupID"]) == case.case_id
        ]
        meta = next(
            (str(e.args["_evidence"]) for e in adapter.events("MetaEvidence", subject=case.case_id)), ""
        )
        close = None
        for e in adapter.events("CaseClosed", subject=case.case_id):
            reason = C.CloseReason(int(e.args["reason"]))
            close = {
                "reason": reason.label,
                "freelancer_bps": int(e.args["freelancer_bps"]),
                "resolved": bool(e.args["resolved"]),
            }
        return CaseView(
            case,
            job,
            created,
            state,
            deadline,
            rounds,
            adapter.fee_due(case.case_id),
            appeal,
            meta,
            evidence,
            close,
            self._next_step(case, job, state, deadline, draw_block, funding),
            draw_block,
            funding,
        )

    def appeal_view(self, case: Case, state: DisputeState | None) -> AppealView:
        """The case's appeal funding; each side's requirement, deposit and deadline while an appeal
        period is open (and the case awaits its ruling)."""
        adapter = self.ws.arbitrable
        f: AppealFunding = adapter.appeal_funding(case.case_id)
        if (
            state is None
            or case.status != C.CaseStatus.DISPUTED
            or state.period != C.Period.APPEAL
            or adapter.appeal_window(case.case_id, case.client) == (0, 0)
        ):
            return AppealView(f.appeals, f.pot, None)
        cost = self.ws.court.appeal_cost(state.dispute, adapter.extra_data(case.case_id))
        bps = C.freelancer_bps(state.current_ruling)
        sides: dict[str, AppealSide] = {}
        for name, address, paid, funded in (
            ("client", case.client, f.client_paid, f.client_funded),
            ("freelancer", case.freelancer, f.freelancer_paid, f.freelancer_funded),
        ):
            if bps == C.BPS // 2:
                role = "shared"
            elif (bps > C.BPS // 2) == (name == "client"):
                role = "loser"
            else:
                role = "winner"
            need = adapter.appeal_requirement(case.case_id, address)
            _, end = adapter.appeal_window(case.case_id, address)
            sides[name] = AppealSide(name, address, role, None if need >= 2**255 else need, paid, funded, end)
        return AppealView(f.appeals, f.pot, None if cost >= 2**255 else cost, sides)

    def _next_step(
        self,
        case: Case,
        job: J.Job,
        state: DisputeState | None,
        deadline: int | None,
        draw_block: int = 0,
        funding: AppealView | None = None,
    ) -> str:
        now = self.ws.chain.next_timestamp()
        if case.status == C.CaseStatus.CLOSED:
            return "closed"
        if case.status.awaiting_fee:
            who = "client" if case.status == C.CaseStatus.WAITING_CLIENT else "freelancer"
            if now > case.fee_deadline:
                return f"the {who} did not pay its fee in time: anyone may `court advance` (default ruling)"
            return f"the {who} pays its fee (`dispute open`) or loses by default after the fee deadline"
        if case.status == C.CaseStatus.RULED:
            return "ruled: anyone may `court advance` to execute the ruling"
        if state is None:
            return "-"
        if state.period == C.Period.EXECUTION:
            return "final: anyone may `court advance` to execute the ruling"
        if draw_block:
            step = C.draw_step(draw_block, self.ws.chain.block_number() + 1)
            if step == "arm":
                return f"the jury draw armed on block {draw_block} expired: anyone may `court advance` (arms it again)"
            return (
                f"the jury draw is armed on block {draw_block} (stakes frozen until it is made): "
                "anyone may `court advance` to draw the jurors"
            )
        if state.period == C.Period.APPEAL and deadline is not None and now >= deadline:
            return "the appeal period is over, the ruling is final: anyone may `court advance` to execute it"
        if deadline is not None and now >= deadline:
            return f"the {state.period.label} period is over: anyone may `court advance`"
        if state.period == C.Period.APPEAL and funding is not None and funding.sides:
            return _appeal_step(funding, now)
        hints = {
            C.Period.EVIDENCE: "parties submit evidence; then jurors are drawn",
            C.Period.COMMIT: "drawn jurors commit their votes",
            C.Period.REVEAL: "jurors reveal their votes",
            C.Period.APPEAL: "a party may fund an appeal (`dispute appeal`); else the ruling becomes final",
        }
        return hints[state.period]

    # --- open / pay ------------------------------------------------------------------------------

    def open(self, party: Signer, job_id: int, milestone: int, statement: str = "") -> CaseOutcome:
        """A party disputes a milestone before the court: raises the dispute on the escrow (a submitted
        milestone, within its review window), opens the case and pays its fee. On a case already open
        that waits for this party's fee, pays it (the dispute then goes to the jurors)."""
        if len(statement) > MAX_STATEMENT:
            raise InvalidInput(f"the statement is limited to {MAX_STATEMENT} characters")
        adapter = self.ws.arbitrable
        job = self.jobs.get(job_id)
        committee_job = self.jobs.judged_by_committee(job)
        if committee_job and not J.same_address(self.ws.committee.court, adapter.address):
            raise NotAllowed(
                f"job {job_id}'s oracle committee {job.arbiter} has no court: a disputed score is settled by "
                "the committee's verdict (a committee deployed after `court deploy` names the court)"
            )
        if not committee_job and not J.same_address(job.arbiter, adapter.address):
            raise NotAllowed(
                f"job {job_id}'s arbiter is not the court (its adapter {adapter.address}): "
                "only jobs posted with `--arbiter court`, or judged by a committee with a court, go to the jurors"
            )
        m = job.milestone(milestone)
        role = job.party(party.address)
        if role not in ("client", "freelancer"):
            raise NotAllowed(f"only the client or freelancer of job {job_id} may dispute it")
        existing = adapter.case_of(job_id, milestone)
        if existing:
            case = self.case(existing)
            if not case.status.awaiting_fee:
                raise NotAllowed(
                    f"milestone {milestone + 1} of job {job_id} already has case {existing} "
                    f"({case.status.label}): see `proofwork dispute show {existing}`"
                )
            return self.pay_fee(party, existing)
        if m.status.settled:
            raise NotAllowed(
                f"milestone {milestone + 1} of job {job_id} is {m.status.label}: nothing is left to dispute"
            )
        if m.status == J.MilestoneStatus.OPEN:
            raise NotAllowed(
                f"milestone {milestone + 1} of job {job_id} has no submission: only delivered work can be disputed"
            )
        if committee_job and m.status == J.MilestoneStatus.DISPUTED:
            last = m.timestamp + C.MAX_FEE_TIMEOUT - adapter.fee_timeout  # the adapter's rule
            if self.ws.chain.next_timestamp() > last:
                raise NotAllowed(
                    f"milestone {milestone + 1} of job {job_id} was disputed too long ago to go to the court "
                    f"(a case must be opened by {format_utc(last)}, to end before the escrow's 30-day split): the "
                    "committee's verdict settles it"
                )
        steps: list[Step] = []
        fee = self.fee_for(job, milestone)
        if job_id >= 2**96 or m.amount >= 2**128 or fee >= 2**128:  # the adapter packs its cases
            raise NotAllowed(
                f"milestone {milestone + 1} of job {job_id} is too large for the court "
                "(claims and fees up to 2^128 - 1 token units, jobs up to 2^96 - 1)"
            )
        self._check_funds(party, job.token, fee, "arbitration fee")  # before the escrow dispute is raised
        if m.status == J.MilestoneStatus.SUBMITTED:
            out = self.jobs.dispute(party, job_id, milestone)
            steps += [Step(name, r) for name, r in out.receipts]
            job = out.job
        steps += self._fund(party, job.token, fee, "arbitration fee")
        meta_uri = self._meta_evidence(job, milestone, party, statement)
        receipt = adapter.open_case(party.key, job, milestone, meta_uri)
        steps.append(Step("open case + pay fee", receipt))
        case_id = adapter.case_of(job_id, milestone)
        return CaseOutcome(self.case(case_id), steps, f"case {case_id} opened")

    def pay_fee(self, party: Signer, case_id: int) -> CaseOutcome:
        case = self.case(case_id)
        if not case.status.awaiting_fee:
            raise NotAllowed(f"case {case_id} is {case.status.label}: no fee is awaited")
        awaited = case.client if case.status == C.CaseStatus.WAITING_CLIENT else case.freelancer
        if not J.same_address(party.address, awaited):
            if J.same_address(party.address, case.client) or J.same_address(party.address, case.freelancer):
                raise NotAllowed(f"case {case_id} already has your fee; it waits for the other party's")
            raise NotAllowed(f"only the client or freelancer of case {case_id} may pay its fee")
        if self.ws.chain.next_timestamp() > case.fee_deadline:
            raise NotAllowed(
                f"the fee deadline of case {case_id} has passed: the other party wins by default (`court advance`)"
            )
        job = self.jobs.get(case.job_id)
        m = job.milestone(case.milestone)
        if m.status.settled:  # the adapter refuses it too ("adapter: milestone settled")
            raise NotAllowed(
                f"milestone {case.milestone + 1} of job {case.job_id} is {m.status.label}: nothing is left "
                f"to dispute; anyone closes case {case_id} (`court advance`), every deposit back"
            )
        owed = self.ws.arbitrable.fee_due(case_id)
        steps = self._fund(party, case.token, owed, "arbitration fee")
        steps.append(Step("pay fee", self.ws.arbitrable.pay_fee(party.key, case_id, job)))
        case = self.case(case_id)
        message = (
            f"fee paid: case {case_id} is before the court (dispute {case.dispute_id})"
            if case.status == C.CaseStatus.DISPUTED
            else f"fee paid on case {case_id}"
        )
        return CaseOutcome(case, steps, message)

    def _fund(self, payer: Signer, token_address: str, amount: int, what: str) -> list[Step]:
        """Approves `amount` of the job token to the adapter, after checking the payer holds it."""
        return self.fund(payer, token_address, amount, what, self.ws.arbitrable.address)

    def fund(self, payer: Signer, token_address: str, amount: int, what: str, spender: str) -> list[Step]:
        """Approves `amount` of a token to `spender` (unless approved already), after checking the payer
        holds it: a clear refusal before anything is sent."""
        if amount == 0:
            return []
        token = self._check_funds(payer, token_address, amount, what)
        if token.allowance(payer.address, spender) >= amount:
            return []
        return [Step(f"approve {what}", token.approve(payer.key, spender, amount))]

    def _check_funds(self, payer: Signer, token_address: str, amount: int, what: str) -> TokenContract:
        token = self.ws.token_at(token_address)
        balance = token.balance_of(payer.address)
        if balance < amount:
            dec, sym = token.decimals, token.symbol
            raise NotAllowed(
                f"insufficient funds for the {what}: {payer.name} holds {format_amount(balance, dec)} {sym}, "
                f"the {what} is {format_amount(amount, dec)} {sym}"
            )
        return token

    def _meta_evidence(self, job: J.Job, milestone: int, opener: Signer, statement: str) -> str:
        """The ERC-1497 meta-evidence JSON, added to the content store; its URI goes on chain."""
        m = job.milestones[milestone]
        deliverable_cid = (
            self.ws.store.find_by_digest(m.deliverable) if m.deliverable != J.ZERO_HASH else None
        )
        evaluation = self._evaluation_evidence(job) if self.jobs.judged_by_committee(job) else None
        meta = {
            "category": "proofwork escrow milestone"
            if evaluation is None
            else "proofwork evaluated milestone",
            "title": f"Job {job.job_id}, milestone {milestone + 1}",
            "description": (
                f"{opener.address} disputes milestone {milestone + 1} of job {job.job_id} "
                f"on escrow {self.ws.escrow.address}. {statement}"
            ).strip(),
            "question": (
                "How much of the milestone does the freelancer's delivered work earn?"
                if evaluation is None
                else "Does the delivered work reach the evaluation's pass score on the hidden labels, as "
                "the oracles reported? `proofwork juror check` re-scores it once the labels are revealed."
            ),
            "rulingOptions": {
                "type": "single-select",
                "titles": [C.RULINGS[i][0] for i in range(1, C.CHOICES + 1)],
                "descriptions": [
                    f"{C.RULINGS[i][1] / 100:g} % of the milestone to the freelancer"
                    for i in range(1, C.CHOICES + 1)
                ],
            },
            "aliases": {job.client: "client", job.freelancer: "freelancer"},
            "job": {
                "escrow": self.ws.escrow.address,
                "id": job.job_id,
                "milestone": milestone + 1,
                "spec_hash": "0x" + job.spec_hash.hex(),
                "deliverable": "0x" + m.deliverable.hex(),
                **({"deliverableURI": f"/ipfs/{deliverable_cid}"} if deliverable_cid else {}),
                "amount": m.amount,
                "token": job.token,
            },
            **({"evaluation": evaluation} if evaluation is not None else {}),
        }
        cid = self.ws.store.add_bytes(json.dumps(meta, sort_keys=True).encode())
        return f"/ipfs/{cid}"

    def _evaluation_evidence(self, job: J.Job) -> dict[str, Any]:
        """What jurors of a challenged score read: the committee, the spec file, the pass score and its
        direction, the labels commitment (the labels once revealed)."""
        from proofwork.services.evaluated_jobs import Evaluations
        from proofwork.storage.unixfs import cid_from_digest

        evaluation = Evaluations(self.ws).get(job.job_id)
        return {
            "committee": job.arbiter,
            "specURI": "/ipfs/"
            + (
                self.ws.store.find_by_digest(evaluation.spec_digest)
                or cid_from_digest(evaluation.spec_digest)
            ),
            "threshold": evaluation.threshold,
            "higherIsBetter": evaluation.higher_is_better,
            "labelsCommitment": "0x" + evaluation.commitment.hex(),
        }

    # --- settle, evidence, appeal ----------------------------------------------------------------

    def settle(self, party: Signer, case_id: int, freelancer_bps: int) -> CaseOutcome:
        """Offers a split (the freelancer's share in basis points) until the jurors are drawn (the court
        takes a created dispute back until its first draw is armed); when the other party's pending offer
        is the same split, accepts it: the milestone is resolved so and every deposit goes back."""
        if not 0 <= freelancer_bps <= C.BPS:
            raise InvalidInput("the freelancer's share is 0 to 100 %")
        case = self.case(case_id)
        self._party(case, party)
        if not (case.status.awaiting_fee or (case.status == C.CaseStatus.DISPUTED and self._undrawn(case))):
            raise NotAllowed(
                f"case {case_id} is {case.status.label}: settlement is only possible until the jurors are "
                "drawn (the first `court advance` after the evidence period arms the draw)"
            )
        adapter = self.ws.arbitrable
        pending = case.settlement_proposer != J.ZERO_ADDRESS
        if (
            pending
            and not J.same_address(case.settlement_proposer, party.address)
            and (case.settlement_bps == freelancer_bps)
        ):
            job = self.jobs.get(case.job_id)
            receipt = adapter.accept_settlement(party.key, case_id, job, freelancer_bps)
            return CaseOutcome(
                self.case(case_id),
                [Step("accept settlement", receipt)],
                f"case {case_id} settled: {freelancer_bps / 100:g} % to the freelancer, fees returned",
            )
        receipt = adapter.propose_settlement(party.key, case_id, freelancer_bps)
        return CaseOutcome(
            self.case(case_id),
            [Step("propose settlement", receipt)],
            f"settlement offered on case {case_id}: {freelancer_bps / 100:g} % to the freelancer; "
            "the other party accepts by offering the same split",
        )

    def _undrawn(self, case: Case) -> bool:
        """Whether the court would still take the case's dispute back: its first round, evidence period,
        draw not armed."""
        court = self.ws.court
        state = court.state(case.dispute_id)
        return (
            state.round == 0 and state.period == C.Period.EVIDENCE and not court.draw_block(case.dispute_id)
        )

    def evidence(
        self, party: Signer, case_id: int, file: Path, description: str = ""
    ) -> tuple[CaseOutcome, str]:
        """A piece of evidence: the file goes to the content store, an ERC-1497 evidence JSON naming it
        too, and that JSON's URI goes on chain (an `Evidence` event). Returns the file's CID too."""
        if len(description) > MAX_STATEMENT:
            raise InvalidInput(f"the description is limited to {MAX_STATEMENT} characters")
        case = self.case(case_id)
        self._party(case, party)
        if case.status >= C.CaseStatus.RULED:
            raise NotAllowed(f"case {case_id} is {case.status.label}: evidence is closed")
        file_cid = self.ws.store.add_file(file)
        doc = {
            "name": Path(file).name,
            "description": description,
            "fileURI": f"/ipfs/{file_cid}",
            "fileTypeExtension": Path(file).suffix.lstrip("."),
        }
        uri = "/ipfs/" + self.ws.store.add_bytes(json.dumps(doc, sort_keys=True).encode())
        receipt = self.ws.arbitrable.submit_evidence(party.key, case_id, uri)
        return CaseOutcome(
            case, [Step("submit evidence", receipt)], f"evidence {uri} on case {case_id}"
        ), file_cid

    def appeal(self, party: Signer, case_id: int) -> CaseOutcome:
        """A party funds its side of an appeal of the current ruling, once per round: the loser of the
        ruling 2x the appeal cost in the first half of the appeal period, the winner 1.5x until its end
        (1.5x each after a half-half ruling). The appeal is made when the second side funds; a side that
        funds alone wins by default (a winner keeps its ruling). Approves the deposit first."""
        case = self.case(case_id)
        self._party(case, party)
        if case.status != C.CaseStatus.DISPUTED:
            raise NotAllowed(f"case {case_id} is {case.status.label}: there is no ruling to appeal")
        court, adapter = self.ws.court, self.ws.arbitrable
        state = court.state(case.dispute_id)
        now = self.ws.chain.next_timestamp()
        end = self.deadline(state)
        if state.period != C.Period.APPEAL or (end is not None and now >= end):
            raise NotAllowed(
                f"case {case_id} is not in its appeal period (the court is in its {state.period.label} period)"
            )
        view = self.appeal_view(case, state)
        if view.cost is None:
            raise NotAllowed(f"case {case_id} had every round the court allows: no further appeal")
        me = "client" if J.same_address(party.address, case.client) else "freelancer"
        other = "freelancer" if me == "client" else "client"
        mine, theirs = view.sides[me], view.sides[other]
        if mine.funded:
            raise NotAllowed(
                f"the {me} already funded its side of this appeal round of case {case_id}; the appeal is "
                f"made when the {other} funds its side (until {format_utc(theirs.deadline)})"
            )
        if now >= mine.deadline:
            raise NotAllowed(
                f"the {me} lost the current ruling of case {case_id}: the loser funds its side of an appeal "
                f"in the first half of the appeal period only, which ended {format_utc(mine.deadline)}"
            )
        need = mine.requirement
        assert need is not None  # the cost is finite
        if need >= 2**128:  # the adapter packs its deposits
            raise NotAllowed(
                f"the appeal of case {case_id} costs more than the adapter takes (2^128 - 1 units)"
            )
        steps = self._fund(party, case.token, need, "appeal deposit")
        steps.append(Step("fund appeal", adapter.fund_appeal(party.key, case_id)))
        after = adapter.appeal_funding(case_id)
        token = self.ws.token_at(case.token)
        paid = f"{format_amount(need, token.decimals)} {token.symbol}"
        if after.appeals > view.appeals:
            message = (
                f"case {case_id} appealed: the {me} paid {paid}, both sides funded; round {state.round + 2} "
                f"draws a larger panel; the pot of {format_amount(after.pot, token.decimals)} {token.symbol} "
                "is shared by the final ruling"
            )
        else:
            default = (
                f"the ruling stands (the {me} gets its deposit back)"
                if mine.role == "winner"
                else f"the {other} loses by default (the {me} gets the whole milestone and its deposit back)"
            )
            message = (
                f"the {me} paid {paid} for its side of the appeal of case {case_id}; the appeal is made when "
                f"the {other} funds its side ({format_amount(theirs.requirement or 0, token.decimals)} "
                f"{token.symbol}) by {format_utc(theirs.deadline)}; if it does not, {default}"
            )
        made = after.appeals > view.appeals
        details = {
            "paid": need,
            "side": me,
            "role": mine.role,
            "appealed": made,
            "appeals": after.appeals,
            "pot": after.pot,
            "waiting_for": None if made else other,
            "other_requirement": None if made else theirs.requirement,
            "other_deadline": None if made else theirs.deadline,
        }
        return CaseOutcome(self.case(case_id), steps, message, details)

    @staticmethod
    def _party(case: Case, party: Signer) -> None:
        if not (J.same_address(party.address, case.client) or J.same_address(party.address, case.freelancer)):
            raise NotAllowed(f"only the client or freelancer of case {case.case_id} may do this")

    # --- advance ---------------------------------------------------------------------------------

    def advance(self, caller: Signer, case_id: int) -> CaseOutcome:
        """Does what is due on a case, as anyone may: a fee not paid in time ends it by default; a court
        period that ran out passes (leaving the evidence period arms the draw, then draws the jurors in
        the next block); an appeal period that ran out is final: the ruling is given to the adapter and
        executed on the escrow; then every round's fees and stakes are distributed to the jurors.
        Armed draws of other disputes, which freeze stakes and distribution, are made first. Says what
        it did; refused with the next deadline when nothing is due."""
        case = self.case(case_id)
        adapter, court = self.ws.arbitrable, self.ws.court
        steps: list[Step] = []
        now = self.ws.chain.next_timestamp()
        if case.status.awaiting_fee:
            job = self.jobs.get(case.job_id)
            if job.milestones[case.milestone].status.settled:
                steps.append(
                    Step("close (settled on the escrow)", adapter.execute_ruling(caller.key, case_id, job))
                )
            elif now > case.fee_deadline:
                steps.append(
                    Step("default ruling (fee unpaid)", adapter.timeout_by_default(caller.key, case_id, job))
                )
            else:
                raise NotAllowed(
                    f"nothing to advance on case {case_id}: it waits for a fee until {format_utc(case.fee_deadline)}"
                )
            return CaseOutcome(self.case(case_id), steps, f"case {case_id} closed")
        if self.created(case):
            steps += self.court_steps(caller, case.dispute_id, case.status == C.CaseStatus.DISPUTED)
            case = self.case(case_id)
        if case.status == C.CaseStatus.RULED or (
            case.status == C.CaseStatus.DISPUTED
            and self.jobs.get(case.job_id).milestones[case.milestone].status.settled
        ):
            job = self.jobs.get(case.job_id)
            steps.append(
                Step("execute ruling on the escrow", adapter.execute_ruling(caller.key, case_id, job))
            )
            case = self.case(case_id)
        notes: list[str] = []
        if self.created(case):
            steps += self.reward_steps(caller, case.dispute_id, notes)
        if steps and self.created(case):
            state = court.state(case.dispute_id)
            if state.period == C.Period.EVIDENCE and court.draw_block(state.dispute):
                notes.append("the jurors are drawn by `court advance` in a later block")
        if not steps:
            view = self.show(case_id)
            when = f" (until {format_utc(view.deadline)})" if view.deadline else ""
            raise NotAllowed(f"nothing to advance on case {case_id} now: {view.next_step}{when}")
        message = f"case {case_id} advanced: " + "; ".join([s.name for s in steps] + notes)
        return CaseOutcome(self.case(case_id), steps, message)

    def court_steps(self, caller: Signer, dispute: int, live: bool) -> list[Step]:
        """What is due on a dispute in the court itself, as anyone may do it: armed draws of other
        disputes first (they freeze stakes); when its period ran out (`live`: the arbitrable still
        waits for it), the draw, or the next period; then the ruling once it is final (an appeal
        period that ran out is final: the court's execute_ruling makes it so itself)."""
        court = self.ws.court
        steps: list[Step] = []
        state = court.state(dispute)
        if court.draw_pending():
            steps += self.make_armed_draws(caller, but=dispute)
        end = self.deadline(state)
        over = live and end is not None and self.ws.chain.next_timestamp() >= end
        if over and state.period == C.Period.EVIDENCE:
            steps += self._draw(caller, dispute)
            state = court.state(dispute)
        elif over and state.period in (C.Period.COMMIT, C.Period.REVEAL):
            steps.append(Step(f"pass {state.period.label} period", court.pass_period(caller.key, dispute)))
            state = court.state(dispute)
        final = state.period == C.Period.EXECUTION or (state.period == C.Period.APPEAL and over)
        if final and not state.ruled:
            steps.append(Step("court gives its ruling", court.execute_ruling(caller.key, dispute)))
        return steps

    def reward_steps(self, caller: Signer, dispute: int, notes: list[str]) -> list[Step]:
        """Once a dispute is ruled: every round's fees and stakes distributed to its jurors (unless a
        pending draw freezes them: then `notes` says so)."""
        court = self.ws.court
        state = court.state(dispute)
        todo = [r for r in range(state.round + 1) if not court.round_info(dispute, r).distributed]
        if state.period != C.Period.EXECUTION or not todo:
            return []
        steps: list[Step] = []
        if court.draw_pending():
            steps += self.make_armed_draws(caller)
        try:
            self.check_not_frozen("the jurors' rewards")
        except NotAllowed as e:
            notes.append(str(e))
            return steps
        for r in todo:
            panel = [s.juror for s in court.panel(dispute, r)]
            steps.append(Step(f"distribute round {r + 1}", court.distribute(caller.key, dispute, r, panel)))
        return steps

    def _draw(self, caller: Signer, dispute: int) -> list[Step]:
        """Leaves the evidence period: arms the draw on the block of its transaction (unless armed and
        still in its window), then draws the panel with that block's hash in a later block (on a chain
        that mines each transaction in its own block, at once)."""
        court, chain = self.ws.court, self.ws.chain
        steps: list[Step] = []
        target = court.draw_block(dispute)
        step = C.draw_step(target, chain.block_number() + 1)
        if step == "arm":
            again = " again (the armed one expired)" if target else ""
            steps.append(Step(f"arm the jury draw{again}", court.pass_period(caller.key, dispute)))
            target = court.draw_block(dispute)
            step = C.draw_step(target, chain.block_number() + 1)
        if step == "draw":
            seats = court.round_info(dispute, court.state(dispute).round).requested
            steps.append(Step(f"draw {seats} juror seat(s)", court.pass_period(caller.key, dispute)))
        return steps


def _appeal_step(funding: AppealView, now: int) -> str:
    """The next step of an open appeal period: who may fund, until when, and what happens otherwise."""
    c, f = funding.sides["client"], funding.sides["freelancer"]
    funded = [x for x in (c, f) if x.funded]
    if funded:
        done = funded[0]
        wait = f if done is c else c
        if done.role == "winner":  # a winner funding alone keeps its ruling (a split stays a split)
            if now >= wait.deadline:
                return f"only the {done.party} (the winner) funded the appeal: the ruling stands, its deposit comes back"
            return (
                f"the {done.party} (the winner) funded its side of the appeal: the {wait.party} may fund its side "
                f"(`dispute appeal`) by {format_utc(wait.deadline)}, else the ruling stands"
            )
        if now >= wait.deadline:
            return f"only the {done.party} funded the appeal: it wins by default once the period is over"
        return (
            f"the {done.party} funded its side of the appeal: the {wait.party} funds its side "
            f"(`dispute appeal`) by {format_utc(wait.deadline)} or loses by default"
        )
    if funding.cost is None:
        return "no further appeal is possible: the ruling becomes final when the period is over"
    open_ = [x for x in (c, f) if now < x.deadline]
    if not open_:
        return "nobody funded an appeal in time: the ruling becomes final when the period is over"
    who = " or ".join(f"the {x.party} ({x.role}, until {format_utc(x.deadline)})" for x in open_)
    return (
        f"{who} may fund an appeal (`dispute appeal`); a side that funds alone wins by default (a winner keeps "
        "its ruling); else the ruling becomes final"
    )
