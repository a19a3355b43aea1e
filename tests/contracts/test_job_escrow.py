"""Unit tests of contracts/escrow/JobEscrow.vy.

Most calls go through the model-checked harness `h` (see escrow_harness.py):
besides the explicit assertions written here, every call is checked against the
reference model for its revert reason, events, token transfers, return value and
the stored state hash (computed in Python from the ABI encoding).
"""

from types import SimpleNamespace

import boa
import eth_abi
import pytest
from conftest import MOCKS
from escrow_harness import (
    DAY,
    OK,
    SPEC,
    addr,
    apply_message,
    chain_id,
    compact,
    digest_of,
    now,
    permit_signature,
    sign,
    submit_message,
)
from escrow_model import (
    CANCELLED,
    DISPUTED,
    JOB_ABI,
    MAX_REVIEW_PERIOD,
    OPEN,
    PAID,
    PAID_APPROVED,
    PAID_AUTO_RELEASE,
    PAID_PARTIAL,
    REFUNDED,
    RESOLVED,
    SUBMITTED,
    ZERO32,
    ZERO_ADDRESS,
    norm,
)
from eth_utils import keccak

USD = 10**6
AMOUNTS = [1_000 * USD, 2_000 * USD, 3_000 * USD]
BUDGET = sum(AMOUNTS)
PROPOSAL = b"\x12" * 32
FEEDBACK = keccak(b"please add an eval on the held-out set")
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def low(x) -> str:
    return norm(addr(x))


def bal(token, who) -> int:
    return token.balanceOf(addr(who))


def travel_to(t: int) -> None:
    assert t >= now()
    boa.env.time_travel(seconds=t - now())


@pytest.fixture
def a(accounts):
    return accounts


@pytest.fixture
def job(h, a):
    """An assigned job with an arbiter: 1,000 / 2,000 / 3,000 USD, 10-day deadline, 1-day review."""
    return h.create_job(a.client, AMOUNTS, freelancer=a.freelancer, arbiter=a.arbiter, expect=OK)


@pytest.fixture
def open_job(h, a):
    """The same job open for applications."""
    return h.create_job(a.client, AMOUNTS, arbiter=a.arbiter, expect=OK)


def drive(h, a, job_id, i, status):
    """Puts milestone `i` of an assigned job with an arbiter into `status`."""
    if status == SUBMITTED:
        h.submit(a.freelancer, job_id, i, expect=OK)
    elif status == DISPUTED:
        h.submit(a.freelancer, job_id, i, expect=OK)
        h.raise_dispute(a.client, job_id, i, expect=OK)
    elif status == PAID:
        h.approve(a.client, job_id, i, expect=OK)
    elif status == REFUNDED:
        travel_to(h.job(job_id).deadline + 1)
        h.reclaim(a.client, job_id, expect=OK)
    elif status == RESOLVED:
        h.resolve(a.arbiter, job_id, i, 1, expect=OK)
    elif status == CANCELLED:
        h.cancel(a.client, job_id, 5, expect=OK)
        h.cancel(a.freelancer, job_id, 5, expect=OK)
    assert h.job(job_id).milestones[i].status == status


# --------------------------------------------------------------------------- deployment


def test_deployment_state(escrow, a):
    assert escrow.owner() == a.owner.address
    assert escrow.treasury() == a.treasury.address
    assert escrow.fee_bps() == 250
    assert escrow.job_count() == 0
    assert escrow.job_state(1) == ZERO32
    fields, name, version, chain, verifying, salt, extensions = escrow.eip712Domain()
    assert fields == b"\x0f"
    assert (name, version, chain, verifying) == ("proofwork JobEscrow", "1", chain_id(), escrow.address)
    assert salt == ZERO32 and extensions == []


@pytest.mark.parametrize("fee", [0, 1_000])
def test_constructor_accepts_fee_up_to_cap(escrow_deployer, a, fee):
    with boa.env.prank(a.owner.address):
        e = escrow_deployer.deploy(a.treasury.address, fee)
    assert e.fee_bps() == fee
    assert e.owner() == a.owner.address


def test_constructor_rejects_zero_treasury(escrow_deployer):
    with boa.reverts("escrow: zero treasury"):
        escrow_deployer.deploy(ZERO_ADDRESS, 0)


def test_constructor_rejects_fee_above_cap(escrow_deployer, a):
    with boa.reverts("escrow: fee above cap"):
        escrow_deployer.deploy(a.treasury.address, 1_001)


# --------------------------------------------------------------------------- admin


def test_set_fee_applies_to_new_jobs_only(h, a, token, escrow):
    j1 = h.create_job(a.client, [10_000 * USD], freelancer=a.freelancer, expect=OK)
    h.set_fee(a.owner, 1_000, expect=OK)
    assert h.events() == [("FeeChanged", {"fee_bps": 1_000})]
    assert escrow.fee_bps() == 1_000
    j2 = h.create_job(a.client2, [10_000 * USD], freelancer=a.freelancer2, expect=OK)
    assert h.job(j1).fee_bps == 250
    assert h.job(j2).fee_bps == 1_000
    h.approve(a.client, j1, 0, expect=OK)
    h.approve(a.client2, j2, 0, expect=OK)
    assert bal(token, a.freelancer) == 9_750 * USD
    assert bal(token, a.freelancer2) == 9_000 * USD
    assert escrow.fees_owed(token) == 1_250 * USD


def test_set_fee_zero_takes_no_fee(h, a, token, escrow):
    h.set_fee(a.owner, 0, expect=OK)
    jid = h.create_job(a.client, [7 * USD], freelancer=a.freelancer, expect=OK)
    h.approve(a.client, jid, 0, expect=OK)
    assert h.events() == [
        (
            "MilestonePaid",
            {"job_id": jid, "milestone": 0, "gross": 7 * USD, "fee": 0, "reason": PAID_APPROVED},
        )
    ]
    assert bal(token, a.freelancer) == 7 * USD
    assert escrow.fees_owed(token) == 0


def test_set_fee_rejects_above_cap(h, a):
    h.set_fee(a.owner, 1_001, expect="escrow: fee above cap")
    h.set_fee(a.owner, 65_535, expect="escrow: fee above cap")


@pytest.mark.parametrize("role", ["client", "treasury", "arbiter", "outsider"])
def test_admin_functions_are_owner_only(h, a, role):
    h.set_fee(getattr(a, role), 0, expect="ownable: caller is not the owner")
    h.set_treasury(getattr(a, role), getattr(a, role), expect="ownable: caller is not the owner")
    with boa.reverts("ownable: caller is not the owner"):
        h.escrow.transfer_ownership(addr(getattr(a, role)), sender=addr(getattr(a, role)))


def test_set_treasury_redirects_fee_withdrawals(h, a, job, token, escrow):
    h.approve(a.client, job, 0, expect=OK)
    h.set_treasury(a.owner, a.treasury2, expect=OK)
    assert h.events() == [("TreasuryChanged", {"treasury": low(a.treasury2)})]
    assert escrow.treasury() == a.treasury2.address
    assert h.withdraw_fees(a.outsider, expect=OK) == 25 * USD
    assert bal(token, a.treasury2) == 25 * USD
    assert bal(token, a.treasury) == 0


def test_set_treasury_rejects_zero(h, a):
    h.set_treasury(a.owner, ZERO_ADDRESS, expect="escrow: zero treasury")


def test_transfer_ownership(h, a, escrow):
    escrow.transfer_ownership(a.outsider.address, sender=a.owner.address)
    assert escrow.owner() == a.outsider.address
    h.model.owner = a.outsider.address
    h.set_fee(a.owner, 0, expect="ownable: caller is not the owner")
    h.set_fee(a.outsider, 0, expect=OK)
    with boa.reverts("ownable: new owner is the zero address"):
        escrow.transfer_ownership(ZERO_ADDRESS, sender=a.outsider.address)


def test_withdraw_fees(h, a, job, token, escrow):
    h.withdraw_fees(a.outsider, expect="escrow: no fees")
    h.approve(a.client, job, 0, expect=OK)
    assert escrow.fees_owed(token) == 25 * USD
    assert h.withdraw_fees(a.outsider, expect=OK) == 25 * USD
    assert h.events() == [
        ("FeesWithdrawn", {"token": low(token), "treasury": low(a.treasury), "amount": 25 * USD})
    ]
    assert h.token_transfers() == [(low(escrow), low(a.treasury), 25 * USD)]
    assert escrow.fees_owed(token) == 0
    assert bal(token, a.treasury) == 25 * USD
    assert bal(token, escrow) == BUDGET - 1_000 * USD
    h.withdraw_fees(a.outsider, expect="escrow: no fees")
    # fees of a token are kept apart from other tokens
    h.withdraw_fees(a.outsider, a.outsider.address, expect="escrow: no fees")


