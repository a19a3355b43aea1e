"""EscrowArbitrable with a real JobEscrow and the test CentralizedArbitrator (partial suite)."""

from __future__ import annotations

from pathlib import Path

import boa
import pytest
from court_fixtures import partial, pin_clock
from escrow_harness import DAY, OK
from eth_utils import keccak, to_checksum_address

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "contracts" / "court" / "EscrowArbitrable.vy"
ARBITRATOR = Path(__file__).resolve().parent / "mocks" / "CentralizedArbitrator.vy"
# Used by no other test module (see committee_fixtures.COMMITTEE_DEPLOYER).
ADAPTER_DEPLOYER = to_checksum_address(keccak(b"proofwork court adapter deployer")[12:])
BASE_FEE, FEE_BPS, APPEAL_FEE, FEE_TIMEOUT = 1_000, 100, 5_000, 3 * DAY
AMOUNT = 100_000


@pytest.fixture(scope="module")
def court(escrow, token):
    with boa.env.prank(ADAPTER_DEPLOYER):
        arb = partial(ARBITRATOR).deploy(token.address, BASE_FEE, FEE_BPS, APPEAL_FEE, 0)
        adapter = partial(ADAPTER).deploy(escrow.address, arb.address, 3, FEE_TIMEOUT)
    return arb, adapter


def disputed(h, accounts, adapter):
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = h.create_job(c, [AMOUNT], freelancer=f, arbiter=adapter.address, expect=OK)
    h.submit(f, job_id, 0, expect=OK)
    h.raise_dispute(f, job_id, 0, expect=OK)
    for who in (c, f):
        h.token.mint(who, 10**6, sender=h.model.owner)
        h.token.approve(adapter.address, 2**255, sender=who)
    return job_id


def resolve_via(h, adapter, job_id, share, call):
    trial = h.model.clone()
    outcome = trial.resolve(str(adapter.address), job_id, None, 0, share)
    call()
    h._check_logs("adapter", adapter.get_logs(), outcome, job_id, None)
    h.model = trial
    h.check_job(job_id)
    return outcome


@pytest.mark.parametrize("ruling,bps", [(0, 5000), (1, 10000), (2, 0), (3, 7500), (4, 5000), (5, 2500)])
def test_ruling_executes_share(h, court, accounts, token, ruling, bps):
    arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = disputed(h, accounts, adapter)
    cost = BASE_FEE + AMOUNT * FEE_BPS // 10_000
    before = {w: token.balanceOf(w) for w in (c, f)}
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    assert token.balanceOf(arb.address) == cost and token.balanceOf(adapter.address) == cost
    d = adapter.cases(case).dispute_id
    assert adapter.case_of_dispute(d) == case and adapter.case_of(job_id, 0) == case
    with boa.reverts("adapter: no ruling yet"):
        adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address)
    with boa.reverts("adapter: caller is not the arbitrator"):
        adapter.rule(d, ruling, sender=c)
    arb.give_ruling(d, ruling, sender=ADAPTER_DEPLOYER)
    share = AMOUNT * bps // 10_000
    resolve_via(
        h,
        adapter,
        job_id,
        share,
        lambda: adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address),
    )
    fee = share * 250 // 10_000
    to_f = cost * bps // 10_000
    assert token.balanceOf(f) - before[f] == share - fee - cost + to_f
    assert token.balanceOf(c) - before[c] == AMOUNT - share - cost + (cost - to_f)
    assert token.balanceOf(adapter.address) == 0
    with boa.reverts("adapter: case closed"):
        adapter.execute_ruling(case, h.state(job_id))


def test_default_when_fee_unpaid(h, court, accounts, token):
    _arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = disputed(h, accounts, adapter)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    with boa.reverts("adapter: fee timeout not over"):
        adapter.timeout_by_default(case, h.state(job_id))
    boa.env.time_travel(seconds=FEE_TIMEOUT + 1)
    with boa.reverts("adapter: fee timeout passed"):
        adapter.pay_fee(case, h.state(job_id), sender=c)
    fb = token.balanceOf(f)
    resolve_via(
        h,
        adapter,
        job_id,
        AMOUNT,
        lambda: adapter.timeout_by_default(case, h.state(job_id), sender=accounts.outsider.address),
    )
    assert token.balanceOf(f) - fb == AMOUNT - AMOUNT * 250 // 10_000 + BASE_FEE + AMOUNT * FEE_BPS // 10_000
    assert token.balanceOf(adapter.address) == 0


