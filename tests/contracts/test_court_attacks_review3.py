"""Attacker review 3: two-sided appeal funding (EscrowArbitrable.fund_appeal, the lone funder's
default in `rule`) and settlement while a case is DISPUTED before its draw (Court.withdraw_dispute,
the adapter's `_take_back`).

Each test plays one attacker (client, freelancer, outsider, a hostile arbitrable calling the court
directly, a hostile fee token, an arbitrator that lets anyone appeal) and asserts the outcome: a
fixed attack is a regression test (`test_fN_*`), an attack the contracts already stop a
`test_defended_*`, an accepted one a `test_residue_*` test of its bound. SECURITY.md, "Attacker
review 3 (appeal funding, settlement while disputed)", lists them.

Most tests drive the whole system (JobEscrow + EscrowArbitrable + the real Court) through
`CourtSystem`, which predicts every call and checks the chain against its model (tokens conserved,
every balance as predicted) and ends every case through timeouts alone (`end_everything`).
"""

from __future__ import annotations

from pathlib import Path

import boa
import pytest
from court_fixtures import PERIODS, PWK, USD, extra, partial, pin_clock
from court_system_fixtures import (
    ADAPTER_PATH,
    APPEAL,
    CASE_CLOSED,
    CASE_DISPUTED,
    CLIENTS,
    ESCROW_FEE_BPS,
    EVIDENCE,
    FREELANCERS,
    JURORS,
    OUTSIDER,
    CourtSystem,
    deploy_system,
)
from escrow_harness import OK
from eth_utils import keccak, to_checksum_address

MOCKS = Path(__file__).resolve().parent / "mocks"
# Used by no other test module (see committee_fixtures.COMMITTEE_DEPLOYER).
REVIEW_DEPLOYER = to_checksum_address(keccak(b"proofwork court review 3 deployer")[12:])
# A second one, so that no two tests deploy different contracts at one address (titanoboa's storage
# trace, printed on a revert, would mix their layouts).
COMMITTEE_REVIEW_DEPLOYER = to_checksum_address(keccak(b"proofwork court review 3 committee deployer")[12:])
AMOUNT = 1_000 * USD  # three jurors at 3 %: 30 per juror, a cost of 90
FEE = 30 * USD
COST = 90 * USD
APPEAL_COST = 7 * FEE  # the first appeal draws 2n + 1 = 7 jurors
DRAW_WINDOW = 256


@pytest.fixture(scope="module")
def system():
    return deploy_system()


@pytest.fixture(autouse=True)
def _pinned_clock():
    """Each scenario runs on the same clock (titanoboa's per-test anchor restores it after)."""
    pin_clock()


def escrow_fee(gross: int) -> int:
    return gross * ESCROW_FEE_BPS // 10_000


def disputed(s: CourtSystem, amount: int = AMOUNT, *, pay: bool = True):
    """A one-milestone job, submitted, disputed by the client, its case opened by the freelancer
    and (pay) the client's fee paid (the dispute created); six jurors staked."""
    for j in JURORS:
        s.stake(j, 500 * PWK)
    c, f = CLIENTS[0], FREELANCERS[0]
    job_id = s.post_job(c, f, [amount])
    s.submit(job_id, 0)
    s.raise_dispute(job_id, 0, by_client=True)
    cid = s.open_case(job_id, 0, by_client=False)
    d = s.pay_fee(cid) if pay else None
    s.check()
    return job_id, cid, d


def vote(s: CourtSystem, d: int, choices: list[int]) -> None:
    """Draw, every seat commits and reveals: the appeal period opens."""
    s.pass_period(d)
    s.commit(d, choices, [True] * 7)
    s.reveal(d, [True] * 7)
    assert s.disputes[d].period == APPEAL
    s.check()


def finish(s: CourtSystem, d: int) -> None:
    while s.disputes[d].period != 4:
        s.pass_period(d)
    s.court_execute(d)
    s.execute_case(s.disputes[d].case_id)
    for r in range(len(s.disputes[d].rounds)):
        s.distribute(d, r)
    s.check()


def to_last_second_of_appeal(s: CourtSystem, d: int) -> None:
    dd = s.disputes[d]
    boa.env.time_travel(seconds=dd.start + PERIODS[APPEAL] - 1 - s.now())


# ------------------------------------------------------------------ appeal funding


