"""A challenged score on a committee-evaluated job goes to the court: the OracleCommittee,
deployed with an EscrowArbitrable as its `court()`, lets either party open a case on a
disputed milestone within the adapter's window; from then on only the ruling (executed
through `resolve_by_court`) or the escrow's 30-day fallback settles the milestone, never
the committee's verdict. Real JobEscrow, OracleCommittee and adapter; the test
CentralizedArbitrator rules (the real court is exercised by the SDK suite)."""

from __future__ import annotations

import boa
import pytest
from committee_court_fixtures import (
    AMOUNT,
    BAD,
    COST,
    ESCROW_FEE_BPS,
    ESCROW_TIMEOUT,
    FEE_TIMEOUT,
    MAX_FEE_TIMEOUT,
    MOCKS,
    deploy_committee,
    deploy_court,
    executed,
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
from court_fixtures import partial
from escrow_harness import OK, addr, now
from eth_utils import keccak, to_checksum_address

# Used by no other test module (see committee_fixtures.COMMITTEE_DEPLOYER).
DEPLOYER = to_checksum_address(keccak(b"proofwork committee court deployer")[12:])


@pytest.fixture(scope="session")
def oracles():
    return oracle_accounts(4, "court oracle")


@pytest.fixture(scope="module")
def court(escrow, token):
    return deploy_court(escrow, token, DEPLOYER)


@pytest.fixture(scope="module")
def committee(escrow, oracles, court):
    return deploy_committee(escrow, oracles, court[1])


@pytest.fixture
def d(h, committee, oracles, accounts):
    return CommitteeDriver(h, committee, oracles, accounts.relayer)


def test_committee_names_its_court(committee, court, escrow, oracles):
    assert committee.court() == court[1].address
    bare = CommitteeDeployer(COMMITTEE_PATH).deploy(escrow.address, [o.address for o in oracles], 1, WINDOW)
    assert bare.court() == "0x" + "00" * 20


@pytest.mark.parametrize("ruling,bps", [(1, 10_000), (2, 0), (3, 7_500)])
def test_jurors_overrule_a_failing_score(d, h, accounts, token, court, committee, ruling, bps):
    """The oracles scored the deliverable as a fail; the freelancer challenges the score
    in court, the client pays its fee, the arbitrator rules and anyone executes: the
    milestone is paid as ruled, through the committee, and the committee's own verdict
    is refused for the whole time the case is open."""
    arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    dispute = adapter.cases(case).dispute_id
    d.late(job_id, 0)
    d.settle(job_id, 0, d.honest(BAD), expect="committee: milestone in court")
    boa.env.time_travel(seconds=DISPUTE_PERIOD + WINDOW + VERDICT_GRACE)
    with boa.reverts("committee: milestone in court"):
        committee.release_unjudged(job_id, h.state(job_id), 0, sender=accounts.outsider.address)
    arb.give_ruling(dispute, ruling, sender=DEPLOYER)
    before = {w: token.balanceOf(w) for w in (c, f)}
    share = AMOUNT * bps // 10_000
    executed(
        h,
        committee,
        adapter,
        job_id,
        share,
        lambda: adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address),
    )
    to_f = COST * bps // 10_000
    assert token.balanceOf(f) - before[f] == share - share * ESCROW_FEE_BPS // 10_000 + to_f
    assert token.balanceOf(c) - before[c] == AMOUNT - share + COST - to_f
    assert token.balanceOf(adapter.address) == 0
    assert h.job(job_id).milestones[0].status >= 3


def test_unpaid_fee_loses_by_default_through_the_committee(d, h, accounts, token, court, committee):
    """The client disputes a passing score and opens a case; the freelancer never pays:
    after the fee timeout anyone ends the case, the milestone goes to the client."""
    _arb, adapter = court
    c = accounts.client.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.client)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=c)
    boa.env.time_travel(seconds=FEE_TIMEOUT + 1)
    before = token.balanceOf(c)
    executed(
        h,
        committee,
        adapter,
        job_id,
        0,
        lambda: adapter.timeout_by_default(case, h.state(job_id), sender=accounts.outsider.address),
    )
    assert token.balanceOf(c) - before == AMOUNT + COST


def test_settlement_before_the_dispute_resolves_through_the_committee(d, h, accounts, court, committee):
    _arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.propose_settlement(case, 6_000, sender=c)
    executed(
        h,
        committee,
        adapter,
        job_id,
        AMOUNT * 6_000 // 10_000,
        lambda: adapter.accept_settlement(case, h.state(job_id), 6_000, sender=f),
    )


