"""Attacker's review of committee jobs going to the court (OracleCommittee `court()` /
`resolve_by_court`, EscrowArbitrable delegated jobs).

Each test plays one attacker (client, freelancer, outsider, a hostile fee token, a fake
delegating arbiter on a plain job, a hostile "court" named by a committee deployer) and
asserts the safe outcome, or the bound of an accepted behaviour (written up in SECURITY.md).

K1  every way a case on a committee job ends (BY_DEFAULT, BY_SETTLEMENT, BY_RULING,
    BY_ESCROW) leaves the milestone settled, the adapter empty, nothing left for the
    committee's verdict; a case left to die ends by anyone at its fee timeout, a fee deposit
    at the latest at the escrow's 30-day fallback
K2  the loser opens late, pays at the last second and appeals at the last second of every
    round of the real Court with its longest periods: the ruling still executes before the
    escrow's half-half fallback; the case window and the verdict window never overlap
K3  a milestone is resolved once: no verdict after a ruling, no case after a verdict, no
    second execution, no path to `resolve_by_court` but the committee's own court (a
    re-entrant fee token, another adapter on the same escrow)
K4  labels revealed while a score is disputed: another milestone still SUBMITTED blocks it,
    a disputed milestone can never be sent back or resubmitted, the verdict and the case
    still apply afterwards
K5  a fake delegating arbiter (plain job, `court()` == adapter) hurts only its own job:
    re-entry refused, other cases' deposits and the arbitrator's fees untouched, its own
    fees freed at the escrow's fallback (accepted, bounded)
K6  a hostile court named by the committee deployer: a reverting or gas-burning `case_of`
    leaves disputed milestones to the escrow's 30-day split, and it decides every dispute
    of its committee (accepted: the court is part of the committee's trust, bounded)
"""

from __future__ import annotations

import boa
import pytest
from committee_court_fixtures import (
    ADAPTER,
    AMOUNT,
    BAD,
    COST,
    ESCROW_FEE_BPS,
    ESCROW_TIMEOUT,
    FEE_TIMEOUT,
    GOOD,
    MAX_FEE_TIMEOUT,
    MOCKS,
    deploy_committee,
    deploy_court,
    executed,
    fund,
    scored_and_disputed,
)
from committee_fixtures import (
    COMMITTEE_PATH,
    DISPUTE_PERIOD,
    LABELS_CID,
    SALT,
    VERDICT_GRACE,
    WINDOW,
    CommitteeDeployer,
    CommitteeDriver,
    oracle_accounts,
)
from court_fixtures import (
    COURT_PATH,
    MIN_STAKE,
    PWK,
    SEAT_LOCK,
    SMALL_CLAIM,
    STABLE_PATH,
    TREASURY,
    commitment,
    draw,
    juror,
    partial,
    stake,
)
from court_fixtures import FEE_BPS as COURT_FEE_BPS
from escrow_harness import DAY, OK, addr, now
from eth_utils import keccak, to_checksum_address

# Used by no other test module (see committee_fixtures.COMMITTEE_DEPLOYER).
DEPLOYER = to_checksum_address(keccak(b"proofwork committee court attack deployer")[12:])
MAX_CASE_DURATION = 25 * DAY  # Court.MAX_CASE_DURATION
# The real court's longest periods: 4 rounds of them fill MAX_CASE_DURATION exactly.
LONGEST = [2 * DAY + 6 * 3_600, DAY, DAY, 2 * DAY]
JURORS = [juror(7000 + i) for i in range(7)]
CJ_SALT = b"\x55" * 32
PAID, RESOLVED = 3, 5  # milestone_status
CLOSED = 5  # EscrowArbitrable case status


@pytest.fixture(scope="session")
def oracles():
    return oracle_accounts(4, "court attack oracle")


@pytest.fixture(scope="module")
def court(escrow, token):
    return deploy_court(escrow, token, DEPLOYER)


@pytest.fixture(scope="module")
def committee(escrow, oracles, court):
    return deploy_committee(escrow, oracles, court[1])