@pytest.mark.parametrize("ruling,winner_is_client", [(3, False), (5, True)])
def test_f1_the_winner_of_a_split_ruling_cannot_upgrade_it_by_funding_alone(system, ruling, winner_is_client):
    """The jurors split the milestone (75 % or 25 % to the freelancer). The side the split favours
    (the "winner": 1.5x, until the end of the period) funds its side alone at the last second of the
    appeal period, when the loser can no longer answer (its half is over). Before the fix the lone
    funder won by default: the split became its full win at no cost (its deposit came back), so
    every split ruling was a full win for its winner unless the loser paid 2x to appeal a ruling it
    accepted. Now a lone funder the ruling already favours keeps that ruling; its deposit returns."""
    s = CourtSystem(system)
    _job_id, cid, d = disputed(s)
    vote(s, d, [ruling] * 3)
    assert s.court.currentRuling(d) == ruling
    winner = CLIENTS[0] if winner_is_client else FREELANCERS[0]
    loser = FREELANCERS[0] if winner_is_client else CLIENTS[0]
    to_last_second_of_appeal(s, d)
    assert s.fund_appeal(cid, by_client=not winner_is_client) == "refused"  # the loser: too late
    before = {w: s.usd.balanceOf(w) for w in (winner, loser)}
    assert s.fund_appeal(cid, by_client=winner_is_client) == "funded"
    deposit = APPEAL_COST * 3 // 2
    assert s.usd.balanceOf(winner) == before[winner]  # minted for it, then pulled
    finish(s, d)
    assert s.adapter.cases(cid).ruling == ruling  # the split stands
    bps = {3: 7_500, 5: 2_500}[ruling]
    share = AMOUNT * bps // 10_000
    to_f = COST * bps // 10_000
    f_gain = share - escrow_fee(share) + to_f
    c_gain = AMOUNT - share + COST - to_f
    gains = {FREELANCERS[0]: f_gain, CLIENTS[0]: c_gain}
    assert s.usd.balanceOf(winner) - before[winner] == gains[winner] + deposit  # its deposit back
    assert s.usd.balanceOf(loser) - before[loser] == gains[loser]
    s.end_everything()


def test_defended_a_lone_loser_still_wins_a_split_by_default(system):
    """The fix leaves the loser's default intact: after a 75 % ruling the client (loser) funds
    alone in its half, the freelancer does not answer: the client wins the whole milestone."""
    s = CourtSystem(system)
    _job_id, cid, d = disputed(s)
    vote(s, d, [3, 3, 3])
    assert s.fund_appeal(cid, by_client=True) == "funded"
    finish(s, d)
    assert s.court.currentRuling(d) == 3 and s.adapter.cases(cid).ruling == 2
    s.end_everything()


def test_residue_after_a_half_half_ruling_a_last_second_lone_funder_wins(system):
    """A tie (or a 50 % ruling) gives both sides the whole period: the client funds alone at its
    last second and the freelancer cannot answer any more, so the client takes the whole milestone
    and gets its deposit back (Kleros' rule for ties, accepted). Watching the period does not
    help the freelancer: only funding its own side first does (next test)."""
    s = CourtSystem(system)
    _job_id, cid, d = disputed(s)
    vote(s, d, [4, 4, 4])
    to_last_second_of_appeal(s, d)
    assert s.fund_appeal(cid, by_client=True) == "funded"
    boa.env.time_travel(seconds=1)
    assert s.fund_appeal(cid, by_client=False) == "refused"  # too late to answer
    finish(s, d)
    assert s.adapter.cases(cid).ruling == 2
    # the milestone, the reserve, and its deposit (minted for it) back
    assert s.usd.balanceOf(CLIENTS[0]) == AMOUNT + COST + APPEAL_COST * 3 // 2
    s.end_everything()


def test_residue_a_half_half_snipe_is_answered_by_funding_first(system):
    """The freelancer funds its side as soon as the tie is known: the client's last-second funding
    is then the answer that makes the appeal (no win by default), and the larger panel decides."""
    s = CourtSystem(system)
    _job_id, cid, d = disputed(s)
    vote(s, d, [4, 4, 4])
    assert s.fund_appeal(cid, by_client=False) == "funded"
    to_last_second_of_appeal(s, d)
    assert s.fund_appeal(cid, by_client=True) == "appealed"
    vote(s, d, [1] * 7)
    finish(s, d)
    assert s.adapter.cases(cid).ruling == 1
    s.end_everything()


