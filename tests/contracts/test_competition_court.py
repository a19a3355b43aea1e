"""A competition's ranking before the court: the committee's ranking is held for a challenge period,
an entrant challenges it with its own, the jurors of proofwork's Court (or any ERC-792 arbitrator)
choose, the prizes follow the ranking in force; nothing waits forever."""

from __future__ import annotations

import boa
import pytest
from competition_fixtures import (
    DAY,
    Arena,
    events,
    oracle_accounts,
    players,
    travel_to,
)
from conftest import MOCKS, REPO
from court_fixtures import (
    COURT_DEPLOYER,
    PERIODS,
    PWK,
    USD,
    commitment,
    deploy,
    draw,
    extra,
    juror,
    partial,
    stake,
)
from escrow_harness import now

COMPETITION_PATH = REPO / "contracts" / "evaluation" / "Competition.vy"
ORACLES = oracle_accounts(4)
P = players(4)
SALT = b"\x22" * 32
CHALLENGE_PERIOD = 3 * DAY
RULING_TIMEOUT = 365 * DAY
PRIZE = 1_000 * USD
# (entry, private score): the committee ranks entry 0 first; the challenger (entry 1) says it is better
SCORES = [(0, 900_000), (1, 800_000), (2, 700_000)]
CHALLENGER_RANKING = [(1, 950_000), (0, 900_000), (2, 700_000)]


@pytest.fixture
def env():
    pwk, usd, court, _ = deploy()
    committee = partial(MOCKS / "CommitteeStub.vy").deploy([o.address for o in ORACLES], 3)
    comp = partial(COMPETITION_PATH).deploy(committee.address, court.address)
    client = boa.env.generate_address("competition client")
    arena = Arena(comp, usd, committee, COURT_DEPLOYER, client, list(ORACLES))
    arena.PRIZE = PRIZE
    arena.bankroll(*P)
    for i in range(5):
        stake(pwk, court, juror(i), 1_000 * PWK)
    return arena, court


def arena_before(arena: Arena, arbitrator: str) -> Arena:
    """Another competition contract on the same committee and token, naming `arbitrator` (or none)."""
    comp = partial(COMPETITION_PATH).deploy(arena.committee.address, arbitrator)
    other = Arena(comp, arena.token, arena.committee, COURT_DEPLOYER, arena.client, list(ORACLES))
    other.PRIZE = PRIZE
    other.bankroll(*P)
    return other


def central_arbitrator(arena: Arena):
    """Kleros' centralized test arbitrator: 10 tokens a dispute or an appeal, its owner rules."""
    return partial(MOCKS / "CentralizedArbitrator.vy").deploy(arena.token.address, 10 * USD, 0, 10 * USD, DAY)


def ranked(arena: Arena) -> int:
    """A competition with three revealed entries (players 0, 1, 2), ranked by the committee."""
    comp_id, ranking = arena.run([s for _, s in SCORES], submitters=P[:3])
    assert ranking == SCORES
    arena.finalize(comp_id, ranking)
    return comp_id


def rule(court, d: int, choice: int) -> list[str]:
    """A round of dispute `d`: the jurors are drawn and all vote `choice` (commit, then reveal: the
    court moves on as soon as every seat has acted); the appeal period follows."""
    boa.env.time_travel(seconds=PERIODS[0])
    panel = draw(court, d)
    for i, who in enumerate(panel):
        with boa.env.prank(who):
            court.commit(d, i, panel, commitment(choice, SALT, who))
    for i in range(len(panel)):
        court.reveal(d, i, panel, choice, SALT)
    assert court.currentRuling(d) == choice
    return panel


def finish(court, d: int) -> None:
    """The appeal period runs out; the ruling is final and executes (the court calls `rule`)."""
    while court.disputeStatus(d) != 2:
        boa.env.time_travel(seconds=PERIODS[court.dispute_clock(d)[0]])
        court.pass_period(d)
    court.execute_ruling(d)


def challenge(arena: Arena, comp_id: int, who=None, entry: int = 1, ranking=None) -> int:
    who = who or P[1]
    return arena.comp.challenge(
        comp_id, entry, CHALLENGER_RANKING if ranking is None else ranking, "/ipfs/meta", sender=who.address
    )


def owed(arena: Arena, who) -> int:
    return arena.comp.claimable(arena.token.address, str(getattr(who, "address", who)))


