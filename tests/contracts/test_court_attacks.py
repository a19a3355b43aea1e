"""Attack review of the court (Court.vy, sortition.vy) and its arbitrable side.

Each test plays one attacker (a juror, a juror's contract, a party, a
hostile arbitrable, a hostile fee token, a block proposer) and asserts the safe outcome. An
attack the contracts now stop is a regression test; an attack judged acceptable has a test of
its bound, and its residue is written up in SECURITY.md ("Court").

C1  a juror shapes the sum tree for a seed it already knows (stake + draw in one transaction)
C2  the caller of the draw picks the block (prevrandao) that draws
C3  an appeal round nobody reveals in (or an empty panel) turns the ruling into "refuse"
C4  a dispute about nothing draws jurors for free; junk disputes lock every seat (accepted, bounded)
C5  the draw freeze cannot lock stakes for longer than its window
C6  a juror copies another juror's commitment
C7  a hostile arbitrable that never accepts its ruling
C8  a re-entrant fee token; a fee-on-transfer fee token (accepted, bounded)
C9  a juror with one seat's worth of stake (next to a contract juror) is never drawn beyond its stake
A1  the party that expects to lose runs out the escrow's 30-day clock (adapter + real court)
"""

from __future__ import annotations

from pathlib import Path

import boa
import pytest
from court_fixtures import (
    PERIODS,
    PWK,
    SEAT_LOCK,
    TREASURY,
    USD,
    commitment,
    deploy,
    draw,
    extra,
    juror,
    partial,
    seal_hashes,
    stake,
)
from eth_utils import keccak, to_checksum_address

MOCKS = Path(__file__).resolve().parent / "mocks"
# Used by no other test module (see committee_fixtures.COMMITTEE_DEPLOYER).
ATTACK_DEPLOYER = to_checksum_address(keccak(b"proofwork court attack deployer")[12:])
SALT = b"\x44" * 32
HONEST = [juror(3000 + i) for i in range(9)]
DRAW_WINDOW = 256


@pytest.fixture(scope="module")
def env():
    pwk, usd, court, arb = deploy(ATTACK_DEPLOYER)
    for who in HONEST:
        stake(pwk, court, who, 1_000 * PWK)
    with boa.env.prank(ATTACK_DEPLOYER):
        grinder = partial(MOCKS / "DrawGrinder.vy").deploy()
        pwk.mint(grinder.address, 3_000 * PWK)
        usd.mint(grinder.address, 10**6 * USD)
    grinder.approve(pwk.address, court.address)
    grinder.stake(court.address, 1_000 * PWK)  # 10 % of the stake
    return pwk, usd, court, arb, grinder


def open_dispute(env, jurors=3, amount=1_000 * USD):
    _pwk, usd, court, arb, _g = env
    d = arb.open(court.address, usd.address, 5, extra(usd.address, amount, jurors))
    boa.env.time_travel(seconds=PERIODS[0])
    return d


def vote(court, d, panel, choices, reveal=None):
    for i, who in enumerate(panel):
        with boa.env.prank(who):
            court.commit(d, i, panel, commitment(choices[i], SALT, who))
    for i in range(len(panel)):
        if reveal is None or reveal[i]:
            court.reveal(d, i, panel, choices[i], SALT)


def run_out(court, d):
    """Lets every remaining period of `d` run out (no party acts) until the ruling is final."""
    for _ in range(10):
        p = court.dispute_clock(d)[0]
        if court.disputeStatus(d) == 2:
            return
        boa.env.time_travel(seconds=PERIODS[p])
        if p == 0:
            draw(court, d)
        else:
            court.pass_period(d)


# ---------------------------------------------------------------- C1, C2: the draw