@pytest.fixture(scope="module")
def real(escrow, oracles):
    """proofwork's Court with its longest periods, an adapter (2-day fee timeout) and a
    committee naming it; seven jurors with stake for every seat of four rounds."""
    with boa.env.prank(DEPLOYER):
        pwk = partial(STABLE_PATH).deploy("Proofwork Court", "PWK")
        jc = partial(COURT_PATH).deploy(
            pwk.address, SEAT_LOCK, MIN_STAKE, COURT_FEE_BPS, SMALL_CLAIM, LONGEST, TREASURY
        )
        adapter = partial(ADAPTER).deploy(escrow.address, jc.address, 3, FEE_TIMEOUT)
    for who in JURORS:
        stake(pwk, jc, who, 10_000 * PWK)
    committee = CommitteeDeployer(COMMITTEE_PATH).deploy(
        escrow.address, [o.address for o in oracles], 1, WINDOW, adapter.address
    )
    return jc, adapter, committee


@pytest.fixture
def d(h, committee, oracles, accounts):
    return CommitteeDriver(h, committee, oracles, accounts.relayer)


def verdict_refused(d, h, committee, job_id, accounts):
    """Neither the committee's verdict nor `release_unjudged` can touch milestone 0 any more."""
    boa.env.time_travel(seconds=DISPUTE_PERIOD + WINDOW + VERDICT_GRACE + DAY)
    d.settle(job_id, 0, d.honest(BAD), expect="committee: milestone not submitted")
    with boa.reverts("committee: milestone not disputed"):
        committee.release_unjudged(job_id, h.state(job_id), 0, sender=accounts.outsider.address)


# ---------------------------------------------------------------- K1: every closing path


@pytest.mark.parametrize("path", ["default", "settlement", "ruling", "escrow"])
def test_k1_every_closing_path_settles_the_milestone(d, h, accounts, token, court, committee, path):
    """Whichever way the case ends, the milestone is settled on the escrow in the same call
    (or was already), the adapter keeps nothing, and neither the committee's verdict nor
    `release_unjudged` nor a second close can touch it: `case_of` stays set for ever, but
    only over a settled milestone."""
    arb, adapter = court
    c, f, o = accounts.client.address, accounts.freelancer.address, accounts.outsider.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    if path == "default":
        boa.env.time_travel(seconds=FEE_TIMEOUT + 1)
        executed(
            h,
            committee,
            adapter,
            job_id,
            AMOUNT,
            lambda: adapter.timeout_by_default(case, h.state(job_id), sender=o),
        )
    elif path == "settlement":
        adapter.propose_settlement(case, 2_500, sender=c)
        executed(
            h,
            committee,
            adapter,
            job_id,
            AMOUNT // 4,
            lambda: adapter.accept_settlement(case, h.state(job_id), 2_500, sender=f),
        )
    elif path == "ruling":
        adapter.pay_fee(case, h.state(job_id), sender=c)
        arb.give_ruling(adapter.cases(case).dispute_id, 2, sender=DEPLOYER)
        executed(
            h, committee, adapter, job_id, 0, lambda: adapter.execute_ruling(case, h.state(job_id), sender=o)
        )
    else:  # the client concedes on the escrow while the freelancer's fee waits
        h.approve(c, job_id, 0, expect=OK)
        adapter.execute_ruling(case, h.state(job_id), sender=o)
    assert adapter.cases(case).status == CLOSED
    assert adapter.case_of(job_id, 0) == case
    assert h.job(job_id).milestones[0].status >= PAID
    assert token.balanceOf(adapter.address) == 0
    with boa.reverts("adapter: case closed"):
        adapter.execute_ruling(case, h.state(job_id), sender=o)
    with boa.reverts("adapter: fees not awaited"):
        adapter.timeout_by_default(case, h.state(job_id), sender=o)
    verdict_refused(d, h, committee, job_id, accounts)