def test_with_a_court_the_ranking_is_held_then_paid_by_anyone(env):
    arena, _ = env
    comp_id = ranked(arena)
    [proposed] = events(arena.comp, "RankingProposed", logs=arena.comp.get_logs())
    assert proposed.challenge_end == now() + CHALLENGE_PERIOD
    c = arena.comp.competition(comp_id)
    assert c.status == 3 and owed(arena, P[0]) == arena.params()["entry_bond"]  # RANKED: prizes held
    assert arena.comp.ranking_hash(comp_id) != b"\x00" * 32
    winners = [(0, 900_000), (1, 800_000), (2, 700_000)]
    with boa.reverts("competition: challenge period not over"):
        arena.comp.payout(comp_id, winners)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    with boa.reverts("competition: not the ranking in force"):
        arena.comp.payout(comp_id, CHALLENGER_RANKING)
    with boa.reverts("competition: challenge period over"):
        challenge(arena, comp_id)
    arena.comp.payout(comp_id, winners, sender=boa.env.generate_address("anyone"))
    assert arena.comp.competition(comp_id).status == 1
    assert owed(arena, P[0]) == PRIZE // 2 + arena.params()["entry_bond"]
    with boa.reverts("competition: no ranking to pay"):
        arena.comp.payout(comp_id, winners)


def test_the_jurors_put_the_challengers_ranking_in_force(env):
    arena, court = env
    comp_id = ranked(arena)
    fee = arena.comp.challenge_cost(comp_id)
    assert fee == court.arbitrationCost(extra(arena.token.address, PRIZE, 0)) > 0
    before = arena.token.balanceOf(P[1].address)
    d = challenge(arena, comp_id)
    assert arena.token.balanceOf(P[1].address) == before - fee
    names = [type(e).__name__ for e in arena.comp.get_logs()]
    assert {"RankingChallenged", "MetaEvidence", "Dispute"} <= set(names)
    ch = arena.comp.challenges(comp_id)
    assert ch.open and ch.dispute_id == d and ch.count == 1
    with boa.reverts("competition: ranking already in court"):
        challenge(arena, comp_id, who=P[2], entry=2)
    arena.comp.submit_evidence(comp_id, "/ipfs/evidence", sender=P[0].address)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    with boa.reverts("competition: ranking in court"):
        arena.comp.payout(comp_id, [(0, 900_000), (1, 800_000), (2, 700_000)])
    rule(court, d, 2)
    finish(court, d)
    ch = arena.comp.challenges(comp_id)
    assert not ch.open
    # a new challenge period follows the ruling; then the challenger's ranking is paid
    with boa.reverts("competition: challenge period not over"):
        arena.comp.payout(comp_id, CHALLENGER_RANKING)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    arena.comp.payout(comp_id, CHALLENGER_RANKING)
    bond = arena.params()["entry_bond"]
    assert owed(arena, P[1]) == PRIZE // 2 + bond
    assert owed(arena, P[0]) == PRIZE * 3 // 10 + bond


def test_the_jurors_keep_the_ranking_and_another_challenge_may_follow(env):
    arena, court = env
    comp_id = ranked(arena)
    d = challenge(arena, comp_id)
    rule(court, d, 1)
    finish(court, d)
    committee = [(0, 900_000), (1, 800_000), (2, 700_000)]
    # a second entrant challenges within the new period (the first's fee was its cost)
    d2 = challenge(arena, comp_id, who=P[2], entry=2, ranking=[(2, 990_000), (0, 900_000), (1, 800_000)])
    assert d2 != d and arena.comp.challenges(comp_id).count == 1  # the rejected first one is not counted
    rule(court, d2, 0)  # a refusal to arbitrate keeps the ranking in force
    finish(court, d2)
    d3 = challenge(arena, comp_id)
    rule(court, d3, 1)
    finish(court, d3)
    # rejected challenges use up none of the MAX_CHALLENGES (see test_competition_court_attacks.py)
    assert arena.comp.challenges(comp_id).count == 0
    travel_to(now() + CHALLENGE_PERIOD + 1)
    arena.comp.payout(comp_id, committee)
    assert owed(arena, P[0]) == PRIZE // 2 + arena.params()["entry_bond"]


def test_an_appeal_funded_by_anyone_flips_the_ruling(env):
    arena, court = env
    comp_id = ranked(arena)
    d = challenge(arena, comp_id)
    rule(court, d, 2)  # the first panel sides with the challenger
    cost = court.appealCost(d, b"")
    arena.token.mint(P[0].address, cost, sender=COURT_DEPLOYER)
    before = arena.token.balanceOf(P[0].address)
    arena.comp.appeal(comp_id, sender=P[0].address)  # the displaced winner pays the whole appeal
    assert arena.token.balanceOf(P[0].address) == before - cost
    rule(court, d, 1)
    finish(court, d)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    arena.comp.payout(comp_id, [(0, 900_000), (1, 800_000), (2, 700_000)])
    assert owed(arena, P[0]) == PRIZE // 2 + arena.params()["entry_bond"]