def test_c1_a_juror_cannot_shape_the_tree_once_the_seed_is_known(env):
    """Before the fix the draw read prevrandao (public one slot ahead) in the transaction that
    drew, so a juror's contract staked an amount ground off-chain and drew in one transaction:
    with 10 % of the stake, 3 extra tokens gave it 2 seats of 3 (the majority). Now the first
    call only arms the draw on its own block, whose hash nobody knows yet, and nothing may move
    the tree or the locks until the draw is made."""
    pwk, _usd, court, _arb, grinder = env
    d = open_dispute(env)
    randao = 0xABCDEF
    boa.env.evm.patch.prevrandao = randao.to_bytes(32, "big")
    for delta in (0, 3 * PWK, 17 * PWK):
        with boa.env.anchor():
            grinder.stake_and_draw(court.address, delta, d, randao)
            assert court.locked(grinder.address) == 0  # nobody drawn in the arming transaction
            assert court.dispute_clock(d)[0] == 0 and court.draw_block(d) == boa.env.evm.patch.block_number
            assert court.draw_pending()
    grinder.stake_and_draw(court.address, 0, d, randao)
    boa.env.time_travel(blocks=1)  # the draw block's hash is now public: the tree is frozen
    with pytest.raises(boa.BoaError, match="court: draw pending"):
        grinder.stake(court.address, 3 * PWK)
    with boa.env.prank(HONEST[0]), pytest.raises(boa.BoaError, match="court: draw pending"):
        court.unstake(100 * PWK)
    total = court.total_stake()
    court.pass_period(d)  # draws
    assert court.dispute_clock(d)[0] == 1 and not court.draw_pending()
    assert court.total_stake() == total
    stake(pwk, court, HONEST[0], 1 * PWK)  # unfrozen once drawn


def test_c2_the_caller_cannot_pick_the_seed(env):
    """The caller used to choose the block (and so the prevrandao) that drew. The seed is now the
    hash of the arming block: neither prevrandao nor the block the draw is sent in changes the
    panel."""
    _pwk, _usd, court, _arb, _g = env
    d = open_dispute(env)
    court.pass_period(d)  # arm
    panels = []
    for randao, wait in ((1, 1), (2, 1), (3, 200)):
        with boa.env.anchor():
            boa.env.evm.patch.prevrandao = randao.to_bytes(32, "big")
            boa.env.time_travel(blocks=wait)
            seal_hashes()
            court.pass_period(d)
            panels.append(
                [str(list(e._asdict().values())[2]) for e in court.get_logs() if type(e).__name__ == "Draw"]
            )
    assert len(panels[0]) == 3 and panels[0] == panels[1] == panels[2]


def test_c2_an_expired_draw_is_armed_again_not_drawn_late(env):
    """A draw left past its window (the hash of its block is gone) is armed again on a fresh
    block; it is never drawn from a hash the EVM no longer returns (zero, known to all)."""
    _pwk, _usd, court, _arb, _g = env
    d = open_dispute(env)
    court.pass_period(d)
    first = court.draw_block(d)
    boa.env.time_travel(blocks=DRAW_WINDOW + 1)
    court.pass_period(d)  # re-arms
    assert court.dispute_clock(d)[0] == 0 and court.draw_block(d) == first + DRAW_WINDOW + 1
    boa.env.time_travel(blocks=1)
    seal_hashes()
    court.pass_period(d)
    assert court.dispute_clock(d)[0] == 1
    assert not court.draw_pending()


# ---------------------------------------------------------------- C3: silent appeal rounds


def test_c3_a_silent_appeal_round_keeps_the_ruling(env):
    """The loser appeals and nobody reveals in the appeal round (lazy or bribed jurors): the
    ruling used to become 0 (half each). A round without a revealed vote now changes nothing."""
    _pwk, _usd, court, arb, _g = env
    d = open_dispute(env, jurors=1)
    panel = draw(court, d)
    vote(court, d, panel, [2])
    assert court.currentRuling(d) == 2
    arb.appeal(court.address, d)
    boa.env.time_travel(seconds=PERIODS[0])
    panel1 = draw(court, d)
    assert len(panel1) == 3
    vote(court, d, panel1, [1, 1, 1], reveal=[False, False, False])
    run_out(court, d)
    court.execute_ruling(d)
    assert arb.rulings(d) == 2 and arb.rule_calls(d) == 1
    # the silent jurors are slashed to the treasury; the round-0 juror is paid
    court.distribute(d, 1, panel1)
    court.distribute(d, 0, panel)
    assert court.credit(TREASURY, _pwk.address) >= 3 * SEAT_LOCK
    assert court.credit(panel[0], _usd.address) > 0