def test_k1_a_case_left_to_die_is_ended_by_anyone_at_its_fee_timeout(d, h, accounts, token, court, committee):
    """The freelancer, whose deliverable the oracles failed, opens a case and the client never
    pays: the case cannot hold the milestone past the fee deadline, anyone ends it, and the
    opener wins by default (the verdict's winner must answer within FEE_TIMEOUT: SECURITY.md)."""
    _arb, adapter = court
    f = accounts.freelancer.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    deadline = adapter.cases(case).fee_deadline
    assert deadline <= h.job(job_id).milestones[0].timestamp + MAX_FEE_TIMEOUT
    boa.env.time_travel(seconds=deadline - now())
    with boa.reverts("adapter: fee timeout not over"):
        adapter.timeout_by_default(case, h.state(job_id), sender=accounts.outsider.address)
    boa.env.time_travel(seconds=1)
    before = token.balanceOf(f)
    executed(
        h,
        committee,
        adapter,
        job_id,
        AMOUNT,
        lambda: adapter.timeout_by_default(case, h.state(job_id), sender=accounts.outsider.address),
    )
    assert token.balanceOf(f) - before == AMOUNT - AMOUNT * ESCROW_FEE_BPS // 10_000 + COST
    assert token.balanceOf(adapter.address) == 0


