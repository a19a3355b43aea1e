"""The dispute system end to end: JobEscrow + EscrowArbitrable (the jobs' arbiter) + the real
Court staked in PWK, fees in the job's stablecoin.

A Hypothesis state machine posts jobs with the adapter as arbiter, submits, rejects and leaves
submissions unanswered, raises disputes, opens cases, pays or does not pay fees, settles
before the draw, stakes and unstakes jurors (also during a case), commits and reveals (some
never reveal, ties), funds appeals on both sides (the appeal is made), on one side only (that
side wins by default), too late for the loser, or not at all, advances periods as anyone after their
timeouts, executes rulings, and lets the escrow's 30-day fallback overtake a case. Every call
is predicted by `CourtSystem` (court_system_fixtures.py) and after every step:

- tokens are conserved: the escrow holds its jobs' milestones, fees and credits; the adapter
  its cases' deposits, reserves, appeal pots and lone appeal deposits; the court its undistributed rounds' fees and every credit
  (stablecoin) and its jurors' stakes and credits (PWK); every party's, juror's and
  treasury's balance is as predicted, and both supplies are accounted for;
- no juror is drawn beyond its stake (checked at every draw) and locks never exceed stakes;
- a ruling executes exactly once (a second call is refused, at the court and at the adapter)
  and the milestone ends paid, refunded or split exactly as the ruling says, or wholly to the
  side that alone funded the last appeal round, the fee reserve and the appeal pot shared in
  the same proportion and a lone appeal deposit returned to its payer.
In the teardown every case and dispute ends through timeouts and permissionless calls alone,
then every round is distributed, every juror leaves, and the court and adapter hold nothing.

Scenario tests run the same driver through the cases of the issue, each ending with the
escrow's and the parties' balances checked in numbers.
"""

from __future__ import annotations

import functools
from collections import Counter

import boa
import pytest
from court_fixtures import MIN_STAKE, PERIODS, PWK, SEAT_LOCK, USD, pin_clock
from court_system_fixtures import (
    APPEAL,
    CASE_CLOSED,
    CASE_DISPUTED,
    CASE_RULED,
    CLIENTS,
    COMMIT,
    COURT_TREASURY,
    ESCROW_FEE_BPS,
    EVIDENCE,
    EXECUTION,
    FREELANCERS,
    JURORS,
    OUTSIDER,
    REVEAL,
    SYSTEM_DEPLOYER,
    WAITING_CLIENT,
    WAITING_FREELANCER,
    CourtSystem,
    court_status,
    deploy_system,
)
from escrow_harness import DAY
from escrow_model import DISPUTED, MAX_REVISIONS, OPEN, SUBMITTED
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

HOUR = 3_600
MAX_ACTIVE_JOBS = 4  # jobs with money left in a milestone
STATS: Counter = Counter()  # outcomes over the whole run, asserted after it

pick = st.integers(0, 255)
side = st.booleans()
# after a party funds its side of an appeal: the other answers at once, nobody answers, or the
# party came late (second half of the period: refused to the loser) and nobody answers. Taken
# from a rule's `k` (answer_of) rather than drawn: a new draw would shift the derandomized
# data of every later step, and with it the coverage the floors below were set on.
ANSWERS = ("both", "alone", "both", "late")


def answer_of(k: int) -> str:
    return ANSWERS[k % len(ANSWERS)]


# below 100 a small claim (one juror), from 100 three jurors
amount_st = st.sampled_from([10 * USD, 50 * USD, 99 * USD, 100 * USD, 400 * USD, 1_000 * USD, 2_000 * USD])
# votes of a panel's seats: random, or a pattern that ties any panel of 3 or 7
choices_st = st.one_of(
    st.lists(st.sampled_from([1, 1, 2, 2, 0, 3, 5]), min_size=7, max_size=7),
    st.just([1, 2, 5, 1, 2, 5, 0]),
)
mask_st = st.lists(st.sampled_from([True, True, True, False]), min_size=7, max_size=7)


def guarded(step):
    """Marks the machine busy while a step runs: if it fails, the teardown leaves the failure
    as it is (ending every dispute from a broken state would only hide it)."""

    @functools.wraps(step)
    def run(self, **kwargs):
        self.busy = True
        step(self, **kwargs)
        self.busy = False

    return run


def _nth(items: list, k: int):
    return items[k % len(items)]