def test_challenges_are_checked_like_the_committees_ranking(env):
    arena, court = env
    comp_id = ranked(arena)
    outsider = boa.env.generate_address("outsider")
    with boa.reverts("competition: caller has no revealed entry"):
        arena.comp.challenge(comp_id, 1, CHALLENGER_RANKING, "", sender=outsider)
    with boa.reverts("competition: caller has no revealed entry"):
        challenge(arena, comp_id, who=P[1], entry=0)  # another's entry
    with boa.reverts("competition: that ranking is in force"):
        challenge(arena, comp_id, ranking=[(0, 900_000), (1, 800_000), (2, 700_000)])
    with boa.reverts("competition: winners not ranked"):
        challenge(arena, comp_id, ranking=[(0, 1), (1, 2)])
    with boa.reverts("competition: entry not revealed"):
        challenge(arena, comp_id, ranking=[(7, 2)])
    with boa.reverts("competition: entry wins twice"):
        challenge(arena, comp_id, ranking=[(1, 5), (1, 4)])
    with boa.reverts("competition: more winners than places"):
        challenge(arena, comp_id, ranking=[(1, 5), (0, 4), (2, 3), (2, 2)])
    with boa.reverts("competition: no challenge pending"):
        arena.comp.appeal(comp_id, sender=P[0].address)
    with boa.reverts("competition: no challenge pending"):
        arena.comp.submit_evidence(comp_id, "x")
    with boa.reverts("competition: caller is not the court"):
        arena.comp.rule(0, 2, sender=P[1].address)
    with boa.reverts("competition: unknown dispute"):
        arena.comp.rule(12345, 2, sender=court.address)
    assert court.dispute_count() == 0  # nothing refused reached the court


def test_before_the_ranking_nothing_can_be_challenged(env):
    arena, _ = env
    comp_id, ranking = arena.run([s for _, s in SCORES], submitters=P[:3])
    with boa.reverts("competition: no ranking to challenge"):
        challenge(arena, comp_id)
    with boa.reverts("competition: no ranking to pay"):
        arena.comp.payout(comp_id, ranking)


def test_a_silent_arbitrator_cannot_freeze_the_prizes(env):
    """An ERC-792 arbitrator that never rules: after RULING_TIMEOUT the ranking in force is paid; a
    ruling arriving later changes nothing."""
    arena, _ = env
    silent = central_arbitrator(arena)
    other = arena_before(arena, silent.address)
    comp = other.comp
    comp_id = ranked(other)
    d = challenge(other, comp_id)
    committee = [(0, 900_000), (1, 800_000), (2, 700_000)]
    travel_to(now() + RULING_TIMEOUT)
    with boa.reverts("competition: ranking in court"):
        comp.payout(comp_id, committee)
    travel_to(now() + 2)
    comp.payout(comp_id, committee)
    assert owed(other, P[0]) == PRIZE // 2 + other.params()["entry_bond"]
    # the arbitrator's late ruling is recorded as an ERC-792 Ruling and ignored
    silent.give_ruling(d, 2)
    travel_to(now() + 2 * DAY)
    silent.execute(d)
    assert comp.competition(comp_id).status == 1
    assert owed(other, P[1]) == PRIZE * 3 // 10 + other.params()["entry_bond"]


def test_an_independent_erc792_arbitrator_serves_by_address(env):
    arena, _ = env
    central = central_arbitrator(arena)
    other = arena_before(arena, central.address)
    comp = other.comp
    comp_id = ranked(other)
    assert comp.challenge_cost(comp_id) == 10 * USD
    d = challenge(other, comp_id)
    central.give_ruling(d, 2)
    travel_to(now() + DAY + 1)
    central.execute(d)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    comp.payout(comp_id, CHALLENGER_RANKING)
    assert owed(other, P[1]) == PRIZE // 2 + other.params()["entry_bond"]


def test_without_a_court_finalize_pays_at_once_and_nothing_is_challenged(env):
    arena, _ = env
    other = arena_before(arena, "0x" + "00" * 20)
    comp = other.comp
    comp_id = ranked(other)
    assert comp.competition(comp_id).status == 1
    assert owed(other, P[0]) == PRIZE // 2 + other.params()["entry_bond"]
    assert comp.challenge_cost(comp_id) == 0
    with boa.reverts("competition: no court hears challenges"):
        challenge(other, comp_id)
    with boa.reverts("competition: court is not a contract"):
        partial(COMPETITION_PATH).deploy(arena.committee.address, boa.env.generate_address("eoa"))


def test_tokens_are_conserved_through_a_challenge(env):
    arena, court = env
    comp_id = ranked(arena)
    token = arena.token
    held = token.balanceOf(arena.comp.address)
    d = challenge(arena, comp_id)
    assert token.balanceOf(arena.comp.address) == held  # the fee went on to the court
    rule(court, d, 2)
    finish(court, d)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    arena.comp.payout(comp_id, CHALLENGER_RANKING)
    everyone = [arena.client] + [p.address for p in P]
    assert sum(owed(arena, w) for w in everyone) == held