def test_defended_appeal_pot_rounding_leaves_no_dust(system):
    """Odd fees (a 337.77 claim: 10.1331 per juror), two appeals funded by both sides, a 25 %
    final ruling: the reserve and the pot are shared to the unit (the freelancer's part rounded
    down), the adapter ends empty and every balance is as the model predicts."""
    s = CourtSystem(system)
    amount = 337_770_000 + 7
    _job_id, cid, d = disputed(s, amount)
    vote(s, d, [2, 2, 2])
    assert s.appeal(cid, by_client=False)  # the loser first, the winner answers
    vote(s, d, [1] * 7)
    assert s.appeal(cid, by_client=True)
    vote(s, d, [5] * 7)
    assert s.adapter.appeal_funding(cid)[0] == 2
    finish(s, d)
    assert s.adapter.cases(cid).ruling == 5
    assert s.usd.balanceOf(s.adapter.address) == 0
    s.end_everything()


def test_defended_no_funding_by_an_outsider_twice_or_after_the_period(system):
    """An outsider cannot fund (no third-party crowdfunding), a side funds once a round, nobody
    funds once the period is over or the case is ruled: no deposit can be stranded by them."""
    s = CourtSystem(system)
    _job_id, cid, d = disputed(s)
    vote(s, d, [2, 2, 2])
    with boa.reverts("adapter: caller is not a party"):
        s.adapter.fund_appeal(cid, sender=OUTSIDER)
    assert s.fund_appeal(cid, by_client=False) == "funded"
    assert s.fund_appeal(cid, by_client=False) == "refused"  # side already funded
    boa.env.time_travel(seconds=PERIODS[APPEAL])
    assert s.fund_appeal(cid, by_client=True) == "refused"  # not appealable any more
    finish(s, d)
    with boa.reverts("adapter: no appealable dispute"):
        s.adapter.fund_appeal(cid, sender=CLIENTS[0])
    s.end_everything()


# ------------------------------------------------------------ settlement while disputed


def test_defended_withdraw_refused_once_armed_even_after_the_draw_window_expired(system):
    """Front-running the arm: a settlement accepted before the arming transaction is fine (both
    parties agreed, no juror knows its seat); once armed, the dispute cannot be taken back, also
    when nobody drew within the window (the seed was public) and the draw must be armed again."""
    s = CourtSystem(system)
    _job_id, cid, d = disputed(s)
    s.pass_period(d, draw=False)  # armed
    boa.env.time_travel(blocks=DRAW_WINDOW + 1)  # nobody draws: the window ends
    assert not s.court.draw_pending()
    s.propose_settlement(cid, by_client=True, bps=5_000)
    s.accept_settlement(cid)  # refused: too late to settle
    assert s.cases[cid].status == CASE_DISPUTED
    with boa.env.prank(s.adapter.address), boa.reverts("court: draw armed"):
        s.court.withdraw_dispute(d)
    s.pass_period(d)  # armed again, then drawn
    s.check()
    s.end_everything()


def test_defended_settlement_while_disputed_pays_once(system):
    """Settled before the draw: each party's fee comes back once; nothing else can be executed,
    appealed, withdrawn or distributed for that case or dispute, no juror holds a seat, and the
    court holds nothing of it."""
    s = CourtSystem(system)
    job_id, cid, d = disputed(s)
    s.propose_settlement(cid, by_client=True, bps=2_500)
    s.accept_settlement(cid)
    assert s.cases[cid].status == CASE_CLOSED
    c, f = CLIENTS[0], FREELANCERS[0]
    share = AMOUNT // 4
    assert s.usd.balanceOf(f) == share - escrow_fee(share) + COST
    assert s.usd.balanceOf(c) == AMOUNT - share + COST
    assert s.usd.balanceOf(s.court.address) == 0 and s.usd.balanceOf(s.adapter.address) == 0
    job = s.state(job_id)
    for call, reason in (
        (lambda: s.adapter.accept_settlement(cid, job, 2_500, sender=f), "adapter: case ruled or closed"),
        (lambda: s.adapter.execute_ruling(cid, job, sender=OUTSIDER), "adapter: case closed"),
        (lambda: s.adapter.fund_appeal(cid, sender=c), "adapter: no appealable dispute"),
        (lambda: s.adapter.timeout_by_default(cid, job, sender=OUTSIDER), "adapter: fees not awaited"),
        (lambda: s.adapter.pay_fee(cid, job, sender=c), "adapter: fees not awaited"),
        (lambda: s.court.execute_ruling(d, sender=OUTSIDER), "court: already ruled"),
        (lambda: s.court.distribute(d, 0, [], sender=OUTSIDER), "court: already distributed"),
        (lambda: s.court.pass_period(d, sender=OUTSIDER), "court: dispute solved"),
    ):
        with boa.reverts(reason):
            call()
    with boa.env.prank(s.adapter.address):
        with boa.reverts("court: jurors drawn"):
            s.court.withdraw_dispute(d)
        with boa.reverts("court: not in appeal period"):
            s.court.appeal(d, b"")
    assert all(s.court.locked(j) == 0 for j in JURORS)
    s.end_everything()


