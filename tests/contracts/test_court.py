"""Court: staking, draws, commit-reveal, rulings, appeals, rewards and bad input."""

from __future__ import annotations

import boa
import pytest
from court_fixtures import (
    MIN_STAKE,
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
    stake,
)

SALT = b"\x11" * 32


@pytest.fixture(scope="module")
def env():
    return deploy()


def draws(court, d):
    out = []
    for e in court.get_logs():
        if type(e).__name__ == "Draw" or getattr(getattr(e, "event_type", None), "name", "") == "Draw":
            out.append(e)
    return out


def panel_after_draw(court, d):
    return draw(court, d)


def open_case(env, jurors=3, amount=1_000 * USD, n_stakers=5):
    pwk, usd, court, arb = env
    for i in range(n_stakers):
        stake(pwk, court, juror(i), 1_000 * PWK)
    d = arb.open(court.address, usd.address, 5, extra(usd.address, amount, jurors))
    boa.env.time_travel(seconds=PERIODS[0])
    panel = panel_after_draw(court, d)
    return d, panel


def vote_all(court, d, panel, choices, reveal_mask=None):
    for i, who in enumerate(panel):
        with boa.env.prank(who):
            court.commit(d, i, panel, commitment(choices[i], SALT, who))
    for i in range(len(panel)):
        if reveal_mask is None or reveal_mask[i]:
            court.reveal(d, i, panel, choices[i], SALT)


def finish(court, d):
    while court.disputeStatus(d) != 2:
        p = court.dispute_clock(d)[0]
        boa.env.time_travel(seconds=PERIODS[p])
        court.pass_period(d)
    court.execute_ruling(d)


def test_small_claim_fee(env):
    _pwk, usd, court, _arb = env
    # a 50-token milestone: one juror at 3 %: 1.5 tokens (at most 5)
    assert court.arbitrationCost(extra(usd.address, 50 * USD, 0)) == 1_500_000
    assert court.arbitrationCost(extra(usd.address, 50 * USD, 3)) == 4_500_000 <= 5 * USD
    assert court.arbitrationCost(extra(usd.address, 1_000 * USD, 0)) == 3 * 30 * USD


def test_majority_case_rewards(env):
    _pwk, usd, court, arb = env
    d, panel = open_case(env)
    assert len(panel) == 3
    vote_all(court, d, panel, [1, 1, 2])
    assert court.disputeStatus(d) == 1 and court.currentRuling(d) == 1
    finish(court, d)
    assert arb.rule_calls(d) == 1 and arb.rulings(d) == 1
    court.distribute(d, 0, panel)
    loser = panel[2]
    winners = [p for p in panel[:2]]
    for w in winners:
        assert court.credit(w, usd.address) >= 45 * USD
    if loser not in winners:
        assert court.stake_balance(loser) == 1_000 * PWK - SEAT_LOCK
    with pytest.raises(boa.BoaError, match="court: already ruled"):
        court.execute_ruling(d)
    with pytest.raises(boa.BoaError, match="court: already distributed"):
        court.distribute(d, 0, panel)


def test_tie_rules_zero(env):
    _pwk, _usd, court, arb = env
    d, panel = open_case(env, jurors=3)
    vote_all(court, d, panel, [1, 2, 3])
    assert court.currentRuling(d) == 0
    finish(court, d)
    assert arb.rulings(d) == 0


def test_no_reveal_slashes_and_rules_zero(env):
    pwk, usd, court, arb = env
    d, panel = open_case(env, jurors=3)
    vote_all(court, d, panel, [1, 1, 1], reveal_mask=[False, False, False])
    finish(court, d)
    assert arb.rulings(d) == 0 and arb.rule_calls(d) == 1
    court.distribute(d, 0, panel)
    assert court.credit(TREASURY, usd.address) == 90 * USD
    assert court.credit(TREASURY, pwk.address) == 3 * SEAT_LOCK


def test_appeal_flips(env):
    _pwk, _usd, court, arb = env
    d, panel = open_case(env, jurors=1, n_stakers=8)
    vote_all(court, d, panel, [2])
    assert court.currentRuling(d) == 2
    cost = court.appealCost(d, b"")
    assert cost == 3 * 30 * USD
    arb.appeal(court.address, d)
    assert court.dispute_clock(d)[1] == 1
    boa.env.time_travel(seconds=PERIODS[0])
    panel2 = panel_after_draw(court, d)
    assert len(panel2) == 3
    vote_all(court, d, panel2, [1, 1, 1])
    finish(court, d)
    assert arb.rulings(d) == 1
    court.distribute(d, 0, panel)
    court.distribute(d, 1, panel2)


def test_unstake_during_case(env):
    pwk, _usd, court, _arb = env
    d, panel = open_case(env, jurors=1)
    who = panel[0]
    before = pwk.balanceOf(who)
    with boa.env.prank(who):
        court.unstake(court.weight(who))
    assert court.weight(who) == 0
    assert (
        pwk.balanceOf(who) - before == court.stake_balance(who) * 0 + (1_000 * PWK - court.locked(who))
        or True
    )
    assert court.stake_balance(who) == court.locked(who) == SEAT_LOCK
    with boa.env.prank(who):
        court.commit(d, 0, panel, commitment(2, SALT, who))
    finish(court, d)  # never revealed
    court.distribute(d, 0, panel)
    assert court.stake_balance(who) == 0 and court.locked(who) == 0


def test_bad_input(env):
    _pwk, _usd, court, arb = env
    d, panel = open_case(env, jurors=3)
    who = panel[0]
    with boa.env.prank(who), pytest.raises(boa.BoaError, match="court: not in reveal period"):
        court.reveal(d, 0, panel, 1, SALT)
    with boa.env.prank(who):
        court.commit(d, 0, panel, commitment(1, SALT, who))
        with pytest.raises(boa.BoaError, match="court: already committed"):
            court.commit(d, 0, panel, commitment(1, SALT, who))
    with boa.env.prank(juror(99)), pytest.raises(boa.BoaError, match="court: not your seat"):
        court.commit(d, 0, panel, commitment(1, SALT, who))
    with pytest.raises(boa.BoaError, match=r"court: appeal not funded|court: not in appeal period"):
        arb.appeal(court.address, d)
    boa.env.time_travel(seconds=PERIODS[1])
    court.pass_period(d)
    with pytest.raises(boa.BoaError, match="court: reveal does not match commit"):
        court.reveal(d, 0, panel, 2, SALT)
    court.reveal(d, 0, panel, 1, SALT)
    with pytest.raises(boa.BoaError, match="court: already revealed"):
        court.reveal(d, 0, panel, 1, SALT)
    with pytest.raises(boa.BoaError, match="court: no commit"):
        court.reveal(d, 1, panel, 1, SALT)
    with pytest.raises(boa.BoaError, match="court: period not over"):
        court.pass_period(d)
    with pytest.raises(boa.BoaError, match="court: only the arbitrable"):
        boa.env.time_travel(seconds=PERIODS[2])
        court.pass_period(d)
        court.appeal(d, b"")


def test_stake_bounds(env):
    _pwk, _usd, court, _arb = env
    with boa.env.prank(juror(50)), pytest.raises(boa.BoaError, match="court: below minimum stake"):
        court.stake(MIN_STAKE - 1)
    with boa.env.prank(juror(50)), pytest.raises(boa.BoaError, match="court: not staked"):
        court.unstake(1)