def test_settlement_before_dispute(h, court, accounts, token):
    arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = disputed(h, accounts, adapter)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=c)
    adapter.propose_settlement(case, 6000, sender=f)
    with boa.reverts("adapter: own settlement offer"):
        adapter.accept_settlement(case, h.state(job_id), 6000, sender=f)
    with boa.reverts("adapter: settlement differs"):
        adapter.accept_settlement(case, h.state(job_id), 5000, sender=c)
    resolve_via(
        h, adapter, job_id, 60_000, lambda: adapter.accept_settlement(case, h.state(job_id), 6000, sender=c)
    )
    assert token.balanceOf(adapter.address) == 0 and token.balanceOf(arb.address) == 0


def test_escrow_fallback_against_silent_arbitrator(h, court, accounts, token):
    arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = disputed(h, accounts, adapter)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    boa.env.time_travel(seconds=30 * DAY + 1)
    h.resolve(accounts.outsider.address, job_id, 0, 0, expect=OK)
    adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address)
    assert token.balanceOf(adapter.address) == 0
    d = adapter.cases(case).dispute_id
    arb.give_ruling(d, 1, sender=ADAPTER_DEPLOYER)  # late ruling recorded, nothing moves
    assert adapter.cases(case).ruled


def test_bad_inputs(h, court, accounts):
    _arb, adapter = court
    c, f = accounts.client.address, accounts.freelancer.address
    job_id = h.create_job(c, [AMOUNT, AMOUNT], freelancer=f, arbiter=adapter.address, expect=OK)
    with boa.reverts("adapter: milestone not disputed"):
        adapter.open_case(job_id, h.state(job_id), 0, "u", sender=c)
    with boa.reverts("adapter: no such milestone"):
        adapter.open_case(job_id, h.state(job_id), 5, "u", sender=c)
    with boa.reverts("adapter: unknown job"):
        adapter.open_case(999, h.state(job_id), 0, "u", sender=c)
    h.submit(f, job_id, 0, expect=OK)
    h.approve(c, job_id, 0, expect=OK)
    with boa.reverts("adapter: milestone settled"):
        adapter.open_case(job_id, h.state(job_id), 0, "u", sender=c)
    h.submit(f, job_id, 1, expect=OK)
    h.raise_dispute(c, job_id, 1, expect=OK)
    with boa.reverts("adapter: caller is not a party"):
        adapter.open_case(job_id, h.state(job_id), 1, "u", sender=accounts.outsider.address)
    with boa.reverts("adapter: unknown case"):
        adapter.pay_fee(42, h.state(job_id), sender=c)


# ---------------------------------------------------------------- two-sided appeal funding
# The CentralizedArbitrator with a one-day appeal window: APPEAL_FEE per appeal. Requirements:
# the loser of the current ruling 2x (first half of the window), the winner 1.5x, a half-half
# ruling 1.5x each.
LOSER_PAYS, WINNER_PAYS = 2 * APPEAL_FEE, APPEAL_FEE + APPEAL_FEE // 2
COST = BASE_FEE + AMOUNT * FEE_BPS // 10_000  # arbitration cost of an AMOUNT milestone
BLOCKLIST = Path(__file__).resolve().parent / "mocks" / "BlocklistToken.vy"


@pytest.fixture
def appealable(escrow, token):
    with boa.env.prank(ADAPTER_DEPLOYER):
        arb = partial(ARBITRATOR).deploy(token.address, BASE_FEE, FEE_BPS, APPEAL_FEE, DAY)
        adapter = partial(ADAPTER).deploy(escrow.address, arb.address, 3, FEE_TIMEOUT)
    return arb, adapter


def ruled_appealable(h, accounts, arb, adapter, ruling, token=None):
    """A case whose dispute was created and ruled `ruling`, appealable for a day."""
    c, f = accounts.client.address, accounts.freelancer.address
    if token is None:
        job_id = disputed(h, accounts, adapter)
    else:
        job_id = h.create_job(c, [AMOUNT], freelancer=f, arbiter=adapter.address, token=token, expect=OK)
        h.submit(f, job_id, 0, expect=OK)
        h.raise_dispute(f, job_id, 0, expect=OK)
        for who in (c, f):
            token.mint(who, 10**6)
            token.approve(adapter.address, 2**255, sender=who)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    d = adapter.cases(case).dispute_id
    arb.give_ruling(d, ruling, sender=ADAPTER_DEPLOYER)
    return job_id, case, d


