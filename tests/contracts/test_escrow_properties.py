"""Hypothesis property tests: whatever the milestone amounts, fee and order of
payments, the money that leaves a job adds up exactly to its budget.

Every call runs through the model-checked harness, so along the way each step's
events, transfers and state hash are compared with the reference model too.
"""

import boa
import hypothesis.strategies as st
from escrow_harness import DAY, OK, EscrowHarness, now
from escrow_model import BPS, DISPUTED, OPEN, SUBMITTED
from hypothesis import HealthCheck, given, settings

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

amounts_st = st.lists(st.integers(1, 10**15), min_size=1, max_size=5)
fee_st = st.integers(0, 1_000)


def bal(token, who) -> int:
    return token.balanceOf(who.address if hasattr(who, "address") else who)


@st.composite
def payment_plans(draw):
    amounts = draw(amounts_st)
    ops = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(amounts) - 1),
                st.sampled_from(["submit", "approve", "partial", "partial"]),
                st.integers(0, 2**64),
            ),
            max_size=12,
        )
    )
    return amounts, draw(fee_st), ops


@SETTINGS
@given(plan=payment_plans())
def test_payments_conserve_budget(escrow, token, accounts, plan):
    """Any sequence of approve / pay_partial, then approving the rest: freelancer + fees == budget."""
    a = accounts
    amounts, fee_bps, ops = plan
    h = EscrowHarness(escrow, token, a.owner.address)
    h.set_fee(a.owner, fee_bps, expect=OK)
    jid = h.create_job(a.client, amounts, freelancer=a.freelancer, expect=OK)
    expected_fees = 0
    for i, kind, x in ops:
        m = h.job(jid).milestones[i]
        if kind == "submit":
            h.submit(a.freelancer, jid, i)  # the model decides whether this reverts
        elif kind == "approve":
            if m.status in (OPEN, SUBMITTED):
                expected_fees += m.amount * fee_bps // BPS
            h.approve(a.client, jid, i)
        else:
            gross = 1 + x % m.amount if m.amount else 1
            if m.status in (OPEN, SUBMITTED) and gross < m.amount:
                expected_fees += gross * fee_bps // BPS
            h.pay_partial(a.client, jid, i, gross)
    for i, m in enumerate(h.job(jid).milestones):
        if m.amount:
            expected_fees += m.amount * fee_bps // BPS
            h.approve(a.client, jid, i, expect=OK)
    budget = sum(amounts)
    fees = escrow.fees_owed(token)
    assert fees == expected_fees
    assert fees <= budget * fee_bps // BPS  # rounding never favours the platform
    assert bal(token, a.freelancer) + fees == budget
    assert bal(token, escrow) == fees
    assert sum(m.paid for m in h.job(jid).milestones) == budget
    if fees:
        h.withdraw_fees(a.outsider, expect=OK)
    assert bal(token, a.freelancer) + bal(token, a.treasury) == budget
    assert bal(token, escrow) == 0


@st.composite
def settlement_plans(draw):
    amounts = draw(amounts_st)
    n = len(amounts)
    ops = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.sampled_from(["submit", "approve", "partial", "revision", "dispute", "resolve", "wait"]),
                st.integers(0, 2**64),
            ),
            max_size=10,
        )
    )
    end = draw(st.sampled_from(["cancel", "timeout"]))
    return amounts, draw(fee_st), ops, end, draw(st.integers(0, 2**64))


@SETTINGS
@given(plan=settlement_plans())
def test_reclaim_and_cancel_splits_add_up(escrow, token, accounts, plan):
    """After any history, a mutual cancel split or timeouts (claims, reclaim, arbiter)
    empty the job, and client + freelancer + fees == budget exactly."""
    a = accounts
    amounts, fee_bps, ops, end, x_end = plan
    h = EscrowHarness(escrow, token, a.owner.address)
    h.set_fee(a.owner, fee_bps, expect=OK)
    jid = h.create_job(
        a.client, amounts, freelancer=a.freelancer, arbiter=a.arbiter, review_period=2 * DAY, expect=OK
    )
    for i, kind, x in ops:
        m = h.job(jid).milestones[i]
        if kind == "submit":
            h.submit(a.freelancer, jid, i)
        elif kind == "approve":
            h.approve(a.client, jid, i)
        elif kind == "partial":
            h.pay_partial(a.client, jid, i, 1 + x % m.amount if m.amount else 1)
        elif kind == "revision":
            h.request_revision(a.client, jid, i)
        elif kind == "dispute":
            h.raise_dispute(a.freelancer if x % 2 else a.client, jid, i)
        elif kind == "resolve":
            h.resolve(a.arbiter, jid, i, x % (m.amount + 1))
        else:
            boa.env.time_travel(seconds=x % (4 * DAY))
    job = h.job(jid)
    held = job.held
    budget = sum(amounts)
    paid_before = sum(m.paid for m in job.milestones)
    cancel_share = 0
    if end == "cancel" and held:
        cancel_share = x_end % (held + 1)
        h.cancel(a.client, jid, cancel_share, expect=OK)
        h.cancel(a.freelancer, jid, cancel_share, expect=OK)
        assert h.events()[0][1]["client_amount"] == held - cancel_share
    elif held:
        horizon = max([job.deadline] + [m.timestamp + job.review_period for m in job.milestones]) + 1
        if horizon > now():
            boa.env.time_travel(seconds=horizon - now())
        for i, m in enumerate(job.milestones):
            if m.status == DISPUTED:
                h.resolve(a.arbiter, jid, i, x_end % (m.amount + 1), expect=OK)
            elif m.status == SUBMITTED:
                h.claim(a.outsider, jid, i, expect=OK)
        refundable = sum(m.amount for m in h.job(jid).milestones if m.status == OPEN)
        if refundable:
            assert h.reclaim(a.client, jid, expect=OK) == refundable
    job = h.job(jid)
    assert job.held == 0
    fees = escrow.fees_owed(token)
    freelancer_gross = sum(m.paid for m in job.milestones) + cancel_share
    client_got = bal(token, a.client)
    assert bal(token, a.freelancer) + fees == freelancer_gross
    assert client_got == budget - freelancer_gross
    assert client_got + bal(token, a.freelancer) + fees == budget
    assert bal(token, escrow) == fees
    assert freelancer_gross >= paid_before
    if end == "cancel" and held:
        assert freelancer_gross == paid_before + cancel_share
