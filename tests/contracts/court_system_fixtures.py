"""The whole dispute system in one deployment, driven against a Python model.

JobEscrow (checked by EscrowHarness and its model), EscrowArbitrable (the adapter, the jobs'
arbiter) and the real Court, staked in PWK (CourtToken), with fees in the job's stablecoin.

`CourtSystem` runs every call on chain and predicts it in Python first: the adapter's cases
(deposits, reserve, appeal funding and pot, status, ruling), the court's disputes (clock, rounds, panels, votes, fees
held), every juror's weight, stake, locked seats, credits and PWK wallet, and every party's
stablecoin balance. A predicted revert must revert with that reason; a success must leave the
chain as predicted. `check()` compares the whole model with the chain (tokens conserved, locks
within stake, ...); `end_everything()` ends every dispute through timeouts and permissionless
calls only and then empties the court and the adapter.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import boa
from court_fixtures import (
    COURT_PATH,
    FEE_BPS,
    MIN_STAKE,
    PERIODS,
    PWK,
    SEAT_LOCK,
    SMALL_CLAIM,
    STABLE_PATH,
    commitment,
    extra,
    partial,
    seal_hashes,
)
from escrow_harness import DAY, OK, EscrowHarness
from escrow_model import ARBITRATION_TIMEOUT, DISPUTED, OPEN, PAID, SUBMITTED, Outcome
from eth_utils import keccak, to_checksum_address

ROOT = COURT_PATH.parents[2]
ESCROW_PATH = ROOT / "contracts" / "escrow" / "JobEscrow.vy"
ADAPTER_PATH = ROOT / "contracts" / "court" / "EscrowArbitrable.vy"
PWK_PATH = ROOT / "contracts" / "court" / "CourtToken.vy"


def _address(label: str) -> str:
    return to_checksum_address(keccak(label.encode())[12:])


# Deployed from an account no other test module uses (see committee_fixtures.COMMITTEE_DEPLOYER).
SYSTEM_DEPLOYER = _address("proofwork court system deployer")
COURT_TREASURY = _address("proofwork court system court treasury")
ESCROW_TREASURY = _address("proofwork court system escrow treasury")
OUTSIDER = _address("proofwork court system outsider")
CLIENTS = [_address(f"proofwork court system client {i}") for i in range(2)]
FREELANCERS = [_address(f"proofwork court system freelancer {i}") for i in range(2)]
PARTIES = [*CLIENTS, *FREELANCERS]
JURORS = [_address(f"proofwork court system juror {i}") for i in range(6)]

PWK_SUPPLY = 1_000_000 * PWK
JUROR_PWK = 1_000 * PWK  # each juror's wallet at deployment
ESCROW_FEE_BPS = 250
FEE_TIMEOUT = 3 * DAY
MAX_UINT = 2**256 - 1

# Periods of the court, statuses of the adapter (see Court.vy, EscrowArbitrable.vy).
EVIDENCE, COMMIT, REVEAL, APPEAL, EXECUTION = range(5)
MAX_ROUNDS = 4
WAITING_CLIENT, WAITING_FREELANCER, CASE_DISPUTED, CASE_RULED, CASE_CLOSED = 1, 2, 3, 4, 5
BPS = 10_000
# The freelancer's share of a ruling (escrow_rulings.vy): 0 refuse = half each.
RULING_BPS = {0: 5_000, 1: 10_000, 2: 0, 3: 7_500, 4: 5_000, 5: 2_500}
FREELANCER_WINS, CLIENT_WINS = 1, 2
# Appeal funding multipliers of the adapter, in basis points of the appeal cost.
LOSER_MULTIPLIER, WINNER_MULTIPLIER, SHARED_MULTIPLIER = 10_000, 5_000, 5_000
REVEALED_BELOW = 2**64
# Blocks after its draw block in which an armed draw can still be made (Court.DRAW_WINDOW).
DRAW_WINDOW = 256


def deploy_system():
    """PWK, the stablecoin, escrow, court and adapter; jurors funded; every allowance in place."""
    with boa.env.prank(SYSTEM_DEPLOYER):
        pwk = partial(PWK_PATH).deploy(PWK_SUPPLY)
        usd = partial(STABLE_PATH).deploy("Court System USD", "sUSD")
        escrow = partial(ESCROW_PATH).deploy(ESCROW_TREASURY, ESCROW_FEE_BPS)
        court = partial(COURT_PATH).deploy(
            pwk.address, SEAT_LOCK, MIN_STAKE, FEE_BPS, SMALL_CLAIM, PERIODS, COURT_TREASURY
        )
        adapter = partial(ADAPTER_PATH).deploy(escrow.address, court.address, 0, FEE_TIMEOUT)
        for j in JURORS:
            pwk.transfer(j, JUROR_PWK)
    for j in JURORS:
        pwk.approve(court.address, MAX_UINT, sender=j)
    for p in PARTIES:
        usd.approve(adapter.address, MAX_UINT, sender=p)
    return pwk, usd, escrow, court, adapter


def ruling_of(choices: list[int]) -> int:
    """The court's ruling of revealed votes: the most voted choice; a tie or no vote gives 0."""
    counts = Counter(choices)
    if not counts:
        return 0
    best = max(counts.values())
    top = [c for c, n in counts.items() if n == best]
    return top[0] if len(top) == 1 else 0


def salt_of(d: int, r: int, seat: int) -> bytes:
    return keccak(f"salt {d}/{r}/{seat}".encode())


@dataclass
class Round:
    requested: int
    armed: int = 0  # the draw block once armed (0 before; the draw itself clears the view)
    drawn: bool = False
    panel: list[str] = field(default_factory=list)
    votes: dict[int, int] = field(default_factory=dict)  # seat -> committed choice
    revealed: set[int] = field(default_factory=set)
    distributed: bool = False


@dataclass
class Dispute:
    case_id: int
    fee: int  # per juror
    rounds: list[Round]
    period: int = EVIDENCE
    start: int = 0
    ruled: bool = False

    @property
    def round(self) -> int:
        return len(self.rounds) - 1

    def ruling(self, upto: int | None = None) -> int:
        """The ruling of the latest round (up to `upto`) with a revealed vote; 0 if none."""
        last = len(self.rounds) - 1 if upto is None else upto
        for rnd in reversed(self.rounds[: last + 1]):
            if rnd.revealed:
                return ruling_of([rnd.votes[s] for s in rnd.revealed])
        return 0