@pytest.mark.parametrize("stage", ["waiting", "disputed", "ruled"])
def test_k1_no_deposit_outlives_the_escrow_fallback(d, h, accounts, token, court, committee, stage):
    """Nobody advances the case (no default called, a silent arbitrator, a ruling nobody
    executes): at dispute + 30 days anyone splits the milestone on the escrow, and the case
    then closes with every deposit and the reserve paid out. (A ruling not executed within
    the 30 days is lost to the split: its winner, or anyone, must execute it in time.)"""
    arb, adapter = court
    c, f, o = accounts.client.address, accounts.freelancer.address, accounts.outsider.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    raised = h.job(job_id).milestones[0].timestamp
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    if stage != "waiting":
        adapter.pay_fee(case, h.state(job_id), sender=c)
    if stage == "ruled":
        arb.give_ruling(adapter.cases(case).dispute_id, 1, sender=DEPLOYER)
    boa.env.time_travel(seconds=raised + ESCROW_TIMEOUT - now())
    h.resolve(o, job_id, 0, 0, expect="escrow: caller is not the arbiter")
    boa.env.time_travel(seconds=1)
    h.resolve(o, job_id, 0, 0, expect=OK)
    before = {w: token.balanceOf(w) for w in (c, f)}
    adapter.execute_ruling(case, h.state(job_id), sender=o)
    assert adapter.cases(case).status == CLOSED
    assert token.balanceOf(adapter.address) == 0
    back = {w: token.balanceOf(w) - before[w] for w in (c, f)}
    if stage == "waiting":
        assert back == {c: 0, f: COST}
    elif stage == "disputed":
        assert back == {c: COST - COST // 2, f: COST // 2}
    else:
        assert back == {c: 0, f: COST}
    verdict_refused(d, h, committee, job_id, accounts)


# ---------------------------------------------------------------- K2: the escrow's clock


def test_k2_the_loser_cannot_run_out_the_clock_with_the_real_court(h, accounts, token, oracles, real):
    """The oracles failed the deliverable; the freelancer disputes, opens the case at the last
    second the adapter allows, the client pays at its last second, every period of the real
    Court runs its full (longest allowed) length, jurors vote at the last second and the
    freelancer appeals at the last second of every round. Worst case: dispute + 2 + 2 days
    of fees + 4 x 6.25 days of court = dispute + 29 days and four draws: the ruling is
    executed through the committee while the escrow's fallback is still closed, with a day
    to spare."""
    jc, adapter, committee = real
    c, f, o = accounts.client.address, accounts.freelancer.address, accounts.outsider.address
    assert sum(LONGEST) * 4 == MAX_CASE_DURATION
    d = CommitteeDriver(h, committee, oracles, accounts.relayer)
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    raised = h.job(job_id).milestones[0].timestamp
    boa.env.time_travel(seconds=raised + MAX_FEE_TIMEOUT - FEE_TIMEOUT - now())
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)  # last second
    boa.env.time_travel(seconds=adapter.cases(case).fee_deadline - now())
    adapter.pay_fee(case, h.state(job_id), sender=c)  # last second
    dispute = adapter.cases(case).dispute_id
    for r in range(4):
        boa.env.time_travel(seconds=LONGEST[0])
        panel = draw(jc, dispute)
        assert panel, "every round seats jurors"
        voters = range(max(len(panel) - 1, 1))  # one seat stays silent: every period runs out
        boa.env.time_travel(seconds=LONGEST[1] - 1)
        for i in voters:
            with boa.env.prank(panel[i]):
                jc.commit(dispute, i, panel, commitment(2, CJ_SALT, panel[i]))
        if jc.dispute_clock(dispute)[0] == 1:
            boa.env.time_travel(seconds=1)
            jc.pass_period(dispute)
        boa.env.time_travel(seconds=LONGEST[2] - 1)
        for i in voters:
            jc.reveal(dispute, i, panel, 2, CJ_SALT)
        if jc.dispute_clock(dispute)[0] == 2:
            boa.env.time_travel(seconds=1)
            jc.pass_period(dispute)
        assert jc.currentRuling(dispute) == 2
        if r < 3:  # the loser funds at the last second of its half, the winner at the period's last
            boa.env.time_travel(seconds=LONGEST[3] // 2 - 1)
            adapter.fund_appeal(case, sender=f)
            boa.env.time_travel(seconds=LONGEST[3] - LONGEST[3] // 2 - 1)
            adapter.fund_appeal(case, sender=c)
        else:
            boa.env.time_travel(seconds=LONGEST[3] - 1)
    with boa.reverts("adapter: no more appeals"):
        adapter.fund_appeal(case, sender=f)
    boa.env.time_travel(seconds=1)
    jc.execute_ruling(dispute)
    elapsed = now() - raised
    # 2 + 2 days of fees, 25 days of court, the draws' blocks and the pass_period seconds
    assert MAX_FEE_TIMEOUT + MAX_CASE_DURATION <= elapsed < MAX_FEE_TIMEOUT + MAX_CASE_DURATION + 3_600
    assert raised + ESCROW_TIMEOUT - now() > 23 * 3_600  # the fallback is still a day away
    h.resolve(o, job_id, 0, 0, expect="escrow: caller is not the arbiter")
    before = token.balanceOf(c)
    pot = adapter.appeal_funding(case)[3]
    assert pot > 0
    executed(
        h, committee, adapter, job_id, 0, lambda: adapter.execute_ruling(case, h.state(job_id), sender=o)
    )
    cost = jc.arbitrationCost(adapter.extra_data(case))
    assert token.balanceOf(c) - before == AMOUNT + cost + pot  # the milestone, its fee and the appeal pot


def test_k2_the_case_window_and_the_verdict_window_never_meet(d, h, accounts, court, committee):
    """A case can be opened until dispute + 2 days; the committee's verdict on a disputed
    milestone only from dispute + 14 days: at the last second of the first the verdict is
    refused, at the first second of the second no case opens."""
    _arb, adapter = court
    f = accounts.freelancer.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    raised = h.job(job_id).milestones[0].timestamp
    boa.env.time_travel(seconds=raised + MAX_FEE_TIMEOUT - FEE_TIMEOUT - now())
    d.settle(job_id, 0, d.honest(BAD), expect="committee: milestone disputed")
    boa.env.time_travel(seconds=raised + DISPUTE_PERIOD + 1 - now())
    with boa.reverts("adapter: too late to open a case"):
        adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    assert not d.settle(job_id, 0, d.honest(BAD)).passed


# ---------------------------------------------------------------- K3: resolved once


def test_k3_no_case_after_the_verdict(d, h, accounts, court, committee):
    _arb, adapter = court
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.client)
    d.late(job_id, 0)
    assert d.settle(job_id, 0, d.honest(GOOD)).passed
    for who in (accounts.client, accounts.freelancer):
        with boa.reverts("adapter: milestone settled"):
            adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=addr(who))
    with boa.reverts("committee: milestone not disputed"):
        committee.resolve_by_court(job_id, h.state(job_id), 0, 0, sender=adapter.address)


