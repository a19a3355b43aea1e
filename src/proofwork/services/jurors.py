"""A juror's use cases: stake and unstake PWK, list the cases one sits on (with the deadlines that
matter, and a warning before a reveal deadline), commit and reveal votes, check the facts of a case,
withdraw rewards.

A vote's choice and salt are written to the data directory (`storage.votes`, atomically, mode 0600)
before its commitment is sent; the salt is derived from the juror's key (`chain.court.derive_salt`),
so a reveal still works if the file is lost (the six choices are tried against the commitment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from proofwork.chain.court_values import REVEALED_BELOW, Seat, derive_salt, vote_commitment
from proofwork.chain.receipts import Receipt
from proofwork.domain import court as C
from proofwork.domain import job as J
from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.domain.units import format_utc
from proofwork.services.disputes import Disputes
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.votes import StoredVote, VoteStore

if TYPE_CHECKING:
    from proofwork.evaluation.runner import Evaluator
    from proofwork.services.oracle.passes import PeerClient

# `juror cases` warns about a reveal (or commit) due within this many seconds.
WARN_BEFORE = 86_400
# Rulings of a competition's ranking challenge: 0 refuse, 1 keep the ranking in force, 2 the challenger's
COMPETITION_CHOICES = 2


@dataclass(frozen=True)
class StakeOutcome:
    juror: str
    weight: int  # in the draw now
    balance: int  # held by the court for the juror (weight or locked, whichever is larger)
    locked: int
    sent: int = 0  # PWK sent back to the juror
    steps: list[tuple[str, Receipt]] = field(default_factory=list)


@dataclass(frozen=True)
class SeatView:
    case_id: int  # 0 when the dispute is not one of the adapter's
    dispute: int
    round: int
    seat: int
    period: C.Period
    deadline: int | None
    vote: str  # none, committed, revealed:<choice>
    stored: bool  # a vote file is kept for the seat
    warning: str | None
    competition: int | None = None  # the competition whose ranking challenge this dispute is


@dataclass(frozen=True)
class VoteOutcome:
    case_id: int
    dispute: int
    round: int
    seats: list[int]
    choice: int
    steps: list[tuple[str, Receipt]]


class Jurors:
    """The juror use cases over one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.disputes = Disputes(ws)

    @property
    def votes(self) -> VoteStore:
        return VoteStore(self.ws.data_dir / "court" / "votes", self.ws.chain_id, self.ws.court.address)

    # --- staking ---------------------------------------------------------------------------------

    def status(self, juror: str) -> StakeOutcome:
        court = self.ws.court
        return StakeOutcome(juror, court.weight(juror), court.stake_balance(juror), court.locked(juror))

    def stake(self, juror: Signer, amount: int) -> StakeOutcome:
        if amount <= 0:
            raise InvalidInput("the amount to stake must be positive")
        court, pwk = self.ws.court, self.ws.court_token
        minimum = int(self.disputes.params()["min_stake"])
        if court.weight(juror.address) + amount < minimum:
            raise InvalidInput(
                f"a juror stakes at least {minimum / C.PWK:g} PWK in all (has {court.weight(juror.address) / C.PWK:g})"
            )
        balance = pwk.balance_of(juror.address)
        if balance < amount:
            raise NotAllowed(
                f"insufficient PWK: {juror.name} holds {balance / C.PWK:g} PWK, staking needs {amount / C.PWK:g}"
            )
        self.disputes.check_not_frozen("staking")
        steps = []
        if pwk.allowance(juror.address, court.address) < amount:
            steps.append(("approve PWK", pwk.approve(juror.key, court.address, amount)))
        steps.append(("stake", court.stake(juror.key, amount)))
        done = self.status(juror.address)
        return StakeOutcome(done.juror, done.weight, done.balance, done.locked, 0, steps)

    def unstake(self, juror: Signer, amount: int | None = None) -> StakeOutcome:
        """Leaves the draw by `amount` (all when None) and takes back what no open case locks; a stake
        locked by open cases follows once those are distributed (`juror unstake` again)."""
        court, pwk = self.ws.court, self.ws.court_token
        weight = court.weight(juror.address)
        before = pwk.balance_of(juror.address)
        steps = []
        if amount is None:
            amount = weight
        if amount < 0:
            raise InvalidInput("the amount to unstake cannot be negative")
        if amount > weight:
            raise NotAllowed(f"{juror.name} has only {weight / C.PWK:g} PWK in the draw")
        minimum = int(self.disputes.params()["min_stake"])
        if 0 < weight - amount < minimum:
            raise InvalidInput(
                f"what stays staked must be 0 or at least {minimum / C.PWK:g} PWK: unstake everything or less"
            )
        if amount > 0:
            self.disputes.check_not_frozen("unstaking")
            steps.append(("unstake", court.unstake(juror.key, amount)))
        free = court.stake_balance(juror.address) - max(
            court.weight(juror.address), court.locked(juror.address)
        )
        if free > 0:
            steps.append(("withdraw stake", court.withdraw_stake(juror.key)))
        if not steps:
            raise NotAllowed(f"{juror.name} has nothing staked or free to take back")
        done = self.status(juror.address)
        sent = pwk.balance_of(juror.address) - before
        return StakeOutcome(done.juror, done.weight, done.balance, done.locked, sent, steps)

    def rewards(self, juror: str) -> dict[str, int]:
        """What the court credits the juror: fees in the job token and PWK from slashed stakes."""
        court = self.ws.court
        return {
            "token": court.credit(juror, self.ws.token.address),
            "pwk": court.credit(juror, self.ws.court_token.address),
        }

    def withdraw(self, juror: Signer) -> tuple[dict[str, int], list[tuple[str, Receipt]]]:
        owed = self.rewards(juror.address)
        if not any(owed.values()):
            raise NotAllowed(f"the court holds no rewards for {juror.name}")
        steps = []
        for kind, token in (("token", self.ws.token.address), ("pwk", self.ws.court_token.address)):
            if owed[kind]:
                steps.append((f"withdraw {kind}", self.ws.court.withdraw(juror.key, token)))
        return owed, steps

    # --- cases -----------------------------------------------------------------------------------

    def cases(self, juror: str) -> list[SeatView]:
        """Every seat the juror holds, newest dispute first, with what it must do and by when."""
        court, adapter = self.ws.court, self.ws.arbitrable
        now = self.ws.chain.next_timestamp()
        store = self.votes
        states: dict[int, Any] = {}
        done: dict[tuple[int, int], dict[int, int]] = {}  # distributed rounds' votes (slots cleared)
        out: list[SeatView] = []
        for seat in sorted(court.seats_of(juror), key=lambda s: (-s.dispute, -s.round, s.position)):
            if seat.dispute not in states:
                states[seat.dispute] = court.state(seat.dispute)
            state = states[seat.dispute]
            slot = court.vote_of(seat.dispute, seat.round, seat.position)
            key = (seat.dispute, seat.round)
            if slot == 0 and key not in done and court.round_info(*key).distributed:
                panel = court.panel(*key)
                done[key] = self.disputes.round_votes(seat.dispute, seat.round, panel, True)
            if key in done:
                choice = done[key].get(seat.position)
                vote = "none" if choice is None else f"revealed:{choice}"
            else:
                vote = (
                    "none"
                    if slot == 0
                    else ("committed" if slot >= REVEALED_BELOW else f"revealed:{slot - 1}")
                )
            deadline = self.disputes.deadline(state) if seat.round == state.round else None
            warning = None
            current = seat.round == state.round and deadline is not None
            if deadline is None:
                pass
            elif current and state.period == C.Period.COMMIT and slot == 0:
                warning = f"commit your vote before {format_utc(deadline)}" + _soon(deadline, now)
            elif current and state.period == C.Period.REVEAL and vote == "committed":
                warning = f"REVEAL your vote before {format_utc(deadline)}" + _soon(deadline, now)
                if now >= deadline:
                    warning = "the reveal period is over: this seat's stake will be slashed"
            elif current and state.period == C.Period.COMMIT and vote == "committed":
                reveal_end = deadline + self.disputes.periods()[int(C.Period.REVEAL)]
                warning = f"reveal opens once the commit period ends; reveal before {format_utc(reveal_end)} at the latest"
            out.append(
                SeatView(
                    adapter.case_of_dispute(seat.dispute)
                    if J.same_address(state.arbitrable, adapter.address)
                    else 0,
                    seat.dispute,
                    seat.round,
                    seat.position,
                    state.period,
                    deadline,
                    vote,
                    store.load(juror, seat.dispute, seat.round, seat.position) is not None,
                    warning,
                    self._competition_of(seat.dispute, state.arbitrable),
                )
            )
        return out

    def _competition_of(self, dispute: int, arbitrable: str) -> int | None:
        """The competition whose ranking challenge is `dispute`, when the competition contract opened it."""
        deployed = self.ws.deployment.competition
        if not deployed or not J.same_address(arbitrable, deployed):
            return None
        cache: dict[int, int] = self.__dict__.setdefault("_challenged", {})
        if dispute not in cache:
            for e in self.ws.competitions.events("RankingChallenged"):
                cache[int(e.args["dispute_id"])] = int(e.args["comp_id"])
        return cache.get(dispute)

    def _dispute(self, case_id: int, competition: bool) -> int:
        """The court dispute of a case, or (`competition`) of a competition's ranking challenge."""
        if competition:
            from proofwork.services.ranking_challenges import RankingChallenges

            return RankingChallenges(self.ws).dispute_of(case_id)
        case = self.disputes.case(case_id)
        if not self.disputes.created(case):
            raise NotAllowed(f"case {case_id} is {case.status.label}: it has not reached the jurors")
        return case.dispute_id

    def _my_seats(
        self, juror: Signer, case_id: int, competition: bool = False
    ) -> tuple[Any, list[Seat], list[str]]:
        court = self.ws.court
        state = court.state(self._dispute(case_id, competition))
        panel = court.panel(state.dispute, state.round)
        mine = [s for s in panel if J.same_address(s.juror, juror.address)]
        if not mine:
            raise NotAllowed(
                f"{juror.name} holds no seat in round {state.round + 1} of case {case_id}"
                + (
                    " (jurors are drawn when the evidence period ends"
                    + (
                        "; the draw is armed: `court advance` makes it)"
                        if court.draw_block(state.dispute)
                        else ")"
                    )
                    if state.period == C.Period.EVIDENCE
                    else ""
                )
            )
        return state, mine, [s.juror for s in panel]

    def commit(
        self,
        juror: Signer,
        case_id: int,
        choice: int,
        seats: list[int] | None = None,
        *,
        competition: bool = False,
    ) -> VoteOutcome:
        """Commits the juror's vote on each of its seats of the current round (or only on `seats`,
        positions from 0). The choice and salt are stored first, so nothing sent is unrevealable.
        `competition`: `case_id` is a competition whose ranking challenge is before the court."""
        top = COMPETITION_CHOICES if competition else C.CHOICES
        if not 0 <= choice <= top:
            raise InvalidInput(f"invalid vote {choice}: rulings run from 0 to {top}")
        state, mine, panel = self._my_seats(juror, case_id, competition)
        now = self.ws.chain.next_timestamp()
        end = self.disputes.deadline(state)
        if state.period != C.Period.COMMIT or (end is not None and now >= end):
            raise NotAllowed(
                f"votes on case {case_id} are committed during the commit period; it is in its "
                f"{state.period.label} period"
                + (" (over: `court advance`)" if end is not None and now >= end else "")
            )
        court = self.ws.court
        if seats is not None:
            unknown = set(seats) - {s.position for s in mine}
            if unknown:
                raise NotAllowed(f"{juror.name} holds no seat {min(unknown) + 1} in case {case_id}")
            mine = [s for s in mine if s.position in seats]
        todo = [s for s in mine if court.vote_of(s.dispute, s.round, s.position) == 0]
        if not todo:
            raise NotAllowed(
                f"{juror.name} already committed its vote on case {case_id} (round {state.round + 1})"
            )
        store = self.votes
        steps = []
        for seat in todo:
            salt = derive_salt(
                juror.key, self.ws.chain_id, court.address, seat.dispute, seat.round, seat.position
            )
            commitment = vote_commitment(choice, salt, juror.address)
            store.save(
                StoredVote(
                    juror.address,
                    seat.dispute,
                    seat.round,
                    seat.position,
                    choice,
                    "0x" + salt.hex(),
                    "0x" + commitment.hex(),
                )
            )
            steps.append(
                (f"commit seat {seat.position + 1}", court.commit(juror.key, seat, panel, commitment))
            )
        return VoteOutcome(case_id, state.dispute, state.round, [s.position for s in todo], choice, steps)

    def reveal(
        self, juror: Signer, case_id: int, choice: int | None = None, *, competition: bool = False
    ) -> VoteOutcome:
        """Reveals the juror's committed votes of the current round, from the stored vote files (or,
        without one, from the salt derived again from the key). `choice` overrides what is stored
        (the court refuses a reveal that does not match the commitment)."""
        state, mine, panel = self._my_seats(juror, case_id, competition)
        now = self.ws.chain.next_timestamp()
        end = self.disputes.deadline(state)
        if state.period != C.Period.REVEAL or (end is not None and now >= end):
            raise NotAllowed(
                f"votes on case {case_id} are revealed during the reveal period; it is in its {state.period.label} period"
            )
        court = self.ws.court
        store = self.votes
        steps = []
        revealed: list[int] = []
        chosen = None
        for seat in mine:
            slot = court.vote_of(seat.dispute, seat.round, seat.position)
            if slot == 0 or slot < REVEALED_BELOW:
                continue
            commitment = slot.to_bytes(32, "big")
            salt = derive_salt(
                juror.key, self.ws.chain_id, court.address, seat.dispute, seat.round, seat.position
            )
            pick = choice
            if pick is None:
                stored = store.load(juror.address, seat.dispute, seat.round, seat.position)
                if (
                    stored is not None
                    and vote_commitment(stored.choice, stored.salt_bytes, juror.address) == commitment
                ):
                    pick, salt = stored.choice, stored.salt_bytes
                else:
                    pick = next(
                        (
                            c
                            for c in range(C.CHOICES + 1)
                            if vote_commitment(c, salt, juror.address) == commitment
                        ),
                        None,
                    )
                    if pick is None:
                        raise NotAllowed(
                            f"no stored vote matches the commitment of seat {seat.position + 1} on case {case_id}: "
                            "it was committed from another data directory; reveal there, or give --vote"
                        )
            steps.append(
                (f"reveal seat {seat.position + 1}", court.reveal(juror.key, seat, panel, pick, salt))
            )
            revealed.append(seat.position)
            chosen = pick
        if not steps:
            if all(court.vote_of(s.dispute, s.round, s.position) == 0 for s in mine):
                raise NotAllowed(
                    f"{juror.name} committed no vote on case {case_id} in round {state.round + 1}"
                )
            raise NotAllowed(f"{juror.name} already revealed its vote on case {case_id}")
        return VoteOutcome(case_id, state.dispute, state.round, revealed, int(chosen or 0), steps)

    # --- check -----------------------------------------------------------------------------------

    def check(
        self, case_id: int, evaluator: Evaluator | None = None, peers: PeerClient | None = None
    ) -> dict[str, Any]:
        """What proofwork can prove about a case: the job's spec hash, each submission of the disputed
        milestone with its deliverable's CID (found in the content store when it is there) and time,
        revision requests, the dispute, and the evidence on chain. For a job the oracle committee
        judges, also the score (`score_check`): the deliverable scored again from public artifacts
        once the labels are revealed (with `evaluator`, a sandbox), next to the oracles' signed reports
        (fetched from their endpoints with `peers`)."""
        case = self.disputes.case(case_id)
        job = self.disputes.jobs.get(case.job_id)
        events = self.ws.escrow.events(case.job_id)
        from proofwork.storage.unixfs import cid_from_digest

        timeline: list[dict[str, Any]] = []
        for block, event in events:
            if isinstance(event, J.JobCreated):
                timeline.append({"event": "job created", "block": block})
            elif isinstance(event, J.MilestoneSubmitted) and event.milestone == case.milestone:
                local = self.ws.store.find_by_digest(event.deliverable)
                timeline.append(
                    {
                        "event": "submitted",
                        "time": event.timestamp,
                        "block": block,
                        "deliverable": "0x" + event.deliverable.hex(),
                        "cid": local or cid_from_digest(event.deliverable),
                        "in_store": local is not None,
                    }
                )
            elif isinstance(event, J.RevisionRequested) and event.milestone == case.milestone:
                timeline.append(
                    {
                        "event": "revision requested",
                        "time": event.timestamp,
                        "block": block,
                        "feedback": "0x" + event.feedback.hex(),
                    }
                )
            elif isinstance(event, J.DisputeRaised) and event.milestone == case.milestone:
                timeline.append(
                    {"event": "dispute raised", "time": event.timestamp, "block": block, "by": event.by}
                )
        view = self.disputes.show(case_id)
        m = job.milestones[case.milestone]
        committee = self.disputes.jobs.judged_by_committee(job)
        return {
            "case": case_id,
            "job": case.job_id,
            "milestone": case.milestone + 1,
            "amount": case.amount,
            "spec_hash": "0x" + job.spec_hash.hex(),
            "deadline": job.deadline,
            "review_period": job.review_period,
            "status": m.status.label,
            "timeline": timeline,
            "meta_evidence": view.meta_evidence,
            "evidence": view.evidence,
            "committee_job": committee,
            "score_check": self.score_check(job, case.milestone, evaluator, peers) if committee else None,
        }

    def score_check(
        self, job: J.Job, milestone: int, evaluator: Evaluator | None, peers: PeerClient | None
    ) -> dict[str, Any]:
        """A challenged score's facts: the evaluation (pass score, direction), each oracle's signed report
        for the milestone's current deliverable (the ones whose signature recovers to the oracle), their
        median, and the score recomputed from public artifacts (None with the reason until the labels
        are revealed, or without an evaluator)."""
        from proofwork.services.evaluated_jobs import Evaluations
        from proofwork.services.oracle.job_reports import gather_reports

        evaluations = Evaluations(self.ws, evaluator)
        evaluation = evaluations.get(job.job_id)
        reports = (
            gather_reports(self.ws.committee, peers, job, milestone, evaluation.commitment) if peers else {}
        )
        scores = sorted(score for score, _ in reports.values())
        median = scores[len(scores) // 2] if scores else None  # the committee's median (OCR2)
        recomputed: int | None = None
        reason: str | None = "no sandbox was given to re-score the deliverable"
        if evaluator is not None:
            recomputed, reason = evaluations.rescore(job.job_id, milestone)

        def passes(score: int | None) -> bool | None:
            if score is None:
                return None
            return (
                score >= evaluation.threshold
                if evaluation.higher_is_better
                else score <= evaluation.threshold
            )

        return {
            "threshold": evaluation.threshold,
            "higher_is_better": evaluation.higher_is_better,
            "labels_revealed": evaluation.revealed is not None,
            "reports": [{"oracle": oracle, "score": score} for oracle, (score, _) in sorted(reports.items())],
            "reported_median": median,
            "reported_pass": passes(median),
            "recomputed": recomputed,
            "recomputed_pass": passes(recomputed),
            "reason": reason if recomputed is None else None,
        }


def _soon(deadline: int, now: int) -> str:
    left = deadline - now
    if left <= 0:
        return " (period over)"
    if left <= WARN_BEFORE:
        return f" (DUE SOON: {left // 3600} h {left % 3600 // 60} min left)"
    return f" ({left // 3600} h left)"