def test_c3_an_empty_appeal_panel_keeps_the_ruling(env):
    """Every juror but one leaves before the appeal round draws: its panel is short or empty.
    The ruling stays that of the last round anyone revealed in."""
    _pwk, _usd, court, arb, grinder = env
    d = open_dispute(env, jurors=1)
    panel = draw(court, d)
    vote(court, d, panel, [1])
    arb.appeal(court.address, d)
    for who in [*HONEST, grinder.address]:
        w = court.weight(who)
        if w and who != grinder.address:
            with boa.env.prank(who):
                court.unstake(w)
    grinder_w = court.weight(grinder.address)
    assert court.total_stake() == grinder_w
    boa.env.time_travel(seconds=PERIODS[0])
    panel1 = draw(court, d)  # the grinder contract has no vote: it cannot commit
    assert len(panel1) <= grinder_w // SEAT_LOCK
    run_out(court, d)
    court.execute_ruling(d)
    assert arb.rulings(d) == 1


# ---------------------------------------------------------------- C4: free disputes


def test_c4_no_seat_is_drawn_for_free(env):
    """A dispute about nothing (amount 0) used to cost nothing and still draw and lock 7 jurors,
    who had to vote or be slashed. Each seat now costs at least one token unit, paid to the
    jurors. Residue (SECURITY.md): dust or worthless fee tokens still make junk disputes cheap."""
    _pwk, usd, court, arb, _g = env
    ex = extra(usd.address, 0, 7)
    assert court.arbitrationCost(ex) == 7
    held = usd.balanceOf(court.address)
    arb.open(court.address, usd.address, 5, ex)
    assert usd.balanceOf(court.address) == held + 7