def test_owner_cannot_move_escrowed_funds(h, a, job, token, escrow):
    o = a.owner
    h.submit(a.freelancer, job, 0, expect=OK)
    h.submit(a.freelancer, job, 1, expect=OK)
    h.raise_dispute(a.client, job, 1, expect=OK)
    h.approve(o, job, 0, expect="escrow: caller is not the client")
    h.pay_partial(o, job, 0, 1, expect="escrow: caller is not the client")
    h.request_revision(o, job, 0, expect="escrow: caller is not the client")
    h.reclaim(o, job, expect="escrow: caller is not the client")
    h.assign(o, job, o, expect="escrow: caller is not the client")
    h.cancel(o, job, 0, expect="escrow: caller is not a party")
    h.raise_dispute(o, job, 2, expect="escrow: caller is not a party")
    h.resolve(o, job, 1, 0, expect="escrow: caller is not the arbiter")
    h.submit(o, job, 2, expect="escrow: caller is not the freelancer")
    h.apply(o, job, expect="escrow: job is not open")
    # every admin power at once
    h.set_fee(o, 1_000, expect=OK)
    h.set_treasury(o, o, expect=OK)
    h.withdraw_fees(o, expect="escrow: no fees")
    escrow.transfer_ownership(a.outsider.address, sender=o.address)
    assert bal(token, escrow) == BUDGET
    assert bal(token, o) == 0
    # the job keeps the fee it was created with; the owner only ever gets fees
    travel_to(h.job(job).milestones[0].timestamp + DAY + 1)
    h.claim(o, job, 0, expect=OK)
    assert h.token_transfers() == [(low(escrow), low(a.freelancer), 975 * USD)]
    assert h.withdraw_fees(o, expect=OK) == 25 * USD
    assert bal(token, o) == 25 * USD
    assert bal(token, escrow) == BUDGET - 1_000 * USD


# --------------------------------------------------------------------------- create_job


def test_create_job(h, a, token, escrow):
    jid = h.create_job(
        a.client, AMOUNTS, freelancer=a.freelancer, arbiter=a.arbiter, review_period=3 * DAY, expect=OK
    )
    assert jid == 1
    assert escrow.job_count() == 1
    deadline = h.job(jid).deadline
    assert h.events() == [
        (
            "JobCreated",
            {
                "job_id": 1,
                "client": low(a.client),
                "freelancer": low(a.freelancer),
                "token": low(token),
                "arbiter": low(a.arbiter),
                "deadline": deadline,
                "review_period": 3 * DAY,
                "fee_bps": 250,
                "spec_hash": SPEC,
                "amounts": AMOUNTS,
            },
        )
    ]
    assert h.token_transfers() == [(low(a.client), low(escrow), BUDGET)]
    assert bal(token, escrow) == BUDGET
    assert bal(token, a.client) == 0
    state = (
        a.client.address,
        a.freelancer.address,
        token.address,
        a.arbiter.address,
        deadline,
        3 * DAY,
        250,
        SPEC,
        ZERO_ADDRESS,
        0,
        [(x, 0, 0, 0, 0, ZERO32) for x in AMOUNTS],
    )
    stored = escrow.job_state(jid)
    assert stored == keccak(eth_abi.encode([JOB_ABI], [state]))
    assert h.create_job(a.client2, [5], expect=OK) == 2
    assert escrow.job_count() == 2


def test_create_open_job(h, a, escrow):
    jid = h.create_job(a.client, [5, 6], expect=OK)
    assert h.events()[0][1]["freelancer"] == ZERO_ADDRESS
    assert h.events()[0][1]["arbiter"] == ZERO_ADDRESS
    assert h.job(jid).freelancer == ZERO_ADDRESS


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"amounts": []}, "escrow: no milestones"),
        ({"freelancer": "client"}, "escrow: client cannot be the freelancer"),
        ({"arbiter": "client"}, "escrow: arbiter is a party"),
        ({"freelancer": "freelancer", "arbiter": "freelancer"}, "escrow: arbiter is a party"),
        ({"deadline": 0}, "escrow: deadline in the past"),
        ({"deadline": -1}, "escrow: deadline in the past"),
        ({"review_period": 0}, "escrow: bad review period"),
        ({"review_period": MAX_REVIEW_PERIOD + 1}, "escrow: bad review period"),
        ({"amounts": [5, 0, 7]}, "escrow: zero milestone"),
        ({"amounts": [2**255, 2**255]}, ""),  # checked addition overflows
        ({"amounts": [1] * 17}, ""),  # calldata bound of DynArray[uint256, 16]
    ],
)
def test_create_job_rejects_bad_parameters(h, a, escrow, kwargs, reason):
    kw = dict(kwargs)
    amounts = kw.pop("amounts", [5])
    for key in ("freelancer", "arbiter"):
        if key in kw:
            kw[key] = getattr(a, kw[key])
    if "deadline" in kw:
        kw["deadline"] = now() + kw["deadline"]
    h.create_job(a.client, amounts, fund=False, expect=reason, **kw)
    assert escrow.job_count() == 0


@pytest.mark.parametrize("token_addr", ["outsider", "zero"])
def test_create_job_rejects_non_contract_token(h, a, token_addr):
    t = ZERO_ADDRESS if token_addr == "zero" else a.outsider.address
    h.create_job(a.client, [5], token=t, fund=False, expect="escrow: token is not a contract")


def test_create_job_edges_accepted(h, a):
    h.create_job(a.client, [1] * 16, deadline=now() + 1, review_period=MAX_REVIEW_PERIOD, expect=OK)
    assert len(h.job(1).milestones) == 16


def test_create_job_needs_allowance_and_balance(a, token, escrow):
    args = (token.address, a.freelancer.address, [5 * USD], now() + DAY, DAY, SPEC, ZERO_ADDRESS)
    token.mint(a.client.address, 5 * USD, sender=a.owner.address)
    with boa.reverts("erc20: insufficient allowance"):
        escrow.create_job(*args, sender=a.client.address)
    token.approve(escrow.address, 10 * USD, sender=a.client.address)
    token.transfer(a.outsider.address, 1, sender=a.client.address)
    with boa.reverts("erc20: transfer amount exceeds balance"):
        escrow.create_job(*args, sender=a.client.address)
    assert escrow.job_count() == 0
    assert escrow.job_state(1) == ZERO32


def test_fee_on_transfer_token_rejected(a, escrow, fot_deployer):
    fot = fot_deployer.deploy()
    fot.mint(a.client.address, 1_000 * USD)
    fot.approve(escrow.address, 1_000 * USD, sender=a.client.address)
    args = (fot.address, a.freelancer.address)
    rest = (now() + DAY, DAY, SPEC, ZERO_ADDRESS)
    with boa.reverts("escrow: token delivered less than sent"):
        escrow.create_job(*args, [1_000 * USD], *rest, sender=a.client.address)
    assert escrow.job_count() == 0
    assert fot.balanceOf(escrow.address) == 0
    assert fot.balanceOf(a.client.address) == 1_000 * USD
    # control: below 100 units the mock burns nothing, and the same call goes through
    assert escrow.create_job(*args, [99], *rest, sender=a.client.address) == 1
    assert fot.balanceOf(escrow.address) == 99


@pytest.fixture(scope="module")
def blocklist():
    return boa.load_partial(str(MOCKS / "BlocklistToken.vy")).deploy()


def test_token_returning_false_is_rejected(h, a, escrow, reentrant_deployer):
    """A budget the token reports as not pulled (False) creates no job."""
    t = reentrant_deployer.deploy()
    t.set_return_false(True)
    t.mint(a.client.address, 5 * USD)
    t.approve(escrow.address, 5 * USD, sender=a.client.address)
    with boa.reverts("escrow: transfer failed"):
        escrow.create_job(
            t.address,
            a.freelancer.address,
            [5 * USD],
            now() + DAY,
            DAY,
            SPEC,
            ZERO_ADDRESS,
            sender=a.client.address,
        )
    assert escrow.job_count() == 0


