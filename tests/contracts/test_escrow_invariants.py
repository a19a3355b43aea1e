"""Stateful Hypothesis test of JobEscrow: many jobs, clients, freelancers,
arbiters and open jobs; random transitions (right and wrong callers, stale
states, signatures, time travel, admin calls). Every call is checked against the
reference model by the harness; after every step the invariants below hold:

- per token, the escrow's balance == unpaid milestone amounts of its jobs + fees owed +
  payments credited to accounts the token refused to pay;
- per job, what left the escrow for it (sent or credited) + its fees + what it still
  holds == its budget;
- money of a job only ever goes (or is credited) to its client or freelancer, fees only
  to the treasury, a withdrawal only to an account with that much credited;
- every job's stored hash matches the model;
- no money is frozen: every job can be emptied without its arbiter ever acting: past
  all deadlines, review windows and the arbitration timeout, claims, the client's
  reclaim and anyone's `resolve` of timed-out disputes leave nothing in it, whichever
  parties a blocklisting token (half the jobs use one) refuses to pay; and every credit
  can be withdrawn once the token pays its account again;
- no verdict can be vetoed: a milestone never takes more than MAX_REVISIONS revision
  requests, and once the challenge window of a contract arbiter (the stub, standing in
  for the oracle committee) is over, neither a revision request nor a dispute can
  reopen the submission it may be judging.
"""

from collections import Counter
from types import SimpleNamespace

import boa
import hypothesis.strategies as st
from conftest import INITIAL_FEE_BPS, MOCKS
from escrow_harness import DAY, OK, EscrowHarness, now, permit_signature
from escrow_model import (
    ARBITRATION_TIMEOUT,
    DISPUTED,
    MAX_REVISIONS,
    OPEN,
    RESOLVED,
    SUBMITTED,
    ZERO_ADDRESS,
    norm,
    same,
)
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

MAX_JOBS = 6
HOUR = 3_600
STUB_WINDOW = 2 * HOUR  # challenge window of the contract arbiter (the review periods are 1 h to 3 days)
STATS: Counter = Counter()  # (function, outcome) over all examples of the run

amounts_st = st.lists(st.integers(1, 10**12), min_size=1, max_size=3)
pick = st.integers(0, 255)
aim_st = st.sampled_from([True, True, True, False])  # aim at a (job, milestone) where the call can work
wrong_st = st.sampled_from([False, False, False, False, True])  # call as a wrong account
share_st = st.integers(0, 10_000)