def test_k3_another_adapter_on_the_same_escrow_cannot_take_the_job(h, escrow, token, d, accounts, court):
    """An adapter the committee does not name (same escrow, an arbitrator of the attacker's)
    cannot open a case, so cannot reach `resolve_by_court`; nor can it call it directly."""
    _arb, _adapter = court
    with boa.env.prank(DEPLOYER):
        own = partial(MOCKS / "CentralizedArbitrator.vy").deploy(token.address, 0, 0, 0, 0)
        rogue = partial(ADAPTER).deploy(escrow.address, own.address, 3, FEE_TIMEOUT)
    job_id = scored_and_disputed(d, h, accounts, rogue, accounts.freelancer)
    with boa.reverts("adapter: not the job's arbiter"):
        rogue.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=accounts.freelancer.address)
    with boa.reverts("committee: caller is not the court"):
        d.committee.resolve_by_court(job_id, h.state(job_id), 0, AMOUNT, sender=rogue.address)


@pytest.mark.parametrize("reentry", ["execute_again", "resolve_by_court", "verdict", "default"])
def test_k3_a_reentrant_fee_token_cannot_resolve_twice(
    h, escrow, accounts, court, committee, oracles, reentry
):
    """The job's token calls back while the ruling pays the freelancer (adapter ->
    committee.resolve_by_court -> escrow.resolve -> token.transfer): executing the case
    again, calling `resolve_by_court` itself, settling the committee's verdict or ending the
    case by default are all refused, and the milestone is paid once."""
    arb, adapter = court
    c, f, o = accounts.client.address, accounts.freelancer.address, accounts.outsider.address
    with boa.env.prank(DEPLOYER):
        rtoken = partial(MOCKS / "ReentrantToken.vy").deploy()
    d = CommitteeDriver(h, committee, oracles, accounts.relayer)
    job_id = d.job(accounts.client, accounts.freelancer, [AMOUNT], token=rtoken)
    d.register(job_id)
    d.submit(job_id, 0)
    h.raise_dispute(f, job_id, 0, expect=OK)
    fund(h, accounts, adapter, rtoken)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    arb.give_ruling(adapter.cases(case).dispute_id, 1, sender=DEPLOYER)
    state = h.state(job_id)
    payload = {
        "execute_again": (adapter, adapter.execute_ruling.prepare_calldata(case, state)),
        "resolve_by_court": (
            committee,
            committee.resolve_by_court.prepare_calldata(job_id, state, 0, AMOUNT),
        ),
        "verdict": (committee, committee.release_unjudged.prepare_calldata(job_id, state, 0)),
        "default": (adapter, adapter.timeout_by_default.prepare_calldata(case, state)),
    }[reentry]
    rtoken.arm(payload[0].address, payload[1], False)
    before = rtoken.balanceOf(f)
    adapter.execute_ruling(case, state, sender=o)
    assert rtoken.attempts() == 1 and not rtoken.last_ok()
    assert rtoken.balanceOf(f) - before == AMOUNT - AMOUNT * ESCROW_FEE_BPS // 10_000 + COST
    assert rtoken.balanceOf(escrow.address) == AMOUNT * ESCROW_FEE_BPS // 10_000
    assert rtoken.balanceOf(adapter.address) == 0
    assert adapter.cases(case).status == CLOSED


# ---------------------------------------------------------------- K4: labels