def test_a_payout_the_token_reports_as_failed_is_credited(h, a, escrow, blocklist):
    """A payout the token answers with False (ERC-20: nothing moved) is credited to its
    receiver instead of reverting the payment (as a reverting transfer is); the pull
    (`withdraw`) must get True or reverts, keeping the credit, until the token pays."""
    h.set_quiet(blocklist)
    jid = h.create_job(a.client, [5 * USD], freelancer=a.freelancer, token=blocklist, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.block(blocklist, a.freelancer)
    h.approve(a.client, jid, 0, expect=OK)
    net = 5 * USD - 5 * USD * 250 // 10_000
    assert h.events()[-1] == (
        "PaymentCredited",
        {"token": norm(blocklist.address), "account": norm(a.freelancer.address), "amount": net},
    )
    assert escrow.claimable(blocklist.address, a.freelancer.address) == net
    with boa.reverts("escrow: transfer failed"):
        escrow.withdraw(blocklist.address, sender=a.freelancer.address)
    assert escrow.claimable(blocklist.address, a.freelancer.address) == net
    h.block(blocklist, a.freelancer, False)
    assert h.withdraw(a.freelancer, blocklist, expect=OK) == net
    assert blocklist.balanceOf(a.freelancer.address) == net
    h.withdraw(a.freelancer, blocklist, expect="escrow: nothing to withdraw")


def test_token_without_bool_return_works(h, a, escrow, noreturn_deployer):
    t = noreturn_deployer.deploy()
    jid = h.create_job(a.client, AMOUNTS, freelancer=a.freelancer, token=t, expect=OK)
    assert t.balanceOf(escrow.address) == BUDGET
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.approve(a.client, jid, 0, expect=OK)
    h.submit(a.freelancer, jid, 1, expect=OK)
    boa.env.time_travel(seconds=DAY + 1)
    h.claim(a.outsider, jid, 1, expect=OK)
    travel_to(h.job(jid).deadline + 1)
    assert h.reclaim(a.client, jid, expect=OK) == 3_000 * USD
    assert h.withdraw_fees(a.outsider, t, expect=OK) == 75 * USD
    assert t.balanceOf(a.freelancer.address) == 3_000 * USD - 75 * USD
    assert t.balanceOf(a.client.address) == 3_000 * USD
    assert t.balanceOf(a.treasury.address) == 75 * USD
    assert t.balanceOf(escrow.address) == 0


# --------------------------------------------------------------------------- permit


def test_create_job_with_permit(h, a, token, escrow):
    deadline = now() + DAY
    v, r, s = permit_signature(a.client, token, escrow.address, BUDGET, deadline)
    jid = h.create_job(a.client, AMOUNTS, freelancer=a.freelancer, permit=(deadline, v, r, s), expect=OK)
    assert jid == 1
    assert bal(token, escrow) == BUDGET
    assert token.nonces(a.client.address) == 1
    assert token.allowance(a.client.address, escrow.address) == 0


def test_front_run_permit_still_funds(h, a, token, escrow):
    token.mint(a.client.address, BUDGET, sender=a.owner.address)
    deadline = now() + DAY
    v, r, s = permit_signature(a.client, token, escrow.address, BUDGET, deadline)
    # a front-runner submits the permit first: the signature is spent
    token.permit(a.client.address, escrow.address, BUDGET, deadline, v, r, s, sender=a.outsider.address)
    assert token.allowance(a.client.address, escrow.address) == BUDGET
    jid = h.create_job(a.client, AMOUNTS, permit=(deadline, v, r, s), fund=False, expect=OK)
    assert jid == 1
    assert bal(token, escrow) == BUDGET
    assert token.nonces(a.client.address) == 1


def test_bad_permit_without_allowance_reverts(a, token, escrow):
    token.mint(a.client.address, BUDGET, sender=a.owner.address)
    deadline = now() + DAY
    # signed for another amount, so invalid for the budget
    v, r, s = permit_signature(a.client, token, escrow.address, BUDGET + 1, deadline)
    args = (token.address, a.freelancer.address, AMOUNTS, now() + DAY, DAY, SPEC, ZERO_ADDRESS)
    with boa.reverts("erc20: insufficient allowance"):
        escrow.create_job_with_permit(*args, deadline, v, r, s, sender=a.client.address)
    # a permit signed by someone else does not help either
    v, r, s = permit_signature(a.outsider, token, escrow.address, BUDGET, deadline)
    with boa.reverts("erc20: insufficient allowance"):
        escrow.create_job_with_permit(*args, deadline, v, r, s, sender=a.client.address)
    assert escrow.job_count() == 0
    assert token.nonces(a.client.address) == 0


def test_expired_permit_ignored_when_allowance_exists(h, a, token, escrow):
    token.mint(a.client.address, BUDGET, sender=a.owner.address)
    token.approve(escrow.address, BUDGET, sender=a.client.address)
    boa.env.time_travel(seconds=DAY)
    v, r, s = permit_signature(a.client, token, escrow.address, BUDGET, now() - 1)
    jid = h.create_job(a.client, AMOUNTS, permit=(now() - 1, v, r, s), fund=False, expect=OK)
    assert jid == 1
    assert token.nonces(a.client.address) == 0


def test_permit_path_with_token_without_permit(h, a, escrow, noreturn_deployer):
    t = noreturn_deployer.deploy()
    t.mint(a.client.address, BUDGET)
    t.approve(escrow.address, BUDGET, sender=a.client.address)
    jid = h.create_job(a.client, AMOUNTS, token=t, permit=(0, 27, ZERO32, ZERO32), fund=False, expect=OK)
    assert jid == 1
    assert t.balanceOf(escrow.address) == BUDGET


# --------------------------------------------------------------------------- apply / assign


def test_apply_and_assign(h, a, open_job, escrow):
    h.apply(a.freelancer, open_job, b"\x11" * 32, expect=OK)
    assert h.events() == [
        ("Applied", {"job_id": open_job, "applicant": low(a.freelancer), "proposal": b"\x11" * 32})
    ]
    assert escrow.applied(open_job, a.freelancer.address)
    assert not escrow.applied(open_job, a.freelancer2.address)
    h.apply(a.freelancer2, open_job, expect=OK)
    h.assign(a.client, open_job, a.freelancer2, expect=OK)
    assert h.events() == [("FreelancerAssigned", {"job_id": open_job, "freelancer": low(a.freelancer2)})]
    assert h.job(open_job).freelancer == a.freelancer2.address
    h.submit(a.freelancer2, open_job, 0, expect=OK)
    h.submit(a.freelancer, open_job, 1, expect="escrow: caller is not the freelancer")
    h.apply(a.outsider, open_job, expect="escrow: job is not open")
    h.assign(a.client, open_job, a.freelancer, expect="escrow: freelancer already assigned")


def test_apply_rejects_parties(h, a, open_job):
    h.apply(a.client, open_job, expect="escrow: client cannot apply")
    h.apply(a.arbiter, open_job, expect="escrow: arbiter cannot apply")


def test_apply_to_assigned_job(h, a, job):
    h.apply(a.outsider, job, expect="escrow: job is not open")
    h.apply_with_sig(a.relayer, job, a.outsider, expect="escrow: job is not open")


def test_assign_rejects(h, a, open_job):
    other = h.create_job(a.client2, [5], expect=OK)
    h.apply(a.freelancer, other, expect=OK)
    h.assign(a.client, open_job, a.freelancer, expect="escrow: account did not apply")
    h.apply(a.freelancer, open_job, expect=OK)
    for who in (a.freelancer, a.arbiter, a.outsider, a.client2):
        h.assign(who, open_job, a.freelancer, expect="escrow: caller is not the client")
    h.assign(a.client, open_job, ZERO_ADDRESS, expect="escrow: zero freelancer")


def test_zero_address_can_neither_apply_nor_be_assigned(h, a, open_job, escrow):
    # a malformed signature "recovers" the zero address: it must not count as one
    for sig in (b"", b"\x00" * 10, b"\x00" * 65):
        with boa.reverts("escrow: zero applicant"):
            escrow.apply_with_sig(
                open_job, h.state(open_job), ZERO_ADDRESS, PROPOSAL, sig, sender=a.relayer.address
            )
    assert not escrow.applied(open_job, ZERO_ADDRESS)
    h.apply_with_sig(
        a.relayer,
        open_job,
        ZERO_ADDRESS,
        PROPOSAL,
        signature=b"",
        sig_ok=False,
        expect="escrow: zero applicant",
    )
    h.assign(a.client, open_job, ZERO_ADDRESS, expect="escrow: zero freelancer")
    assert h.job(open_job).freelancer == ZERO_ADDRESS


def test_apply_with_sig(h, a, open_job, escrow):
    h.apply_with_sig(a.relayer, open_job, a.freelancer, PROPOSAL, expect=OK)
    assert h.events() == [
        ("Applied", {"job_id": open_job, "applicant": low(a.freelancer), "proposal": PROPOSAL})
    ]
    assert escrow.applied(open_job, a.freelancer.address)
    assert not escrow.applied(open_job, a.relayer.address)
    # EIP-2098 compact signatures work too
    sig = sign(a.freelancer2, apply_message(escrow, open_job, a.freelancer2.address, PROPOSAL))
    h.apply_with_sig(a.relayer, open_job, a.freelancer2, PROPOSAL, signature=compact(sig), expect=OK)
    h.assign(a.client, open_job, a.freelancer2, expect=OK)


@pytest.mark.parametrize(
    "case",
    [
        "other_signer",
        "other_job",
        "other_proposal",
        "other_chain",
        "other_contract",
        "other_name",
        "truncated",
    ],
)
def test_apply_with_sig_rejects_bad_signatures(h, a, open_job, escrow, token, case):
    job_id, proposal, signer, verifying, kw = open_job, PROPOSAL, a.freelancer, escrow, {}
    if case == "other_signer":
        signer = a.freelancer2
    elif case == "other_job":
        job_id = open_job + 1
    elif case == "other_proposal":
        proposal = b"\x13" * 32
    elif case == "other_chain":
        kw["chain"] = chain_id() + 1
    elif case == "other_contract":
        verifying = SimpleNamespace(address=token.address)
    elif case == "other_name":
        kw["name"] = "proofwork JobEscrow v2"
    sig = sign(signer, apply_message(verifying, job_id, a.freelancer.address, proposal, **kw))
    if case == "truncated":
        sig = sig[:63]
    h.apply_with_sig(
        a.relayer,
        open_job,
        a.freelancer,
        PROPOSAL,
        signature=sig,
        sig_ok=False,
        expect="escrow: bad signature",
    )
    assert not escrow.applied(open_job, a.freelancer.address)


def test_apply_with_sig_rejects_malleable_signature(h, a, open_job, escrow):
    sig = sign(a.freelancer, apply_message(escrow, open_job, a.freelancer.address, PROPOSAL))
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    high_s = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    with boa.reverts("ecdsa: invalid signature `s` value"):
        escrow.apply_with_sig(
            open_job, h.state(open_job), a.freelancer.address, PROPOSAL, high_s, sender=a.relayer.address
        )
    assert not escrow.applied(open_job, a.freelancer.address)


def test_apply_with_sig_erc1271_wallet(h, a, open_job, escrow, wallet_deployer):
    with boa.env.prank(a.outsider.address):
        wallet = wallet_deployer.deploy()
    h.apply_with_sig(
        a.relayer, open_job, wallet, PROPOSAL, signature=b"", sig_ok=False, expect="escrow: bad signature"
    )
    digest = digest_of(apply_message(escrow, open_job, wallet.address, PROPOSAL))
    wallet.approve_digest(digest, True, sender=a.outsider.address)
    h.apply_with_sig(a.relayer, open_job, wallet, PROPOSAL, signature=b"", expect=OK)
    h.assign(a.client, open_job, wallet, expect=OK)


# --------------------------------------------------------------------------- submit


def test_submit(h, a, job, token):
    deliverable = keccak(b"model weights v1")
    h.submit(a.freelancer, job, 1, deliverable, expect=OK)
    t = now()
    assert h.events() == [
        ("MilestoneSubmitted", {"job_id": job, "milestone": 1, "deliverable": deliverable, "timestamp": t})
    ]
    assert h.token_transfers() == []
    m = h.job(job).milestones[1]
    assert (m.status, m.timestamp, m.deliverable, m.amount) == (SUBMITTED, t, deliverable, 2_000 * USD)


def test_submit_rejects(h, a, job):
    for who in (a.client, a.arbiter, a.outsider):
        h.submit(who, job, 0, expect="escrow: caller is not the freelancer")
    h.submit(a.freelancer, job, 3, expect="escrow: no such milestone")
    h.submit(a.freelancer, job, 0, ZERO32, expect="escrow: empty deliverable")
    h.submit(a.freelancer, job, 0, expect=OK)
    h.submit(a.freelancer, job, 0, expect="escrow: milestone not awaiting delivery")
    h.approve(a.client, job, 1, expect=OK)
    h.submit(a.freelancer, job, 1, expect="escrow: milestone not awaiting delivery")


def test_submit_on_open_job(h, a, open_job):
    h.submit(a.outsider, open_job, 0, expect="escrow: caller is not the freelancer")


def test_submit_deadline_boundary(h, a, job):
    travel_to(h.job(job).deadline)
    h.submit(a.freelancer, job, 0, expect=OK)
    boa.env.time_travel(seconds=1)
    h.submit(a.freelancer, job, 1, expect="escrow: delivery deadline passed")


def test_revision_extends_delivery_window(h, a):
    jid = h.create_job(
        a.client,
        [10, 20],
        freelancer=a.freelancer,
        deadline=now() + 2 * DAY,
        review_period=3 * DAY,
        expect=OK,
    )
    deadline = h.job(jid).deadline
    h.submit(a.freelancer, jid, 0, expect=OK)
    boa.env.time_travel(seconds=DAY)
    h.request_revision(a.client, jid, 0, expect=OK)
    due = now() + 3 * DAY
    travel_to(deadline + 1)
    h.submit(a.freelancer, jid, 1, expect="escrow: delivery deadline passed")
    travel_to(due)
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.request_revision(a.client, jid, 0, expect=OK)
    travel_to(now() + 3 * DAY + 1)
    h.submit(a.freelancer, jid, 0, expect="escrow: delivery deadline passed")


def test_submit_with_sig_and_replay(h, a, job, escrow):
    d1 = keccak(b"deliverable one")
    sig = h.submit_signature(a.freelancer, job, 0, d1)
    h.submit_with_sig(a.relayer, job, 0, d1, sig, expect=OK)
    assert h.events() == [
        ("MilestoneSubmitted", {"job_id": job, "milestone": 0, "deliverable": d1, "timestamp": now()})
    ]
    # replays fail in both encodings: the signed state hash is gone
    h.submit_with_sig(a.relayer, job, 0, d1, sig, sig_ok=False, expect="escrow: bad signature")
    h.submit_with_sig(a.relayer, job, 0, d1, compact(sig), sig_ok=False, expect="escrow: bad signature")
    # even once the milestone is open again after a revision request
    h.request_revision(a.client, job, 0, expect=OK)
    h.submit_with_sig(a.relayer, job, 0, d1, sig, sig_ok=False, expect="escrow: bad signature")
    d2 = keccak(b"deliverable two")
    sig2 = h.submit_signature(a.freelancer, job, 0, d2)
    h.submit_with_sig(a.relayer, job, 0, d2, compact(sig2), expect=OK)
    assert h.job(job).milestones[0].deliverable == d2


def test_submit_signature_is_bound_to_the_job(h, a, escrow):
    deadline = now() + DAY
    j1 = h.create_job(a.client, [100], freelancer=a.freelancer, deadline=deadline, expect=OK)
    j2 = h.create_job(a.client, [100], freelancer=a.freelancer, deadline=deadline, expect=OK)
    assert escrow.job_state(j1) == escrow.job_state(j2)  # identical states
    d = keccak(b"d")
    sig = h.submit_signature(a.freelancer, j1, 0, d)
    h.submit_with_sig(a.relayer, j2, 0, d, sig, sig_ok=False, expect="escrow: bad signature")
    h.submit_with_sig(a.relayer, j1, 0, d, sig, expect=OK)


@pytest.mark.parametrize(
    "case", ["client_signed", "other_milestone", "other_deliverable", "stale_state", "other_chain", "short"]
)
def test_submit_with_sig_rejects_bad_signatures(h, a, job, case):
    d = keccak(b"d")
    signer, milestone, deliverable, kw = a.freelancer, 0, d, {}
    if case == "client_signed":
        signer = a.client
    elif case == "other_milestone":
        milestone = 1
    elif case == "other_deliverable":
        deliverable = keccak(b"e")
    elif case == "other_chain":
        kw["chain"] = chain_id() + 1
    sig = h.submit_signature(signer, job, milestone, deliverable, **kw)
    if case == "stale_state":
        h.pay_partial(a.client, job, 2, 1, expect=OK)
    if case == "short":
        sig = sig[:10]
    h.submit_with_sig(a.relayer, job, 0, d, sig, sig_ok=False, expect="escrow: bad signature")
    assert h.job(job).milestones[0].status == OPEN


def test_submit_with_sig_on_open_job(h, a, open_job):
    d = keccak(b"d")
    sig = h.submit_signature(a.freelancer, open_job, 0, d)
    h.submit_with_sig(a.relayer, open_job, 0, d, sig, expect="escrow: no freelancer assigned")


def test_submit_with_sig_checks_milestone_rules(h, a, job):
    d = keccak(b"d")
    h.submit_with_sig(
        a.relayer, job, 3, d, h.submit_signature(a.freelancer, job, 3, d), expect="escrow: no such milestone"
    )
    h.submit_with_sig(
        a.relayer,
        job,
        0,
        ZERO32,
        h.submit_signature(a.freelancer, job, 0, ZERO32),
        expect="escrow: empty deliverable",
    )
    travel_to(h.job(job).deadline + 1)
    h.submit_with_sig(
        a.relayer,
        job,
        0,
        d,
        h.submit_signature(a.freelancer, job, 0, d),
        expect="escrow: delivery deadline passed",
    )


def test_submit_with_sig_erc1271_freelancer(h, a, escrow, token, wallet_deployer):
    with boa.env.prank(a.outsider.address):
        wallet = wallet_deployer.deploy()
    jid = h.create_job(a.client, [100 * USD], freelancer=wallet, expect=OK)
    d = keccak(b"d")
    h.submit_with_sig(a.relayer, jid, 0, d, b"", sig_ok=False, expect="escrow: bad signature")
    digest = digest_of(submit_message(escrow, jid, 0, d, h.job(jid).hash()))
    wallet.approve_digest(digest, True, sender=a.outsider.address)
    h.submit_with_sig(a.relayer, jid, 0, d, b"", expect=OK)
    h.approve(a.client, jid, 0, expect=OK)
    assert bal(token, wallet) == 97_500_000


# --------------------------------------------------------------------------- approve / pay_partial


def test_approve_pays_freelancer_minus_fee(h, a, job, token, escrow):
    h.submit(a.freelancer, job, 1, expect=OK)
    h.approve(a.client, job, 1, expect=OK)
    assert h.events() == [
        (
            "MilestonePaid",
            {"job_id": job, "milestone": 1, "gross": 2_000 * USD, "fee": 50 * USD, "reason": PAID_APPROVED},
        )
    ]
    assert h.token_transfers() == [(low(escrow), low(a.freelancer), 1_950 * USD)]
    assert bal(token, a.freelancer) == 1_950 * USD
    assert bal(token, escrow) == BUDGET - 1_950 * USD
    assert escrow.fees_owed(token) == 50 * USD
    m = h.job(job).milestones[1]
    assert (m.amount, m.paid, m.status) == (0, 2_000 * USD, PAID)


def test_approve_open_milestone_early(h, a, job, token):
    h.approve(a.client, job, 0, expect=OK)
    assert h.job(job).milestones[0].status == PAID
    assert bal(token, a.freelancer) == 975 * USD


@pytest.mark.parametrize("status", [PAID, REFUNDED, RESOLVED, CANCELLED])
def test_payments_reject_settled_milestones(h, a, job, status):
    drive(h, a, job, 0, status)
    h.approve(a.client, job, 0, expect="escrow: milestone not payable")
    h.pay_partial(a.client, job, 0, 1, expect="escrow: milestone not payable")


@pytest.mark.parametrize("payment", ["approve", "pay_partial"])
def test_client_may_concede_a_dispute_by_paying(h, a, job, token, escrow, payment):
    """A disputed milestone is frozen for the arbiter, but the client may still pay it
    (in full or in part): a concession that needs nobody's ruling."""
    drive(h, a, job, 0, DISPUTED)
    if payment == "approve":
        h.approve(a.client, job, 0, expect=OK)
        assert h.job(job).milestones[0].status == PAID
        assert bal(token, a.freelancer) == 975 * USD
    else:
        h.pay_partial(a.client, job, 0, 400 * USD, expect=OK)
        m = h.job(job).milestones[0]
        assert (m.status, m.amount, m.paid) == (DISPUTED, 600 * USD, 400 * USD)
        h.resolve(a.arbiter, job, 0, 600 * USD, expect=OK)
        assert bal(token, a.freelancer) == 975 * USD


def test_payments_reject_bad_callers_and_indices(h, a, job, open_job):
    for who in (a.freelancer, a.arbiter, a.outsider, a.owner):
        h.approve(who, job, 0, expect="escrow: caller is not the client")
        h.pay_partial(who, job, 0, 1, expect="escrow: caller is not the client")
    h.approve(a.client, job, 3, expect="escrow: no such milestone")
    h.pay_partial(a.client, job, 3, 1, expect="escrow: no such milestone")
    h.approve(a.client, open_job, 0, expect="escrow: no freelancer assigned")
    h.pay_partial(a.client, open_job, 0, 1, expect="escrow: no freelancer assigned")


def test_pay_partial(h, a, job, token, escrow):
    h.submit(a.freelancer, job, 2, expect=OK)
    submitted_at = now()
    h.pay_partial(a.client, job, 2, 1_000 * USD, expect=OK)
    assert h.events() == [
        (
            "MilestonePaid",
            {"job_id": job, "milestone": 2, "gross": 1_000 * USD, "fee": 25 * USD, "reason": PAID_PARTIAL},
        )
    ]
    m = h.job(job).milestones[2]
    assert (m.amount, m.paid, m.status) == (2_000 * USD, 1_000 * USD, SUBMITTED)
    h.pay_partial(a.client, job, 2, 0, expect="escrow: zero amount")
    h.pay_partial(a.client, job, 2, 2_000 * USD, expect="escrow: use approve to pay it all")
    h.pay_partial(a.client, job, 2, 2_000 * USD + 1, expect="escrow: use approve to pay it all")
    h.pay_partial(a.client, job, 2, 1_999 * USD, expect=OK)
    travel_to(submitted_at + DAY + 1)
    h.claim(a.outsider, job, 2, expect=OK)
    assert h.events()[0][1]["gross"] == 1 * USD
    m = h.job(job).milestones[2]
    assert (m.amount, m.paid, m.status) == (0, 3_000 * USD, PAID)
    assert bal(token, a.freelancer) == 3_000 * USD - 75 * USD
    assert escrow.fees_owed(token) == 75 * USD


def test_pay_partial_then_approve_rest(h, a, job, token, escrow):
    h.pay_partial(a.client, job, 0, 400 * USD, expect=OK)
    h.approve(a.client, job, 0, expect=OK)
    assert h.events()[0][1]["gross"] == 600 * USD
    assert h.job(job).milestones[0].paid == 1_000 * USD
    assert bal(token, a.freelancer) + escrow.fees_owed(token) == 1_000 * USD


def test_fee_rounds_down(h, a, token, escrow):
    jid = h.create_job(a.client, [100], freelancer=a.freelancer, expect=OK)
    h.pay_partial(a.client, jid, 0, 39, expect=OK)  # 39 * 250 // 10_000 == 0
    assert h.events()[0][1]["fee"] == 0
    h.approve(a.client, jid, 0, expect=OK)  # 61 * 250 // 10_000 == 1
    assert h.events()[0][1]["fee"] == 1
    assert bal(token, a.freelancer) == 99
    assert escrow.fees_owed(token) == 1


# --------------------------------------------------------------------------- request_revision


def test_request_revision(h, a, job, token):
    deliverable = h.submit(a.freelancer, job, 0, expect=OK)
    boa.env.time_travel(seconds=DAY // 2)
    h.request_revision(a.client, job, 0, FEEDBACK, expect=OK)
    t = now()
    assert h.events() == [
        ("RevisionRequested", {"job_id": job, "milestone": 0, "feedback": FEEDBACK, "timestamp": t})
    ]
    assert h.token_transfers() == []
    m = h.job(job).milestones[0]
    assert (m.status, m.revisions, m.timestamp, m.deliverable) == (OPEN, 1, t, deliverable)
    h.submit(a.freelancer, job, 0, expect=OK)
    assert h.job(job).milestones[0].revisions == 1


def test_request_revision_window_boundary(h, a, job):
    h.submit(a.freelancer, job, 0, expect=OK)
    h.submit(a.freelancer, job, 1, expect=OK)
    travel_to(now() + DAY)
    h.request_revision(a.client, job, 0, expect=OK)
    boa.env.time_travel(seconds=1)
    h.request_revision(a.client, job, 1, expect="escrow: review window over")
    h.claim(a.outsider, job, 1, expect=OK)


def test_request_revision_rejects(h, a, job):
    h.submit(a.freelancer, job, 0, expect=OK)
    for who in (a.freelancer, a.arbiter, a.outsider):
        h.request_revision(who, job, 0, expect="escrow: caller is not the client")
    h.request_revision(a.client, job, 3, expect="escrow: no such milestone")
    h.request_revision(a.client, job, 1, expect="escrow: milestone not submitted")
    h.approve(a.client, job, 0, expect=OK)
    h.request_revision(a.client, job, 0, expect="escrow: milestone not submitted")


def test_too_many_revisions(h, a, escrow):
    """Three revision requests per milestone, then the client must pay, dispute or let
    the submission be claimed (the cap was 255: the audit's revision veto)."""
    jid = h.create_job(a.client, [100, 200], freelancer=a.freelancer, expect=OK)
    for _ in range(3):
        h.submit(a.freelancer, jid, 0, expect=OK)
        h.request_revision(a.client, jid, 0, expect=OK)
    assert h.job(jid).milestones[0].revisions == 3
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.request_revision(a.client, jid, 0, expect="escrow: too many revisions")
    # the cap is per milestone
    h.submit(a.freelancer, jid, 1, expect=OK)
    h.request_revision(a.client, jid, 1, expect=OK)
    travel_to(h.job(jid).milestones[0].timestamp + DAY + 1)
    h.claim(a.outsider, jid, 0, expect=OK)


# --------------------------------------------------------------------------- claim


def test_claim_after_review_window(h, a, job, token, escrow):
    h.submit(a.freelancer, job, 2, expect=OK)
    travel_to(now() + DAY)
    h.claim(a.outsider, job, 2, expect="escrow: review window still open")
    boa.env.time_travel(seconds=1)
    h.claim(a.outsider, job, 2, expect=OK)
    assert h.events() == [
        (
            "MilestonePaid",
            {
                "job_id": job,
                "milestone": 2,
                "gross": 3_000 * USD,
                "fee": 75 * USD,
                "reason": PAID_AUTO_RELEASE,
            },
        )
    ]
    assert h.token_transfers() == [(low(escrow), low(a.freelancer), 2_925 * USD)]
    assert bal(token, a.outsider) == 0
    h.request_revision(a.client, job, 2, expect="escrow: milestone not submitted")
    h.claim(a.outsider, job, 2, expect="escrow: milestone not submitted")


def test_claim_rejects(h, a, job):
    h.claim(a.outsider, job, 3, expect="escrow: no such milestone")
    h.claim(a.outsider, job, 0, expect="escrow: milestone not submitted")
    h.submit(a.freelancer, job, 1, expect=OK)
    h.request_revision(a.client, job, 1, expect=OK)
    travel_to(h.job(job).deadline + 2 * DAY)
    h.claim(a.freelancer, job, 1, expect="escrow: milestone not submitted")


# --------------------------------------------------------------------------- reclaim


def test_reclaim_after_deadline(h, a, job, token, escrow):
    h.submit(a.freelancer, job, 0, expect=OK)
    h.pay_partial(a.client, job, 1, 500 * USD, expect=OK)
    h.submit(a.freelancer, job, 2, expect=OK)
    h.raise_dispute(a.freelancer, job, 2, expect=OK)
    h.reclaim(a.client, job, expect="escrow: nothing to reclaim yet")
    # job 2: everything still open
    j2 = h.create_job(a.client2, [7 * USD, 8 * USD], freelancer=a.freelancer2, expect=OK)
    travel_to(h.job(job).deadline)
    h.reclaim(a.client, job, expect="escrow: nothing to reclaim yet")
    boa.env.time_travel(seconds=1)
    assert h.reclaim(a.client, job, expect=OK) == 1_500 * USD
    assert h.events() == [("MilestoneRefunded", {"job_id": job, "milestone": 1, "amount": 1_500 * USD})]
    assert h.token_transfers() == [(low(escrow), low(a.client), 1_500 * USD)]
    assert [m.status for m in h.job(job).milestones] == [SUBMITTED, REFUNDED, DISPUTED]
    assert h.job(job).milestones[1].paid == 500 * USD
    h.reclaim(a.client, job, expect="escrow: nothing to reclaim yet")
    assert h.reclaim(a.client2, j2, expect=OK) == 15 * USD
    assert len(h.events()) == 2
    assert bal(token, a.client) == 1_500 * USD
    assert bal(token, a.client2) == 15 * USD


def test_reclaim_open_job_at_any_time(h, a, open_job, token):
    h.apply(a.freelancer, open_job, expect=OK)
    assert h.reclaim(a.client, open_job, expect=OK) == BUDGET
    assert [e[1]["milestone"] for e in h.events()] == [0, 1, 2]
    assert bal(token, a.client) == BUDGET
    h.reclaim(a.client, open_job, expect="escrow: nothing to reclaim yet")


def test_reclaim_only_client(h, a, job):
    travel_to(h.job(job).deadline + 1)
    for who in (a.freelancer, a.arbiter, a.outsider, a.owner):
        h.reclaim(who, job, expect="escrow: caller is not the client")


def test_reclaim_respects_revision_due_time(h, a):
    jid = h.create_job(
        a.client, [10, 20], freelancer=a.freelancer, deadline=now() + DAY, review_period=2 * DAY, expect=OK
    )
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.request_revision(a.client, jid, 0, expect=OK)
    due = now() + 2 * DAY
    travel_to(h.job(jid).deadline + 1)
    assert h.reclaim(a.client, jid, expect=OK) == 20
    travel_to(due)
    h.reclaim(a.client, jid, expect="escrow: nothing to reclaim yet")
    boa.env.time_travel(seconds=1)
    assert h.reclaim(a.client, jid, expect=OK) == 10


@pytest.mark.parametrize("payment", ["approve", "pay_partial", "claim", "resolve"])
def test_payments_void_a_pending_cancel_offer(h, a, job, token, payment):
    h.submit(a.freelancer, job, 0, expect=OK)
    h.cancel(a.client, job, 500 * USD, expect=OK)
    assert h.job(job).cancel_proposer == a.client.address
    if payment == "approve":
        h.approve(a.client, job, 0, expect=OK)
    elif payment == "pay_partial":
        h.pay_partial(a.client, job, 0, 1, expect=OK)
    elif payment == "claim":
        boa.env.time_travel(seconds=DAY + 1)
        h.claim(a.freelancer, job, 0, expect=OK)
    else:
        h.resolve(a.arbiter, job, 0, 1_000 * USD, expect=OK)
    assert (h.job(job).cancel_proposer, h.job(job).cancel_amount) == (ZERO_ADDRESS, 0)
    # the other party's matching call is a fresh offer, not an acceptance
    h.cancel(a.freelancer, job, 500 * USD, expect=OK)
    assert [name for name, _ in h.events()] == ["CancelProposed"]
    assert h.token_transfers() == []


def test_non_payments_keep_a_pending_cancel_offer(h, a, job):
    h.cancel(a.freelancer, job, 700 * USD, expect=OK)
    h.submit(a.freelancer, job, 0, expect=OK)
    h.request_revision(a.client, job, 0, expect=OK)
    h.submit(a.freelancer, job, 1, expect=OK)
    h.raise_dispute(a.client, job, 1, expect=OK)
    assert (h.job(job).cancel_proposer, h.job(job).cancel_amount) == (a.freelancer.address, 700 * USD)
    h.cancel(a.client, job, 700 * USD, expect=OK)
    assert [name for name, _ in h.events()] == ["JobCancelled"]


def test_reclaim_clears_pending_cancel_offer(h, a, job):
    h.cancel(a.freelancer, job, 100, expect=OK)
    assert h.job(job).cancel_proposer == a.freelancer.address
    travel_to(h.job(job).deadline + 1)
    h.reclaim(a.client, job, expect=OK)
    assert h.job(job).cancel_proposer == ZERO_ADDRESS
    assert h.job(job).cancel_amount == 0
    h.cancel(a.client, job, 100, expect="escrow: nothing left in escrow")


# --------------------------------------------------------------------------- cancel


def test_cancel_two_step_split(h, a, job, token, escrow):
    h.approve(a.client, job, 0, expect=OK)
    h.submit(a.freelancer, job, 1, expect=OK)
    h.submit(a.freelancer, job, 2, expect=OK)
    h.raise_dispute(a.client, job, 2, expect=OK)
    h.cancel(a.client, job, 2_000 * USD, expect=OK)
    assert h.events() == [
        ("CancelProposed", {"job_id": job, "proposer": low(a.client), "freelancer_amount": 2_000 * USD})
    ]
    assert h.token_transfers() == []
    assert (h.job(job).cancel_proposer, h.job(job).cancel_amount) == (a.client.address, 2_000 * USD)
    h.cancel(a.freelancer, job, 2_000 * USD, expect=OK)
    assert h.events() == [
        (
            "JobCancelled",
            {"job_id": job, "freelancer_gross": 2_000 * USD, "fee": 50 * USD, "client_amount": 3_000 * USD},
        )
    ]
    assert h.token_transfers() == [
        (low(escrow), low(a.freelancer), 1_950 * USD),
        (low(escrow), low(a.client), 3_000 * USD),
    ]
    j = h.job(job)
    assert [m.status for m in j.milestones] == [PAID, CANCELLED, CANCELLED]
    assert [m.amount for m in j.milestones] == [0, 0, 0]
    assert (j.cancel_proposer, j.cancel_amount) == (ZERO_ADDRESS, 0)
    assert bal(token, a.freelancer) == 975 * USD + 1_950 * USD
    assert bal(token, a.client) == 3_000 * USD
    assert bal(token, escrow) == escrow.fees_owed(token) == 75 * USD
    h.cancel(a.client, job, 0, expect="escrow: nothing left in escrow")


def test_cancel_offers_replace_and_counter(h, a, job):
    h.cancel(a.client, job, 100, expect=OK)
    h.cancel(a.client, job, 100, expect=OK)  # the same party again: still an offer
    assert h.events()[0][0] == "CancelProposed"
    h.cancel(a.client, job, 200, expect=OK)
    assert h.job(job).cancel_amount == 200
    h.cancel(a.freelancer, job, 300, expect=OK)  # counter-offer
    assert (h.job(job).cancel_proposer, h.job(job).cancel_amount) == (a.freelancer.address, 300)
    h.cancel(a.freelancer, job, 300, expect=OK)
    assert h.events()[0][0] == "CancelProposed"
    h.cancel(a.client, job, 300, expect=OK)
    assert h.events()[0][0] == "JobCancelled"


@pytest.mark.parametrize("share", [0, BUDGET])
def test_cancel_extreme_splits(h, a, job, token, escrow, share):
    h.cancel(a.freelancer, job, share, expect=OK)
    h.cancel(a.client, job, share, expect=OK)
    fee = share * 250 // 10_000
    expected = []
    if share:
        expected.append((low(escrow), low(a.freelancer), share - fee))
    if BUDGET - share:
        expected.append((low(escrow), low(a.client), BUDGET - share))
    assert h.token_transfers() == expected
    assert bal(token, escrow) == fee


def test_cancel_rejects(h, a, job, open_job):
    for who in (a.arbiter, a.outsider, a.owner):
        h.cancel(who, job, 0, expect="escrow: caller is not a party")
    h.cancel(a.client, open_job, 0, expect="escrow: no freelancer assigned; use reclaim")
    h.cancel(a.client, job, BUDGET + 1, expect="escrow: split exceeds escrow")
    h.approve(a.client, job, 0, expect=OK)
    h.cancel(a.client, job, BUDGET - 1_000 * USD + 1, expect="escrow: split exceeds escrow")
    h.approve(a.client, job, 1, expect=OK)
    h.approve(a.client, job, 2, expect=OK)
    h.cancel(a.client, job, 0, expect="escrow: nothing left in escrow")


# --------------------------------------------------------------------------- disputes


@pytest.mark.parametrize("by", ["client", "freelancer"])
def test_dispute_freezes_milestone(h, a, job, by):
    party = getattr(a, by)
    h.submit(a.freelancer, job, 0, expect=OK)
    h.raise_dispute(party, job, 0, expect=OK)
    t = now()
    assert h.events() == [
        ("DisputeRaised", {"job_id": job, "milestone": 0, "by": low(party), "timestamp": t})
    ]
    m = h.job(job).milestones[0]
    assert (m.status, m.timestamp) == (DISPUTED, t)
    travel_to(h.job(job).deadline + 2 * DAY)
    h.claim(a.outsider, job, 0, expect="escrow: milestone not submitted")
    h.request_revision(a.client, job, 0, expect="escrow: milestone not submitted")
    h.submit(a.freelancer, job, 0, expect="escrow: milestone not awaiting delivery")
    h.resolve(a.outsider, job, 0, 0, expect="escrow: caller is not the arbiter")
    assert h.reclaim(a.client, job, expect=OK) == 5_000 * USD
    assert h.job(job).milestones[0].status == DISPUTED
    h.raise_dispute(party, job, 0, expect="escrow: milestone not disputable")
    h.resolve(a.arbiter, job, 0, 600 * USD, expect=OK)


def test_raise_dispute_rejects(h, a, job, open_job):
    for who in (a.arbiter, a.outsider, a.owner):
        h.raise_dispute(who, job, 0, expect="escrow: caller is not a party")
    no_arbiter = h.create_job(a.client, [5], freelancer=a.freelancer, expect=OK)
    h.raise_dispute(a.client, no_arbiter, 0, expect="escrow: job has no arbiter")
    h.raise_dispute(a.client, open_job, 0, expect="escrow: milestone not disputable")
    h.raise_dispute(a.client, job, 3, expect="escrow: no such milestone")
    h.raise_dispute(a.freelancer, job, 0, expect="escrow: milestone not disputable")  # not delivered
    h.approve(a.client, job, 0, expect=OK)
    h.raise_dispute(a.freelancer, job, 0, expect="escrow: milestone not disputable")


def test_resolve_disputed_split(h, a, job, token, escrow):
    h.submit(a.freelancer, job, 1, expect=OK)
    h.raise_dispute(a.freelancer, job, 1, expect=OK)
    h.resolve(a.arbiter, job, 1, 1_200 * USD, expect=OK)
    assert h.events() == [
        (
            "MilestoneResolved",
            {
                "job_id": job,
                "milestone": 1,
                "freelancer_gross": 1_200 * USD,
                "fee": 30 * USD,
                "client_amount": 800 * USD,
            },
        )
    ]
    assert h.token_transfers() == [
        (low(escrow), low(a.freelancer), 1_170 * USD),
        (low(escrow), low(a.client), 800 * USD),
    ]
    m = h.job(job).milestones[1]
    assert (m.status, m.amount, m.paid) == (RESOLVED, 0, 1_200 * USD)
    assert escrow.fees_owed(token) == 30 * USD
    assert bal(token, a.arbiter) == 0
    h.resolve(a.arbiter, job, 1, 0, expect="escrow: milestone settled")


@pytest.mark.parametrize("status", [OPEN, SUBMITTED])
def test_resolve_without_dispute(h, a, job, token, escrow, status):
    drive(h, a, job, 0, status)
    h.resolve(a.arbiter, job, 0, 1_000 * USD, expect=OK)
    assert h.token_transfers() == [(low(escrow), low(a.freelancer), 975 * USD)]
    assert h.job(job).milestones[0].status == RESOLVED


def test_resolve_all_to_client(h, a, job, token, escrow):
    h.resolve(a.arbiter, job, 2, 0, expect=OK)
    assert h.events()[0][1] == {
        "job_id": job,
        "milestone": 2,
        "freelancer_gross": 0,
        "fee": 0,
        "client_amount": 3_000 * USD,
    }
    assert h.token_transfers() == [(low(escrow), low(a.client), 3_000 * USD)]
    assert h.job(job).milestones[2].paid == 0


def test_resolve_after_partial_payment(h, a, job, token):
    h.pay_partial(a.client, job, 2, 1_000 * USD, expect=OK)
    h.submit(a.freelancer, job, 2, expect=OK)
    h.raise_dispute(a.client, job, 2, expect=OK)
    h.resolve(a.arbiter, job, 2, 2_000 * USD + 1, expect="escrow: split exceeds milestone")
    h.resolve(a.arbiter, job, 2, 2_000 * USD, expect=OK)
    assert h.job(job).milestones[2].paid == 3_000 * USD
    assert bal(token, a.freelancer) == 3_000 * USD - 75 * USD


@pytest.mark.parametrize("status", [PAID, REFUNDED, RESOLVED, CANCELLED])
def test_resolve_rejects_settled(h, a, job, status):
    drive(h, a, job, 0, status)
    h.resolve(a.arbiter, job, 0, 0, expect="escrow: milestone settled")


def test_resolve_rejects(h, a, job, open_job):
    for who in (a.client, a.freelancer, a.outsider, a.owner):
        h.resolve(who, job, 0, 0, expect="escrow: caller is not the arbiter")
    no_arbiter = h.create_job(a.client, [5], freelancer=a.freelancer, expect=OK)
    for who in (a.client, a.freelancer, a.arbiter):
        h.resolve(who, no_arbiter, 0, 0, expect="escrow: caller is not the arbiter")
    h.resolve(a.arbiter, open_job, 0, 0, expect="escrow: no freelancer assigned")
    h.resolve(a.arbiter, job, 3, 0, expect="escrow: no such milestone")
    h.resolve(a.arbiter, job, 0, 1_000 * USD + 1, expect="escrow: split exceeds milestone")


# --------------------------------------------------------------------------- state checks


def _job_calls(h, a):
    """Every function taking a job state: fn(job_id, state, expect)."""
    d = keccak(b"d")
    return {
        "apply": lambda j, s, e: h.apply(a.outsider, j, state=s, expect=e),
        "apply_with_sig": lambda j, s, e: h.apply_with_sig(a.relayer, j, a.outsider, state=s, expect=e),
        "assign": lambda j, s, e: h.assign(a.client, j, a.outsider, state=s, expect=e),
        "submit": lambda j, s, e: h.submit(a.freelancer, j, 1, d, state=s, expect=e),
        "submit_with_sig": lambda j, s, e: h.submit_with_sig(
            a.relayer, j, 1, d, b"\x01" * 65, state=s, expect=e
        ),
        "approve": lambda j, s, e: h.approve(a.client, j, 1, state=s, expect=e),
        "pay_partial": lambda j, s, e: h.pay_partial(a.client, j, 1, 1, state=s, expect=e),
        "request_revision": lambda j, s, e: h.request_revision(a.client, j, 0, state=s, expect=e),
        "claim": lambda j, s, e: h.claim(a.client, j, 0, state=s, expect=e),
        "reclaim": lambda j, s, e: h.reclaim(a.client, j, state=s, expect=e),
        "cancel": lambda j, s, e: h.cancel(a.client, j, 1, state=s, expect=e),
        "raise_dispute": lambda j, s, e: h.raise_dispute(a.client, j, 1, state=s, expect=e),
        "resolve": lambda j, s, e: h.resolve(a.arbiter, j, 1, 1, state=s, expect=e),
    }


JOB_FUNCTIONS = [
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
]


@pytest.mark.parametrize("fn", JOB_FUNCTIONS)
def test_unknown_job_and_stale_state(h, a, job, fn):
    call = _job_calls(h, a)[fn]
    call(0, h.state(job), "escrow: unknown job")
    call(job + 1, h.state(job), "escrow: unknown job")
    old = h.state(job)
    h.submit(a.freelancer, job, 0, expect=OK)
    call(job, old, "escrow: stale job state")
    for field, value in [(6, 0), (1, a.outsider.address), (4, 2**64 - 1)]:
        forged = list(h.state(job))
        forged[field] = value
        call(job, tuple(forged), "escrow: stale job state")
    forged = list(h.state(job))
    forged[10] = [(2**200, *m[1:]) for m in forged[10]]
    call(job, tuple(forged), "escrow: stale job state")


def test_the_stored_hash_is_the_abi_encoding_of_a_full_job(h, a, escrow):
    """The escrow stores keccak256(abi_encode(job)) (the SDK computes it itself, in
    chain/encoding.py): checked on the largest job, 16 milestones with large amounts and
    wide fields, through creation, a submission and a payment of the last milestone."""
    amounts = [2**200 + i for i in range(16)]
    jid = h.create_job(
        a.client, amounts, freelancer=a.freelancer, arbiter=a.arbiter, deadline=2**63, expect=OK
    )
    assert escrow.job_state(jid) == keccak(eth_abi.encode([JOB_ABI], [h.state(jid)]))
    h.submit(a.freelancer, jid, 15, keccak(b"last"), expect=OK)
    h.approve(a.client, jid, 15, expect=OK)
    assert escrow.job_state(jid) == keccak(eth_abi.encode([JOB_ABI], [h.state(jid)]))
    assert h.job(jid).milestones[15].status == 3  # PAID


# --------------------------------------------------------------------------- reentrancy


@pytest.fixture
def rtoken(reentrant_deployer):
    return reentrant_deployer.deploy()


OUTER_CALLS = [
    "create_job",
    "approve",
    "pay_partial",
    "claim",
    "reclaim",
    "cancel",
    "resolve",
    "withdraw_fees",
]


@pytest.mark.parametrize("outer", OUTER_CALLS)
def test_reentrancy_is_blocked(h, a, escrow, rtoken, outer):
    jid = h.create_job(
        a.client, [1_000 * USD] * 4, freelancer=a.freelancer, arbiter=a.arbiter, token=rtoken, expect=OK
    )
    h.approve(a.client, jid, 0, expect=OK)  # 25 USD of fees in the reentrant token
    payload = escrow.withdraw_fees.prepare_calldata(rtoken.address)
    if outer in ("claim", "withdraw_fees"):
        h.submit(a.freelancer, jid, 1, expect=OK)
        boa.env.time_travel(seconds=DAY + 1)
    if outer == "reclaim":
        travel_to(h.job(jid).deadline + 1)
    if outer == "cancel":
        h.cancel(a.client, jid, 500 * USD, expect=OK)
    if outer == "withdraw_fees":
        # re-enter with a claim that is valid against the state stored before the transfer
        payload = escrow.claim.prepare_calldata(jid, h.state(jid), 1)
    rtoken.arm(escrow.address, payload, False)
    if outer == "create_job":
        h.create_job(a.client2, [5 * USD], token=rtoken, expect=OK)
    elif outer == "approve":
        h.approve(a.client, jid, 1, expect=OK)
    elif outer == "pay_partial":
        h.pay_partial(a.client, jid, 1, 1, expect=OK)
    elif outer == "claim":
        h.claim(a.outsider, jid, 1, expect=OK)
    elif outer == "reclaim":
        h.reclaim(a.client, jid, expect=OK)
    elif outer == "cancel":
        h.cancel(a.freelancer, jid, 500 * USD, expect=OK)
    elif outer == "resolve":
        h.resolve(a.arbiter, jid, 1, 1, expect=OK)
    elif outer == "withdraw_fees":
        h.withdraw_fees(a.outsider, rtoken, expect=OK)
    assert rtoken.attempts() == 1
    assert rtoken.last_ok() is False
    h.check_all()
    # the same payload goes through when it is not re-entrant: only the lock stopped it
    computation = boa.env.execute_code(to_address=escrow.address, sender=a.outsider.address, data=payload)
    assert not computation.is_error


def test_reentrancy_failure_bubbles_up_from_a_pull(h, a, escrow, rtoken):
    """A transfer the escrow pulls with (the budget) reverts with the failed re-entry: no job."""
    jid = h.create_job(a.client, [1_000 * USD] * 2, freelancer=a.freelancer, token=rtoken, expect=OK)
    h.approve(a.client, jid, 0, expect=OK)
    rtoken.arm(escrow.address, escrow.withdraw_fees.prepare_calldata(rtoken.address), True)
    rtoken.mint(a.client.address, 5)
    rtoken.approve(escrow.address, 5, sender=a.client.address)
    before = (escrow.job_count(), escrow.job_state(jid), rtoken.balanceOf(escrow.address))
    with boa.reverts():
        escrow.create_job(
            rtoken.address, ZERO_ADDRESS, [5], now() + DAY, DAY, SPEC, ZERO_ADDRESS, sender=a.client.address
        )
    assert (escrow.job_count(), escrow.job_state(jid), rtoken.balanceOf(escrow.address)) == before
    assert escrow.fees_owed(rtoken) == 25 * USD


def test_a_payout_whose_transfer_reverts_is_credited(h, a, escrow, rtoken):
    """A payout whose transfer reverts (here a receiving hook re-entering the escrow, refused
    by the lock, and bubbling up) does not revert the payment: the milestone is paid, the
    amount credited to the freelancer, and the re-entry changed nothing; the freelancer's
    pull reverts as long as its transfer does, keeping the credit."""
    jid = h.create_job(a.client, [1_000 * USD] * 2, freelancer=a.freelancer, token=rtoken, expect=OK)
    h.approve(a.client, jid, 0, expect=OK)
    rtoken.arm(escrow.address, escrow.withdraw_fees.prepare_calldata(rtoken.address), True)
    h.model.blocked.add((norm(rtoken.address), norm(a.freelancer.address)))  # the transfer to it fails
    h.approve(a.client, jid, 1, expect=OK)
    assert rtoken.armed()  # the whole transfer reverted with its re-entry
    assert escrow.claimable(rtoken.address, a.freelancer.address) == 975 * USD
    assert escrow.fees_owed(rtoken) == 50 * USD  # the re-entrant withdraw_fees did not run
    # the pull is all or nothing: while the transfer still reverts, the credit stays
    with boa.reverts():
        escrow.withdraw(rtoken.address, sender=a.freelancer.address)
    assert escrow.claimable(rtoken.address, a.freelancer.address) == 975 * USD
    assert rtoken.balanceOf(a.freelancer.address) == 975 * USD


def test_dispute_only_while_a_clock_runs(h, a, job):
    """A lapsed window cannot be revived by a dispute: past the review window the
    freelancer may claim. Undelivered work is never disputable: before its due time the
    freelancer may still deliver it, after it the client may reclaim it."""
    h.submit(a.freelancer, job, 0, expect=OK)
    submitted_at = h.job(job).milestones[0].timestamp
    review = h.job(job).review_period
    travel_to(submitted_at + review + 1)
    h.raise_dispute(a.client, job, 0, expect="escrow: dispute window over")
    h.claim(a.outsider, job, 0, expect=OK)
    undelivered = next(i for i, m in enumerate(h.job(job).milestones) if m.status == 0)
    h.raise_dispute(a.freelancer, job, undelivered, expect="escrow: milestone not disputable")
    travel_to(h.job(job).deadline + 1)
    h.raise_dispute(a.freelancer, job, undelivered, expect="escrow: milestone not disputable")


def test_dispute_in_the_last_second_of_a_window(h, a, job):
    h.submit(a.freelancer, job, 0, expect=OK)
    m = h.job(job).milestones[0]
    travel_to(m.timestamp + h.job(job).review_period)
    h.raise_dispute(a.client, job, 0, expect=OK)


# --------------------------------------------------------------------------- dispute timeout

TIMEOUT = 30 * DAY  # JobEscrow.ARBITRATION_TIMEOUT


def test_a_dispute_the_arbiter_never_rules_on_ends_with_half_each(h, a, job, token, escrow):
    """After ARBITRATION_TIMEOUT anyone ends an unresolved dispute: half of what is left
    (rounded down, gross) to the freelancer, the rest to the client; the amount passed is
    ignored."""
    h.submit(a.freelancer, job, 1, expect=OK)
    h.raise_dispute(a.client, job, 1, expect=OK)
    disputed_at = now()
    travel_to(disputed_at + TIMEOUT)
    for who in (a.outsider, a.client, a.freelancer):
        h.resolve(who, job, 1, 0, expect="escrow: caller is not the arbiter")
    boa.env.time_travel(seconds=1)
    h.resolve(a.outsider, job, 1, 2_000 * USD, expect=OK)
    assert h.events() == [
        (
            "MilestoneResolved",
            {
                "job_id": job,
                "milestone": 1,
                "freelancer_gross": 1_000 * USD,
                "fee": 25 * USD,
                "client_amount": 1_000 * USD,
            },
        )
    ]
    assert h.token_transfers() == [
        (low(escrow), low(a.freelancer), 975 * USD),
        (low(escrow), low(a.client), 1_000 * USD),
    ]
    assert bal(token, a.outsider) == 0
    h.resolve(a.outsider, job, 1, 0, expect="escrow: caller is not the arbiter")  # settled now


def test_dispute_timeout_split_of_an_odd_remainder(h, a, token):
    jid = h.create_job(a.client, [7], freelancer=a.freelancer, arbiter=a.arbiter, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.pay_partial(a.client, jid, 0, 2, expect=OK)
    h.raise_dispute(a.freelancer, jid, 0, expect=OK)
    travel_to(now() + TIMEOUT + 1)
    h.resolve(a.client, jid, 0, 0, expect=OK)
    assert h.events()[0][1]["freelancer_gross"] == 2 and h.events()[0][1]["client_amount"] == 3
    m = h.job(jid).milestones[0]
    assert (m.status, m.amount, m.paid) == (RESOLVED, 0, 4)


def test_the_arbiter_may_still_rule_after_the_timeout(h, a, job, token):
    h.submit(a.freelancer, job, 0, expect=OK)
    h.raise_dispute(a.freelancer, job, 0, expect=OK)
    travel_to(now() + TIMEOUT + 1)
    h.resolve(a.arbiter, job, 0, 1_000 * USD, expect=OK)  # its own split, not half
    assert bal(token, a.freelancer) == 975 * USD


def test_undisputed_milestones_have_no_fallback(h, a, job):
    """The fallback ends disputes only; other milestones have their own timeouts."""
    h.submit(a.freelancer, job, 0, expect=OK)
    travel_to(h.job(job).deadline + TIMEOUT + 1)
    h.resolve(a.outsider, job, 0, 0, expect="escrow: caller is not the arbiter")
    h.resolve(a.outsider, job, 1, 0, expect="escrow: caller is not the arbiter")
    h.claim(a.outsider, job, 0, expect=OK)
    h.reclaim(a.client, job, expect=OK)


# --------------------------------------------------------------------------- arbiter's challenge window


STUB_DEPLOYER = "0x" + keccak(b"proofwork escrow test arbiter deployer")[12:].hex()


class _StubDeployer:
    def __init__(self):
        self.partial = boa.load_partial(str(MOCKS / "ArbiterStub.vy"))

    def deploy(self, window):
        with boa.env.prank(STUB_DEPLOYER):
            return self.partial.deploy(window)


@pytest.fixture(scope="module")
def stub_deployer():
    return _StubDeployer()


def test_a_contract_arbiter_shortens_the_review_window(h, a, stub_deployer, token):
    """An arbiter that declares `challenge_window()` (an evaluation committee) bounds the
    time in which a submission may be sent back or disputed; the claim still waits for
    the review period."""
    stub = stub_deployer.deploy(3_600)
    h.model.arbiter_windows[norm(stub.address)] = 3_600
    jid = h.create_job(a.client, [10, 20, 30], freelancer=a.freelancer, arbiter=stub, expect=OK)
    for i in range(3):
        h.submit(a.freelancer, jid, i, expect=OK)
    t0 = now()
    travel_to(t0 + 3_600)
    h.request_revision(a.client, jid, 0, expect=OK)  # the last second of the window
    h.raise_dispute(a.freelancer, jid, 1, expect=OK)
    boa.env.time_travel(seconds=1)
    h.request_revision(a.client, jid, 2, expect="escrow: review window over")
    h.raise_dispute(a.client, jid, 2, expect="escrow: dispute window over")
    h.claim(a.outsider, jid, 2, expect="escrow: review window still open")
    travel_to(t0 + DAY + 1)
    h.claim(a.outsider, jid, 2, expect=OK)


@pytest.mark.parametrize("window", [DAY, DAY + 1, 2**64 - 1])
def test_a_longer_challenge_window_leaves_the_review_period(h, a, stub_deployer, window):
    stub = stub_deployer.deploy(window)
    h.model.arbiter_windows[norm(stub.address)] = window
    jid = h.create_job(a.client, [10], freelancer=a.freelancer, arbiter=stub, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    travel_to(now() + DAY + 1)
    h.raise_dispute(a.client, jid, 0, expect="escrow: dispute window over")
    h.claim(a.outsider, jid, 0, expect=OK)


def test_arbiters_without_a_challenge_window(h, a, token, wallet_deployer):
    """An account, or a contract without `challenge_window()`, leaves the review period."""
    with boa.env.prank(STUB_DEPLOYER):  # an address no other test module deploys from
        wallet = wallet_deployer.deploy()
    for arbiter in (a.arbiter, wallet, token):
        jid = h.create_job(a.client, [10], freelancer=a.freelancer, arbiter=arbiter, expect=OK)
        h.submit(a.freelancer, jid, 0, expect=OK)
        travel_to(now() + DAY)
        h.raise_dispute(a.client, jid, 0, expect=OK)


def test_a_contract_arbiter_resolves_through_the_hook(h, a, stub_deployer, token, escrow):
    stub = stub_deployer.deploy(0)
    h.model.arbiter_windows[norm(stub.address)] = 0
    jid = h.create_job(a.client, [10], freelancer=a.freelancer, arbiter=stub, expect=OK)
    h.submit(a.freelancer, jid, 0, expect=OK)
    h.raise_dispute(a.client, jid, 0, expect=OK)  # a zero window: only in the submission's second
    payload = escrow.resolve.prepare_calldata(jid, h.state(jid), 0, 4)
    stub.forward(escrow.address, payload)
    assert bal(token, a.freelancer) == 4 and bal(token, a.client) == 6