def test_c4_junk_disputes_lock_seats_only_for_their_own_case(env):
    """Accepted residue, bounded: an arbitrable opens disputes about nothing (one token unit a
    seat) until every seat of the court is locked; a real dispute drawn then gets a short panel,
    here an empty one. It still ends through timeouts alone (a first round nobody revealed in
    rules 0, and the winner may appeal), and every junk lock is released once its round is
    distributed, which anyone may do when the junk case ends (at most MAX_ROUNDS rounds)."""
    _pwk, usd, court, arb, grinder = env
    seats = sum(court.weight(w) // SEAT_LOCK for w in [*HONEST, grinder.address])
    junk = []
    paid = 0
    for _ in range(seats):
        d = arb.open(court.address, usd.address, 5, extra(usd.address, 0, 7))
        paid += 7
        boa.env.time_travel(seconds=PERIODS[0])
        junk.append((d, draw(court, d)))
        if sum(court.locked(w) for w in [*HONEST, grinder.address]) == seats * SEAT_LOCK:
            break
    assert sum(len(p) for _, p in junk) == seats and paid <= 7 * seats
    real = open_dispute(env)
    assert draw(court, real) == []
    run_out(court, real)
    court.execute_ruling(real)
    assert arb.rulings(real) == 0 and arb.rule_calls(real) == 1
    for d, panel in junk:
        run_out(court, d)
        court.distribute(d, 0, panel)
    assert all(court.locked(w) == 0 for w in [*HONEST, grinder.address])


# ---------------------------------------------------------------- C5: the freeze is bounded


def test_c5_an_armed_draw_nobody_makes_freezes_stakes_for_at_most_its_window(env):
    """An attacker arms draws and never makes them, to keep jurors from unstaking: the freeze
    ends DRAW_WINDOW blocks after the last arming, and anyone may end it sooner by drawing."""
    pwk, _usd, court, _arb, _g = env
    d1 = open_dispute(env)
    d2 = open_dispute(env)
    court.pass_period(d1)
    boa.env.time_travel(blocks=10)
    court.pass_period(d2)
    boa.env.time_travel(blocks=DRAW_WINDOW)
    with boa.env.prank(HONEST[1]), pytest.raises(boa.BoaError, match="court: draw pending"):
        court.unstake(100 * PWK)
    boa.env.time_travel(blocks=1)
    assert not court.draw_pending()
    with boa.env.prank(HONEST[1]):
        court.unstake(100 * PWK)
    # the abandoned draws are dropped from the count: once the re-armed ones are drawn, nothing
    # is pending
    court.pass_period(d1)
    court.pass_period(d2)
    boa.env.time_travel(blocks=1)
    seal_hashes()
    court.pass_period(d1)
    assert court.draw_pending()
    court.pass_period(d2)
    assert not court.draw_pending()
    stake(pwk, court, HONEST[1], 100 * PWK)


def test_c5_an_abandoned_draw_does_not_freeze_later_ones(env):
    """A junk dispute armed once and never drawn must not keep every later draw's freeze open
    for a whole window: once its window has ended it no longer counts."""
    pwk, _usd, court, _arb, _g = env
    junk = open_dispute(env)
    real = open_dispute(env)
    court.pass_period(junk)
    boa.env.time_travel(blocks=DRAW_WINDOW + 1)
    assert not court.draw_pending()
    draw(court, real)
    assert not court.draw_pending()
    stake(pwk, court, HONEST[2], 100 * PWK)


# ---------------------------------------------------------------- C6: copied commitments


def test_c6_a_copied_commitment_cannot_be_revealed(env):
    """A lazy juror copies the commitment another juror sent (public in the mempool), hoping to
    reveal the same vote later. The commitment binds the juror's address: it cannot be revealed,
    and the copier is slashed like a juror who never revealed."""
    _pwk, _usd, court, _arb, _g = env
    d = open_dispute(env)
    panel = draw(court, d)
    honest = panel[0]
    others = [who for who in panel if who != honest]
    assert others, panel  # the seed draws at least two jurors here
    copier = others[0]
    c = commitment(1, SALT, honest)
    for i, who in enumerate(panel):
        with boa.env.prank(who):
            court.commit(d, i, panel, c if who == copier else commitment(1, SALT, who))
    for i, who in enumerate(panel):
        if who == copier:
            with pytest.raises(boa.BoaError, match="court: reveal does not match commit"):
                court.reveal(d, i, panel, 1, SALT)
        else:
            court.reveal(d, i, panel, 1, SALT)
    run_out(court, d)
    before = court.stake_balance(copier)
    court.execute_ruling(d)
    court.distribute(d, 0, panel)
    assert court.stake_balance(copier) == before - SEAT_LOCK * panel.count(copier)


# ---------------------------------------------------------------- C7: hostile arbitrable


def test_c7_an_arbitrable_that_refuses_its_ruling_frees_the_jurors_anyway(env):
    """A hostile arbitrable (no `rule`) makes `execute_ruling` revert forever; the jurors are
    still paid and their locks released by `distribute`, which does not wait for it."""
    _pwk, usd, court, _arb, grinder = env
    d = grinder.open(court.address, usd.address, 5, extra(usd.address, 1_000 * USD, 3))
    boa.env.time_travel(seconds=PERIODS[0])
    panel = draw(court, d)
    vote(court, d, [p for p in panel], [1, 1, 1])
    run_out(court, d)
    with pytest.raises(boa.BoaError):
        court.execute_ruling(d)
    court.distribute(d, 0, panel)
    for who in set(panel):
        assert court.credit(who, usd.address) > 0
    assert all(court.locked(who) == 0 for who in set(panel) if who != grinder.address)


# ---------------------------------------------------------------- C8: hostile fee token


def test_c8_a_reentrant_fee_token_cannot_re_enter(env):
    """A fee token that calls back into the court from `transferFrom` (here: `withdraw` and
    `distribute` of a finished case) is stopped by the court's lock."""
    _pwk, usd, court, arb, _g = env
    with boa.env.prank(ATTACK_DEPLOYER):
        tok = partial(MOCKS / "ReentrantToken.vy").deploy()
    tok.mint(arb.address, 10**12)
    for payload in (
        court.withdraw.prepare_calldata(usd.address),
        court.execute_ruling.prepare_calldata(0),
    ):
        tok.arm(court.address, payload, False)
        arb.open(court.address, tok.address, 5, extra(tok.address, 1_000 * USD, 3))
        assert tok.attempts() >= 1 and not tok.last_ok()


def test_c8_a_fee_on_transfer_fee_token_shorts_only_its_own_credits(env):
    """Accepted residue, bounded: an arbitrable pays in a token that delivers 1 % less; the court
    credits the jurors what was charged, so the last of them cannot withdraw that token in full.
    Stakes and every other token's credits are untouched (the escrow refuses such tokens, so the
    adapter never names one)."""
    pwk, usd, court, arb, _g = env
    fot_path = Path(__file__).resolve().parents[2] / "contracts" / "mocks" / "FeeOnTransferToken.vy"
    with boa.env.prank(ATTACK_DEPLOYER):
        fot = partial(fot_path).deploy()
    fot.mint(arb.address, 10**12)
    usd_before, pwk_before = usd.balanceOf(court.address), pwk.balanceOf(court.address)
    d = arb.open(court.address, fot.address, 5, extra(fot.address, 1_000 * USD, 3))
    boa.env.time_travel(seconds=PERIODS[0])
    panel = draw(court, d)
    honest = [i for i, who in enumerate(panel) if who in HONEST]
    for i in honest:
        with boa.env.prank(panel[i]):
            court.commit(d, i, panel, commitment(1, SALT, panel[i]))
    if court.dispute_clock(d)[0] == 1:  # a seat nobody committed for: the period runs out
        boa.env.time_travel(seconds=PERIODS[1])
        court.pass_period(d)
    for i in honest:
        court.reveal(d, i, panel, 1, SALT)
    run_out(court, d)
    court.execute_ruling(d)
    assert arb.rulings(d) == (1 if honest else 0)
    court.distribute(d, 0, panel)
    owed = sum(court.credit(w, fot.address) for w in {*panel, TREASURY})
    assert owed == court.arbitrationCost(extra(fot.address, 1_000 * USD, 3))
    assert fot.balanceOf(court.address) < owed  # the token's own ledger is short
    assert usd.balanceOf(court.address) == usd_before and pwk.balanceOf(court.address) == pwk_before


# ---------------------------------------------------------------- C9: never beyond stake


def test_c9_a_juror_is_never_drawn_beyond_its_stake(env):
    """A juror with one seat's worth of stake, next to a contract juror with ten (the honest ones
    left), is drawn at most once for a 7-seat panel (the draw skips it once its seat is locked,
    leaving seats empty rather than over-locking anyone); its lock is released when the round is
    distributed, even though it unstaked meanwhile."""
    pwk, _usd, court, _arb, grinder = env
    for who in [*HONEST, grinder.address]:
        w = court.weight(who)
        if w and who != grinder.address:
            with boa.env.prank(who):
                court.unstake(w)
    lone = juror(3999)
    stake(pwk, court, lone, SEAT_LOCK)
    d = open_dispute(env, jurors=7)
    panel = draw(court, d)
    assert panel.count(lone) <= 1
    for who in set(panel):
        assert court.locked(who) <= court.weight(who) <= court.stake_balance(who)
    assert panel.count(grinder.address) <= court.weight(grinder.address) // SEAT_LOCK
    with boa.env.prank(lone):
        court.unstake(SEAT_LOCK)
    assert court.locked(lone) == SEAT_LOCK * panel.count(lone)
    run_out(court, d)
    court.execute_ruling(d)
    court.distribute(d, 0, panel)
    assert court.locked(lone) == 0


# ---------------------------------------------------------------- A1: the escrow's clock

ADAPTER = Path(__file__).resolve().parents[2] / "contracts" / "court" / "EscrowArbitrable.vy"
DAY = 86_400


def test_a1_the_loser_cannot_run_out_the_escrows_clock(env, h, escrow, token, accounts):
    """The escrow splits a dispute in half 30 days after it is raised, whatever the arbitrator
    does. The client, who expects to lose, raises the dispute, pays its fee at the last second
    and funds its appeal at the last second it may (the middle of the appeal period), the
    freelancer answering at the last second of every round, each period running its full length: the
    court's ruling still executes first. An adapter whose fee timeout would let the clock run
    out (it allowed 30 days) cannot be deployed."""
    _pwk, _usd, court, _arb, grinder = env
    c, f = accounts.client.address, accounts.freelancer.address
    with boa.env.prank(ATTACK_DEPLOYER):
        with pytest.raises(boa.BoaError, match="adapter: bad fee timeout"):
            partial(ADAPTER).deploy(escrow.address, court.address, 1, 5 * DAY)
        adapter = partial(ADAPTER).deploy(escrow.address, court.address, 1, 4 * DAY)
    amount = 1_000 * 10**6
    job_id = h.create_job(c, [amount], freelancer=f, arbiter=adapter.address)
    h.submit(f, job_id, 0)
    h.raise_dispute(c, job_id, 0)
    raised = boa.env.timestamp
    for who in (c, f):
        token.mint(who, 10**12, sender=h.model.owner)
        token.approve(adapter.address, 2**255, sender=who)
    case = adapter.open_case(job_id, h.state(job_id), 0, "ipfs://meta", sender=f)  # at once
    boa.env.time_travel(seconds=4 * DAY)
    adapter.pay_fee(case, h.state(job_id), sender=c)  # at the last second
    d = adapter.cases(case).dispute_id
    for r in range(4):
        boa.env.time_travel(seconds=PERIODS[0])
        panel = draw(court, d)
        seats = [i for i, who in enumerate(panel) if who != grinder.address]
        boa.env.time_travel(seconds=PERIODS[1] - 1)
        for i in seats:
            with boa.env.prank(panel[i]):
                court.commit(d, i, panel, commitment(1, SALT, panel[i]))
        if court.dispute_clock(d)[0] == 1:
            boa.env.time_travel(seconds=1)
            court.pass_period(d)
        boa.env.time_travel(seconds=PERIODS[2] - 1)
        for i in seats:
            court.reveal(d, i, panel, 1, SALT)
        if court.dispute_clock(d)[0] == 2:
            boa.env.time_travel(seconds=1)
            court.pass_period(d)
        assert court.currentRuling(d) == 1
        if r < 3:
            # the loser funds at the last second of its half of the appeal period, and the
            # winner answers (or loses by default) at the last second of the period
            boa.env.time_travel(seconds=PERIODS[3] // 2 - 1)
            adapter.fund_appeal(case, sender=c)
            boa.env.time_travel(seconds=PERIODS[3] - PERIODS[3] // 2)
            adapter.fund_appeal(case, sender=f)
        else:
            boa.env.time_travel(seconds=PERIODS[3] - 1)
    boa.env.time_travel(seconds=1)
    pot = adapter.appeal_funding(case)[3]
    assert adapter.appeal_funding(case)[0] == 3 and pot > 0
    assert boa.env.timestamp < raised + 30 * DAY  # the escrow's fallback is still closed
    before = token.balanceOf(f)
    court.execute_ruling(d)
    adapter.execute_ruling(case, h.state(job_id), sender=accounts.outsider.address)
    assert adapter.cases(case).status == 5
    # the freelancer is paid in full (less the platform fee), gets its fee deposit back and
    # the whole appeal pot
    cost = court.arbitrationCost(adapter.extra_data(case))
    assert token.balanceOf(f) - before == amount - amount * 250 // 10_000 + cost + pot
