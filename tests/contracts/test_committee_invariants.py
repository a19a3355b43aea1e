"""Stateful Hypothesis test of committee jobs (JobEscrow + OracleCommittee): a client
and a freelancer do what they like (revision requests, disputes, resubmissions,
approvals, time travel) while honest oracles score every deliverable the same way.

The classes of the audit covered here:
- no vetoed verdict: from any state, a client that keeps sending work back and disputing
  whenever the escrow lets it cannot stop the committee's verdict on the freelancer's
  last deliverable from settling the milestone (or the client paying it);
- no frozen money: the honest relayer always ends the job within a bounded time
  (MAX_REVISIONS rounds of at most a few challenge windows, or a dispute period),
  without a mutual cancel;
- no profit from labels nobody can open: on a job whose hidden labels the oracles cannot
  open (no verdict can exist), the same adversarial client ends up paying a delivered
  milestone in full (claimed after the review period, or released by `release_unjudged`
  once a disputed one had its week for a verdict), never the escrow's half split;
- a round the client paid without a settlement gets its canonical signers recorded
  (`record_signers`) once its designated period is over, once.
Each job's outcome is checked against the verdict: a passing deliverable pays the
freelancer in full, a failing one refunds the client (unless the client chose to pay).
"""

from collections import Counter

import boa
import hypothesis.strategies as st
from committee_fixtures import (
    COMMITTEE_PATH,
    DISPUTE_PERIOD,
    VERDICT_GRACE,
    WINDOW,
    CommitteeDeployer,
    CommitteeDriver,
    oracle_accounts,
)
from escrow_harness import DAY, OK, EscrowHarness, now
from escrow_model import DISPUTED, MAX_REVISIONS, OPEN, PAID, RESOLVED, SUBMITTED, norm
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

AMOUNT = 1_000 * 10**6
PASSING, FAILING = 950_000, 300_000  # the committee's pass score is 0.70
STATS: Counter = Counter()
ORACLES = oracle_accounts(4)