def test_k4_a_submitted_milestone_keeps_the_labels_hidden(d, h, accounts, court, committee):
    """Milestone 0 disputed, milestone 1 submitted (its score not settled, and the client could
    still send it back): the labels stay hidden until milestone 1 is settled."""
    _arb, adapter = court
    c = accounts.client.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer, amounts=(AMOUNT, AMOUNT))
    d.submit(job_id, 1)
    with boa.reverts("committee: job not settled"):
        committee.reveal(job_id, h.state(job_id), LABELS_CID, SALT, sender=c)
    d.past_window(job_id, 1)
    assert d.settle(job_id, 1, d.honest(GOOD)).passed
    committee.reveal(job_id, h.state(job_id), LABELS_CID, SALT, sender=c)
    assert committee.revealed_labels(job_id) == LABELS_CID


@pytest.mark.parametrize("then", ["verdict", "case"])
def test_k4_revealed_labels_change_nothing_for_a_disputed_milestone(d, h, accounts, court, committee, then):
    """Once revealed, a disputed milestone still cannot be sent back or resubmitted (the
    freelancer cannot use the labels), and it still ends by the committee's verdict or by
    the court."""
    arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    committee.reveal(job_id, h.state(job_id), LABELS_CID, SALT, sender=c)
    h.request_revision(c, job_id, 0, expect="escrow: milestone not submitted")
    h.submit(f, job_id, 0, expect="escrow: milestone not awaiting delivery")
    h.raise_dispute(c, job_id, 0, expect="escrow: milestone not disputable")
    if then == "verdict":
        d.late(job_id, 0)
        assert not d.settle(job_id, 0, d.honest(BAD)).passed
    else:
        case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
        adapter.pay_fee(case, h.state(job_id), sender=c)
        arb.give_ruling(adapter.cases(case).dispute_id, 2, sender=DEPLOYER)
        executed(
            h,
            committee,
            adapter,
            job_id,
            0,
            lambda: adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address),
        )
    assert h.job(job_id).milestones[0].status >= PAID


# ---------------------------------------------------------------- K5: a fake delegating arbiter


def fake_case(h, escrow, accounts, adapter, ruling_arb=None):
    """A plain job whose arbiter is a FakeDelegatingArbiter claiming `adapter`, disputed, its
    case opened by the freelancer and paid by the client."""
    c, f = accounts.client.address, accounts.freelancer.address
    with boa.env.prank(DEPLOYER):
        fake = partial(MOCKS / "FakeDelegatingArbiter.vy").deploy(escrow.address, adapter.address)
    job_id = h.create_job(c, [AMOUNT], freelancer=f, arbiter=fake.address, expect=OK)
    h.submit(f, job_id, 0, expect=OK)
    h.raise_dispute(c, job_id, 0, expect=OK)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    return fake, job_id, case


def honest_case(h, accounts, adapter):
    """A plain job arbitrated by `adapter` itself, disputed, both fees paid."""
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = h.create_job(c, [AMOUNT], freelancer=f, arbiter=adapter.address, expect=OK)
    h.submit(f, job_id, 0, expect=OK)
    h.raise_dispute(f, job_id, 0, expect=OK)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    return job_id, case


@pytest.mark.parametrize("reentry", ["execute_other", "withdraw", "settle_other", "resolve_other"])
def test_k5_a_fake_arbiter_cannot_reach_other_cases(h, escrow, token, accounts, court, reentry):
    """The fake arbiter's `resolve_by_court`, called by the adapter, calls back into the
    adapter (another case's execution, a withdrawal), or resolves another job on the escrow:
    all refused; its own milestone is resolved as ruled, and the other case keeps its reserve
    and still executes."""
    arb, adapter = court
    o = accounts.outsider.address
    fund(h, accounts, adapter)
    other_job, other = honest_case(h, accounts, adapter)
    fake, job_id, case = fake_case(h, escrow, accounts, adapter)
    arb.give_ruling(adapter.cases(other).dispute_id, 1, sender=DEPLOYER)
    arb.give_ruling(adapter.cases(case).dispute_id, 1, sender=DEPLOYER)
    target, payload = {
        "execute_other": (adapter, adapter.execute_ruling.prepare_calldata(other, h.state(other_job))),
        "withdraw": (adapter, adapter.withdraw.prepare_calldata(token.address)),
        "settle_other": (adapter, adapter.timeout_by_default.prepare_calldata(other, h.state(other_job))),
        "resolve_other": (escrow, escrow.resolve.prepare_calldata(other_job, h.state(other_job), 0, 0)),
    }[reentry]
    fake.set_mode(3, target.address, payload)
    held = token.balanceOf(adapter.address)
    assert held == 2 * COST  # the two reserves
    executed(
        h, fake, adapter, job_id, AMOUNT, lambda: adapter.execute_ruling(case, h.state(job_id), sender=o)
    )
    assert fake.attempts() == 1 and not fake.last_ok()
    assert token.balanceOf(adapter.address) == COST  # the other case's reserve
    assert token.balanceOf(arb.address) == 2 * COST  # the arbitrator was paid for both
    executed(
        h,
        adapter,
        adapter,
        other_job,
        AMOUNT,
        lambda: adapter.execute_ruling(other, h.state(other_job), sender=o),
    )
    assert token.balanceOf(adapter.address) == 0