@pytest.mark.parametrize("fee_first", [True, False])
def test_defended_fee_payment_racing_a_settlement(system, fee_first):
    """The client (awaited) offers a settlement and the freelancer accepts; the client's fee payment
    lands first (the dispute is created: the acceptance then takes it back) or second (refused):
    either way the milestone is split once and every fee comes back."""
    s = CourtSystem(system)
    job_id, cid, _ = disputed(s, pay=False)
    s.propose_settlement(cid, by_client=True, bps=6_000)
    if fee_first:
        d = s.pay_fee(cid)
        assert d is not None and s.cases[cid].status == CASE_DISPUTED
        s.accept_settlement(cid)
    else:
        s.accept_settlement(cid)
        with boa.reverts("adapter: fees not awaited"):
            s.adapter.pay_fee(cid, s.state(job_id), sender=CLIENTS[0])
    assert s.cases[cid].status == CASE_CLOSED
    share = AMOUNT * 6 // 10
    assert s.usd.balanceOf(FREELANCERS[0]) == share - escrow_fee(share) + COST
    assert s.usd.balanceOf(CLIENTS[0]) == AMOUNT - share + (COST if fee_first else 0)
    assert s.usd.balanceOf(s.court.address) == 0 and s.usd.balanceOf(s.adapter.address) == 0
    s.end_everything()


def test_defended_an_appealed_dispute_back_in_its_evidence_period_cannot_be_taken_back(system):
    """After an appeal the dispute is again in an evidence period with its draw not armed: a
    hostile arbitrable (here the adapter's own address) asking to withdraw it would take back
    fees owed to the first panel and the appeal's cost; the court refuses (round 0 only), and so
    does the adapter's settlement."""
    s = CourtSystem(system)
    _job_id, cid, d = disputed(s)
    vote(s, d, [2, 2, 2])
    assert s.appeal(cid, by_client=False)
    assert s.court.dispute_clock(d)[:2] == (EVIDENCE, 1) and s.court.draw_block(d) == 0
    held = s.usd.balanceOf(s.court.address)
    with boa.env.prank(s.adapter.address), boa.reverts("court: jurors drawn"):
        s.court.withdraw_dispute(d)
    s.propose_settlement(cid, by_client=True, bps=5_000)
    s.accept_settlement(cid)  # refused: too late to settle
    assert s.usd.balanceOf(s.court.address) == held
    s.end_everything()


def test_residue_an_offer_made_while_fees_were_awaited_stays_open_after_the_dispute(system):
    """The client offers 60 % instead of paying its fee, then pays anyway (the dispute is created):
    the offer is still open and the freelancer may accept it until the draw is armed (the client
    withdraws an offer only by replacing it). Accepted: an offer is an offer; the SDK shows the
    pending one (`dispute show`)."""
    s = CourtSystem(system)
    _job_id, cid, _ = disputed(s, pay=False)
    s.propose_settlement(cid, by_client=True, bps=6_000)
    d = s.pay_fee(cid)
    assert s.adapter.cases(cid).settlement_proposer == CLIENTS[0]
    s.accept_settlement(cid)  # the freelancer takes the old offer; the court takes the dispute back
    assert s.cases[cid].status == CASE_CLOSED and s.court.disputeStatus(d) == 2
    s.end_everything()