def test_a_case_must_be_opened_early_enough_to_end_before_the_escrow_fallback(d, h, accounts, court):
    """Dispute time + MAX_FEE_TIMEOUT >= opening + FEE_TIMEOUT: a party cannot open a case
    late to outlast the escrow's 30-day split; the committee's verdict then decides."""
    _arb, adapter = court
    f = accounts.freelancer.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    disputed_at = h.job(job_id).milestones[0].timestamp
    boa.env.time_travel(seconds=disputed_at + MAX_FEE_TIMEOUT - FEE_TIMEOUT + 1 - now())
    with boa.reverts("adapter: too late to open a case"):
        adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    d.past_window(job_id, 0)
    assert not d.settle(job_id, 0, d.honest(BAD)).passed


def test_last_second_to_open_a_case(d, h, accounts, court):
    _arb, adapter = court
    f = accounts.freelancer.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    disputed_at = h.job(job_id).milestones[0].timestamp
    boa.env.time_travel(seconds=disputed_at + MAX_FEE_TIMEOUT - FEE_TIMEOUT - now())
    assert adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f) > 0


def test_only_the_court_resolves_through_the_committee(d, h, accounts, court, committee):
    _arb, adapter = court
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    for who in (accounts.client, accounts.freelancer, accounts.outsider):
        with boa.reverts("committee: caller is not the court"):
            committee.resolve_by_court(job_id, h.state(job_id), 0, AMOUNT, sender=addr(who))


def test_court_cannot_resolve_an_undisputed_milestone(d, h, accounts, court, committee):
    _arb, adapter = court
    job_id = d.job(accounts.client, accounts.freelancer, [AMOUNT])
    d.register(job_id)
    d.submit(job_id, 0)
    with boa.reverts("committee: milestone not disputed"):
        committee.resolve_by_court(job_id, h.state(job_id), 0, AMOUNT, sender=adapter.address)


def test_committee_without_a_court_refuses_cases(h, accounts, escrow, oracles, court):
    """A committee deployed without a court: the adapter refuses its jobs, disputes end by
    the committee's verdict as before."""
    _arb, adapter = court
    bare = CommitteeDeployer(COMMITTEE_PATH).deploy(escrow.address, [o.address for o in oracles], 1, WINDOW)
    d = CommitteeDriver(h, bare, oracles, accounts.relayer)
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    with boa.reverts("adapter: not the job's arbiter"):
        adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=accounts.freelancer.address)


@pytest.mark.parametrize("mode", [1, 2])
def test_hostile_arbiter_cannot_make_opening_a_case_revert_oddly(h, accounts, court, mode):
    """A plain job whose arbiter is a contract that reverts or burns all gas when asked
    for its court: the adapter answers 'not the job's arbiter' within its gas cap."""
    _arb, adapter = court
    hostile = partial(MOCKS / "HostileArbiter.vy").deploy(mode, 0)
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = h.create_job(c, [AMOUNT], freelancer=f, arbiter=hostile.address, expect=OK)
    h.submit(f, job_id, 0, expect=OK)
    h.raise_dispute(f, job_id, 0, expect=OK)
    with boa.reverts("adapter: not the job's arbiter"):
        adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f, gas=2_000_000)


def test_committee_refuses_a_court_of_another_escrow(escrow_deployer, accounts, oracles, court):
    other = escrow_deployer.deploy(accounts.owner.address, ESCROW_FEE_BPS, sender=accounts.owner.address)
    with boa.reverts("committee: court of another escrow"):
        CommitteeDeployer(COMMITTEE_PATH).deploy(
            other.address, [o.address for o in oracles], 1, WINDOW, court[1].address
        )


def test_labels_can_be_revealed_to_the_jurors_of_a_disputed_score(d, h, accounts, court, committee):
    """Jurors see the labels once revealed: the labels may be revealed while the job's
    last milestones are disputed (none can be submitted again)."""
    _arb, adapter = court
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    committee.reveal(job_id, h.state(job_id), LABELS_CID, SALT, sender=accounts.client.address)
    assert committee.revealed_labels(job_id) == LABELS_CID


def test_labels_stay_hidden_while_a_milestone_can_still_be_submitted(d, h, accounts, court, committee):
    _arb, _adapter = court
    job_id = d.job(accounts.client, accounts.freelancer, [AMOUNT, AMOUNT])
    d.register(job_id)
    d.submit(job_id, 0)
    h.raise_dispute(accounts.freelancer.address, job_id, 0, expect=OK)
    with boa.reverts("committee: job not settled"):
        committee.reveal(job_id, h.state(job_id), LABELS_CID, SALT, sender=accounts.client.address)


def test_a_silent_court_is_overtaken_by_the_escrow_fallback(d, h, accounts, token, court, committee):
    """The arbitrator never rules: 30 days after the dispute anyone splits the milestone
    in half on the escrow, and the case then closes with its fees returned."""
    _arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    boa.env.time_travel(seconds=ESCROW_TIMEOUT + 1)
    h.resolve(accounts.outsider, job_id, 0, 0, expect=OK)
    adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address)
    assert token.balanceOf(adapter.address) == 0