@pytest.mark.parametrize("mode", [1, 2])
def test_k5_a_fake_arbiter_that_refuses_or_ignores_the_ruling_hurts_only_its_job(
    h, escrow, token, accounts, court, mode
):
    """Mode 1 reverts in `resolve_by_court`: the ruling cannot be executed and the case's
    reserve waits until the escrow's fallback (dispute + 30 days), when the case closes.
    Mode 2 does nothing: the case closes as ruled, the milestone stays disputed for its own
    arbiter or the fallback. The parties chose that arbiter; nobody else is touched."""
    arb, adapter = court
    o = accounts.outsider.address
    fund(h, accounts, adapter)
    fake, job_id, case = fake_case(h, escrow, accounts, adapter)
    raised = h.job(job_id).milestones[0].timestamp
    arb.give_ruling(adapter.cases(case).dispute_id, 1, sender=DEPLOYER)
    fake.set_mode(mode, o, b"")
    if mode == 1:
        with boa.reverts("fake: refused"):
            adapter.execute_ruling(case, h.state(job_id), sender=o)
        assert token.balanceOf(adapter.address) == COST
    else:
        adapter.execute_ruling(case, h.state(job_id), sender=o)
        assert adapter.cases(case).status == CLOSED and h.job(job_id).milestones[0].status == 2
        assert token.balanceOf(adapter.address) == 0
    boa.env.time_travel(seconds=raised + ESCROW_TIMEOUT + 1 - now())
    h.resolve(o, job_id, 0, 0, expect=OK)
    if mode == 1:
        adapter.execute_ruling(case, h.state(job_id), sender=o)
    assert adapter.cases(case).status == CLOSED
    assert token.balanceOf(adapter.address) == 0
    assert token.balanceOf(arb.address) == COST


def test_k5_a_fake_arbiters_case_must_also_be_opened_early(h, escrow, accounts, court):
    """The adapter treats any job whose arbiter claims it as delegated: the opening deadline
    applies to a fake arbiter's job too (it cannot create a case outlasting the fallback)."""
    _arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    fund(h, accounts, adapter)
    with boa.env.prank(DEPLOYER):
        fake = partial(MOCKS / "FakeDelegatingArbiter.vy").deploy(escrow.address, adapter.address)
    job_id = h.create_job(c, [AMOUNT], freelancer=f, arbiter=fake.address, expect=OK)
    h.submit(f, job_id, 0, expect=OK)
    h.raise_dispute(c, job_id, 0, expect=OK)
    boa.env.time_travel(seconds=MAX_FEE_TIMEOUT - FEE_TIMEOUT + 1)
    with boa.reverts("adapter: too late to open a case"):
        adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)


# ---------------------------------------------------------------- K6: a hostile court