def holdings(token, accounts, arb, adapter, h):
    return sum(
        token.balanceOf(x)
        for x in (
            accounts.client.address,
            accounts.freelancer.address,
            arb.address,
            adapter.address,
            h.escrow.address,
            accounts.treasury.address,
        )
    )


def end_case(h, arb, adapter, accounts, job_id, case, d, share):
    """The window runs out, the arbitrator's ruling is final, the case is executed with `share`."""
    boa.env.time_travel(seconds=DAY)
    arb.execute(d)
    resolve_via(
        h,
        adapter,
        job_id,
        share,
        lambda: adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address),
    )
    assert adapter.appeal_funding(case)[1:4] == (0, 0, 0)


@pytest.mark.parametrize("final,bps", [(1, 10_000), (5, 2_500), (0, 5_000)])
def test_both_sides_fund_then_the_pot_follows_the_final_ruling(h, appealable, accounts, token, final, bps):
    """The client wins; the freelancer (loser) funds 2x in the first half, the client (winner)
    answers with 1.5x: the adapter appeals, the rest of both deposits is the pot, shared at
    the end in the final ruling's proportion (the freelancer's part rounded down)."""
    arb, adapter = appealable
    c, f = accounts.client.address, accounts.freelancer.address
    job_id, case, d = ruled_appealable(h, accounts, arb, adapter, 2)
    total = holdings(token, accounts, arb, adapter, h)
    before = {w: token.balanceOf(w) for w in (c, f)}
    assert adapter.appeal_requirement(case, f) == LOSER_PAYS
    assert adapter.appeal_requirement(case, c) == WINNER_PAYS
    start, end = arb.appealPeriod(d)
    assert adapter.appeal_window(case, f) == (start, start + DAY // 2)
    assert adapter.appeal_window(case, c) == (start, end)
    adapter.fund_appeal(case, sender=f)
    assert adapter.appeal_funding(case) == (0, 0, LOSER_PAYS, 0, False, True)
    assert arb.disputeStatus(d) == 1  # not appealed yet: waiting for the winner
    held = token.balanceOf(arb.address)
    adapter.fund_appeal(case, sender=c)
    logs = [x for x in adapter.get_logs() if str(x.address) == str(adapter.address)]
    assert [type(x).__name__ for x in logs] == ["AppealFunded", "AppealFullyFunded"]
    pot = LOSER_PAYS + WINNER_PAYS - APPEAL_FEE
    assert logs[-1].cost == APPEAL_FEE and logs[-1].pot == pot
    assert token.balanceOf(arb.address) == held + APPEAL_FEE
    assert arb.disputeStatus(d) == 0  # appealed: a new round
    assert adapter.appeal_funding(case) == (1, 0, 0, pot, False, False)
    arb.give_ruling(d, final, sender=ADAPTER_DEPLOYER)  # nobody appeals again
    end_case(h, arb, adapter, accounts, job_id, case, d, AMOUNT * bps // 10_000)
    share = AMOUNT * bps // 10_000
    shared = COST + pot
    to_f = shared * bps // 10_000
    assert token.balanceOf(f) - before[f] == share - share * 250 // 10_000 - LOSER_PAYS + to_f
    assert token.balanceOf(c) - before[c] == AMOUNT - share - WINNER_PAYS + shared - to_f
    assert token.balanceOf(adapter.address) == 0
    assert holdings(token, accounts, arb, adapter, h) == total
    assert adapter.appeal_funding(case)[0] == 1  # the count of appeals stays


def test_only_the_loser_funds_and_wins_by_default(h, appealable, accounts, token):
    """The freelancer (loser) funds alone: when the arbitrator rules (client wins) the adapter
    records the freelancer's full win instead, logs it, and returns the lone deposit."""
    arb, adapter = appealable
    c, f = accounts.client.address, accounts.freelancer.address
    job_id, case, d = ruled_appealable(h, accounts, arb, adapter, 2)
    before = {w: token.balanceOf(w) for w in (c, f)}
    adapter.fund_appeal(case, sender=f)
    boa.env.time_travel(seconds=DAY)
    arb.execute(d)
    logs = [x for x in arb.get_logs() if str(x.address) == str(adapter.address)]
    assert [type(x).__name__ for x in logs] == ["WonByAppealDefault", "Ruling"]
    assert logs[0].party == f and logs[0].arbitrator_ruling == 2 and logs[0].ruling == 1
    assert list(logs[1]._asdict().values())[-1] == 1, logs[1]  # Ruling(_arbitrator, _disputeID, _ruling)
    assert adapter.cases(case).ruling == 1
    resolve_via(h, adapter, job_id, AMOUNT, lambda: adapter.execute_ruling(case, h.state(job_id)))
    assert (
        token.balanceOf(f) - before[f] == AMOUNT - AMOUNT * 250 // 10_000 + COST
    )  # deposit and reserve back
    assert token.balanceOf(c) == before[c]
    assert token.balanceOf(adapter.address) == 0


@pytest.mark.parametrize("ruling,recorded,share", [(2, 2, 0), (5, 5, AMOUNT // 4)])
def test_only_the_winner_funds_keeps_winning_and_gets_its_deposit_back(
    h, appealable, accounts, token, ruling, recorded, share
):
    """The client (winner) funds alone: it keeps its ruling (a split stays a split: funding
    alone at the end of the period, when the loser can no longer answer, does not turn it into
    a full win; test_court_attacks_review3 F1), and its deposit is returned when the case ends."""
    arb, adapter = appealable
    c = accounts.client.address
    job_id, case, d = ruled_appealable(h, accounts, arb, adapter, ruling)
    before = token.balanceOf(c)
    boa.env.time_travel(seconds=DAY // 2)  # the winner may answer in the second half
    adapter.fund_appeal(case, sender=c)
    assert token.balanceOf(c) == before - WINNER_PAYS
    end_case(h, arb, adapter, accounts, job_id, case, d, share)
    assert adapter.cases(case).ruling == recorded
    to_f = COST * share // AMOUNT
    assert token.balanceOf(c) == before + AMOUNT - share + COST - to_f
    assert token.balanceOf(adapter.address) == 0


def test_nobody_funds_and_the_ruling_is_final(h, appealable, accounts, token):
    arb, adapter = appealable
    c, f = accounts.client.address, accounts.freelancer.address
    job_id, case, d = ruled_appealable(h, accounts, arb, adapter, 3)
    before = {w: token.balanceOf(w) for w in (c, f)}
    assert adapter.appeal_funding(case) == (0, 0, 0, 0, False, False)
    end_case(h, arb, adapter, accounts, job_id, case, d, AMOUNT * 3 // 4)
    assert adapter.cases(case).ruling == 3
    share = AMOUNT * 3 // 4
    assert token.balanceOf(f) - before[f] == share - share * 250 // 10_000 + COST * 3 // 4
    assert token.balanceOf(c) - before[c] == AMOUNT - share + COST - COST * 3 // 4


def test_funding_refusals(h, appealable, accounts, token):
    """Who may fund, when, and how often, each with its reason; no token moves on a refusal."""
    arb, adapter = appealable
    c, f, o = accounts.client.address, accounts.freelancer.address, accounts.outsider.address
    job_id = disputed(h, accounts, adapter)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    with boa.reverts("adapter: no appealable dispute"):
        adapter.fund_appeal(case, sender=c)  # fees still being paid
    with boa.reverts("adapter: unknown case"):
        adapter.fund_appeal(case + 1, sender=c)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    d = adapter.cases(case).dispute_id
    with boa.reverts("adapter: not appealable"):
        adapter.fund_appeal(case, sender=f)  # no ruling yet
    arb.give_ruling(d, 2, sender=ADAPTER_DEPLOYER)
    held = token.balanceOf(adapter.address)
    with boa.reverts("adapter: caller is not a party"):
        adapter.fund_appeal(case, sender=o)
    with boa.reverts("adapter: caller is not a party"):
        adapter.appeal_requirement(case, o)
    boa.env.time_travel(seconds=DAY // 2 - 1)
    adapter.fund_appeal(case, sender=f)  # the last second of the loser's half
    with boa.reverts("adapter: side already funded"):
        adapter.fund_appeal(case, sender=f)
    boa.env.time_travel(seconds=DAY // 2 + 1)
    with boa.reverts("adapter: appeal period over"):
        adapter.fund_appeal(case, sender=c)
    assert token.balanceOf(adapter.address) == held + LOSER_PAYS


def test_the_loser_funds_in_the_first_half_only(h, appealable, accounts, token):
    arb, adapter = appealable
    c, f = accounts.client.address, accounts.freelancer.address
    _job_id, case, _d = ruled_appealable(h, accounts, arb, adapter, 1)  # the client lost
    boa.env.time_travel(seconds=DAY // 2)
    with boa.reverts("adapter: loser funds in the first half"):
        adapter.fund_appeal(case, sender=c)
    adapter.fund_appeal(case, sender=f)  # the winner still may, and then wins by default
    assert adapter.appeal_funding(case) == (0, 0, WINNER_PAYS, 0, False, True)


@pytest.mark.parametrize("ruling", [0, 4])
def test_a_half_half_ruling_charges_both_sides_alike_all_period(h, appealable, accounts, token, ruling):
    arb, adapter = appealable
    c, f = accounts.client.address, accounts.freelancer.address
    _job_id, case, d = ruled_appealable(h, accounts, arb, adapter, ruling)
    start, end = arb.appealPeriod(d)
    for who in (c, f):
        assert adapter.appeal_requirement(case, who) == WINNER_PAYS
        assert adapter.appeal_window(case, who) == (start, end)
    boa.env.time_travel(seconds=DAY - 1)
    adapter.fund_appeal(case, sender=c)
    adapter.fund_appeal(case, sender=f)
    assert adapter.appeal_funding(case) == (1, 0, 0, 2 * WINNER_PAYS - APPEAL_FEE, False, False)


def test_no_more_appeals_is_refused_before_any_token_moves(h, appealable, accounts, token):
    arb, adapter = appealable
    f = accounts.freelancer.address
    _job_id, case, _d = ruled_appealable(h, accounts, arb, adapter, 2)
    arb.set_fees(BASE_FEE, FEE_BPS, 2**256 - 1, sender=ADAPTER_DEPLOYER)
    assert adapter.appeal_requirement(case, f) == 2**256 - 1
    before = token.balanceOf(f)
    with boa.reverts("adapter: no more appeals"):
        adapter.fund_appeal(case, sender=f)
    assert token.balanceOf(f) == before


def test_escrow_fallback_returns_the_lone_deposit_and_halves_the_pot(h, appealable, accounts, token):
    """An appeal made (pot), then a lone deposit in the next round, then the arbitrator goes
    silent: the escrow's 30-day fallback settles the milestone and closing the case returns
    the lone deposit and shares the reserve and the pot half each; a late ruling moves nothing."""
    arb, adapter = appealable
    c, f = accounts.client.address, accounts.freelancer.address
    job_id, case, d = ruled_appealable(h, accounts, arb, adapter, 2)
    total = holdings(token, accounts, arb, adapter, h)
    adapter.fund_appeal(case, sender=f)
    adapter.fund_appeal(case, sender=c)
    arb.give_ruling(d, 1, sender=ADAPTER_DEPLOYER)
    adapter.fund_appeal(case, sender=c)  # the client, now the loser, funds alone
    before = {w: token.balanceOf(w) for w in (c, f)}
    boa.env.time_travel(seconds=30 * DAY + 1)
    h.resolve(accounts.outsider.address, job_id, 0, 0, expect=OK)
    before = {w: token.balanceOf(w) for w in (c, f)}
    adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address)
    shared = COST + LOSER_PAYS + WINNER_PAYS - APPEAL_FEE
    assert token.balanceOf(f) - before[f] == shared // 2
    assert token.balanceOf(c) - before[c] == shared - shared // 2 + LOSER_PAYS
    assert token.balanceOf(adapter.address) == 0
    arb.execute(d)  # the late ruling is recorded, nothing moves
    assert adapter.cases(case).ruling == 1
    assert holdings(token, accounts, arb, adapter, h) == total


def test_a_token_refusing_one_party_does_not_block_the_other(h, appealable, accounts):
    """Both sides fund; at the end the client is blocklisted by the token: the freelancer is
    paid at once, the client's share (reserve and pot) is credited and pulled later."""
    arb, adapter = appealable
    c, f = accounts.client.address, accounts.freelancer.address
    blocklist = boa.load_partial(str(BLOCKLIST)).deploy()
    job_id, case, d = ruled_appealable(h, accounts, arb, adapter, 2, token=blocklist)
    adapter.fund_appeal(case, sender=f)
    adapter.fund_appeal(case, sender=c)
    arb.give_ruling(d, 3, sender=ADAPTER_DEPLOYER)
    boa.env.time_travel(seconds=DAY)
    arb.execute(d)
    h.block(blocklist, c)
    fb = blocklist.balanceOf(f)
    share = AMOUNT * 3 // 4
    trial = h.model.clone()
    trial.resolve(str(adapter.address), job_id, None, 0, share)
    adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address)
    h.model = trial
    h.check_job(job_id)
    shared = COST + LOSER_PAYS + WINNER_PAYS - APPEAL_FEE
    to_f = shared * 3 // 4
    assert blocklist.balanceOf(f) - fb == share - share * 250 // 10_000 + to_f
    assert adapter.claimable(blocklist.address, c) == shared - to_f
    h.block(blocklist, c, False)
    assert adapter.withdraw(blocklist.address, sender=c) == shared - to_f
    assert blocklist.balanceOf(adapter.address) == 0


# ---------------------------------------------------------------- stateful machine
from collections import Counter  # noqa: E402

from escrow_harness import EscrowHarness  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test  # noqa: E402

STATS: Counter = Counter()  # outcomes reached by the machine, checked after the run


class AdapterMachine(RuleBasedStateMachine):
    def __init__(self, escrow, token, arb, adapter, accounts):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.a, self.token, self.arb, self.adapter = accounts, token, arb, adapter
        self.h = EscrowHarness(escrow, token, accounts.owner.address)
        self.cases: list[int] = []
        self.executed: set[int] = set()
        self.holders = [
            escrow.address,
            adapter.address,
            arb.address,
            accounts.client.address,
            accounts.freelancer.address,
            accounts.treasury.address,
        ]
        self.total = sum(token.balanceOf(x) for x in self.holders)

    def teardown(self):
        # every open case ends through timeouts alone
        boa.env.time_travel(seconds=31 * DAY)
        for case in self.cases:
            cs = self.adapter.cases(case)
            job_id = cs.job_id
            STATS[f"end status {cs.status}"] += 1
            if cs.status in (1, 2):
                self.adapter.timeout_by_default(case, self.h.state(job_id))
            elif cs.status == 3:
                self.h.resolve(self.a.outsider.address, job_id, 0, 0, expect=OK)
                self.adapter.execute_ruling(case, self.h.state(job_id))
            elif cs.status == 4:
                self.adapter.execute_ruling(case, self.h.state(job_id))
            self._sync(job_id)
            assert self.adapter.cases(case).status == 5
        assert self.token.balanceOf(self.adapter.address) == 0
        self._anchor.__exit__(None, None, None)

    def _sync(self, job_id):
        """Mirrors an adapter-made resolve in the escrow model: the escrow hash must be explained by one of the shares."""
        if self.h.escrow.job_state(job_id) != self.h.model.jobs[job_id].hash():
            m = self.h.model.jobs[job_id].milestones[0]
            for bps in (10000, 7500, 5000, 2500, 0, 6000):
                trial = self.h.model.clone()
                trial.resolve(str(self.adapter.address), job_id, None, 0, m.amount * bps // 10_000)
                if trial.jobs[job_id].hash() == self.h.escrow.job_state(job_id):
                    self.h.model = trial
                    return
            raise AssertionError("escrow state not explained by an adapter resolve")

    @rule(by_client=st.booleans(), amount=st.integers(1_000, 10**7))
    def open(self, by_client, amount):
        c, f = self.a.client.address, self.a.freelancer.address
        job_id = self.h.create_job(c, [amount], freelancer=f, arbiter=self.adapter.address, expect=OK)
        self.total += amount
        self.h.submit(f, job_id, 0, expect=OK)
        self.h.raise_dispute(f, job_id, 0, expect=OK)
        for who in (c, f):
            self.token.mint(who, 10**8, sender=self.h.model.owner)
            self.token.approve(self.adapter.address, 2**255, sender=who)
        self.total += 2 * 10**8
        self.cases.append(
            self.adapter.open_case(job_id, self.h.state(job_id), 0, "u", sender=c if by_client else f)
        )

    @rule(
        by_client=st.booleans(),
        amount=st.integers(1_000, 10**7),
        ruling=st.integers(0, 5),
        until=st.sampled_from(["disputed", "ruled", "executed"]),
    )
    def whole_case(self, by_client, amount, ruling, until):
        """A case run at once up to `until` (open, both fees, then the ruling and its execution) among
        the other rules' single steps, so that every run reaches each end whatever mix they draw."""
        self.open(by_client, amount)
        case = self.cases[-1]
        self.pay(len(self.cases) - 1, True)
        cs = self.adapter.cases(case)
        assert cs.status == 3, cs
        if until != "disputed":
            self.arb.give_ruling(cs.dispute_id, ruling, sender=ADAPTER_DEPLOYER)
        if until == "executed":
            self._execute(case)

    @rule(i=st.integers(0, 30), both=st.booleans())
    def pay(self, i, both):
        """The party due pays its fee; with `both`, the other one at once too (the dispute is created)."""
        if not self.cases:
            return
        case = self.cases[i % len(self.cases)]
        for _ in range(2 if both else 1):
            cs = self.adapter.cases(case)
            if cs.status in (1, 2) and boa.env.timestamp <= cs.fee_deadline:
                payer = cs.client if cs.status == 1 else cs.freelancer
                self.adapter.pay_fee(case, self.h.state(cs.job_id), sender=payer)
                STATS["pay"] += 1

    @rule(i=st.integers(0, 30), ruling=st.integers(0, 5), then_execute=st.booleans())
    def give_ruling(self, i, ruling, then_execute):
        if not self.cases:
            return
        case = self.cases[i % len(self.cases)]
        cs = self.adapter.cases(case)
        if cs.status == 3 and not cs.ruled:
            self.arb.give_ruling(cs.dispute_id, ruling, sender=ADAPTER_DEPLOYER)
            if then_execute:
                self._execute(case)

    @rule(i=st.integers(0, 30))
    def execute(self, i):
        if self.cases:
            self._execute(self.cases[i % len(self.cases)])

    def _execute(self, case):
        cs = self.adapter.cases(case)
        if cs.status == 4:
            assert case not in self.executed
            self.adapter.execute_ruling(case, self.h.state(cs.job_id))
            self.executed.add(case)
            STATS["execute"] += 1
            self._sync(cs.job_id)
            with boa.reverts("adapter: case closed"):
                self.adapter.execute_ruling(case, self.h.state(cs.job_id))

    @rule(i=st.integers(0, 30), bps=st.integers(0, 10_000))
    def settle(self, i, bps):
        if not self.cases:
            return
        case = self.cases[i % len(self.cases)]
        cs = self.adapter.cases(case)
        if cs.status in (1, 2):
            self.adapter.propose_settlement(case, bps, sender=cs.client)
            self.adapter.accept_settlement(case, self.h.state(cs.job_id), bps, sender=cs.freelancer)
            trial = self.h.model.clone()
            trial.resolve(
                str(self.adapter.address),
                cs.job_id,
                None,
                0,
                self.h.model.jobs[cs.job_id].milestones[0].amount * bps // 10_000,
            )
            self.h.model = trial
            self.h.check_job(cs.job_id)
            STATS["settle"] += 1

    @rule(seconds=st.sampled_from([DAY, 4 * DAY]))
    def wait(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @invariant()
    def conserved(self):
        assert sum(self.token.balanceOf(x) for x in self.holders) == self.total


def test_adapter_machine(escrow_deployer, stable_deployer, accounts):
    STATS.clear()
    with boa.swap_env(boa.Env()):
        pin_clock()
        with boa.env.prank(accounts.owner.address):
            token = stable_deployer.deploy("Proofwork Test USD", "pUSD")
            escrow = escrow_deployer.deploy(accounts.treasury.address, 250)
        with boa.env.prank(ADAPTER_DEPLOYER):
            arb = partial(ARBITRATOR).deploy(token.address, BASE_FEE, FEE_BPS, APPEAL_FEE, 0)
            adapter = partial(ADAPTER).deploy(escrow.address, arb.address, 3, FEE_TIMEOUT)
        run_state_machine_as_test(
            lambda: AdapterMachine(escrow, token, arb, adapter, accounts),
            settings=settings(
                max_examples=25,
                stateful_step_count=15,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    print("coverage:", sorted(STATS.items()))
    for outcome in ("pay", "execute", "settle", "end status 1", "end status 2", "end status 3"):
        assert STATS[outcome] > 0, (outcome, STATS)