def test_residue_a_concession_after_the_dispute_pays_the_jurors_of_a_moot_case(system):
    """The client approves the disputed milestone on the escrow after the dispute was created,
    before its draw. The adapter closes the case (the reserve half each) but leaves the dispute at
    the court: jurors are drawn for a case about nothing and keep its cost, which
    `withdraw_dispute` could have refunded. Bounded by one arbitration cost; the parties avoid it
    by settling through the adapter (a 100 % offer accepted) instead of on the escrow."""
    s = CourtSystem(system)
    job_id, cid, d = disputed(s)
    s.concede(job_id, 0)
    s.execute_case(cid)  # closed by the escrow's settlement
    assert s.cases[cid].status == CASE_CLOSED
    assert s.usd.balanceOf(s.court.address) == COST  # not taken back
    vote(s, d, [1, 1, 1])
    finish(s, d)
    panel = s.disputes[d].rounds[0].panel
    assert sum(s.court.credit(j, s.usd.address) for j in set(panel)) == COST
    s.end_everything()


def test_defended_a_blocklisted_party_does_not_block_a_settlement_while_disputed(system):
    """The freelancer is blocklisted by the job's token while the dispute waits for its draw: the
    settlement still goes through (the court refunds the adapter), the client is paid, the
    freelancer's fee and share are credited and pulled once it is unblocked."""
    s = CourtSystem(system)
    court, adapter = s.court, s.adapter
    bl = partial(MOCKS / "BlocklistToken.vy").deploy()
    c, f = CLIENTS[1], FREELANCERS[1]
    job_id = s.h.create_job(c, [AMOUNT], freelancer=f, arbiter=adapter.address, token=bl, expect=OK)
    s.h.submit(f, job_id, 0, expect=OK)
    s.h.raise_dispute(c, job_id, 0, expect=OK)
    for who in (c, f):
        bl.mint(who, COST)
        bl.approve(adapter.address, COST, sender=who)
    cid = adapter.open_case(job_id, s.h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(cid, s.h.state(job_id), sender=c)
    d = adapter.cases(cid).dispute_id
    assert bl.balanceOf(court.address) == COST
    adapter.propose_settlement(cid, 5_000, sender=c)
    bl.set_blocked(f, True)
    trial = s.h.model.clone()
    trial.resolve(str(adapter.address), job_id, None, 0, AMOUNT // 2)
    adapter.accept_settlement(cid, s.h.state(job_id), 5_000, sender=f)
    s.h.model = trial
    s.h.check_job(job_id)
    assert court.disputeStatus(d) == 2 and bl.balanceOf(court.address) == 0
    assert bl.balanceOf(c) == AMOUNT // 2 + COST
    assert adapter.claimable(bl.address, f) == COST
    bl.set_blocked(f, False)
    assert adapter.withdraw(bl.address, sender=f) == COST
    assert bl.balanceOf(adapter.address) == 0


def test_defended_a_reentrant_fee_token_cannot_settle_twice(system):
    """The job's token calls back into the adapter (`withdraw`) from the court's refund transfer
    inside a settlement while disputed: the call is refused (the adapter is locked, the case
    already closed and nothing credited yet), the settlement pays once, the exact-refund check
    holds and no token is left behind."""
    import eth_abi

    s = CourtSystem(system)
    court, adapter = s.court, s.adapter
    rt = partial(MOCKS / "ReentrantToken.vy").deploy()
    c, f = CLIENTS[1], FREELANCERS[1]
    job_id = s.h.create_job(c, [AMOUNT], freelancer=f, arbiter=adapter.address, token=rt, expect=OK)
    s.h.submit(f, job_id, 0, expect=OK)
    s.h.raise_dispute(c, job_id, 0, expect=OK)
    for who in (c, f):
        rt.mint(who, COST)
        rt.approve(adapter.address, COST, sender=who)
    cid = adapter.open_case(job_id, s.h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(cid, s.h.state(job_id), sender=c)
    adapter.propose_settlement(cid, 5_000, sender=c)
    sig = keccak(b"withdraw(address)")[:4]
    rt.arm(adapter.address, sig + eth_abi.encode(["address"], [rt.address]), False)
    trial = s.h.model.clone()
    trial.resolve(str(adapter.address), job_id, None, 0, AMOUNT // 2)
    adapter.accept_settlement(cid, s.h.state(job_id), 5_000, sender=f)
    s.h.model = trial
    s.h.check_job(job_id)
    assert rt.attempts() == 1 and not rt.last_ok()  # the re-entry was refused
    assert rt.balanceOf(c) == AMOUNT // 2 + COST
    assert rt.balanceOf(adapter.address) == 0 and rt.balanceOf(court.address) == 0
    with boa.reverts("adapter: case ruled or closed"):
        adapter.accept_settlement(cid, s.h.state(job_id), 5_000, sender=f)


# ------------------------------------------------------------ other arbitrators, hostile arbitrables

ARBITRATOR = MOCKS / "CentralizedArbitrator.vy"
BASE_FEE, ARB_FEE_BPS, APPEAL_FEE = 1_000, 100, 5_000
SMALL = 100_000


def test_residue_an_arbitrator_that_lets_anyone_appeal_carries_a_lone_deposit_over(
    h, escrow, token, accounts
):
    """The adapter assumes that only it appeals (proofwork's Court and Kleros' court refuse anyone
    else: next test). With an arbitrator whose `appeal` is open to anyone (the test
    CentralizedArbitrator), the loser funds its side alone, then appeals directly at the arbitrator
    for 1x the cost: its lone deposit is carried into the next round, and when that round rules
    against it again and nobody funds, it still wins by default. Bounded to deployments on such an
    arbitrator; the winner's answer in the next round appeals again instead."""
    c, f, o = accounts.client.address, accounts.freelancer.address, accounts.outsider.address
    with boa.env.prank(REVIEW_DEPLOYER):
        arb = partial(ARBITRATOR).deploy(token.address, BASE_FEE, ARB_FEE_BPS, APPEAL_FEE, 86_400)
        adapter = partial(ADAPTER_PATH).deploy(escrow.address, arb.address, 3, 3 * 86_400)
    job_id = h.create_job(c, [SMALL], freelancer=f, arbiter=adapter.address, expect=OK)
    h.submit(f, job_id, 0, expect=OK)
    h.raise_dispute(c, job_id, 0, expect=OK)
    for who in (c, f):
        token.mint(who, 10**6, sender=h.model.owner)
        token.approve(adapter.address, 2**255, sender=who)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    d = adapter.cases(case).dispute_id
    arb.give_ruling(d, 2, sender=REVIEW_DEPLOYER)  # the client wins
    adapter.fund_appeal(case, sender=f)  # the loser funds alone ...
    token.approve(arb.address, APPEAL_FEE, sender=f)
    arb.appeal(d, b"", sender=f)  # ... and appeals directly, for 1x
    arb.give_ruling(d, 2, sender=REVIEW_DEPLOYER)  # the client wins again; nobody funds
    boa.env.time_travel(seconds=86_400)
    arb.execute(d, sender=o)
    assert adapter.cases(case).ruling == 1  # the freelancer's stale deposit won by default


def test_defended_with_the_court_only_the_adapter_appeals(system):
    """With proofwork's Court a party cannot appeal directly to carry its lone deposit over."""
    s = CourtSystem(system)
    _job_id, cid, d = disputed(s)
    vote(s, d, [2, 2, 2])
    assert s.fund_appeal(cid, by_client=False) == "funded"
    with boa.reverts("court: only the arbitrable"):
        s.court.appeal(d, b"", sender=FREELANCERS[0])
    finish(s, d)
    s.end_everything()


def test_residue_a_fee_on_transfer_token_lets_a_hostile_arbitrable_burn_that_tokens_court_balance(
    system, fot_deployer
):
    """A hostile arbitrable (any account) creates and withdraws disputes in a fee-on-transfer token:
    the court receives 1 % less than the cost but refunds the whole cost, so each cycle takes 1 % of
    the cost out of what the court holds in that token for others (here an honest dispute's fee);
    the attacker pays the same 1 % to the token. Bounded to that token (the escrow refuses such
    tokens, so the adapter never names one); the stablecoin and PWK the court holds are untouched."""
    s = CourtSystem(system)
    _job_id, _cid, _d = disputed(s)  # an adapter dispute, its fee in the stablecoin
    court, usd, pwk = s.court, s.usd, s.pwk
    usd_held, pwk_held = usd.balanceOf(court.address), pwk.balanceOf(court.address)
    fot = fot_deployer.deploy()
    honest, attacker = CLIENTS[1], FREELANCERS[1]
    data = extra(fot.address, AMOUNT, 3)
    cost = court.arbitrationCost(data)
    for who in (honest, attacker):
        fot.mint(who, 10 * cost)
        fot.approve(court.address, 10 * cost, sender=who)
    court.createDispute(5, data, sender=honest)
    held = fot.balanceOf(court.address)
    assert held == cost - cost // 100
    mine = court.createDispute(5, data, sender=attacker)
    court.withdraw_dispute(mine, sender=attacker)
    assert fot.balanceOf(court.address) == held - cost // 100  # the honest dispute's fee, short
    assert usd.balanceOf(court.address) == usd_held and pwk.balanceOf(court.address) == pwk_held


# ------------------------------------------------------------ committee jobs before the court


@pytest.fixture(scope="module")
def oracles():
    from committee_fixtures import oracle_accounts

    return oracle_accounts(4, "court review 3 oracle")


def test_defended_a_committee_job_settled_while_disputed_pays_once(h, escrow, token, accounts, oracles):
    """A committee job whose score the freelancer disputed is taken to proofwork's Court (the
    committee names the adapter). Before the draw: the oracles (any quorum, let alone a minority)
    cannot settle the milestone while it is in court; the parties settle 70 % through the adapter,
    which takes the dispute back from the court and resolves through the committee's
    `resolve_by_court`; the court refunds its cost, and neither the oracles nor a ruling can move
    the milestone again."""
    from committee_court_fixtures import FEE_TIMEOUT as CC_FEE_TIMEOUT
    from committee_court_fixtures import GOOD, executed, scored_and_disputed
    from committee_fixtures import COMMITTEE_PATH, DISPUTE_PERIOD, WINDOW, CommitteeDeployer, CommitteeDriver
    from court_fixtures import COURT_PATH, FEE_BPS, MIN_STAKE, SEAT_LOCK, SMALL_CLAIM, STABLE_PATH, TREASURY

    c, f, o = accounts.client.address, accounts.freelancer.address, accounts.outsider.address
    with boa.env.prank(COMMITTEE_REVIEW_DEPLOYER):
        pwk = partial(STABLE_PATH).deploy("Proofwork Court", "PWK")
        court = partial(COURT_PATH).deploy(
            pwk.address, SEAT_LOCK, MIN_STAKE, FEE_BPS, SMALL_CLAIM, PERIODS, TREASURY
        )
        adapter = partial(ADAPTER_PATH).deploy(escrow.address, court.address, 3, CC_FEE_TIMEOUT)
    committee = CommitteeDeployer(COMMITTEE_PATH).deploy(
        escrow.address, [x.address for x in oracles], 1, WINDOW, adapter.address
    )
    d = CommitteeDriver(h, committee, oracles, accounts.relayer)
    job_id = scored_and_disputed(d, h, accounts, adapter, accounts.freelancer)
    amount = h.job(job_id).milestones[0].amount
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)
    adapter.pay_fee(case, h.state(job_id), sender=c)
    dispute = adapter.cases(case).dispute_id
    cost = court.arbitrationCost(adapter.extra_data(case))
    assert token.balanceOf(court.address) == cost
    boa.env.time_travel(seconds=DISPUTE_PERIOD + 1)  # the oracles' late path is open ...
    d.settle(job_id, 0, d.honest(GOOD), expect="committee: milestone in court")  # ... but not in court
    adapter.propose_settlement(case, 7_000, sender=c)
    before = {w: token.balanceOf(w) for w in (c, f)}
    executed(
        h,
        committee,
        adapter,
        job_id,
        amount * 7 // 10,
        lambda: adapter.accept_settlement(case, h.state(job_id), 7_000, sender=f),
    )
    share = amount * 7 // 10
    assert token.balanceOf(f) - before[f] == share - share * ESCROW_FEE_BPS // 10_000 + cost
    assert token.balanceOf(c) - before[c] == amount - share + cost
    assert token.balanceOf(court.address) == 0 and token.balanceOf(adapter.address) == 0
    assert court.disputeStatus(dispute) == 2
    with boa.reverts("adapter: case closed"):
        adapter.execute_ruling(case, h.state(job_id), sender=o)
    with boa.reverts("court: already ruled"):
        court.execute_ruling(dispute, sender=o)
    d.settle(job_id, 0, d.honest(GOOD), expect="committee: milestone not submitted")  # resolved