@pytest.fixture
def hostile(escrow, oracles, h, accounts):
    with boa.env.prank(DEPLOYER):
        bad = partial(MOCKS / "HostileCourt.vy").deploy(escrow.address, 0)
    committee = CommitteeDeployer(COMMITTEE_PATH).deploy(
        escrow.address, [o.address for o in oracles], 1, WINDOW, bad.address
    )
    return bad, committee, CommitteeDriver(h, committee, oracles, accounts.relayer)


@pytest.mark.parametrize(
    "mode,answer", [(1, 0), (2, 0), (0, 1)], ids=["reverts", "burns_gas", "claims_cases"]
)
def test_k6_a_broken_court_leaves_disputes_to_the_escrow_fallback(h, accounts, token, hostile, mode, answer):
    """A committee deployed with a court whose `case_of` reverts, burns all its gas, or claims
    a case for every milestone: undisputed scores settle as usual, but a disputed one can be
    ended neither by the verdict nor by `release_unjudged` (the same calls succeed with a sane
    court); the escrow's fallback splits it at dispute + 30 days."""
    bad, committee, d = hostile
    c, f, o = accounts.client.address, accounts.freelancer.address, accounts.outsider.address
    bad.set_mode(mode, answer)
    calm = d.job(accounts.client, accounts.freelancer, [AMOUNT])
    d.register(calm)
    d.submit(calm, 0)
    d.past_window(calm, 0)
    assert d.settle(calm, 0, d.honest(GOOD)).passed
    job_id = d.job(accounts.client, accounts.freelancer, [AMOUNT])
    d.register(job_id)
    d.submit(job_id, 0)
    h.raise_dispute(c, job_id, 0, expect=OK)
    raised = h.job(job_id).milestones[0].timestamp
    d.late(job_id, 0)
    scores, sigs = d.sign(job_id, 0, list(zip(d.oracles[:3], GOOD, strict=True)))
    state = h.state(job_id)
    refused = {1: "court: no case for you", 2: None, 0: "committee: milestone in court"}[mode]

    def refuses(call):
        with boa.env.anchor():
            bad.set_mode(0, 0)
            call()  # a sane court lets the call through
        with boa.reverts(refused) if refused else boa.reverts():
            call()

    refuses(lambda: committee.settle(job_id, state, 0, 0, scores, sigs, sender=o, gas=3_000_000))
    boa.env.time_travel(seconds=DISPUTE_PERIOD + WINDOW + VERDICT_GRACE + 1)
    refuses(lambda: committee.release_unjudged(job_id, state, 0, sender=o, gas=3_000_000))
    boa.env.time_travel(seconds=raised + ESCROW_TIMEOUT - now())
    h.resolve(o, job_id, 0, 0, expect="escrow: caller is not the arbiter")
    boa.env.time_travel(seconds=1)
    before = token.balanceOf(f)
    h.resolve(o, job_id, 0, 0, expect=OK)
    assert token.balanceOf(f) - before == AMOUNT // 2 - (AMOUNT // 2) * ESCROW_FEE_BPS // 10_000


def test_k6_the_named_court_decides_every_dispute_of_its_committee(h, accounts, token, hostile):
    """The court a committee names is trusted like the committee: it may resolve any disputed
    milestone of its jobs at once, in any split (only disputed ones: a submitted score is the
    oracles'). Parties must check `court()` (SECURITY.md)."""
    bad, committee, d = hostile
    c = accounts.client.address
    job_id = d.job(accounts.client, accounts.freelancer, [AMOUNT, AMOUNT])
    d.register(job_id)
    d.submit(job_id, 0)
    d.submit(job_id, 1)
    h.raise_dispute(c, job_id, 0, expect=OK)
    state = h.state(job_id)
    with boa.reverts("committee: milestone not disputed"):
        bad.forward(committee.address, committee.resolve_by_court.prepare_calldata(job_id, state, 1, AMOUNT))
    executed(
        h,
        committee,
        bad,
        job_id,
        AMOUNT,
        lambda: bad.forward(
            committee.address, committee.resolve_by_court.prepare_calldata(job_id, state, 0, AMOUNT)
        ),
    )
    assert h.job(job_id).milestones[0].status == RESOLVED