class CommitteeJobs(RuleBasedStateMachine):
    def __init__(self, escrow, token, committee, accounts):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.a = accounts
        self.h = EscrowHarness(escrow, token, accounts.owner.address)
        self.h.model.arbiter_windows[norm(str(committee.address))] = WINDOW
        self.d = CommitteeDriver(self.h, committee, ORACLES, accounts.relayer)
        self.quality: dict[bytes, int] = {}  # deliverable -> the honest oracles' score
        self.paid_by_client: set[int] = set()
        self.unjudgeable: set[int] = set()  # jobs whose labels the oracles cannot open
        self.recorded: set[int] = set()
        self.jobs: list[int] = []
        self.stats: Counter = Counter()

    def teardown(self):
        STATS.update(self.stats)
        self._anchor.__exit__(None, None, None)

    # ------------------------------------------------------------ helpers

    def _m(self, jid):
        return self.h.job(jid).milestones[0]

    def _deliver(self, jid: int, good: bool) -> bool:
        d = keccak(f"deliverable {jid} {now()} {len(self.quality)}".encode())
        before = self._m(jid).status
        self.h.submit(self.a.freelancer, jid, 0, d)
        if self._m(jid).status == SUBMITTED and before == OPEN:
            self.quality[d] = PASSING if good else FAILING
            return True
        return False

    def _settleable(self, jid: int) -> bool:
        if jid in self.unjudgeable:
            return False  # no oracle can score it
        m = self._m(jid)
        if m.status == SUBMITTED:
            return now() > m.timestamp + WINDOW
        if m.status == DISPUTED:
            return now() > m.timestamp + DISPUTE_PERIOD
        return False

    def _settle(self, jid: int) -> None:
        score = self.quality[self._m(jid).deliverable]
        self.d.settle(jid, 0, self.d.honest([score] * 3))

    def _wait(self, seconds: int) -> None:
        boa.env.time_travel(seconds=seconds)

    # ------------------------------------------------------------ rules

    @initialize(good=st.booleans())
    def first_job(self, good):
        self.new_job(good, True)

    @rule(good=st.booleans(), judgeable=st.sampled_from([True, True, False]))
    def new_job(self, good, judgeable):
        if len(self.jobs) >= 3:
            return
        jid = self.d.job(self.a.client, self.a.freelancer, [AMOUNT], deadline=now() + 30 * DAY)
        self.d.register(jid)  # unjudgeable: the sealed labels are useless to the oracles
        self.jobs.append(jid)
        if not judgeable:
            self.unjudgeable.add(jid)
        self._deliver(jid, good)

    @rule(k=st.integers(0, 2), good=st.booleans())
    def freelancer_delivers(self, k, good):
        jid = self.jobs[k % len(self.jobs)]
        if self._m(jid).status == OPEN:
            self._deliver(jid, good)

    @rule(k=st.integers(0, 2))
    def client_sends_back(self, k):
        jid = self.jobs[k % len(self.jobs)]
        self.h.request_revision(self.a.client, jid, 0)

    @rule(k=st.integers(0, 2), by_client=st.booleans())
    def party_disputes(self, k, by_client):
        jid = self.jobs[k % len(self.jobs)]
        self.h.raise_dispute(self.a.client if by_client else self.a.freelancer, jid, 0)

    @rule(k=st.integers(0, 2))
    def client_pays(self, k):
        jid = self.jobs[k % len(self.jobs)]
        if self._m(jid).status in (OPEN, SUBMITTED, DISPUTED) and self._m(jid).revisions >= 1:
            self.h.approve(self.a.client, jid, 0, expect=OK)
            self.paid_by_client.add(jid)

    @rule(k=st.integers(0, 2), wait=st.booleans())
    def relayer_settles(self, k, wait):
        jid = self.jobs[k % len(self.jobs)]
        m = self._m(jid)
        if wait and m.status in (SUBMITTED, DISPUTED):
            opens = m.timestamp + (DISPUTE_PERIOD if m.status == DISPUTED else WINDOW) + 1
            self._wait(max(0, opens - now()))
        if self._settleable(jid):
            self._settle(jid)
            self.stats["settled by the relayer rule"] += 1

    @rule(k=st.integers(0, 2), wait=st.booleans())
    def keeper_releases_an_unjudged_dispute(self, k, wait):
        """A keeper calls `release_unjudged`: it works only on a disputed milestone past its
        week for a verdict (the honest relayer settles a judgeable one before that)."""
        pending = [
            j for j in self.jobs if j in self.unjudgeable and self._m(j).status in (OPEN, SUBMITTED, DISPUTED)
        ]
        jid = pending[k % len(pending)] if pending else self.jobs[k % len(self.jobs)]
        if jid in self.unjudgeable and self._m(jid).status == OPEN:
            self._deliver(jid, k % 2 == 0)
        m = self._m(jid)
        if jid in self.unjudgeable and m.status == SUBMITTED and now() <= m.timestamp + WINDOW:
            self.h.raise_dispute(self.a.client, jid, 0, expect=OK)  # the client's move
            m = self._m(jid)
        if wait and m.status == DISPUTED:
            self._wait(max(0, self.d.release_opens(jid) + 1 - now()))
        if self._settleable(jid):
            self._settle(jid)  # the honest relayer was there first
            return
        m = self._m(jid)
        if m.status != DISPUTED:
            self.d.release_unjudged(jid, expect="committee: milestone not disputed")
        elif now() <= self.d.release_opens(jid):
            self.d.release_unjudged(jid, expect="committee: verdict still possible")
        else:
            self.d.release_unjudged(jid)
            self.stats["released unjudged"] += 1

    @rule(k=st.integers(0, 2), wait=st.booleans())
    def relayer_records_signers(self, k, wait):
        """After the client paid a delivered round, a non-designated quorum's reports are
        recorded as canonical, once, after the round's designated period."""
        jid = self.jobs[k % len(self.jobs)]
        m = self._m(jid)
        if m.status == SUBMITTED and jid not in self.unjudgeable:
            self.h.approve(self.a.client, jid, 0, expect=OK)  # at once: nothing to settle
            self.paid_by_client.add(jid)
            m = self._m(jid)
        if m.status != PAID or jid in self.unjudgeable or m.deliverable == b"\x00" * 32:
            return
        if wait:
            self._wait(max(0, m.timestamp + 2 * WINDOW + 1 - now()))
        chosen = self.d.designated(jid)
        quorum = [o for o in ORACLES if o != chosen[0]]
        signed = list(zip(quorum, [self.quality.get(m.deliverable, PASSING)] * 3, strict=True))
        if now() <= m.timestamp + 2 * WINDOW:
            self.d.record_signers(jid, 0, signed, expect="committee: designated period not over")
        elif jid in self.recorded:
            self.d.record_signers(jid, 0, signed, expect="committee: signers already recorded")
        else:
            self.d.record_signers(jid, 0, signed)
            self.recorded.add(jid)
            self.stats["signers recorded"] += 1

    @rule(seconds=st.sampled_from([60, WINDOW // 2, WINDOW + 1, 6 * 3_600, DAY, DISPUTE_PERIOD + 1]))
    def time_passes(self, seconds):
        self._wait(seconds)

    # ------------------------------------------------------------ invariants

    @invariant()
    def settled_jobs_follow_their_verdict(self):
        for jid in self.jobs:
            m = self._m(jid)
            if m.status == RESOLVED:
                verdict = jid in self.unjudgeable or self.quality[m.deliverable] >= 700_000
                assert m.paid == (AMOUNT if verdict else 0), (jid, m)
            assert m.revisions <= MAX_REVISIONS

    @invariant()
    def an_adversarial_client_cannot_stop_the_verdict(self):
        """From here, the client sends back and disputes whenever it can, the freelancer
        resubmits work of the same quality, the honest relayer settles when it can: the
        job ends with the verdict on the last deliverable within a bounded time."""
        for jid in self.jobs:
            if self._m(jid).status not in (OPEN, SUBMITTED, DISPUTED):
                continue
            with self.h.rollback():
                start = now()
                last = self._m(jid).deliverable
                good = self.quality.get(last, PASSING) >= 700_000
                for _ in range(60):
                    m = self._m(jid)
                    if m.status in (PAID, RESOLVED):
                        break
                    if m.status == OPEN:
                        if not self._deliver(jid, good):
                            break  # past its due time: nothing pending to judge
                        continue
                    if m.status == SUBMITTED:
                        self.h.request_revision(self.a.client, jid, 0)
                        if self._m(jid).status == SUBMITTED:
                            self.h.raise_dispute(self.a.client, jid, 0)
                        if self._m(jid).status != SUBMITTED and self._m(jid).status != DISPUTED:
                            continue
                    if self._settleable(jid):
                        self._settle(jid)
                    elif jid in self.unjudgeable:
                        # no verdict can come: the freelancer claims after the review period,
                        # or a keeper releases a dispute after its week for a verdict
                        m = self._m(jid)
                        if m.status == DISPUTED:
                            self._wait(max(0, self.d.release_opens(jid) + 1 - now()))
                            self.d.release_unjudged(jid)
                        else:
                            self._wait(max(0, m.timestamp + self.h.job(jid).review_period + 1 - now()))
                            self.h.claim(self.a.outsider, jid, 0, expect=OK)
                    else:  # the relayer waits for the first second it may settle
                        m = self._m(jid)
                        opens = m.timestamp + (DISPUTE_PERIOD if m.status == DISPUTED else WINDOW) + 1
                        self._wait(max(1, opens - now()))
                m = self._m(jid)
                if m.status == OPEN:  # undelivered at its due time: the client reclaims it
                    self._wait(max(0, self.h.job(jid).due(0) + 1 - now()))
                    self.h.reclaim(self.a.client, jid, expect=OK)
                    self.stats["reclaimed"] += 1
                elif jid in self.unjudgeable:
                    # labels nobody can open: the client never gets the half split
                    assert m.status in (PAID, RESOLVED) and m.paid == AMOUNT, m
                    assert (
                        now() - start <= DISPUTE_PERIOD + WINDOW + VERDICT_GRACE + (MAX_REVISIONS + 2) * DAY
                    )
                    self.stats["unjudgeable job paid in full under attack"] += 1
                else:
                    assert m.status == RESOLVED, m
                    verdict = self.quality[m.deliverable] >= 700_000
                    assert m.paid == (AMOUNT if verdict else 0)
                    assert now() - start <= DISPUTE_PERIOD + (MAX_REVISIONS + 2) * 2 * WINDOW + DAY
                    self.stats["verdict landed under attack"] += 1


def test_committee_invariants(escrow_deployer, stable_deployer, accounts):
    STATS.clear()
    with boa.swap_env(boa.Env()):
        boa.env.time_travel(seconds=4_000_000_000 - now(), block_delta=1)
        with boa.env.prank(accounts.owner.address):
            token = stable_deployer.deploy("Proofwork Test USD", "pUSD")
            escrow = escrow_deployer.deploy(accounts.treasury.address, 250)
        committee = CommitteeDeployer(COMMITTEE_PATH).deploy(
            escrow.address, [o.address for o in ORACLES], 1, WINDOW
        )
        run_state_machine_as_test(
            lambda: CommitteeJobs(escrow, token, committee, accounts),
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    print("outcomes:", sorted(STATS.items()))
    assert STATS["verdict landed under attack"] >= 10
    assert STATS["settled by the relayer rule"] >= 1
    assert STATS["unjudgeable job paid in full under attack"] >= 3
    assert STATS["released unjudged"] >= 1
    assert STATS["signers recorded"] >= 1