@dataclass
class Case:
    job_id: int
    milestone: int
    client: str
    freelancer: str
    amount: int
    cost: int
    status: int
    deadline: int
    deposit: dict[str, int]  # deposits while fees are awaited, by party
    reserve: int = 0  # from the dispute's creation on
    dispute: int | None = None
    ruled: bool = False
    ruling: int | None = None
    proposer: str | None = None
    offer: int = 0
    appeal_paid: dict[str, int] = field(default_factory=dict)  # this round's appeal deposits, by funder
    pot: int = 0  # what is left of the deposits of the appeals made
    appeals: int = 0  # appeals made through the adapter
    withdrawn: bool = False  # settled after its dispute was created: the court took it back

    def party(self, client: bool) -> str:
        return self.client if client else self.freelancer

    def awaited(self) -> str:
        return self.client if self.status == WAITING_CLIENT else self.freelancer


@dataclass
class Juror:
    wallet: int = JUROR_PWK  # PWK held
    weight: int = 0
    balance: int = 0  # stake_balance
    seats: int = 0  # seats in rounds not yet distributed
    credit_usd: int = 0
    credit_pwk: int = 0

    @property
    def locked(self) -> int:
        return self.seats * SEAT_LOCK


class CourtSystem:
    """One deployment of the whole system and its model; see the module docstring."""

    def __init__(self, deployed, stats: Counter | None = None):
        self.pwk, self.usd, self.escrow, self.court, self.adapter = deployed
        self.h = EscrowHarness(self.escrow, self.usd, SYSTEM_DEPLOYER)
        self.stats = Counter() if stats is None else stats
        self.cases: dict[int, Case] = {}
        self.disputes: dict[int, Dispute] = {}
        self.jurors = {j: Juror() for j in JURORS}
        self.treasury_usd = 0  # court treasury's credits
        self.treasury_pwk = 0
        self.fees_held = 0  # stablecoin the court holds for rounds not yet distributed
        self.usd_bal: Counter = Counter()  # stablecoin of parties, court treasury and jurors
        self.tags: dict[int, set[str]] = {}  # dispute -> what happened in it (coverage)
        # the court's draw lock: armed draws not yet made, last block any may be made in
        self.lock_pending = 0
        self.lock_until = 0

    # ---------------------------------------------------------------- reading
    def now(self) -> int:
        return boa.env.timestamp

    def block(self) -> int:
        return boa.env.evm.patch.block_number

    def frozen(self) -> bool:
        """Whether an armed draw is waiting (stake, unstake and distribute then revert)."""
        f = self.lock_pending != 0 and self.block() <= self.lock_until
        assert self.court.draw_pending() == f
        return f

    def solved(self, d: int) -> bool:
        """Whether dispute `d` is solved: in its execution period, or its appeal period over."""
        dd = self.disputes[d]
        return dd.period == EXECUTION or (dd.period == APPEAL and self.now() >= dd.start + PERIODS[APPEAL])

    def _finalise(self, d: int) -> None:
        """execute_ruling and distribute make a ruling final themselves once the appeal period is over."""
        dd = self.disputes[d]
        if dd.period == APPEAL and self.solved(d):
            dd.period, dd.start = EXECUTION, self.now()
            self.stats["ruling made final without pass_period"] += 1

    def job(self, job_id: int):
        return self.h.model.jobs[job_id]

    def state(self, job_id: int):
        return self.h.state(job_id)

    def status(self, job_id: int, i: int) -> int:
        return self.job(job_id).milestones[i].status

    def milestones(self):
        for job_id, j in self.h.model.jobs.items():
            for i, m in enumerate(j.milestones):
                yield job_id, i, m

    def case_of(self, job_id: int, i: int) -> int | None:
        for cid, c in self.cases.items():
            if c.job_id == job_id and c.milestone == i:
                return cid
        return None

    def _mint(self, who: str, amount: int) -> None:
        if amount:
            self.usd.mint(who, amount, sender=SYSTEM_DEPLOYER)
            self.usd_bal[who] += amount

    def _escrow_call(self, fn, *args, **kw):
        """A harness call; the escrow's payouts are added to the expected balances."""
        n0 = len(self.h.outflows)
        out = fn(*args, **kw)
        for o in self.h.outflows[n0:]:
            self.usd_bal[to_checksum_address(o.receiver)] += o.amount
        return out

    def _via_adapter(self, name: str, job_id: int, i: int, share: int | None, call):
        """An adapter (or court) call that resolves milestone `i` with `share`, or (None) leaves
        the escrow alone: the escrow's events and payouts are checked against its model."""
        trial = self.h.model.clone()
        outcome = (
            Outcome() if share is None else trial.resolve(str(self.adapter.address), job_id, None, i, share)
        )
        n0 = len(self.h.outflows)
        before = self.escrow.job_state(job_id)
        result = call()
        self.h._check_logs(name, self.adapter.get_logs(), outcome, job_id, None)
        self.h.model = trial
        self.h.check_job(job_id)
        if share is None:
            assert self.escrow.job_state(job_id) == before
        for o in self.h.outflows[n0:]:
            self.usd_bal[to_checksum_address(o.receiver)] += o.amount
        return result

    # ------------------------------------------------------------ escrow side
    def post_job(self, client: str, freelancer: str, amounts: list[int], review_period: int = 2 * DAY) -> int:
        job_id = self._escrow_call(
            self.h.create_job,
            client,
            amounts,
            freelancer=freelancer,
            arbiter=self.adapter.address,
            review_period=review_period,
            expect=OK,
        )
        self.stats["job posted"] += 1
        return job_id

    def submit(self, job_id: int, i: int) -> None:
        self._escrow_call(self.h.submit, self.job(job_id).freelancer, job_id, i)
        self.stats["submission"] += 1

    def reject(self, job_id: int, i: int) -> None:
        """The client sends a submission back (a revision request)."""
        self._escrow_call(self.h.request_revision, self.job(job_id).client, job_id, i)
        self.stats["rejection"] += 1

    def claim(self, job_id: int, i: int) -> None:
        """An unanswered submission: anyone releases it once the review period is over."""
        m = self.job(job_id).milestones[i]
        boa.env.time_travel(seconds=max(0, m.timestamp + self.job(job_id).review_period + 1 - self.now()))
        self._escrow_call(self.h.claim, OUTSIDER, job_id, i, expect=OK)
        self.stats["unanswered submission claimed"] += 1

    def raise_dispute(self, job_id: int, i: int, by_client: bool) -> None:
        j = self.job(job_id)
        self._escrow_call(self.h.raise_dispute, j.client if by_client else j.freelancer, job_id, i, expect=OK)
        self.stats["dispute raised"] += 1

    def concede(self, job_id: int, i: int) -> None:
        """The client approves a disputed milestone (concedes) while its case is open."""
        self._escrow_call(self.h.approve, self.job(job_id).client, job_id, i, expect=OK)
        self.stats["client conceded"] += 1

    def escrow_fallback(self, job_id: int, i: int) -> None:
        """Anyone ends a dispute the arbiter left for 30 days: half each."""
        m = self.job(job_id).milestones[i]
        assert m.status == DISPUTED
        boa.env.time_travel(seconds=max(0, m.timestamp + ARBITRATION_TIMEOUT + 1 - self.now()))
        self._escrow_call(self.h.resolve, OUTSIDER, job_id, i, 0, expect=OK)
        self.stats["escrow fallback"] += 1

    # ----------------------------------------------------------- adapter side
    def cost_of(self, amount: int) -> int:
        n = 1 if amount < SMALL_CLAIM else 3
        cost = n * max(amount * FEE_BPS // BPS, 1)
        assert self.court.arbitrationCost(extra(self.usd.address, amount, 0)) == cost
        return cost

    def open_case(self, job_id: int, i: int, by_client: bool) -> int:
        j = self.job(job_id)
        m = j.milestones[i]
        assert m.status == DISPUTED and self.case_of(job_id, i) is None
        opener = j.client if by_client else j.freelancer
        cost = self.cost_of(m.amount)
        self._mint(opener, cost)
        cid = self.adapter.open_case(job_id, self.state(job_id), i, "ipfs://meta", sender=opener)
        assert cid == len(self.cases) + 1
        self.usd_bal[opener] -= cost
        self.cases[cid] = Case(
            job_id=job_id,
            milestone=i,
            client=j.client,
            freelancer=j.freelancer,
            amount=m.amount,
            cost=cost,
            status=WAITING_FREELANCER if by_client else WAITING_CLIENT,
            deadline=self.now() + FEE_TIMEOUT,
            deposit={j.client: cost if by_client else 0, j.freelancer: 0 if by_client else cost},
        )
        with boa.reverts("adapter: case already open"):
            self.adapter.open_case(job_id, self.state(job_id), i, "ipfs://meta", sender=opener)
        self.stats["case opened"] += 1
        return cid

    def pay_fee(self, cid: int) -> int | None:
        """The awaited party pays its fee: the dispute is created at the court (before the
        deadline), or the call is refused (after it)."""
        c = self.cases[cid]
        payer = c.awaited()
        other = c.freelancer if payer == c.client else c.client
        job = self.state(c.job_id)
        with boa.reverts("adapter: fee already paid"):
            self.adapter.pay_fee(cid, job, sender=other)
        if self.now() > c.deadline:
            with boa.reverts("adapter: fee timeout passed"):
                self.adapter.pay_fee(cid, job, sender=payer)
            self.stats["late fee refused"] += 1
            return None
        assert self.adapter.fee_due(cid) == c.cost
        self._mint(payer, c.cost)
        if self.status(c.job_id, c.milestone) >= PAID:  # conceded: no dispute over nothing
            with boa.reverts("adapter: milestone settled"):
                self.adapter.pay_fee(cid, job, sender=payer)
            self.stats["fee refused: milestone settled"] += 1
            return None
        d = len(self.disputes)  # the court's next dispute id
        self.adapter.pay_fee(cid, job, sender=payer)
        self.usd_bal[payer] -= c.cost
        c.status, c.reserve, c.dispute, c.deposit = CASE_DISPUTED, c.cost, d, {}
        # a pending settlement offer stays open: it may be accepted until the draw is armed
        n = 1 if c.amount < SMALL_CLAIM else 3
        self.disputes[d] = Dispute(
            case_id=cid, fee=max(c.amount * FEE_BPS // BPS, 1), rounds=[Round(n)], start=self.now()
        )
        self.tags[d] = set()
        self.fees_held += c.cost
        assert self.adapter.cases(cid).dispute_id == d and self.adapter.case_of_dispute(d) == cid
        self.stats["fee paid, dispute created"] += 1
        return d

    def timeout_by_default(self, cid: int) -> None:
        """Anyone ends a case whose awaited fee was not paid in time: the payer wins."""
        c = self.cases[cid]
        if self.now() <= c.deadline:
            with boa.reverts("adapter: fee timeout not over"):
                self.adapter.timeout_by_default(cid, self.state(c.job_id), sender=OUTSIDER)
            boa.env.time_travel(seconds=c.deadline + 1 - self.now())
        bps = BPS if c.status == WAITING_CLIENT else 0
        settled = self.status(c.job_id, c.milestone) >= PAID
        share = None if settled else self.job(c.job_id).milestones[c.milestone].amount * bps // BPS
        self._via_adapter(
            "timeout_by_default",
            c.job_id,
            c.milestone,
            share,
            lambda: self.adapter.timeout_by_default(cid, self.state(c.job_id), sender=OUTSIDER),
        )
        self._refund_deposits(c)
        c.status = CASE_CLOSED
        self.stats["default: fee unpaid"] += 1
        if not settled:
            self.stats[f"default won by {'freelancer' if bps else 'client'}"] += 1

    def _refund_deposits(self, c: Case) -> None:
        for who, amount in c.deposit.items():
            self.usd_bal[who] += amount
        c.deposit = {c.client: 0, c.freelancer: 0}

    def propose_settlement(self, cid: int, by_client: bool, bps: int) -> None:
        c = self.cases[cid]
        who = c.party(by_client)
        if c.status not in (WAITING_CLIENT, WAITING_FREELANCER, CASE_DISPUTED):
            with boa.reverts("adapter: case ruled or closed"):
                self.adapter.propose_settlement(cid, bps, sender=who)
            self.stats["late settlement refused"] += 1
            return
        self.adapter.propose_settlement(cid, bps, sender=who)
        c.proposer, c.offer = who, bps
        self.stats["settlement proposed"] += 1

    def accept_settlement(self, cid: int) -> None:
        """The other party accepts the pending offer: before the dispute exists, or after it while its
        first draw is not armed (the court then takes the dispute back and refunds its cost)."""
        c = self.cases[cid]
        assert c.status in (WAITING_CLIENT, WAITING_FREELANCER, CASE_DISPUTED) and c.proposer is not None
        other = c.freelancer if c.proposer == c.client else c.client
        dd = self.disputes[c.dispute] if c.status == CASE_DISPUTED else None
        if dd is not None and (dd.round > 0 or dd.period != EVIDENCE or dd.rounds[0].armed):
            with boa.reverts("adapter: too late to settle"):
                self.adapter.accept_settlement(cid, self.state(c.job_id), c.offer, sender=other)
            self.stats["settlement after the draw refused"] += 1
            return
        with boa.reverts("adapter: own settlement offer"):
            self.adapter.accept_settlement(cid, self.state(c.job_id), c.offer, sender=c.proposer)
        with boa.reverts("adapter: settlement differs"):
            self.adapter.accept_settlement(cid, self.state(c.job_id), (c.offer + 1) % (BPS + 1), sender=other)
        if self.status(c.job_id, c.milestone) >= PAID:
            with boa.reverts("adapter: milestone settled"):
                self.adapter.accept_settlement(cid, self.state(c.job_id), c.offer, sender=other)
            return
        share = self.job(c.job_id).milestones[c.milestone].amount * c.offer // BPS
        self._via_adapter(
            "accept_settlement",
            c.job_id,
            c.milestone,
            share,
            lambda: self.adapter.accept_settlement(cid, self.state(c.job_id), c.offer, sender=other),
        )
        self._refund_deposits(c)
        c.status = CASE_CLOSED
        assert self.court.dispute_count() == len(self.disputes)
        if dd is None:
            self.stats["settled before the dispute"] += 1
            return
        # the court took the dispute back: its cost and the reserve go back to the parties
        refund = dd.fee * dd.rounds[0].requested
        self.fees_held -= refund
        self.usd_bal[c.freelancer] += refund
        self.usd_bal[c.client] += c.reserve
        c.reserve = 0
        c.withdrawn = True
        dd.period, dd.start, dd.ruled = EXECUTION, self.now(), True
        dd.rounds[0].distributed = True
        self.stats["settled after the dispute, before the draw"] += 1

    def appeal_terms(self, c: Case, who: str) -> tuple[int, int, int]:
        """(appeal cost, `who`'s requirement, end of `who`'s funding window) of the current
        appeal period: the loser of the current ruling 2x in the first half, the winner (or
        either side of a half-half ruling) 1.5x until the end."""
        d = self.disputes[c.dispute]
        cost = (2 * d.rounds[-1].requested + 1) * d.fee
        bps = RULING_BPS[d.ruling()]
        start, end = d.start, d.start + PERIODS[APPEAL]
        if bps == BPS // 2:
            return cost, cost + cost * SHARED_MULTIPLIER // BPS, end
        if (bps > BPS // 2) == (who == c.client):
            return cost, cost + cost * LOSER_MULTIPLIER // BPS, start + (end - start) // 2
        return cost, cost + cost * WINNER_MULTIPLIER // BPS, end

    def fund_appeal(self, cid: int, by_client: bool) -> str:
        """A party funds its side of an appeal of the court's current ruling: "refused" (with
        the predicted reason), "funded" (waiting for the other side) or "appealed" (the second
        side: the adapter paid the court, the rest of both deposits joined the pot)."""
        c = self.cases[cid]
        who = c.party(by_client)
        if c.status != CASE_DISPUTED:
            with boa.reverts("adapter: no appealable dispute"):
                self.adapter.fund_appeal(cid, sender=who)
            self.stats["appeal refused"] += 1
            return "refused"
        d = self.disputes[c.dispute]
        if d.period != APPEAL or self.now() >= d.start + PERIODS[APPEAL]:
            # an appeal period that ran out counts as solved (disputeStatus 2)
            with boa.reverts("adapter: not appealable"):
                self.adapter.fund_appeal(cid, sender=who)
            self.stats["appeal refused"] += 1
            return "refused"
        if d.round + 1 >= MAX_ROUNDS:
            assert self.court.appealCost(c.dispute, b"") == MAX_UINT
            assert self.adapter.appeal_requirement(cid, who) == MAX_UINT
            with boa.reverts("adapter: no more appeals"):
                self.adapter.fund_appeal(cid, sender=who)
            self.stats["appeal past the last round refused"] += 1
            return "refused"
        cost, required, side_end = self.appeal_terms(c, who)
        assert self.court.appealCost(c.dispute, b"") == cost
        assert self.adapter.appeal_requirement(cid, who) == required
        assert self.adapter.appeal_window(cid, who) == (d.start, side_end)
        if self.now() >= side_end:
            with boa.reverts("adapter: loser funds in the first half"):
                self.adapter.fund_appeal(cid, sender=who)
            self.stats["late loser refused"] += 1
            return "refused"
        if who in c.appeal_paid:
            with boa.reverts("adapter: side already funded"):
                self.adapter.fund_appeal(cid, sender=who)
            self.stats["second funding by a side refused"] += 1
            return "refused"
        with boa.reverts("adapter: caller is not a party"):
            self.adapter.fund_appeal(cid, sender=OUTSIDER)
        self._mint(who, required)
        self.adapter.fund_appeal(cid, sender=who)
        self.usd_bal[who] -= required
        if not c.appeal_paid:
            c.appeal_paid[who] = required
            self.stats["appeal side funded"] += 1
            return "funded"
        c.pot += sum(c.appeal_paid.values()) + required - cost
        c.appeal_paid = {}
        c.appeals += 1
        self.fees_held += cost
        d.rounds.append(Round(2 * d.rounds[-1].requested + 1))
        d.period, d.start = EVIDENCE, self.now()
        self.tags[c.dispute].add("appeal by both")
        self.stats["appeal funded"] += 1
        if RULING_BPS[d.ruling()] != BPS // 2:
            self.stats["appeal of a ruling with a winner"] += 1
        return "appealed"

    def appeal(self, cid: int, by_client: bool, answer: str = "both") -> bool:
        """A party funds an appeal of the court's current ruling; with `answer` "both" the
        other side answers at once (the appeal is made); "alone": nobody answers; "late": both
        sides try in the second half of the period (the loser is refused, a winner funds
        alone; after a half-half ruling both fund). Returns whether the appeal was made."""
        c = self.cases[cid]
        if answer == "late" and c.status == CASE_DISPUTED:
            d = self.disputes[c.dispute]
            if d.period == APPEAL:
                boa.env.time_travel(seconds=max(0, d.start + PERIODS[APPEAL] // 2 - self.now()))
        sides = [by_client]
        first = self.fund_appeal(cid, by_client)
        if answer == "late" or (answer == "both" and first == "funded"):
            sides.append(not by_client)
            if self.fund_appeal(cid, not by_client) == "appealed":
                return True
        for side in sides:  # a side that funded may not fund again this round
            if c.party(side) in c.appeal_paid:
                assert self.fund_appeal(cid, side) == "refused"
        return False

    def execute_case(self, cid: int) -> None:
        """Anyone executes a case: a ruled one resolves the milestone as the ruling says; one
        the escrow already settled closes; otherwise it is refused."""
        c = self.cases[cid]
        if c.status == CASE_CLOSED:
            with boa.reverts("adapter: case closed"):
                self.adapter.execute_ruling(cid, self.state(c.job_id), sender=OUTSIDER)
            return
        settled = self.status(c.job_id, c.milestone) >= PAID
        if c.status == CASE_RULED:
            bps = RULING_BPS[c.ruling]
            share = None if settled else self.job(c.job_id).milestones[c.milestone].amount * bps // BPS
            self._via_adapter(
                "execute_ruling",
                c.job_id,
                c.milestone,
                share,
                lambda: self.adapter.execute_ruling(cid, self.state(c.job_id), sender=OUTSIDER),
            )
            self._share_reserve(c, bps)
            self.stats[
                "ruling executed on the escrow" if share is not None else "ruling after the escrow settled"
            ] += 1
            if share is not None:
                self.stats[f"ruling {c.ruling} executed"] += 1
                self.tags[c.dispute].add("executed")
        elif not settled:
            with boa.reverts("adapter: no ruling yet"):
                self.adapter.execute_ruling(cid, self.state(c.job_id), sender=OUTSIDER)
            return
        else:
            self._via_adapter(
                "execute_ruling",
                c.job_id,
                c.milestone,
                None,
                lambda: self.adapter.execute_ruling(cid, self.state(c.job_id), sender=OUTSIDER),
            )
            if c.status == CASE_DISPUTED:
                self._share_reserve(c, BPS // 2)
            else:
                self._refund_deposits(c)
            self.stats["case closed after the escrow settled"] += 1
        c.status = CASE_CLOSED
        with boa.reverts("adapter: case closed"):
            self.adapter.execute_ruling(cid, self.state(c.job_id), sender=OUTSIDER)

    def _share_reserve(self, c: Case, bps: int) -> None:
        """The reserve and the appeal pot shared, `bps` to the freelancer rounded down; a lone
        appeal deposit back to its payer."""
        shared = c.reserve + c.pot
        to_f = shared * bps // BPS
        self.usd_bal[c.freelancer] += to_f
        self.usd_bal[c.client] += shared - to_f
        if c.pot:
            self.stats["appeal pot shared"] += 1
        for who, amount in c.appeal_paid.items():
            self.usd_bal[who] += amount
            self.stats["lone appeal deposit returned"] += 1
        c.reserve, c.pot, c.appeal_paid = 0, 0, {}

    # ------------------------------------------------------------- court side
    def stake(self, j: str, amount: int) -> None:
        m = self.jurors[j]
        if self.frozen():
            with boa.reverts("court: draw pending"):
                self.court.stake(amount, sender=j)
            self.stats["stake refused while a draw is pending"] += 1
            return
        if amount == 0 or m.weight + amount < MIN_STAKE or amount > m.wallet:
            with boa.reverts():
                self.court.stake(amount, sender=j)
            return
        self.court.stake(amount, sender=j)
        m.wallet -= amount
        m.balance += amount
        m.weight += amount
        self.stats["stake"] += 1

    def unstake(self, j: str, amount: int) -> None:
        m = self.jurors[j]
        if self.frozen():
            with boa.reverts("court: draw pending"):
                self.court.unstake(amount, sender=j)
            self.stats["unstake refused while a draw is pending"] += 1
            return
        if amount == 0 or amount > m.weight:
            with boa.reverts("court: not staked"):
                self.court.unstake(amount, sender=j)
            return
        rest = m.weight - amount
        if rest and rest < MIN_STAKE:
            with boa.reverts("court: below minimum stake"):
                self.court.unstake(amount, sender=j)
            return
        free = m.balance - max(rest, m.locked)
        assert self.court.unstake(amount, sender=j) == free
        m.weight, m.balance, m.wallet = rest, m.balance - free, m.wallet + free
        self.stats["unstake"] += 1
        if m.seats:
            self.stats["unstake during a case"] += 1
            for d, dd in self.disputes.items():
                if any(j in r.panel and not r.distributed for r in dd.rounds):
                    self.tags[d].add("juror unstaked")

    def juror_withdraw(self, j: str) -> None:
        m = self.jurors[j]
        free = m.balance - max(m.weight, m.locked)
        assert self.court.withdraw_stake(sender=j) == free
        m.balance -= free
        m.wallet += free
        for token, attr in ((self.usd, "credit_usd"), (self.pwk, "credit_pwk")):
            amount = getattr(m, attr)
            if amount == 0:
                continue
            assert self.court.withdraw(token.address, sender=j) == amount
            setattr(m, attr, 0)
            if token is self.usd:
                self.usd_bal[j] += amount
            else:
                m.wallet += amount
            self.stats["juror withdrew rewards"] += 1

    def treasury_withdraw(self) -> None:
        if self.treasury_usd:
            self.court.withdraw(self.usd.address, sender=COURT_TREASURY)
            self.usd_bal[COURT_TREASURY] += self.treasury_usd
            self.treasury_usd = 0
        if self.treasury_pwk:
            self.court.withdraw(self.pwk.address, sender=COURT_TREASURY)
            self.treasury_pwk = 0

    def pass_period(self, d: int, *, wait: bool = True, draw: bool = True) -> bool:
        """Anyone advances dispute `d` once its period is over (waiting for that first).
        Leaving the evidence period takes two calls: the first arms the draw on its block
        (again if its window ended), the second draws in a later block; `draw=False` stops
        after arming (the draw then waits, freezing stakes and distributions)."""
        dd = self.disputes[d]
        if dd.period == EXECUTION:
            with boa.reverts("court: dispute solved"):
                self.court.pass_period(d, sender=OUTSIDER)
            return False
        end = dd.start + PERIODS[dd.period]
        if self.now() < end:
            with boa.reverts("court: period not over"):
                self.court.pass_period(d, sender=OUTSIDER)
            if not wait:
                return False
            boa.env.time_travel(seconds=end - self.now())
        if dd.period == EVIDENCE:
            rnd = dd.rounds[-1]
            if rnd.armed == 0 or self.block() > rnd.armed + DRAW_WINDOW:
                self._arm(d)
                if not draw:
                    return True
            if self.block() == rnd.armed:
                with boa.reverts("court: draw not ready"):
                    self.court.pass_period(d, sender=OUTSIDER)
                self.stats["draw in its arming block refused"] += 1
                boa.env.time_travel(blocks=1)
            seal_hashes()
            before = {j: (m.weight, m.locked) for j, m in self.jurors.items()}
            self.court.pass_period(d, sender=OUTSIDER)
            self._record_draw(d, before)
            if self.lock_pending:
                self.lock_pending -= 1
        else:
            self.court.pass_period(d, sender=OUTSIDER)
        dd.period += 1
        dd.start = self.now()
        self.stats["period passed by anyone"] += 1
        return True

    def _arm(self, d: int) -> None:
        """Anyone arms the draw of `d` (its evidence period over) on the current block."""
        dd = self.disputes[d]
        rnd = dd.rounds[-1]
        b = self.block()
        again = rnd.armed != 0
        self.court.pass_period(d, sender=OUTSIDER)
        armed = [e for e in self.court.get_logs() if type(e).__name__ == "DrawArmed"]
        assert len(armed) == 1 and list(armed[0]._asdict().values())[1:] == [d, dd.round, b]
        assert self.court.dispute_clock(d)[0] == EVIDENCE and self.court.draw_block(d) == b
        if b > self.lock_until:
            self.lock_pending = 0  # every earlier window has ended
        self.lock_pending += 1
        self.lock_until = max(self.lock_until, b + DRAW_WINDOW)
        rnd.armed = b
        assert self.frozen()
        self.stats["draw re-armed after its window" if again else "draw armed"] += 1

    def _record_draw(self, d: int, before: dict) -> None:
        dd = self.disputes[d]
        rnd = dd.rounds[-1]
        seats = []
        for e in self.court.get_logs():
            if type(e).__name__ != "Draw":
                continue
            _, disp, who, r, pos = list(e._asdict().values())
            assert disp == d and r == dd.round and pos == len(seats)
            seats.append(str(who))
        assert len(seats) <= rnd.requested
        for j in set(seats):
            w, locked = before[j]
            # no juror is drawn beyond its stake: every seat it holds is backed by its weight
            assert locked + seats.count(j) * SEAT_LOCK <= w, f"{j} drawn beyond its stake"
            self.jurors[j].seats += seats.count(j)
        rnd.panel, rnd.drawn = seats, True
        assert self.court.round_info(d, dd.round)[1] == len(seats)
        assert self.court.draw_block(d) == 0
        assert rnd.armed < self.block() <= rnd.armed + DRAW_WINDOW
        self.stats["panel drawn"] += 1
        self.stats["armed, then drawn in a later block"] += 1
        if len(seats) < rnd.requested:
            self.stats["panel short of jurors"] += 1

    def commit(self, d: int, choices: list[int], mask: list[bool]) -> None:
        """The drawn jurors of `d` whose mask is set commit their choices (refused outside the
        commit period)."""
        dd = self.disputes[d]
        rnd = dd.rounds[-1]
        in_time = dd.period == COMMIT and self.now() < dd.start + PERIODS[COMMIT]
        for seat, who in enumerate(rnd.panel):
            if not mask[seat % len(mask)] or seat in rnd.votes:
                continue
            choice = choices[seat % len(choices)]
            c = commitment(choice, salt_of(d, dd.round, seat), who)
            if not (in_time and dd.period == COMMIT):
                with boa.reverts("court: not in commit period"):
                    self.court.commit(d, seat, rnd.panel, c, sender=who)
                self.stats["vote outside its period refused"] += 1
                return
            self.court.commit(d, seat, rnd.panel, c, sender=who)
            rnd.votes[seat] = choice
            self.stats["commit"] += 1
            again = (
                "court: already committed"
                if len(rnd.votes) < len(rnd.panel)
                else "court: not in commit period"
            )
            with boa.reverts(again):
                self.court.commit(d, seat, rnd.panel, c, sender=who)
            if len(rnd.votes) == len(rnd.panel):
                dd.period, dd.start = REVEAL, self.now()

    def reveal(self, d: int, mask: list[bool]) -> None:
        """Anyone reveals the committed votes of `d` whose mask is set."""
        dd = self.disputes[d]
        rnd = dd.rounds[-1]
        in_time = dd.period == REVEAL and self.now() < dd.start + PERIODS[REVEAL]
        for seat in sorted(rnd.votes):
            if not mask[seat % len(mask)] or seat in rnd.revealed:
                continue
            salt = salt_of(d, dd.round, seat)
            if not in_time or dd.period != REVEAL:
                with boa.reverts("court: not in reveal period"):
                    self.court.reveal(d, seat, rnd.panel, rnd.votes[seat], salt, sender=OUTSIDER)
                self.stats["vote outside its period refused"] += 1
                return
            if rnd.votes[seat] != 5:
                with boa.reverts("court: reveal does not match commit"):
                    self.court.reveal(d, seat, rnd.panel, 5, salt, sender=OUTSIDER)
            self.court.reveal(d, seat, rnd.panel, rnd.votes[seat], salt, sender=OUTSIDER)
            rnd.revealed.add(seat)
            self.stats["reveal"] += 1
            if len(rnd.revealed) == len(rnd.panel):
                dd.period, dd.start = APPEAL, self.now()

    def court_execute(self, d: int) -> None:
        """Anyone gives the adapter the court's final ruling, exactly once."""
        dd = self.disputes[d]
        if not self.solved(d):
            with boa.reverts("court: not solved"):
                self.court.execute_ruling(d, sender=OUTSIDER)
            return
        if dd.ruled:
            with boa.reverts("court: already ruled"):
                self.court.execute_ruling(d, sender=OUTSIDER)
            return
        c = self.cases[dd.case_id]
        ruling = dd.ruling()
        assert self.court.currentRuling(d) == ruling
        assert not self.adapter.cases(dd.case_id).ruled
        self.court.execute_ruling(d, sender=OUTSIDER)
        self._finalise(d)
        assert self.court.dispute_clock(d)[0] == EXECUTION
        dd.ruled = True
        recorded = ruling
        if c.status == CASE_DISPUTED:
            c.status = CASE_RULED
            if c.appeal_paid:  # one side alone funded the last round: it wins by default
                (funder,) = c.appeal_paid
                # ... unless the ruling already gives it more than half: a winner keeps its ruling
                funder_bps = RULING_BPS[ruling] if funder == c.freelancer else BPS - RULING_BPS[ruling]
                if funder_bps > BPS // 2:
                    self.stats["lone winner kept its ruling"] += 1
                else:
                    recorded = CLIENT_WINS if funder == c.client else FREELANCER_WINS
                self.tags[d].add("lone funder won")
                self.stats["lone funder won by default"] += 1
                if recorded != ruling:
                    self.tags[d].add("lone funder overturned the ruling")
        c.ruled, c.ruling = True, recorded
        onchain = self.adapter.cases(dd.case_id)
        assert onchain.ruled and onchain.ruling == recorded and onchain.status == c.status
        with boa.reverts("court: already ruled"):
            self.court.execute_ruling(d, sender=OUTSIDER)
        last = dd.rounds[-1]
        if not last.revealed:
            self.tags[d].add("nobody revealed")
        for rnd in dd.rounds:
            votes = [rnd.votes[s] for s in rnd.revealed]
            if ruling_of(votes) == 0 and len(set(votes)) > 1:
                self.tags[d].add("tie")
        if len(dd.rounds) > 1:
            if dd.ruling(len(dd.rounds) - 2) != ruling:
                self.tags[d].add("appeal flipped the ruling")
            if not last.revealed and any(r.revealed for r in dd.rounds):
                self.tags[d].add("silent appeal kept the ruling")
        if any(len(rnd.revealed) < len(rnd.votes) for rnd in dd.rounds):
            self.tags[d].add("a juror never revealed")
        self.stats["court ruling given"] += 1

    def distribute(self, d: int, r: int) -> None:
        """Anyone settles round `r`: predicted rewards and slashes, then compared."""
        dd = self.disputes[d]
        rnd = dd.rounds[r]
        if self.frozen():  # an armed draw waits: locks and weights must not move
            with boa.reverts("court: draw pending"):
                self.court.distribute(d, r, rnd.panel)
            self.stats["distribute refused while a draw is pending"] += 1
            return
        if not self.solved(d):
            with boa.reverts("court: not solved"):
                self.court.distribute(d, r, rnd.panel)
            return
        self._finalise(d)
        if rnd.distributed:
            with boa.reverts("court: already distributed"):
                self.court.distribute(d, r, rnd.panel)
            return
        ruling = dd.ruling()
        revealed = [s for s in range(len(rnd.panel)) if s in rnd.revealed]
        coherent = [s for s in revealed if rnd.votes[s] == ruling]
        good = set(coherent) if coherent else set(revealed)
        fees = rnd.requested * dd.fee
        penalties = (len(rnd.panel) - len(good)) * SEAT_LOCK
        fee_share = fees // len(good) if good else 0
        pwk_share = penalties // len(good) if good else 0
        self.court.distribute(d, r, rnd.panel, sender=OUTSIDER)
        self.fees_held -= fees
        self.treasury_usd += fees - fee_share * len(good)
        self.treasury_pwk += penalties - pwk_share * len(good)
        for seat, j in enumerate(rnd.panel):
            m = self.jurors[j]
            m.seats -= 1
            if seat in good:
                m.credit_usd += fee_share
                m.credit_pwk += pwk_share
            else:
                m.balance -= SEAT_LOCK
                m.weight = min(m.weight, m.balance)
                self.stats["juror slashed"] += 1
        rnd.distributed = True
        assert all(self.court.vote_of(d, r, s) == 0 for s in range(len(rnd.panel)))
        self.stats["round distributed"] += 1

    # ------------------------------------------------------------- invariants
    def adapter_holds(self) -> int:
        """Stablecoin the adapter must hold: deposits of cases awaiting fees, reserves, appeal
        pots and lone appeal deposits of disputed ones."""
        held = 0
        for c in self.cases.values():
            if c.status in (WAITING_CLIENT, WAITING_FREELANCER):
                held += sum(c.deposit.values())
            elif c.status in (CASE_DISPUTED, CASE_RULED):
                held += c.reserve + c.pot + sum(c.appeal_paid.values())
        return held

    def check_tokens(self) -> None:
        """Token conservation (cheap: a dozen calls), after every step of the machine."""
        usd, pwk, m = self.usd, self.pwk, self.h.model
        assert usd.balanceOf(self.escrow.address) == m.held(usd.address) + m.fees(usd.address) + m.credited(
            usd.address
        )
        assert usd.balanceOf(self.adapter.address) == self.adapter_holds()
        assert usd.balanceOf(self.court.address) == self.fees_held + self.treasury_usd + sum(
            j.credit_usd for j in self.jurors.values()
        )
        assert pwk.balanceOf(self.court.address) == self.treasury_pwk + sum(
            j.balance + j.credit_pwk for j in self.jurors.values()
        )
        for who in PARTIES:
            assert usd.balanceOf(who) == self.usd_bal[who], who

    def check(self) -> None:
        """The whole model against the chain."""
        self.check_tokens()
        usd, pwk, court, adapter, escrow = self.usd, self.pwk, self.court, self.adapter, self.escrow
        m = self.h.model
        # escrow: what its jobs still hold, its fees and its credits, all in its balance
        assert usd.balanceOf(escrow.address) == m.held(usd.address) + m.fees(usd.address) + m.credited(
            usd.address
        )
        assert escrow.fees_owed(usd.address) == m.fees(usd.address)
        self.h.check_all()
        # adapter: the deposits of cases awaiting fees and the reserves of disputed ones
        for cid, c in self.cases.items():
            onchain = adapter.cases(cid)
            assert onchain.status == c.status, (cid, onchain.status, c.status)
            assert onchain.ruled == c.ruled
            if c.status in (WAITING_CLIENT, WAITING_FREELANCER):
                assert (onchain.client_fee, onchain.freelancer_fee) == (
                    c.deposit[c.client],
                    c.deposit[c.freelancer],
                )
            elif c.status in (CASE_DISPUTED, CASE_RULED):
                assert onchain.client_fee == c.reserve
            funding = (
                c.appeals,
                c.appeal_paid.get(c.client, 0),
                c.appeal_paid.get(c.freelancer, 0),
                c.pot,
                c.client in c.appeal_paid,
                c.freelancer in c.appeal_paid,
            )
            assert adapter.appeal_funding(cid) == funding, (cid, adapter.appeal_funding(cid), funding)
        # court: fees of rounds not distributed + credits (stablecoin); stakes + credits (PWK)
        assert court.dispute_count() == len(self.disputes)
        assert court.credit(COURT_TREASURY, usd.address) == self.treasury_usd
        assert court.credit(COURT_TREASURY, pwk.address) == self.treasury_pwk
        for a, j in self.jurors.items():
            got = (
                court.weight(a),
                court.stake_balance(a),
                court.locked(a),
                court.credit(a, usd.address),
                court.credit(a, pwk.address),
                pwk.balanceOf(a),
            )
            assert got == (j.weight, j.balance, j.locked, j.credit_usd, j.credit_pwk, j.wallet), (a, got, j)
            # no juror is ever bound beyond its stake
            assert j.locked <= j.balance and j.weight <= j.balance
        assert court.total_stake() == sum(j.weight for j in self.jurors.values())
        for d, dd in self.disputes.items():
            assert court.dispute_clock(d)[:2] == (dd.period, dd.round)
            rnd = dd.rounds[-1]
            waiting = dd.period == EVIDENCE and not rnd.drawn
            assert court.draw_block(d) == (rnd.armed if waiting else 0)
            status = 2 if self.solved(d) else 1 if dd.period == APPEAL else 0
            assert court.disputeStatus(d) == status
            assert court.currentRuling(d) == dd.ruling()
        assert court.draw_pending() == (self.lock_pending != 0 and self.block() <= self.lock_until)
        # every party's, juror's and treasury's stablecoin as predicted; supplies conserved
        for who in [*JURORS, COURT_TREASURY]:
            assert usd.balanceOf(who) == self.usd_bal[who], who
        holders = [escrow.address, adapter.address, court.address, ESCROW_TREASURY, COURT_TREASURY, OUTSIDER]
        assert usd.totalSupply() == sum(usd.balanceOf(x) for x in [*holders, *PARTIES, *JURORS])
        assert (
            pwk.totalSupply()
            == PWK_SUPPLY
            == sum(pwk.balanceOf(x) for x in [SYSTEM_DEPLOYER, court.address, COURT_TREASURY, *JURORS])
        )

    # ------------------------------------------------------ the end, by timeouts
    def end_everything(self) -> None:
        """Ends every case and dispute with nobody voting, paying or appealing: only time and
        permissionless calls (timeout_by_default, pass_period, execute_ruling, the escrow's
        fallback, distribute); then every juror leaves and the court and adapter hold nothing."""
        for cid, c in self.cases.items():
            if c.status in (WAITING_CLIENT, WAITING_FREELANCER):
                self.timeout_by_default(cid)
                self.stats["ended: default"] += 1
        for d, dd in self.disputes.items():
            for _ in range(4):  # at most the four periods left of the current round
                if dd.period == EXECUTION:
                    break
                self.pass_period(d)
            assert dd.period == EXECUTION and court_status(self.court, d) == 2
            if not dd.ruled:
                self.court_execute(d)
                self.stats["ended: ruled by timeouts"] += 1
        for cid, c in self.cases.items():
            if c.status != CASE_CLOSED:
                self.execute_case(cid)
            assert c.status == CASE_CLOSED and self.adapter.cases(cid).status == CASE_CLOSED
            assert c.ruled == (c.dispute is not None and not c.withdrawn)
        for job_id, i, m in list(self.milestones()):
            if m.status == DISPUTED:  # disputed, no case ever opened: the escrow's own fallback
                self.escrow_fallback(job_id, i)
                self.stats["ended: escrow fallback"] += 1
        for _, _, m in self.milestones():
            assert m.status in (OPEN, SUBMITTED) or m.status >= PAID
        if self.frozen():  # a re-armed draw may hold the freeze until its window ends
            boa.env.time_travel(blocks=self.lock_until + 1 - self.block())
            self.stats["ended: waited out a draw window"] += 1
        assert not self.frozen()
        for d, dd in self.disputes.items():
            for r in range(len(dd.rounds)):
                if not dd.rounds[r].distributed:
                    self.distribute(d, r)
        self.check_tokens()
        for j, m in self.jurors.items():
            assert m.locked == 0
            if m.weight:
                self.unstake(j, m.weight)
            self.juror_withdraw(j)
        self.treasury_withdraw()
        self.check()
        assert self.usd.balanceOf(self.court.address) == 0
        assert self.pwk.balanceOf(self.court.address) == 0
        assert self.usd.balanceOf(self.adapter.address) == 0
        assert self.fees_held == 0


def court_status(court, d: int) -> int:
    return court.disputeStatus(d)