class EscrowMachine(RuleBasedStateMachine):
    def __init__(self, escrow, token, accounts, stub, blocklist):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.a = accounts
        self.escrow, self.token, self.blocklist = escrow, token, blocklist
        self.tokens = [token, blocklist]
        self.h = EscrowHarness(escrow, token, accounts.owner.address)
        self.h.model.arbiter_windows[norm(str(stub.address))] = STUB_WINDOW
        self.clients = [accounts.client, accounts.client2]
        self.freelancers = [accounts.freelancer, accounts.freelancer2, accounts.outsider]
        # two accounts and a contract arbiter that declares a challenge window
        self.stub = stub
        self.arbiters = [accounts.arbiter, accounts.relayer, SimpleNamespace(address=str(stub.address))]
        self.everyone = [*self.clients, *self.freelancers, *self.arbiters[:2], accounts.owner]  # they sign
        self.budget: dict[int, int] = {}
        self.job_fees: dict[int, int] = {}
        self.history: dict[int, list[tuple]] = {}
        self.checked_outflows = 0
        self.settled_hashes: set[bytes] = set()
        self.fees_withdrawn: Counter = Counter()  # token (lower-case) -> fees sent to the treasury
        self.withdrawn = 0
        self.touched: set[int] = set()
        self.extra: Counter = Counter()  # outcomes of the rules below, beyond the harness's stats

    def teardown(self):
        STATS.update(self.h.stats)
        STATS.update(self.extra)
        self._anchor.__exit__(None, None, None)

    # ---------------------------------------------------------------- helpers

    def _job_id(self, k: int) -> int:
        ids = sorted(self.h.model.jobs)
        return ids[k % len(ids)]

    def _target(self, aim: bool, k: int, m: int, pred) -> tuple[int, int]:
        """If `aim`, a (job, milestone) for which `pred(job_id, job, milestone)` holds, when
        there is one; otherwise any job and one of its milestone indices, now and
        then one past the end."""
        if aim:
            candidates = [
                (jid, i)
                for jid, j in sorted(self.h.model.jobs.items())
                for i, ms in enumerate(j.milestones)
                if pred(jid, j, ms)
            ]
            if candidates:
                return candidates[k % len(candidates)]
        jid = self._job_id(k)
        return jid, m % (len(self.h.job(jid).milestones) + 1)

    def _ensure_open_job(self, k: int) -> None:
        """If no job is open for applications, a client posts one first."""
        if any(not j.assigned for j in self.h.model.jobs.values()) or len(self.h.model.jobs) >= MAX_JOBS:
            return
        self._create(
            self.clients[k % 2], [1 + k * 1_000], ZERO_ADDRESS, self.arbiters[k % 3].address, 2 * DAY, DAY
        )

    def _ensure_submitted(self, k: int) -> None:
        """If no milestone awaits review, the freelancer of some job delivers one first."""
        if any(ms.status == SUBMITTED for j in self.h.model.jobs.values() for ms in j.milestones):
            return
        jid, m = self._target(True, k, 0, lambda i, j, ms: j.assigned and ms.status == OPEN)
        if self.h.job(jid).assigned:
            self._submit(True, False, k, m, 0, "tx")

    @staticmethod
    def _wait_until(t: int) -> None:
        if t > now():
            boa.env.time_travel(seconds=t - now())

    def _party(self, job_id: int, role: str, wrong: bool, w: int) -> str:
        """The job's account for `role`, or (if `wrong` or there is none) some account."""
        j = self.h.job(job_id)
        right = {"client": j.client, "freelancer": j.freelancer, "arbiter": j.arbiter}[role]
        if not wrong and right != ZERO_ADDRESS:
            return right
        return self.everyone[w % len(self.everyone)].address

    def _do(self, job_id: int, fn) -> None:
        """Runs a model-checked call; records the job's fees and previous state."""
        before = self.h.state(job_id)
        fn()
        if self.h.state(job_id) != before:
            self.history.setdefault(job_id, []).append(before)
            for name, fields in self.h.events():
                if name in ("MilestonePaid", "MilestoneResolved", "JobCancelled"):
                    self.job_fees[job_id] = self.job_fees.get(job_id, 0) + fields["fee"]
        self.touched.add(job_id)

    def _create(self, client, amounts, freelancer, arbiter, deadline_in, review, permit=False, token=None):
        if token is None or self.h.model.is_blocked(token.address, client.address):
            token = self.token  # a blocked client cannot fund a job in the blocklisting token
        permit_args = None
        if permit and token is self.token:
            total = sum(amounts)
            dl = now() + HOUR
            self.token.mint(client.address, total, sender=self.a.owner.address)
            permit_args = (dl, *permit_signature(client, self.token, self.escrow.address, total, dl))
        jid = self.h.create_job(
            client,
            amounts,
            freelancer=freelancer,
            arbiter=arbiter,
            deadline=now() + deadline_in,
            review_period=review,
            permit=permit_args,
            fund=permit_args is None,
            token=token,
            expect=OK,
        )
        self.budget[jid] = sum(amounts)
        self.touched.add(jid)
        return jid

    # ---------------------------------------------------------------- rules

    @initialize(a1=amounts_st, a2=amounts_st, a3=amounts_st)
    def three_jobs(self, a1, a2, a3):
        """An assigned job with an arbiter, an open one with an applicant, an assigned one without arbiter."""
        a = self.a
        self._create(a.client, a1, a.freelancer.address, a.arbiter.address, 5 * DAY, DAY)
        open_job = self._create(a.client2, a2, ZERO_ADDRESS, a.arbiter.address, 3 * DAY, 2 * DAY)
        self.h.apply(a.freelancer2, open_job, expect=OK)
        self._create(a.client2, a3, a.outsider.address, ZERO_ADDRESS, DAY, HOUR, token=self.blocklist)

    @precondition(lambda self: len(self.h.model.jobs) < MAX_JOBS)
    @rule(
        c=pick,
        kind=st.sampled_from(["assigned", "assigned", "open"]),
        f=pick,
        arb=st.sampled_from([None, 0, 1, 2, 2]),
        amounts=amounts_st,
        deadline_in=st.sampled_from([HOUR, DAY, 3 * DAY, 10 * DAY]),
        review=st.sampled_from([HOUR, DAY, 3 * DAY]),
        permit=st.booleans(),
        blocklisting=st.booleans(),
    )
    def create_job(self, c, kind, f, arb, amounts, deadline_in, review, permit, blocklisting):
        client = self.clients[c % 2]
        freelancer = self.freelancers[f % 3].address if kind == "assigned" else ZERO_ADDRESS
        arbiter = ZERO_ADDRESS if arb is None else self.arbiters[arb].address
        token = self.blocklist if blocklisting else self.token
        self._create(client, amounts, freelancer, arbiter, deadline_in, review, permit, token)

    @rule(aim=aim_st, k=pick, who=pick)
    def apply(self, aim, k, who):
        self._apply(aim, k, who, sig=False)

    @rule(aim=aim_st, k=pick, who=pick)
    def apply_with_sig(self, aim, k, who):
        self._apply(aim, k, who, sig=True)

    def _apply(self, aim, k, who, sig):
        if aim:
            self._ensure_open_job(k)
        jid, _ = self._target(aim, k, 0, lambda i, j, ms: not j.assigned)
        applicant = self.freelancers[who % 3] if aim else self.everyone[who % len(self.everyone)]
        if sig:
            self._do(jid, lambda: self.h.apply_with_sig(self.a.relayer, jid, applicant))
        else:
            self._do(jid, lambda: self.h.apply(applicant, jid))

    @rule(aim=aim_st, wrong=wrong_st, k=pick, w=pick, f=pick)
    def assign(self, aim, wrong, k, w, f):
        if aim:
            self._ensure_open_job(k)
            jid, _ = self._target(True, k, 0, lambda i, j, ms: not j.assigned)
            if not any(self.h.model.has_applied(jid, x.address) for x in self.freelancers):
                self._apply(True, jid, f, sig=bool(f % 2))
        jid, _ = self._target(
            aim,
            k,
            0,
            lambda i, j, ms: (
                not j.assigned and any(self.h.model.has_applied(i, x.address) for x in self.freelancers)
            ),
        )
        sender = self._party(jid, "client", wrong, w)
        applicants = [x for x in self.freelancers if self.h.model.has_applied(jid, x.address)]
        candidate = applicants[f % len(applicants)] if aim and applicants else self.freelancers[f % 3]
        self._do(jid, lambda: self.h.assign(sender, jid, candidate))

    @rule(aim=aim_st, wrong=wrong_st, k=pick, m=pick, w=pick)
    def submit_tx(self, aim, wrong, k, m, w):
        self._submit(aim, wrong, k, m, w, "tx")

    @rule(
        aim=aim_st,
        wrong=wrong_st,
        k=pick,
        m=pick,
        w=pick,
        mode=st.sampled_from(["tx", "sig", "sig", "bad_sig"]),
    )
    def submit(self, aim, wrong, k, m, w, mode):
        self._submit(aim, wrong, k, m, w, mode)

    def _submit(self, aim, wrong, k, m, w, mode):
        jid, m = self._target(aim, k, m, lambda i, j, ms: j.assigned and ms.status == OPEN)
        d = (1 + k + m * 7 + now()).to_bytes(32, "big")
        j = self.h.job(jid)
        if mode == "tx" or not j.assigned:
            sender = self._party(jid, "freelancer", wrong, w)
            self._do(jid, lambda: self.h.submit(sender, jid, m, d))
            return
        signer = next(x for x in self.freelancers if same(x.address, j.freelancer))
        if mode == "bad_sig":
            signer = self.a.client  # not the freelancer
        sig = self.h.submit_signature(signer, jid, m, d)
        self._do(jid, lambda: self.h.submit_with_sig(self.a.relayer, jid, m, d, sig, sig_ok=mode == "sig"))

    @rule(aim=aim_st, wrong=wrong_st, k=pick, m=pick, w=pick)
    def approve(self, aim, wrong, k, m, w):
        jid, m = self._target(aim, k, m, lambda i, j, ms: j.assigned and ms.status in (OPEN, SUBMITTED))
        sender = self._party(jid, "client", wrong, w)
        self._do(jid, lambda: self.h.approve(sender, jid, m))

    @rule(aim=aim_st, wrong=wrong_st, k=pick, m=pick, w=pick, share=share_st)
    def pay_partial(self, aim, wrong, k, m, w, share):
        jid, m = self._target(aim, k, m, lambda i, j, ms: j.assigned and ms.status in (OPEN, SUBMITTED))
        sender = self._party(jid, "client", wrong, w)
        ms = self.h.job(jid).milestones
        amount = ms[m].amount * share // 10_000 if m < len(ms) else 1
        self._do(jid, lambda: self.h.pay_partial(sender, jid, m, amount))

    @rule(aim=aim_st, wrong=wrong_st, k=pick, m=pick, w=pick)
    def request_revision(self, aim, wrong, k, m, w):
        if aim:
            self._ensure_submitted(k)
        jid, m = self._target(aim, k, m, lambda i, j, ms: ms.status == SUBMITTED)
        sender = self._party(jid, "client", wrong, w)
        self._do(jid, lambda: self.h.request_revision(sender, jid, m))

    @rule(aim=aim_st, k=pick, m=pick, w=pick, wait=st.booleans())
    def claim(self, aim, k, m, w, wait):
        if aim:
            self._ensure_submitted(k)
        jid, m = self._target(aim, k, m, lambda i, j, ms: ms.status == SUBMITTED)
        j = self.h.job(jid)
        if wait and m < len(j.milestones):  # the client stays silent until the window is over
            self._wait_until(j.milestones[m].timestamp + j.review_period + 1)
        sender = self.everyone[w % len(self.everyone)]  # anyone may claim
        self._do(jid, lambda: self.h.claim(sender, jid, m))

    @rule(aim=aim_st, wrong=wrong_st, k=pick, m=pick, w=pick, wait=st.booleans())
    def reclaim(self, aim, wrong, k, m, w, wait):
        jid, m = self._target(aim, k, m, lambda i, j, ms: ms.status == OPEN)
        j = self.h.job(jid)
        if wait and m < len(j.milestones):  # nothing is delivered until the milestone is due
            self._wait_until(j.due(m) + 1)
        sender = self._party(jid, "client", wrong, w)
        self._do(jid, lambda: self.h.reclaim(sender, jid))

    @rule(
        aim=aim_st,
        wrong=wrong_st,
        k=pick,
        w=pick,
        role=st.sampled_from(["client", "freelancer"]),
        share=share_st,
        accept=st.booleans(),
    )
    def cancel(self, aim, wrong, k, w, role, share, accept):
        if accept:
            # answer a pending offer as the other party
            jid, _ = self._target(aim, k, 0, lambda i, j, ms: ms.amount and j.cancel_proposer != ZERO_ADDRESS)
            j = self.h.job(jid)
            role = "freelancer" if same(j.cancel_proposer, j.client) else "client"
            amount = j.cancel_amount
        else:
            jid, _ = self._target(aim, k, 0, lambda i, j, ms: j.assigned and ms.amount)
            amount = self.h.job(jid).held * share // 10_000 + (share == 10_000)
        sender = self._party(jid, role, wrong, w)
        self._do(jid, lambda: self.h.cancel(sender, jid, amount))

    @rule(aim=aim_st, wrong=wrong_st, k=pick, m=pick, w=pick, role=st.sampled_from(["client", "freelancer"]))
    def raise_dispute(self, aim, wrong, k, m, w, role):
        model = self.h.model

        def disputable(i, j, ms):
            return (
                j.arbiter != ZERO_ADDRESS
                and ms.status == SUBMITTED
                and now() <= ms.timestamp + model.review_window(j)
            )

        if aim and not any(disputable(i, j, ms) for i, j in model.jobs.items() for ms in j.milestones):
            # the freelancer of an arbitrated job delivers something first
            jid, m2 = self._target(
                True,
                k,
                0,
                lambda i, j, ms: j.assigned and j.arbiter != ZERO_ADDRESS and ms.status == OPEN,
            )
            if self.h.job(jid).assigned and m2 < len(self.h.job(jid).milestones):
                self._submit(True, False, jid, m2, 0, "tx")
        jid, m = self._target(aim, k, m, disputable)
        sender = self._party(jid, role, wrong, w)
        self._do(jid, lambda: self.h.raise_dispute(sender, jid, m))

    @rule(aim=aim_st, k=pick, m=pick, w=pick, wait=st.booleans(), share=share_st)
    def resolve_timed_out_dispute(self, aim, k, m, w, wait, share):
        """Anyone (not the arbiter) ends a dispute, with or without waiting for the timeout."""
        if aim and not any(ms.status == DISPUTED for j in self.h.model.jobs.values() for ms in j.milestones):
            self.raise_dispute(True, False, k, m, w, ("client", "freelancer")[k % 2])
        jid, m = self._target(aim, k, m, lambda i, j, ms: ms.status == DISPUTED)
        j = self.h.job(jid)
        if wait and m < len(j.milestones) and j.milestones[m].status == DISPUTED:
            self._wait_until(j.milestones[m].timestamp + ARBITRATION_TIMEOUT + 1)
        sender = self.everyone[w % len(self.everyone)]
        ms = j.milestones
        amount = ms[m].amount * share // 10_000 if m < len(ms) else 0
        was_disputed = m < len(ms) and ms[m].status == DISPUTED
        self._do(jid, lambda: self.h.resolve(sender, jid, m, amount))
        now_resolved = m < len(ms) and self.h.job(jid).milestones[m].status == RESOLVED
        if was_disputed and now_resolved and not same(sender.address, j.arbiter):
            self.extra[("timed-out dispute resolved by", "anyone")] += 1

    @rule(aim=aim_st, k=pick, m=pick)
    def veto_after_the_challenge_window(self, aim, k, m):
        """On a job of the contract arbiter, a submission whose challenge window is over
        can no longer be sent back or disputed (its verdict may be settled)."""
        stub = norm(str(self.stub.address))
        pred = lambda i, j, ms: norm(j.arbiter) == stub and ms.status == SUBMITTED  # noqa: E731
        if aim and not any(pred(i, j, ms) for i, j in self.h.model.jobs.items() for ms in j.milestones):
            if len(self.h.model.jobs) >= MAX_JOBS:
                return
            new = self._create(self.clients[k % 2], [1 + k], self.freelancers[k % 3].address, stub, DAY, DAY)
            self._submit(True, False, new, 0, 0, "tx")
        jid, m = self._target(aim, k, m, pred)
        j = self.h.job(jid)
        if norm(j.arbiter) != stub or m >= len(j.milestones) or j.milestones[m].status != SUBMITTED:
            return
        self._wait_until(j.milestones[m].timestamp + STUB_WINDOW + 1)
        # both vetoes are tried each time (each is refused and changes nothing), so that the run's
        # statistics never depend on which of the two the derandomized draw happened to pick
        self.h.request_revision(j.client, jid, m, expect="escrow: review window over")
        self.extra[("late veto refused", "request_revision")] += 1
        disputer = (j.client, j.freelancer)[k % 2]
        self.h.raise_dispute(disputer, jid, m, expect="escrow: dispute window over")
        self.extra[("late veto refused", "raise_dispute")] += 1

    @rule(aim=aim_st, wrong=wrong_st, k=pick, m=pick, w=pick, share=share_st)
    def resolve(self, aim, wrong, k, m, w, share):
        jid, m = self._target(
            aim,
            k,
            m,
            lambda i, j, ms: (
                j.assigned and j.arbiter != ZERO_ADDRESS and ms.status in (OPEN, SUBMITTED, DISPUTED)
            ),
        )
        sender = self._party(jid, "arbiter", wrong, w)
        ms = self.h.job(jid).milestones
        amount = ms[m].amount * share // 10_000 + (share == 10_000) if m < len(ms) else 0
        self._do(jid, lambda: self.h.resolve(sender, jid, m, amount))

    @rule(k=pick, m=pick)
    def revise_until_capped(self, k, m):
        """The client sends one milestone back again and again, the freelancer resubmits:
        the escrow stops the loop after MAX_REVISIONS requests."""
        jid, m = self._target(True, k, m, lambda i, j, ms: j.assigned and ms.status in (OPEN, SUBMITTED))
        j = self.h.job(jid)
        if not j.assigned or m >= len(j.milestones):
            return
        for _ in range(2 * MAX_REVISIONS + 2):
            ms = self.h.job(jid).milestones[m]
            if ms.status == OPEN:
                self._submit(True, False, jid, m, 0, "tx")
                if self.h.job(jid).milestones[m].status == OPEN:
                    return  # past its due time
            elif ms.status == SUBMITTED:
                self._do(jid, lambda: self.h.request_revision(self.h.job(jid).client, jid, m))
            ms = self.h.job(jid).milestones[m]
            if ms.status == SUBMITTED and ms.revisions >= MAX_REVISIONS:
                j = self.h.job(jid)
                window = j.review_period
                if norm(j.arbiter) == norm(str(self.stub.address)):
                    window = min(window, STUB_WINDOW)
                # the window is checked before the cap: a late request is refused for lateness
                reason = (
                    "escrow: too many revisions"
                    if now() <= ms.timestamp + window
                    else "escrow: review window over"
                )
                self._do(
                    jid,
                    lambda reason=reason: self.h.request_revision(
                        self.h.job(jid).client, jid, m, expect=reason
                    ),
                )
                self.extra[("revision cap", "reached")] += 1
                return
            if ms.status not in (OPEN, SUBMITTED):
                return

    @precondition(lambda self: any(self.history.values()))
    @rule(k=pick, fn=st.sampled_from(["approve", "reclaim", "cancel", "claim"]))
    def stale_state(self, k, fn):
        jid = next(j for j in (self._job_id(k + i) for i in range(MAX_JOBS)) if self.history.get(j))
        old = self.history[jid][k % len(self.history[jid])]
        j = self.h.job(jid)
        call = {
            "approve": lambda: self.h.approve(j.client, jid, 0, state=old, expect="escrow: stale job state"),
            "reclaim": lambda: self.h.reclaim(j.client, jid, state=old, expect="escrow: stale job state"),
            "cancel": lambda: self.h.cancel(j.client, jid, 0, state=old, expect="escrow: stale job state"),
            "claim": lambda: self.h.claim(j.client, jid, 0, state=old, expect="escrow: stale job state"),
        }[fn]
        call()

    @rule(seconds=st.sampled_from([1, 10 * 60, HOUR, DAY, DAY + 1, 3 * DAY, 11 * DAY]))
    def time_passes(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @rule(bps=st.integers(0, 1_200), wrong=wrong_st)
    def set_fee(self, bps, wrong):
        self.h.set_fee(self.a.client if wrong else self.a.owner, bps)

    @rule(t=st.sampled_from(["treasury", "treasury2"]), wrong=wrong_st)
    def set_treasury(self, t, wrong):
        self.h.set_treasury(self.a.freelancer if wrong else self.a.owner, getattr(self.a, t))

    @rule(w=pick, blocklisting=st.booleans())
    def withdraw_fees(self, w, blocklisting):
        token = self.blocklist if blocklisting else self.token
        owed = self.h.model.fees(token.address)
        if self.h.withdraw_fees(self.everyone[w % len(self.everyone)], token) is not None:
            self.fees_withdrawn[norm(str(token.address))] += owed

    # A blocklisting token (like USDC's) refuses to pay some accounts, by reverting or by
    # returning False; the escrow must credit what it cannot deliver and stay emptiable.
    @rule(w=pick, flag=st.sampled_from([True, True, False]))
    def blocklist_account(self, w, flag):
        accounts = [*self.clients, *self.freelancers, self.a.treasury, self.a.treasury2]
        self.h.block(self.blocklist, accounts[w % len(accounts)], flag)
        self.extra[("blocklist", "block" if flag else "unblock")] += 1

    @rule(k=pick, m=pick, role=st.sampled_from(["freelancer", "client"]), pull=st.booleans())
    def pay_a_blocked_party(self, k, m, role, pull):
        """The token blocks a party of one of its jobs, then the client pays a milestone
        (freelancer blocked) or offers a cancel the freelancer accepts (client blocked);
        if `pull`, the token then unblocks the party, which withdraws its credit."""
        bl = norm(str(self.blocklist.address))
        jid, m = self._target(
            True, k, m, lambda i, j, ms: norm(j.token) == bl and j.assigned and ms.status in (OPEN, SUBMITTED)
        )
        j = self.h.job(jid)
        if norm(j.token) != bl or not j.assigned or m >= len(j.milestones):
            return
        if j.milestones[m].status not in (OPEN, SUBMITTED):
            return
        self.h.block(self.blocklist, getattr(j, role))
        if role == "freelancer":
            self._do(jid, lambda: self.h.approve(j.client, jid, m, expect=OK))
        else:
            share = j.held // 3
            self._do(jid, lambda: self.h.cancel(j.freelancer, jid, share, expect=OK))
            self._do(jid, lambda: self.h.cancel(j.client, jid, share, expect=OK))
        self.extra[("blocked party", "paid by credit")] += 1
        # the run's first credit is always pulled, so that a successful withdraw never depends on
        # the derandomized draw (which shifts whenever a rule of this machine changes)
        first_pull = not STATS[("withdraw", "ok")] and not self.h.stats[("withdraw", "ok")]
        if pull or first_pull:
            party = getattr(j, role)
            self.h.block(self.blocklist, party, False)
            if self.h.model.claimable(self.blocklist.address, party):
                self.withdrawn += self.h.withdraw(party, self.blocklist, expect=OK)

    @rule(flag=st.booleans())
    def blocklist_mode(self, flag):
        self.h.set_quiet(self.blocklist, flag)

    @rule(w=pick, blocklisting=st.sampled_from([True, True, False]), unblock=st.booleans())
    def withdraw(self, w, blocklisting, unblock):
        """Someone pulls its credits (usually an account with some), sometimes once the token
        has unblocked it."""
        token = self.blocklist if blocklisting else self.token
        credited = [acct for (t, acct) in self.h.model.credits if t == norm(str(token.address))]
        who = (
            credited[w % len(credited)]
            if credited and w % 4
            else self.everyone[w % len(self.everyone)].address
        )
        if unblock and token is self.blocklist:
            self.h.block(self.blocklist, who, False)
        amount = self.h.withdraw(who, token)
        if amount is not None:
            self.withdrawn += amount

    # ------------------------------------------------------------ invariants

    @invariant()
    def escrow_balance_matches_unpaid_amounts_plus_fees_plus_credits(self):
        model = self.h.model
        total_fees = 0
        for token in self.tokens:
            fees = model.fees(token.address)
            assert self.escrow.fees_owed(token) == fees
            credited = model.credited(token.address)
            assert token.balanceOf(self.escrow.address) == model.held(token.address) + fees + credited
            total_fees += fees + self.fees_withdrawn[norm(str(token.address))]
        assert total_fees == sum(self.job_fees.values())
        for (t, acct), amount in model.credits.items():
            token = self.token if same(t, self.token.address) else self.blocklist
            assert self.escrow.claimable(token, acct) == amount

    @invariant()
    def stored_hashes_match_the_model(self):
        self.h.check_all()

    @invariant()
    def money_only_goes_to_the_parties_or_treasury(self):
        for out in self.h.outflows[self.checked_outflows :]:
            if out.job_id is None and out.function == "withdraw":
                # a pull of credits (checked against the model's credit by the harness)
                assert norm(out.receiver) in {norm(x.address) for x in self.everyone}
            elif out.job_id is None:
                assert out.function == "withdraw_fees"
                assert same(out.receiver, self.h.model.treasury)
            else:
                j = self.h.job(out.job_id)
                assert norm(out.receiver) in (norm(j.client), norm(j.freelancer)), out
        self.checked_outflows = len(self.h.outflows)

    @invariant()
    def each_job_conserves_its_budget(self):
        sent: dict[int, int] = {}
        for out in self.h.outflows:
            if out.job_id is not None:
                sent[out.job_id] = sent.get(out.job_id, 0) + out.amount
        for jid, j in self.h.model.jobs.items():
            assert sent.get(jid, 0) + self.job_fees.get(jid, 0) + j.held == self.budget[jid]

    @invariant()
    def revisions_are_capped(self):
        for j in self.h.model.jobs.values():
            assert all(ms.revisions <= MAX_REVISIONS for ms in j.milestones)

    @invariant()
    def every_job_can_still_be_emptied(self):
        for jid in sorted(self.touched):
            self._settle(jid)
        self.touched.clear()

    @invariant()
    def every_credit_can_be_withdrawn(self):
        """Once the token pays them again, every credited account pulls its credit (then rolled
        back): nothing credited is frozen."""
        h = self.h
        if not h.model.credits or frozenset(h.model.credits.items()) in self.settled_hashes:
            return
        key = frozenset(h.model.credits.items())
        with h.rollback():
            for _t, acct in list(h.model.blocked):
                h.block(self.blocklist, acct, False)
            for (t, acct), amount in list(h.model.credits.items()):
                token = self.token if same(t, self.token.address) else self.blocklist
                assert h.withdraw(acct, token, expect=OK) == amount
            assert not h.model.credits
            for token in self.tokens:
                assert token.balanceOf(self.escrow.address) == h.model.held(token.address) + h.model.fees(
                    token.address
                )
        self.settled_hashes.add(key)
        self.extra[("credits", "withdrawn")] += 1

    def _settle(self, jid: int) -> None:
        """Past every deadline, review window and the arbitration timeout, without the
        arbiter: claims, the client's reclaim and an outsider's resolve of the timed-out
        disputes empty the job (then rolled back)."""
        h = self.h
        j = h.job(jid)
        key = j.hash()
        if j.held == 0 or key in self.settled_hashes:
            return
        if j.hash() != self.escrow.job_state(jid):
            raise AssertionError(f"job {jid}: the model's state hash != job_state")
        with h.rollback():
            first = len(h.outflows)
            horizon = max([j.deadline] + [m.timestamp + j.review_period for m in j.milestones]) + 1
            disputes = [m.timestamp + ARBITRATION_TIMEOUT + 1 for m in j.milestones if m.status == DISPUTED]
            horizon = max([horizon, *disputes])
            if horizon > now():
                boa.env.time_travel(seconds=horizon - now())
            for i, m in enumerate(j.milestones):
                if m.status == DISPUTED:
                    h.resolve(self.a.outsider, jid, i, 0, expect=OK)
                elif m.status == SUBMITTED:
                    h.claim(self.a.relayer, jid, i, expect=OK)
            if any(m.status == OPEN and m.amount for m in h.job(jid).milestones):
                h.reclaim(j.client, jid, expect=OK)
            assert h.job(jid).held == 0
            for token in self.tokens:
                assert token.balanceOf(self.escrow.address) == h.model.held(token.address) + h.model.fees(
                    token.address
                ) + h.model.credited(token.address)
            for out in h.outflows[first:]:
                assert out.job_id == jid
                assert norm(out.receiver) in (norm(j.client), norm(j.freelancer))
        self.settled_hashes.add(key)


# The machine's derandomized run must not depend on what ran before it in the same worker (the
# shared clock, block number and deployers' nonces): it runs in a fresh EVM of its own, on contracts
# deployed there, from a fixed time.
FIXED_START = 4_000_000_000


def test_escrow_invariants(escrow_deployer, stable_deployer, accounts):
    STATS.clear()
    with boa.swap_env(boa.Env()):
        boa.env.time_travel(seconds=FIXED_START - now(), block_delta=1)
        with boa.env.prank(accounts.owner.address):
            token = stable_deployer.deploy("Proofwork Test USD", "pUSD")
            escrow = escrow_deployer.deploy(accounts.treasury.address, INITIAL_FEE_BPS)
            stub = boa.load_partial(str(MOCKS / "ArbiterStub.vy")).deploy(STUB_WINDOW)
            blocklist = boa.load_partial(str(MOCKS / "BlocklistToken.vy")).deploy()
        _run_machine(escrow, token, accounts, stub, blocklist)


def _run_machine(escrow, token, accounts, stub, blocklist):
    run_state_machine_as_test(
        lambda: EscrowMachine(escrow, token, accounts, stub, blocklist),
        settings=settings(
            max_examples=50,
            stateful_step_count=30,
            deadline=None,
            # a fixed sequence of examples: reproducible in CI, and the coverage
            # assertions below cannot flake
            derandomize=True,
            # and no replay of examples saved by earlier runs, which would change the run's mix
            database=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.data_too_large,
            ],
        ),
    )
    print("calls by outcome:", *sorted(STATS.items()), sep="\n  ")
    # the run exercised every transition successfully, and wrong calls were refused
    succeeded = {fn for (fn, outcome) in STATS if outcome == "ok"}
    for fn in (
        "create_job",
        "apply",
        "apply_with_sig",
        "assign",
        "submit",
        "submit_with_sig",
        "approve",
        "pay_partial",
        "request_revision",
        "claim",
        "reclaim",
        "cancel",
        "raise_dispute",
        "resolve",
        "set_fee",
        "set_treasury",
        "withdraw_fees",
        "withdraw",
    ):
        assert fn in succeeded, f"no successful {fn} in the whole run: {sorted(STATS.items())}"
    # one mutual cancellation at least (alone this run has dozens; in the full parallel suite the
    # derandomized mix has been seen to differ, with a single one, for a reason not yet found)
    assert STATS[("cancel", "ok")] >= 1
    reverted = {outcome for (_, outcome) in STATS if outcome != "ok"}
    for reason in ("escrow: stale job state", "escrow: bad signature", "escrow: caller is not the client"):
        assert reason in reverted
    # the classes of the audit were exercised: disputes ended without their arbiter, late
    # vetoes refused, the revision cap reached
    assert STATS[("timed-out dispute resolved by", "anyone")] >= 1
    assert STATS[("late veto refused", "request_revision")] >= 1
    assert STATS[("late veto refused", "raise_dispute")] >= 1
    assert STATS[("revision cap", "reached")] >= 1
    # a blocklisting token refused payouts, which were credited and withdrawn
    assert STATS[("blocked party", "paid by credit")] >= 1
    assert STATS[("credits", "withdrawn")] >= 1
    assert any(outcome == "escrow: nothing to withdraw" for (fn, outcome) in STATS if fn == "withdraw")