class SystemMachine(RuleBasedStateMachine):
    def __init__(self, deployed):
        super().__init__()
        # one deployment per test; each run starts from it and is rolled back in the teardown
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.s = CourtSystem(deployed, STATS)
        self.steps = 0
        self.busy = False

    # ------------------------------------------------------------ targets
    def _milestones(self, status: int, *, case: bool | None = None):
        out = []
        for job_id, i, m in self.s.milestones():
            if m.status != status:
                continue
            if case is not None and (self.s.case_of(job_id, i) is not None) != case:
                continue
            out.append((job_id, i))
        return out

    def _submittable(self):
        now = self.s.now()
        return [(j, i) for j, i in self._milestones(OPEN) if now <= self.s.job(j).due(i)]

    def _in_review(self):
        now = self.s.now()
        out = []
        for j, i in self._milestones(SUBMITTED):
            job = self.s.job(j)
            if now <= job.milestones[i].timestamp + job.review_period:
                out.append((j, i))
        return out

    def _cases(self, *statuses):
        return [cid for cid, c in self.s.cases.items() if c.status in statuses]

    def _disputes(self, *periods):
        return [d for d, dd in self.s.disputes.items() if dd.period in periods]

    def _committing(self):
        return [
            d
            for d in self._disputes(COMMIT)
            if len(self.s.disputes[d].rounds[-1].votes) < len(self.s.disputes[d].rounds[-1].panel)
        ]

    def _revealing(self):
        out = []
        for d in self._disputes(REVEAL):
            rnd = self.s.disputes[d].rounds[-1]
            if len(rnd.revealed) < len(rnd.votes):
                out.append(d)
        return out

    def _undistributed(self):
        return [
            (d, r)
            for d in self._disputes(EXECUTION)
            for r, rnd in enumerate(self.s.disputes[d].rounds)
            if not rnd.distributed
        ]

    def _executable(self):
        out = []
        for cid, c in self.s.cases.items():
            if c.status == CASE_RULED or (
                c.status != CASE_CLOSED and self.s.status(c.job_id, c.milestone) >= 3
            ):
                out.append(cid)
        return out

    def _active_jobs(self) -> int:
        return sum(1 for j in self.s.h.model.jobs.values() if any(m.status < 3 for m in j.milestones))

    # ------------------------------------------------------------ set-up
    @initialize(units=st.lists(st.integers(0, 5), min_size=len(JURORS), max_size=len(JURORS)))
    @guarded
    def jurors_stake(self, units):
        """Jurors stake 100 to 500 PWK (the first three at least 100, so panels can be drawn)."""
        for n, (j, u) in enumerate(zip(JURORS, units, strict=True)):
            u = max(u, 1) if n < 3 else u
            if u:
                self.s.stake(j, u * 100 * PWK)

    # ------------------------------------------------------------ escrow
    @precondition(lambda self: self._active_jobs() < MAX_ACTIVE_JOBS)
    @rule(k=pick, amounts=st.lists(amount_st, min_size=1, max_size=2), long_review=st.booleans())
    @guarded
    def post_job(self, k, amounts, long_review):
        self.s.post_job(
            _nth(CLIENTS, k), _nth(FREELANCERS, k // 2), amounts, 5 * DAY if long_review else 2 * DAY
        )

    @precondition(lambda self: self._submittable() or self._milestones(SUBMITTED))
    @rule(
        k=pick,
        action=st.sampled_from(["dispute", "dispute", "reject", "reject", "unanswered"]),
        by_client=side,
    )
    @guarded
    def work(self, k, action, by_client):
        """The next step of a milestone awaiting work: a submission; then a dispute by either
        party (within the review window), a rejection (revision request) or no answer at all."""
        targets = self._submittable() + self._milestones(SUBMITTED)
        job_id, i = _nth(targets, k)
        m = self.s.job(job_id).milestones[i]
        if m.status == OPEN:
            self.s.submit(job_id, i)
        elif (job_id, i) not in self._in_review() or action == "unanswered":
            self.s.claim(job_id, i)
        elif action == "reject" and m.revisions < MAX_REVISIONS:
            self.s.reject(job_id, i)
        else:
            self.s.raise_dispute(job_id, i, by_client)

    @precondition(lambda self: self._active_jobs() < MAX_ACTIVE_JOBS)
    @rule(
        k=pick,
        amount=amount_st,
        raised_by_client=side,
        opened_by_client=side,
        then=st.sampled_from(["pay", "pay", "pay", "pay", "wait", "settle", "default", "concede"]),
        bps=st.sampled_from([0, 2_500, 6_000, 10_000]),
        rejected_first=st.sampled_from([False, False, False, True]),
    )
    @guarded
    def new_case(self, k, amount, raised_by_client, opened_by_client, then, bps, rejected_first):
        """A job posted, delivered (perhaps rejected once and delivered again), disputed and its
        case opened, in one step; then the other party pays its fee, or not yet, or never
        (default), or the parties settle before any juror is drawn, or the client concedes on
        the escrow (and anyone closes the case)."""
        job_id = self.s.post_job(_nth(CLIENTS, k), _nth(FREELANCERS, k // 2), [amount])
        self.s.submit(job_id, 0)
        if rejected_first:
            self.s.reject(job_id, 0)
            self.s.submit(job_id, 0)
        self.s.raise_dispute(job_id, 0, raised_by_client)
        cid = self.s.open_case(job_id, 0, opened_by_client)
        if then == "pay":
            self.s.pay_fee(cid)
        elif then == "settle":
            # after a rejection, the fees are paid first: the dispute exists, its draw not armed
            # (an existing draw decides it, so that the pinned run keeps its other paths)
            if rejected_first:
                self.s.pay_fee(cid)
            self.s.propose_settlement(cid, not opened_by_client, bps)
            self.s.accept_settlement(cid)
        elif then == "default":
            self.s.timeout_by_default(cid)
            STATS["rule: default for an unpaid fee"] += 1
        elif then == "concede":
            self.s.concede(job_id, 0)
            self.s.pay_fee(cid)  # refused: nothing left to dispute
            self.s.execute_case(cid)  # anyone closes the case: deposits back

    def _neglected(self):
        """Disputed milestones whose dispute is at least 20 days old."""
        return [
            (j, i)
            for j, i in self._milestones(DISPUTED)
            if self.s.now() > self.s.job(j).milestones[i].timestamp + 20 * DAY
        ]

    @precondition(lambda self: self._milestones(DISPUTED))
    @rule(k=pick, now=st.sampled_from([False, False, True]))
    @guarded
    def escrow_fallback(self, k, now):
        """The escrow's own fallback ends a dispute nobody ended in 30 days: one already 20
        days old, or (now) any, waiting out the rest."""
        targets = self._neglected() or (self._milestones(DISPUTED) if now else [])
        if targets:
            self.s.escrow_fallback(*_nth(targets, k))

    # ------------------------------------------------------------ adapter
    @precondition(lambda self: self._milestones(DISPUTED, case=False))
    @rule(k=pick, by_client=side)
    @guarded
    def open_case(self, k, by_client):
        self.s.open_case(*_nth(self._milestones(DISPUTED, case=False), k), by_client)

    @precondition(lambda self: self._cases(WAITING_CLIENT, WAITING_FREELANCER))
    @rule(
        k=pick,
        action=st.sampled_from(["pay", "pay", "default", "default", "settle", "settle", "offer", "concede"]),
        by_client=side,
        bps=st.sampled_from([0, 2_500, 6_000, 10_000]),
    )
    @guarded
    def fees(self, k, action, by_client, bps):
        """The awaited party pays its fee, or never does (default), or a party offers a
        settlement, which the other accepts (settle) or not (offer), or the client concedes
        on the escrow (approves the milestone) while the case waits for fees."""
        cid = _nth(self._cases(WAITING_CLIENT, WAITING_FREELANCER), k)
        if action == "pay":
            self.s.pay_fee(cid)
        elif action == "concede":
            c = self.s.cases[cid]
            if self.s.status(c.job_id, c.milestone) == DISPUTED:
                self.s.concede(c.job_id, c.milestone)
        elif action == "default":
            self.s.timeout_by_default(cid)
            STATS["rule: default for an unpaid fee"] += 1
        else:
            self.s.propose_settlement(cid, by_client, bps)
            if action == "settle":
                self.s.accept_settlement(cid)

    @precondition(lambda self: self._executable())
    @rule(k=pick)
    @guarded
    def execute_case(self, k):
        self.s.execute_case(_nth(self._executable(), k))

    # ------------------------------------------------------------ court
    @precondition(lambda self: self.s.disputes)
    @rule(
        k=pick,
        action=st.sampled_from(["stake", "stake", "unstake", "leave", "withdraw"]),
        units=st.integers(1, 5),
    )
    @guarded
    def juror(self, k, action, units):
        """Once cases run, a juror stakes, unstakes part or all of its stake (also while
        drawn), or withdraws its rewards and free stake."""
        seated = [j for j, m in self.s.jurors.items() if m.seats and m.weight]
        j = _nth(seated, k) if seated and action in ("unstake", "leave") and k % 2 else _nth(JURORS, k)
        w = self.s.jurors[j].weight
        if action == "stake" or (action in ("unstake", "leave") and not w):
            self.s.stake(j, units * 100 * PWK)
        elif action == "unstake":
            self.s.unstake(j, w if w < MIN_STAKE + 100 * PWK else 100 * PWK)
        elif action == "leave":
            self.s.unstake(j, w)
        else:
            self.s.juror_withdraw(j)

    @precondition(lambda self: self.s.disputes)
    @rule(
        k=pick,
        steps=st.integers(3, 12),
        choices=choices_st,
        commit_mask=mask_st,
        reveal_mask=mask_st,
        appeal=st.sampled_from([False, True]),
        by_client=side,
        early=st.booleans(),
        leave=st.sampled_from([False, False, True]),
    )
    @guarded
    def court(self, k, steps, choices, commit_mask, reveal_mask, appeal, by_client, early, leave):
        """Up to `steps` next moves of one dispute: anyone passes a period that ran out (or
        tries too early), the drawn jurors commit (some not), votes are revealed (some not),
        a party funds an appeal (the other answers, or not: `answer_of(k)`) or lets the period lapse, the ruling is given and executed,
        rounds are distributed. With `leave`, a juror just drawn unstakes all it can."""
        d = _nth(sorted(self.s.disputes), k)
        dd = self.s.disputes[d]
        done = set()
        for _ in range(steps):
            c = self.s.cases[dd.case_id]
            now = self.s.now()
            if dd.period == COMMIT and ("commit", dd.round) not in done and now < dd.start + PERIODS[COMMIT]:
                done.add(("commit", dd.round))
                # each round votes another way (appeals can flip the ruling)
                self.s.commit(d, choices[dd.round :] + choices[: dd.round], commit_mask)
            elif (
                dd.period == REVEAL and ("reveal", dd.round) not in done and now < dd.start + PERIODS[REVEAL]
            ):
                done.add(("reveal", dd.round))
                if early:  # the seats that did not commit try now: refused
                    self.s.commit(d, choices, [True] * 7)
                self.s.reveal(d, reveal_mask)
            elif dd.period == APPEAL and appeal and "appeal" not in done and c.status == CASE_DISPUTED:
                done.add("appeal")
                if early:  # votes not revealed in time, a settlement after the draw: refused
                    self.s.reveal(d, [True] * 7)
                    self.s.propose_settlement(dd.case_id, by_client, 5_000)
                    self.s.accept_settlement(dd.case_id)
                if early and by_client and self.s.status(c.job_id, c.milestone) == DISPUTED:
                    self.s.concede(c.job_id, c.milestone)  # the client gives up instead
                else:
                    self.s.appeal(dd.case_id, by_client, answer_of(k))
            elif dd.period == APPEAL and not appeal and by_client and not dd.ruled:
                # nobody passes the period: execute_ruling makes the ruling final itself
                boa.env.time_travel(seconds=max(0, dd.start + PERIODS[APPEAL] - now))
                self.s.court_execute(d)
            elif dd.period != EXECUTION:
                drawing = dd.period == 0
                self.s.pass_period(d, wait=not early or "early" in done)
                done.add("early")
                if drawing and leave and dd.period == COMMIT:
                    drawn = [j for j in dd.rounds[-1].panel if self.s.jurors[j].weight]
                    if drawn:
                        self.s.unstake(drawn[0], self.s.jurors[drawn[0]].weight)
            elif not dd.ruled:
                self.s.court_execute(d)
            elif c.status == CASE_RULED:
                self.s.execute_case(dd.case_id)
            elif any(not r.distributed for r in dd.rounds):
                self.s.distribute(d, min(r for r, x in enumerate(dd.rounds) if not x.distributed))
            else:
                break

    @precondition(lambda self: self._disputes(EVIDENCE))
    @rule(
        k=pick,
        then=st.sampled_from(["probe", "probe", "probe", "draw now", "wait"]),
        units=st.integers(1, 5),
    )
    @guarded
    def arm_draw(self, k, then, units):
        """Anyone arms the draw of a dispute whose evidence period is over (or, armed already, it
        is drawn); while it waits, stakes, unstakes and distributions are refused. Then the draw
        is made in a later block, or left waiting (a long wait ends its window: armed again)."""
        d = _nth(self._disputes(EVIDENCE), k)
        self.s.pass_period(d, draw=False)
        j = _nth(JURORS, k // 3)
        if then == "probe":  # a stake, an unstake and a distribution: refused while the draw waits
            self.s.stake(j, units * 100 * PWK)
            self.s.unstake(j, self.s.jurors[j].weight or 100 * PWK)
            targets = self._undistributed() or [(d2, 0) for d2 in sorted(self.s.disputes)]
            self.s.distribute(*_nth(targets, k))
        elif then == "draw now" and self.s.disputes[d].period == EVIDENCE:
            self.s.pass_period(d)

    def _appealable(self):
        return [
            d
            for d, dd in self.s.disputes.items()
            if dd.period != EXECUTION
            and dd.round + 1 < 4
            and self.s.cases[dd.case_id].status == CASE_DISPUTED
        ]

    @precondition(lambda self: self._appealable())
    @rule(k=pick, by_client=side, choices=choices_st, reveal_mask=mask_st)
    @guarded
    def challenge(self, k, by_client, choices, reveal_mask):
        """A party challenges a ruling: the dispute runs to its appeal period (the drawn
        jurors vote, some reveal), the party funds its side; if the other answers (`answer_of(k)`)
        the appeal is made and the larger panel votes (otherwise than the last one, so
        appeals can flip the ruling), else the lone funder wins by default."""
        d = _nth(self._appealable(), k)
        dd = self.s.disputes[d]
        self._run_to_appeal(d, choices, reveal_mask)
        if dd.period == APPEAL:
            # seats that did not commit or reveal in time are refused now
            self.s.commit(d, choices, [True] * 7)
            self.s.reveal(d, [True] * 7)
            if self.s.appeal(dd.case_id, by_client, answer_of(k)):
                self._run_to_appeal(d, choices, reveal_mask)

    def _run_to_appeal(self, d, choices, reveal_mask):
        """Runs dispute `d` to the appeal period of its round: draw, every seat commits,
        the masked seats reveal, periods pass as they run out."""
        dd = self.s.disputes[d]
        for _ in range(6):
            rnd, now = dd.rounds[-1], self.s.now()
            if dd.period in (APPEAL, EXECUTION):
                break
            if dd.period == COMMIT and not rnd.votes and now < dd.start + PERIODS[COMMIT]:
                self.s.commit(d, choices[dd.round :] + choices[: dd.round], [True] * 7)
            elif dd.period == REVEAL and not rnd.revealed and now < dd.start + PERIODS[REVEAL]:
                self.s.reveal(d, reveal_mask)
            else:
                self.s.pass_period(d)

    @rule(seconds=st.sampled_from([HOUR, DAY, 3 * DAY, 10 * DAY]))
    @guarded
    def wait(self, seconds):
        boa.env.time_travel(seconds=seconds)

    # ------------------------------------------------------------ invariants
    @invariant()
    def model_matches_chain(self):
        """Tokens conserved after every step; the whole model against the chain every 8th
        (about 100 calls: every juror's, case's and dispute's state) and at the end."""
        self.steps += 1
        self.busy = True
        if self.steps % 8:
            self.s.check_tokens()
        else:
            self.s.check()
        self.busy = False

    def teardown(self):
        try:
            if self.busy:  # a step or check failed: that failure is the one to report
                return
            self.s.end_everything()
            for tags in self.s.tags.values():
                for tag in tags:
                    STATS[f"dispute: {tag}"] += 1
        finally:
            self._anchor.__exit__(None, None, None)


MACHINE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def test_court_system_invariants():
    """titanoboa rolls back each Hypothesis example, so the contracts are deployed outside them."""
    STATS.clear()
    with boa.env.anchor():
        pin_clock()  # the same blocks and timestamps whatever ran before in this process
        deployed = deploy_system()
        run_state_machine_as_test(lambda: SystemMachine(deployed), settings=MACHINE_SETTINGS)
    print("outcomes:", *sorted(STATS.items()), sep="\n  ")
    # the run cannot silently test nothing
    # floors well below the counts of the (pinned, derandomized) run, so that a change of
    # the machine that starves a path fails here rather than passing silently
    minimum = {
        "court ruling given": 10,
        "ruling executed on the escrow": 10,
        "round distributed": 10,
        "juror slashed": 10,
        # two-sided appeal funding
        "appeal funded": 10,  # both sides funded: the court appealed
        "dispute: appeal by both": 10,
        "appeal of a ruling with a winner": 5,  # the loser paid 2x, the winner 1.5x
        "appeal side funded": 20,
        "lone funder won by default": 5,
        "dispute: lone funder overturned the ruling": 2,
        "lone appeal deposit returned": 5,
        "appeal pot shared": 10,
        "late loser refused": 2,
        "second funding by a side refused": 5,
        "dispute: appeal flipped the ruling": 1,
        "ruling after the escrow settled": 1,
        "settled before the dispute": 1,
        "settled after the dispute, before the draw": 1,
        "rule: default for an unpaid fee": 2,
        "escrow fallback": 1,
        "client conceded": 1,
        "case closed after the escrow settled": 1,
        "unstake during a case": 1,
        "dispute: juror unstaked": 1,
        "rejection": 2,
        "unanswered submission claimed": 2,
        "dispute: tie": 1,
        "dispute: a juror never revealed": 1,
        "dispute: nobody revealed": 1,
        "vote outside its period refused": 1,
        "ended: ruled by timeouts": 1,
        # the two-step draw and its freeze
        "armed, then drawn in a later block": 20,
        "draw in its arming block refused": 10,
        "draw re-armed after its window": 1,  # also tests/contracts/test_court_attacks.py::test_c2_*
        "stake refused while a draw is pending": 3,
        "unstake refused while a draw is pending": 1,
        "distribute refused while a draw is pending": 5,
        "ruling made final without pass_period": 1,
        "dispute: silent appeal kept the ruling": 1,
        "fee refused: milestone settled": 1,
    }
    short = {k: (STATS[k], n) for k, n in minimum.items() if STATS[k] < n}
    assert not short, f"coverage too thin: {short}\n{sorted(STATS.items())}"
    # some rulings came from the jurors' votes, not only from nobody voting
    by_vote = sum(STATS[f"ruling {r} executed"] for r in range(1, 6))
    assert by_vote >= 1, f"no ruling from the jurors' votes reached the escrow: {sorted(STATS.items())}"


# ---------------------------------------------------------------- scenarios


@pytest.fixture(scope="module")
def system():
    return deploy_system()


@pytest.fixture(autouse=True)
def _pinned_clock():
    """Each scenario runs on the same clock (titanoboa's per-test anchor restores it after)."""
    pin_clock()


AMOUNT = 1_000 * USD  # three jurors at 3 %: 30 per juror, a cost of 90
FEE = 30 * USD
COST = 90 * USD


def escrow_fee(gross: int) -> int:
    return gross * ESCROW_FEE_BPS // 10_000


def disputed(s: CourtSystem, amount: int = AMOUNT, *, stakers: int = 6, pay: bool = True):
    """A job with one milestone, submitted, disputed by the client, its case opened by the
    freelancer and (pay) the client's fee paid; jurors staked. Returns (job, case, dispute)."""
    for j in JURORS[:stakers]:
        s.stake(j, 500 * PWK)
    c, f = CLIENTS[0], FREELANCERS[0]
    job_id = s.post_job(c, f, [amount])
    s.submit(job_id, 0)
    s.raise_dispute(job_id, 0, by_client=True)
    cid = s.open_case(job_id, 0, by_client=False)
    d = s.pay_fee(cid) if pay else None
    s.check()
    return job_id, cid, d


def vote(s: CourtSystem, d: int, choices: list[int], reveal: list[bool]) -> None:
    """Draw, commit every seat, reveal the masked ones, and run out the periods."""
    s.pass_period(d)  # evidence -> commit: the draw
    s.commit(d, choices, [True] * 7)
    assert s.disputes[d].period == REVEAL
    s.reveal(d, reveal)
    s.check()


def finish(s: CourtSystem, d: int) -> None:
    while s.disputes[d].period != EXECUTION:
        s.pass_period(d)
    s.court_execute(d)
    s.execute_case(s.disputes[d].case_id)
    for r in range(len(s.disputes[d].rounds)):
        s.distribute(d, r)
    s.check()


def balances(s: CourtSystem) -> dict:
    return {w: s.usd.balanceOf(w) for w in (CLIENTS[0], FREELANCERS[0])}


def test_party_never_pays_its_fee(system):
    s = CourtSystem(system)
    job_id, cid, _ = disputed(s, pay=False)
    with boa.reverts("adapter: fee timeout not over"):
        s.adapter.timeout_by_default(cid, s.state(job_id))
    s.timeout_by_default(cid)  # waits out the 3 days
    # the freelancer paid and wins by default: the milestone, and its deposit back
    f, c = FREELANCERS[0], CLIENTS[0]
    assert s.usd.balanceOf(f) == AMOUNT - escrow_fee(AMOUNT) + COST
    assert s.usd.balanceOf(c) == 0
    assert s.usd.balanceOf(s.escrow.address) == escrow_fee(AMOUNT)
    assert s.usd.balanceOf(s.adapter.address) == 0 and s.court.dispute_count() == 0
    assert s.adapter.cases(cid).status == CASE_CLOSED
    s.end_everything()


def test_jurors_never_reveal(system):
    s = CourtSystem(system)
    _, cid, d = disputed(s)
    vote(s, d, [1, 1, 1], [False] * 7)
    panel = s.disputes[d].rounds[0].panel
    assert len(panel) == 3
    before = {j: s.court.stake_balance(j) for j in set(panel)}
    finish(s, d)
    # no vote: ruling 0, half each; the reserve shared in half; fees and stakes to the treasury
    assert s.adapter.cases(cid).ruling == 0
    half = AMOUNT // 2
    assert s.usd.balanceOf(FREELANCERS[0]) == half - escrow_fee(half) + COST // 2
    assert s.usd.balanceOf(CLIENTS[0]) == half + COST // 2
    assert s.usd.balanceOf(s.escrow.address) == escrow_fee(half)
    assert s.court.credit(COURT_TREASURY, s.usd.address) == COST
    assert s.court.credit(COURT_TREASURY, s.pwk.address) == 3 * SEAT_LOCK
    for j in set(panel):
        assert s.court.stake_balance(j) == before[j] - panel.count(j) * SEAT_LOCK
        with boa.reverts("court: nothing to withdraw"):  # slashed, no reward
            s.court.withdraw(s.usd.address, sender=j)
    s.end_everything()


def test_tie_splits_in_half(system):
    s = CourtSystem(system)
    _, cid, d = disputed(s)
    vote(s, d, [1, 2, 3], [True] * 7)
    assert s.court.currentRuling(d) == 0
    finish(s, d)
    half = AMOUNT // 2
    assert s.adapter.cases(cid).ruling == 0
    assert s.usd.balanceOf(FREELANCERS[0]) == half - escrow_fee(half) + COST // 2
    assert s.usd.balanceOf(CLIENTS[0]) == half + COST // 2
    # nobody voted the ruling: every revealer shares the fees, nobody is slashed
    for j in set(s.disputes[d].rounds[0].panel):
        assert s.court.credit(j, s.usd.address) == FEE * s.disputes[d].rounds[0].panel.count(j)
    s.end_everything()


def test_appeal_flips_the_ruling(system):
    """The lone juror refunds the client; the freelancer (loser) funds 2x the appeal cost, the
    client (winner) answers with 1.5x: the court draws 3 jurors, who pay the freelancer. The
    freelancer gets the milestone, the whole reserve and the whole pot (both deposits minus
    the appeal cost)."""
    s = CourtSystem(system)
    small = 50 * USD  # a small claim: one juror, 1.5 per juror
    _, cid, d = disputed(s, small)
    fee = small * 300 // 10_000
    assert s.cases[cid].cost == fee <= 5 * USD
    vote(s, d, [2], [True])  # the lone juror refunds the client
    assert s.disputes[d].period == APPEAL and s.court.currentRuling(d) == 2
    with boa.reverts("adapter: caller is not a party"):
        s.adapter.fund_appeal(cid, sender=JURORS[0])
    cost = 3 * fee
    assert s.adapter.appeal_requirement(cid, FREELANCERS[0]) == 2 * cost
    assert s.adapter.appeal_requirement(cid, CLIENTS[0]) == cost + cost // 2
    assert s.appeal(cid, by_client=False)  # the freelancer funds, the client answers: 3 jurors
    assert len(s.disputes[d].rounds) == 2 and s.disputes[d].rounds[1].requested == 3
    assert s.usd.balanceOf(FREELANCERS[0]) == 0 and s.usd.balanceOf(CLIENTS[0]) == 0  # minted for them
    pot = 2 * cost + cost + cost // 2 - cost
    assert s.adapter.appeal_funding(cid) == (1, 0, 0, pot, False, False)
    vote(s, d, [1, 1, 1], [True] * 7)
    assert len(s.disputes[d].rounds[1].panel) == 3  # the larger panel voted
    finish(s, d)
    assert s.adapter.cases(cid).ruling == 1
    assert s.usd.balanceOf(FREELANCERS[0]) == small - escrow_fee(small) + fee + pot
    assert s.usd.balanceOf(CLIENTS[0]) == 0
    assert s.usd.balanceOf(s.escrow.address) == escrow_fee(small)
    s.end_everything()


def test_a_lone_loser_wins_by_default(system):
    """The freelancer (loser) funds its side; the client does not answer: the court's ruling
    (refund the client) is replaced at the adapter by the freelancer's full win, and its
    deposit is returned. The jurors are still paid by the court."""
    s = CourtSystem(system)
    _, cid, d = disputed(s)
    vote(s, d, [2, 2, 2], [True] * 7)
    assert not s.appeal(cid, by_client=False, answer="alone")
    finish(s, d)
    assert s.court.currentRuling(d) == 2 and s.adapter.cases(cid).ruling == 1
    assert "lone funder overturned the ruling" in s.tags[d]
    appeal_cost = 7 * FEE  # 2n + 1 = 7 jurors
    # the milestone, the reserve, and its deposit (2x the cost, minted for it) back
    assert s.usd.balanceOf(FREELANCERS[0]) == AMOUNT - escrow_fee(AMOUNT) + COST + 2 * appeal_cost
    assert s.usd.balanceOf(CLIENTS[0]) == 0
    s.end_everything()


def test_a_late_loser_is_refused_and_the_winner_keeps_its_ruling(system):
    """In the second half of the appeal period the loser can no longer fund; the winner funds
    alone and keeps its ruling, its deposit returned at the end."""
    s = CourtSystem(system)
    _, cid, d = disputed(s)
    vote(s, d, [1, 1, 3], [True] * 7)  # the freelancer wins in full
    assert not s.appeal(cid, by_client=True, answer="late")  # the client lost: refused
    assert s.stats["late loser refused"] == 1
    assert not s.appeal(cid, by_client=False, answer="alone")  # the winner funds alone
    finish(s, d)
    assert s.adapter.cases(cid).ruling == 1
    # the milestone, the reserve, and its deposit (1.5x the cost of 7 jurors, minted for it) back
    assert s.usd.balanceOf(FREELANCERS[0]) == AMOUNT - escrow_fee(AMOUNT) + COST + 7 * FEE * 3 // 2
    s.end_everything()


def test_settlement_after_the_dispute_before_the_draw(system):
    """Both fees paid, the dispute created: until its draw is armed the parties may still settle;
    the court takes the dispute back and refunds its cost, every deposit goes back."""
    s = CourtSystem(system)
    _, cid, d = disputed(s)
    with boa.reverts("court: only the arbitrable"):
        s.court.withdraw_dispute(d, sender=CLIENTS[0])
    s.propose_settlement(cid, by_client=False, bps=7_500)
    s.accept_settlement(cid)
    share = AMOUNT * 7_500 // 10_000
    assert s.usd.balanceOf(FREELANCERS[0]) == share - escrow_fee(share) + COST
    assert s.usd.balanceOf(CLIENTS[0]) == AMOUNT - share + COST  # its fee back too
    assert s.usd.balanceOf(s.adapter.address) == 0 and s.usd.balanceOf(s.court.address) == 0
    assert court_status(s.court, d) == 2
    for call in (lambda: s.court.execute_ruling(d), lambda: s.court.distribute(d, 0, [])):
        with boa.reverts():
            call()  # nothing left to rule on or to pay out
    with boa.reverts("court: dispute solved"):
        s.court.pass_period(d, sender=OUTSIDER)
    s.end_everything()


def test_settlement_refused_once_the_draw_is_armed(system):
    s = CourtSystem(system)
    _, cid, d = disputed(s)
    s.pass_period(d, draw=False)  # armed, not drawn
    s.propose_settlement(cid, by_client=True, bps=5_000)
    s.accept_settlement(cid)  # refused: too late to settle
    with boa.env.prank(s.adapter.address), boa.reverts("court: draw armed"):
        s.court.withdraw_dispute(d)
    s.pass_period(d)  # the draw
    with boa.env.prank(s.adapter.address), boa.reverts("court: jurors drawn"):
        s.court.withdraw_dispute(d)
    s.end_everything()


def test_settlement_before_the_draw(system):
    s = CourtSystem(system)
    _, cid, _ = disputed(s, pay=False)
    s.propose_settlement(cid, by_client=True, bps=6_000)
    s.accept_settlement(cid)
    share = AMOUNT * 6_000 // 10_000
    assert s.usd.balanceOf(FREELANCERS[0]) == share - escrow_fee(share) + COST  # deposit back
    assert s.usd.balanceOf(CLIENTS[0]) == AMOUNT - share
    assert s.usd.balanceOf(s.escrow.address) == escrow_fee(share)
    assert s.court.dispute_count() == 0 and s.usd.balanceOf(s.adapter.address) == 0
    with boa.reverts("adapter: case ruled or closed"):
        s.adapter.propose_settlement(cid, 0, sender=CLIENTS[0])
    s.end_everything()


def test_juror_unstakes_during_a_case(system):
    s = CourtSystem(system)
    _, _, d = disputed(s, stakers=3)
    s.pass_period(d)  # draw
    panel = s.disputes[d].rounds[0].panel
    leaver = panel[0]
    s.unstake(leaver, s.jurors[leaver].weight)  # leaves the draw, keeps its seats locked
    assert s.court.weight(leaver) == 0
    assert s.court.stake_balance(leaver) == s.court.locked(leaver) == panel.count(leaver) * SEAT_LOCK
    s.commit(d, [1, 1, 1], [True] * 7)  # still bound: it votes
    s.reveal(d, [True] * 7)
    finish(s, d)
    assert s.court.locked(leaver) == 0
    s.juror_withdraw(leaver)
    assert s.court.stake_balance(leaver) == 0
    assert s.pwk.balanceOf(leaver) == 1_000 * PWK  # its whole stake back (nobody was slashed)
    assert s.usd.balanceOf(FREELANCERS[0]) == AMOUNT - escrow_fee(AMOUNT) + COST
    assert s.usd.balanceOf(CLIENTS[0]) == 0
    assert s.usd.balanceOf(s.escrow.address) == escrow_fee(AMOUNT)
    s.end_everything()


def test_escrow_fallback_overtakes_a_slow_case(system):
    s = CourtSystem(system)
    job_id, cid, _ = disputed(s)
    s.escrow_fallback(job_id, 0)  # nobody advanced the court for 30 days
    s.execute_case(cid)  # closes the case, the reserve half each
    half = AMOUNT // 2
    assert s.usd.balanceOf(FREELANCERS[0]) == half - escrow_fee(half) + COST // 2
    assert s.usd.balanceOf(CLIENTS[0]) == half + COST // 2
    assert s.usd.balanceOf(s.adapter.address) == 0
    s.end_everything()  # the court still rules (recorded, nothing moves) and pays its jurors
    assert s.adapter.cases(cid).ruled and s.adapter.cases(cid).status == CASE_CLOSED
    assert s.usd.balanceOf(FREELANCERS[0]) == half - escrow_fee(half) + COST // 2


# ---------------------------------------------------------------- findings of the machine


def test_pay_fee_refuses_a_settled_milestone(system):
    """The client concedes (approves) while the freelancer's case waits for its fee, then pays
    the fee anyway: refused as open_case refuses it (a dispute over nothing would halve the
    reserve by ruling 0); anyone closes the case, the freelancer's deposit back in full."""
    s = CourtSystem(system)
    for j in JURORS[:3]:
        s.stake(j, 500 * PWK)
    c, f = CLIENTS[0], FREELANCERS[0]
    job_id = s.post_job(c, f, [AMOUNT])
    s.submit(job_id, 0)
    s.raise_dispute(job_id, 0, by_client=True)
    cid = s.open_case(job_id, 0, by_client=False)  # the freelancer deposits 90
    s.concede(job_id, 0)  # milestone PAID: the freelancer gets it
    assert s.pay_fee(cid) is None  # predicted and checked: "adapter: milestone settled"
    assert s.stats["fee refused: milestone settled"] == 1
    assert s.court.dispute_count() == 0 and s.cases[cid].status == WAITING_CLIENT
    s.execute_case(cid)  # closed without the escrow: deposits back
    assert s.usd.balanceOf(f) == AMOUNT - escrow_fee(AMOUNT) + COST
    assert s.usd.balanceOf(c) == COST  # minted for the refused fee, never taken
    assert s.usd.balanceOf(s.adapter.address) == 0
    s.end_everything()


def test_pay_fee_refuses_a_stale_job_state(system):
    """The job state passed to pay_fee is checked against the escrow, as in open_case."""
    s = CourtSystem(system)
    _, cid, _ = disputed(s, pay=False)
    other = s.post_job(CLIENTS[1], FREELANCERS[1], [AMOUNT])
    with boa.reverts("adapter: stale job state"):
        s.adapter.pay_fee(cid, s.state(other), sender=CLIENTS[0])
    assert s.pay_fee(cid) is not None
    s.end_everything()


def test_appeal_past_the_last_round_has_a_clear_reason(system):
    """After three appeals (1 -> 3 -> 7 -> 15 jurors, each funded by both sides) appealCost is
    max_value: the adapter refuses the fourth appeal with its own reason before any token moves."""
    s = CourtSystem(system)
    _, cid, d = disputed(s, 50 * USD)
    for r in range(4):
        while s.disputes[d].period != APPEAL:
            s.pass_period(d)
        if r < 3:
            assert s.appeal(cid, by_client=False)
    assert s.court.appealCost(d, b"") == 2**256 - 1
    s.usd.mint(FREELANCERS[0], 10**12, sender=SYSTEM_DEPLOYER)
    s.usd_bal[FREELANCERS[0]] += 10**12
    before = s.usd.balanceOf(FREELANCERS[0])
    with boa.reverts("adapter: no more appeals"):
        s.adapter.fund_appeal(cid, sender=FREELANCERS[0])
    assert not s.appeal(cid, by_client=True)  # the model predicts the same reason
    assert s.usd.balanceOf(FREELANCERS[0]) == before
    finish(s, d)
    s.end_everything()


def test_withdraw_dispute_gives_back_only_the_callers_own_fees(system):
    """A hostile arbitrable (any account may create disputes) withdraws its own dispute: it gets back
    exactly what it paid, cannot withdraw another's, nor its own twice, nor after its draw is armed;
    the court's other fees are untouched."""
    import eth_abi

    s = CourtSystem(system)
    _, _, d_other = disputed(s)  # the adapter's dispute, fees held by the court
    held = s.usd.balanceOf(s.court.address)
    extra = eth_abi.encode(["address", "uint256", "uint256"], [s.usd.address, AMOUNT, 0])
    cost = s.court.arbitrationCost(extra)
    s.usd.mint(OUTSIDER, 2 * cost, sender=SYSTEM_DEPLOYER)
    s.usd.approve(s.court.address, 2 * cost, sender=OUTSIDER)
    mine = s.court.createDispute(5, extra, sender=OUTSIDER)
    with boa.reverts("court: only the arbitrable"):
        s.court.withdraw_dispute(d_other, sender=OUTSIDER)
    s.court.withdraw_dispute(mine, sender=OUTSIDER)
    assert s.usd.balanceOf(OUTSIDER) == 2 * cost and s.usd.balanceOf(s.court.address) == held
    with boa.reverts("court: jurors drawn"):
        s.court.withdraw_dispute(mine, sender=OUTSIDER)
    with boa.reverts("court: already distributed"):
        s.court.distribute(mine, 0, [], sender=OUTSIDER)
    second = s.court.createDispute(5, extra, sender=OUTSIDER)
    boa.env.time_travel(seconds=PERIODS[EVIDENCE] + 1)
    s.court.pass_period(second, sender=OUTSIDER)  # armed
    with boa.reverts("court: draw armed"):
        s.court.withdraw_dispute(second, sender=OUTSIDER)
    assert s.usd.balanceOf(s.court.address) == held + cost
