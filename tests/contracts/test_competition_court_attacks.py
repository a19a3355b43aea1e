"""Attacker's review of Competition.vy's ranking challenges (commit ed02bba): every role played
against the court path (entrants honest, colluding and Sybil, the committee with a sock puppet, an
outsider, a hostile or buggy arbitrator, hostile prize tokens, a griefer delaying payouts).

Each test is a finding: `test_fixed_...` a vulnerability fixed in the contract (the test is its
regression test), `test_defended_...` an attack the contract already stops, `test_residue_...`
what remains by design (documented in SECURITY.md, "Competition ranking challenges: attacker review").
"""

from __future__ import annotations

from collections import Counter

import boa
import hypothesis.strategies as st
import test_competition_court
from competition_fixtures import DAY, GRACE_PERIOD, Arena, travel_to, winners_hash
from conftest import MOCKS
from court_fixtures import COURT_DEPLOYER, USD, partial
from escrow_harness import now
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from test_competition_court import (
    CHALLENGE_PERIOD,
    CHALLENGER_RANKING,
    COMPETITION_PATH,
    ORACLES,
    PRIZE,
    RULING_TIMEOUT,
    SCORES,
    P,
    arena_before,
    challenge,
    finish,
    owed,
    ranked,
)
from test_competition_court import rule as court_rules

env = test_competition_court.env  # the fixture: the real Court, its jurors staked, a committee, players

COMMITTEE = [(0, 900_000), (1, 800_000), (2, 700_000)]


def instant_arbitrator(token: str, fee: int = 10 * USD):
    """Kleros' centralized arbitrator with no appeal window: its owner's ruling reaches `rule` at once."""
    return partial(MOCKS / "CentralizedArbitrator.vy").deploy(token, fee, 0, fee, 0)


def rogue(cost: int = 10 * USD):
    return partial(MOCKS / "RogueArbitrator.vy").deploy(cost)


def held(arena: Arena, comp_id: int) -> int:
    """What the contract owes for a RANKED competition besides the credits: the prize and the
    bonds of entries never revealed."""
    c = arena.comp.competition(comp_id)
    return c.prize + (c.entry_count - c.revealed_count) * arena.params()["entry_bond"]


def two_ranked(arena: Arena) -> tuple[int, int]:
    """Two competitions ranked by the committee in the same block (both challengeable at once)."""
    ids = [arena.run([s for _, s in SCORES], submitters=P[:3])[0] for _ in range(2)]
    for comp_id in ids:
        arena.finalize(comp_id, SCORES)
    return ids[0], ids[1]


def credits(arena: Arena) -> int:
    return sum(owed(arena, w) for w in [arena.client] + [p.address for p in P])


# --------------------------------------------------------------------------- fixed


def test_fixed_a_sock_puppet_cannot_use_up_the_challenges_with_strawmen(env):
    """The committee colludes with a sock puppet (player 3, entry 3): it signs a ranking that puts the
    sock first. Before the fix the sock made the three challenges MAX_CHALLENGES allowed itself, each
    time with a strawman ranking (worse, or one only cosmetically different) the jurors reject, as
    soon as each period opened (atomically with finalize / execute_ruling): three fees (3 x 90 USD)
    bought the 500 USD first prize, and the genuine winner (player 1) was told "no more challenges".
    Now a rejected or refused challenge does not count: the genuine challenge is still heard."""
    arena, court = env
    arena.bankroll(P[3])
    true_scores = [900_000, 950_000, 700_000, 600_000]
    comp_id, _ = arena.run(true_scores, submitters=P[:4])
    lie = [(0, 900_000), (1, 950_000), (2, 700_000), (3, 990_000)]  # the committee inflates entry 3
    arena.finalize(comp_id, lie)
    assert arena.comp.ranking_hash(comp_id) == winners_hash([(3, 990_000), (1, 950_000), (0, 900_000)])
    fee = arena.comp.challenge_cost(comp_id)
    strawmen = [
        [(3, 990_000), (0, 900_000), (1, 800_000)],  # worse still
        [(3, 990_000), (1, 950_000), (0, 900_001)],  # cosmetic: same prizes, another score
        [(3, 990_000)],  # the rest of the prize to the client
    ]
    spent = 0
    for strawman in strawmen:
        d = challenge(arena, comp_id, who=P[3], entry=3, ranking=strawman)
        spent += fee
        court_rules(court, d, 1)  # the jurors keep the ranking in force
        finish(court, d)
        assert arena.comp.challenges(comp_id).count == 0  # a rejected challenge uses up nothing
    truth = [(1, 950_000), (0, 900_000), (2, 700_000)]
    d = challenge(arena, comp_id, who=P[1], entry=1, ranking=truth)
    court_rules(court, d, 2)
    finish(court, d)
    assert arena.comp.challenges(comp_id).count == 1
    travel_to(now() + CHALLENGE_PERIOD + 1)
    arena.comp.payout(comp_id, truth)
    bond = arena.params()["entry_bond"]
    assert owed(arena, P[1]) == PRIZE // 2 + bond
    assert owed(arena, P[3]) == bond  # the sock only lost its fees
    assert spent == 3 * fee > 0


def test_fixed_upheld_challenges_stay_capped_so_the_prizes_are_paid(env):
    """The cap still bounds what can change the ranking: three upheld challenges, then none; the
    ranking in force is paid one period later."""
    arena, _ = env
    central = instant_arbitrator(arena.token.address)
    other = arena_before(arena, central.address)
    comp_id = ranked(other)
    flips = [(P[1], 1, CHALLENGER_RANKING), (P[0], 0, COMMITTEE), (P[1], 1, CHALLENGER_RANKING)]
    for who, entry, ranking in flips:
        d = challenge(other, comp_id, who=who, entry=entry, ranking=ranking)
        central.give_ruling(d, 2)
    assert other.comp.challenges(comp_id).count == 3
    with boa.reverts("competition: no more challenges"):
        challenge(other, comp_id, who=P[2], entry=2, ranking=[(2, 990_000)])
    travel_to(now() + CHALLENGE_PERIOD + 1)
    other.comp.payout(comp_id, CHALLENGER_RANKING)
    assert owed(other, P[1]) == PRIZE // 2 + other.params()["entry_bond"]


# --------------------------------------------------------------------------- defended


def test_defended_a_rogue_arbitrator_ruling_twice_late_or_on_unknown_disputes(env):
    arena, _ = env
    arb = rogue()
    other = arena_before(arena, arb.address)
    comp = other.comp
    comp_id = ranked(other)
    d = challenge(other, comp_id)
    with boa.reverts("competition: invalid ruling"):
        arb.deliver(comp.address, d, 3)
    with boa.reverts("competition: unknown dispute"):
        arb.deliver(comp.address, d + 1, 2)
    with boa.reverts("competition: caller is not the court"):
        comp.rule(d, 2, sender=P[1].address)
    arb.deliver(comp.address, d, 1)  # kept
    ranked_at = now()
    arb.deliver(comp.address, d, 2)  # the same dispute again: ignored
    assert comp.ranking_hash(comp_id) == winners_hash(COMMITTEE)
    d2 = challenge(other, comp_id, who=P[2], entry=2, ranking=[(2, 990_000), (0, 900_000), (1, 800_000)])
    arb.deliver(comp.address, d, 2)  # a stale dispute of the same competition: ignored
    ch = comp.challenges(comp_id)
    assert ch.open and ch.dispute_id == d2
    assert comp.ranking_hash(comp_id) == winners_hash(COMMITTEE)
    arb.deliver(comp.address, d2, 0)
    assert now() >= ranked_at
    travel_to(now() + CHALLENGE_PERIOD + 1)
    comp.payout(comp_id, COMMITTEE)
    arb.deliver(comp.address, d2, 2)  # after payout: ignored, nothing moves
    assert comp.competition(comp_id).status == 1
    assert owed(other, P[0]) == PRIZE // 2 + other.params()["entry_bond"]


def test_defended_a_rogue_arbitrator_returning_a_dispute_id_already_used(env):
    arena, _ = env
    arb = rogue()
    other = arena_before(arena, arb.address)
    first, second = two_ranked(other)
    arb.configure(10 * USD, 10 * USD, 7, False)  # every dispute is "7"
    assert challenge(other, first) == 7
    with boa.reverts("competition: dispute id reused"):
        challenge(other, second)
    arb.deliver(other.comp.address, 7, 2)  # rules the first competition only
    assert other.comp.ranking_hash(first) == winners_hash(CHALLENGER_RANKING)
    assert other.comp.ranking_hash(second) == winners_hash(COMMITTEE)
    assert not other.comp.challenges(second).open


def test_defended_an_arbitrator_reentering_rule_or_payout_from_create_dispute(env):
    """A ruling (or another competition's payout) slipped in from inside createDispute, before the
    challenge is recorded, hits the reentrancy lock; the challenge is recorded as if nothing happened."""
    arena, _ = env
    arb = rogue()
    other = arena_before(arena, arb.address)
    comp = other.comp
    done = ranked(other)
    travel_to(now() + CHALLENGE_PERIOD + 1)  # `done` may be paid out
    comp_id = ranked(other)
    arb.arm(comp.rule.prepare_calldata(0, 2))
    d = challenge(other, comp_id)
    assert arb.attempted() and not arb.reentered()
    assert comp.challenges(comp_id).open and comp.ranking_hash(comp_id) == winners_hash(COMMITTEE)
    arb.arm(comp.payout.prepare_calldata(done, COMMITTEE))
    arb.deliver(comp.address, d, 1)
    challenge(other, comp_id, who=P[2], entry=2, ranking=[(2, 990_000)])
    assert not arb.reentered() and comp.competition(done).status == 3
    comp.payout(done, COMMITTEE)
    assert comp.competition(done).status == 1


def test_defended_a_reentrant_prize_token_during_challenge_and_payout(env):
    """The prize token calls back from transferFrom (the challenge fee) into payout, rule and
    challenge: every entry point is locked."""
    arena, _ = env
    token = boa.load_partial(str(MOCKS / "ReentrantToken.vy")).deploy()
    arb = instant_arbitrator(token.address)
    comp = partial(COMPETITION_PATH).deploy(arena.committee.address, arb.address)
    other = Arena(comp, token, arena.committee, None, arena.client, list(ORACLES))
    other.PRIZE = PRIZE
    other.bankroll(*P)
    comp_id = ranked(other)
    for payload in (
        comp.payout.prepare_calldata(comp_id, COMMITTEE),
        comp.challenge.prepare_calldata(comp_id, 2, [(2, 990_000)], ""),
        comp.withdraw.prepare_calldata(token.address),
    ):
        token.arm(comp.address, payload, False)
        d = challenge(other, comp_id)
        assert token.attempts() > 0 and not token.last_ok()
        arb.give_ruling(d, 1)
        assert comp.challenges(comp_id).count == 0
    assert token.balanceOf(comp.address) == held(other, comp_id) + credits(other)


def test_defended_a_token_blocking_the_court_or_a_winner_freezes_nothing(env):
    """A blocklist on the court makes the ranking unchallengeable (the fee cannot reach it), never
    unpayable; a blocked winner only blocks its own withdrawal."""
    arena, _ = env
    token = boa.load_partial(str(MOCKS / "BlocklistToken.vy")).deploy()
    arb = instant_arbitrator(token.address)
    comp = partial(COMPETITION_PATH).deploy(arena.committee.address, arb.address)
    other = Arena(comp, token, arena.committee, None, arena.client, list(ORACLES))
    other.PRIZE = PRIZE
    other.bankroll(*P)
    comp_id = ranked(other)
    token.set_blocked(arb.address, True)
    with boa.reverts():
        challenge(other, comp_id)
    assert not comp.challenges(comp_id).open
    token.set_blocked(P[0].address, True)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    comp.payout(comp_id, COMMITTEE)
    with boa.reverts():
        other.withdraw(P[0])
    assert other.withdraw(P[1]) == PRIZE * 3 // 10 + other.params()["entry_bond"]


def test_defended_an_arbitrator_pulling_more_than_it_quoted(env):
    arena, _ = env
    arb = rogue()
    other = arena_before(arena, arb.address)
    comp_id = ranked(other)
    arb.configure(10 * USD, 11 * USD, 0, True)
    with boa.reverts():  # only the quoted fee is approved to it
        challenge(other, comp_id)
    assert other.token.balanceOf(other.comp.address) == held(other, comp_id) + credits(other)


def test_defended_challenge_and_payout_never_overlap_nor_follow_payout(env):
    """Front-running at the edge of the period: the last second belongs to challenges, the next one to
    payout; after payout nothing can be challenged, appealed or ruled; the client cannot cancel a
    ranked competition, even after the grace period."""
    arena, _ = env
    central = instant_arbitrator(arena.token.address)
    other = arena_before(arena, central.address)
    comp = other.comp
    comp_id = ranked(other)
    end = now() + CHALLENGE_PERIOD
    travel_to(end)
    with boa.reverts("competition: challenge period not over"):
        comp.payout(comp_id, COMMITTEE)
    with boa.env.anchor():
        challenge(other, comp_id)  # still in time at the last second
    travel_to(end + GRACE_PERIOD + 1)
    with boa.reverts("competition: already closed"):
        comp.cancel_unjudged(comp_id, sender=other.client)
    with boa.reverts("competition: challenge period over"):
        challenge(other, comp_id)
    comp.payout(comp_id, COMMITTEE)
    with boa.reverts("competition: no ranking to challenge"):
        challenge(other, comp_id)
    with boa.reverts("competition: no challenge pending"):
        comp.appeal(comp_id, sender=P[0].address)
    with boa.reverts("competition: no ranking to pay"):
        comp.payout(comp_id, COMMITTEE)
    with boa.reverts("competition: already closed"):
        comp.cancel_unjudged(comp_id, sender=other.client)


def test_defended_a_late_ruling_before_the_timeout_payout_still_counts(env):
    """The timeout races the ruling: whichever lands first decides. A ruling that arrives after the
    timeout but before anyone paid out is applied and opens a new period (the old ranking can no
    longer be paid); a payout first closes the challenge and the ruling is then ignored."""
    arena, _ = env
    central = instant_arbitrator(arena.token.address)
    other = arena_before(arena, central.address)
    comp = other.comp
    comp_id = ranked(other)
    d = challenge(other, comp_id)
    travel_to(now() + RULING_TIMEOUT + 1)
    central.give_ruling(d, 2)
    with boa.reverts("competition: challenge period not over"):
        comp.payout(comp_id, COMMITTEE)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    with boa.reverts("competition: not the ranking in force"):
        comp.payout(comp_id, COMMITTEE)
    comp.payout(comp_id, CHALLENGER_RANKING)
    assert owed(other, P[1]) == PRIZE // 2 + other.params()["entry_bond"]


# --------------------------------------------------------------------------- residue


def test_residue_a_prize_too_large_for_the_courts_fee_cannot_be_challenged(env):
    """proofwork's Court refuses a fee of 2**96 or more (3% of the prize a juror here): such a
    competition's ranking cannot be challenged, but it is still paid after the period."""
    arena, _ = env
    big = 2**96 * 34
    arena.PRIZE = big
    comp_id, ranking = arena.run([s for _, s in SCORES], submitters=P[:3])
    arena.finalize(comp_id, ranking)
    arena.mint(P[1].address, arena.comp.challenge_cost(comp_id))
    with boa.reverts("court: amount too large"):
        challenge(arena, comp_id)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    arena.comp.payout(comp_id, COMMITTEE)
    assert owed(arena, P[0]) == big // 2 + arena.params()["entry_bond"]


def test_residue_an_arbitrator_pulling_less_strands_the_change_and_an_allowance():
    """The court is named at deployment and trusted with the fee: one that pulls less than it quoted
    leaves the change in the contract (nobody's credit: the challenger's loss) and an allowance that
    a USDT-style token then refuses to overwrite, so no later challenge in that token gets through
    that court. The prizes are not touched: every credit is still backed."""
    committee = partial(MOCKS / "CommitteeStub.vy").deploy([o.address for o in ORACLES], 3)
    token = boa.load_partial(str(MOCKS / "ZeroFirstToken.vy")).deploy()
    arb = rogue()
    arb.configure(10 * USD, 6 * USD, 0, True)
    comp = partial(COMPETITION_PATH).deploy(committee.address, arb.address)
    arena = Arena(comp, token, committee, None, boa.env.generate_address("client"), list(ORACLES))
    arena.PRIZE = PRIZE
    for p in P:
        token.mint(p.address, 10**15)
        token.approve(comp.address, 2**256 - 1, sender=p.address)
    first, second = two_ranked(arena)
    challenge(arena, first)
    assert token.allowance(comp.address, arb.address) == 4 * USD
    stranded = token.balanceOf(comp.address) - held(arena, first) - held(arena, second) - credits(arena)
    assert stranded == 4 * USD
    with boa.reverts("token: approve from non-zero"):
        challenge(arena, second)
    travel_to(now() + CHALLENGE_PERIOD + 1)
    comp.payout(second, COMMITTEE)
    assert owed(arena, P[0]) > PRIZE // 2


def test_residue_a_challengers_scores_are_its_own_word(env):
    """The challenger's ranking is checked like the committee's (revealed entries, order, bar) but its
    scores are not in the committee's tree: the jurors must check them against the artifacts."""
    arena, _ = env
    central = instant_arbitrator(arena.token.address)
    other = arena_before(arena, central.address)
    comp_id = ranked(other)
    made_up = [(1, 10**12), (0, 900_000), (2, 700_000)]
    d = challenge(other, comp_id, ranking=made_up)
    central.give_ruling(d, 2)
    assert not other.comp.verify_score(comp_id, 1, 10**12, [])
    travel_to(now() + CHALLENGE_PERIOD + 1)
    other.comp.payout(comp_id, made_up)
    assert owed(other, P[1]) == PRIZE // 2 + other.params()["entry_bond"]


def test_residue_a_griefer_delays_the_payout_one_fee_per_round(env):
    """The price of the fix: rejected challenges do not count, so a griefer with a revealed entry can
    hold the payout back round after round, each round costing it a full arbitration fee (paid to
    the jurors) and the winners one ruling plus a challenge period. A silent arbitrator cannot be
    used for this: the timeout pays out at once, with no new period."""
    arena, _ = env
    central = instant_arbitrator(arena.token.address)
    other = arena_before(arena, central.address)
    comp_id = ranked(other)
    start = now()
    fee = other.comp.challenge_cost(comp_id)
    before = other.token.balanceOf(P[2].address)
    for _ in range(5):
        d = challenge(other, comp_id, who=P[2], entry=2, ranking=[(2, 990_000)])
        travel_to(now() + DAY)
        central.give_ruling(d, 1)
        travel_to(now() + CHALLENGE_PERIOD)
    assert before - other.token.balanceOf(P[2].address) == 5 * fee
    d = challenge(other, comp_id, who=P[2], entry=2, ranking=[(2, 990_000)])
    travel_to(now() + RULING_TIMEOUT + 1)
    other.comp.payout(comp_id, COMMITTEE)
    assert now() - start > RULING_TIMEOUT + 5 * (DAY + CHALLENGE_PERIOD)
    assert d > 0 and owed(other, P[0]) == PRIZE // 2 + other.params()["entry_bond"]


# --------------------------------------------------------------------------- stateful

RANKINGS = [
    COMMITTEE,
    CHALLENGER_RANKING,
    [(2, 990_000), (0, 900_000), (1, 800_000)],
    [(1, 950_000)],
    [],
]
BY_HASH = {winners_hash(r): r for r in RANKINGS}
STATS: Counter = Counter()


class ChallengeMachine(RuleBasedStateMachine):
    """Challenges, rulings (0, 1, 2), appeals, executions, time passing and payout attempts on one
    RANKED competition before an appealable centralized arbitrator. Invariants: the contract holds
    exactly the prize, the forfeited bonds and the credits (fees pass through to the arbitrator);
    at most MAX_CHALLENGES upheld challenges; and at the end, timeouts alone finalize it."""

    def __init__(self, arena: Arena, central):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.arena, self.central, self.comp = arena, central, arena.comp
        self.upheld = 0

    def teardown(self):
        try:
            if hasattr(self, "cid") and self.comp.competition(self.cid).status == 3:
                travel_to(now() + RULING_TIMEOUT + CHALLENGE_PERIOD + 2)
                self.comp.payout(self.cid, BY_HASH[bytes(self.comp.ranking_hash(self.cid))])
                assert self.comp.competition(self.cid).status == 1
                assert credits(self.arena) == self.arena.token.balanceOf(self.comp.address)
                STATS["finalized by timeouts"] += 1
            elif hasattr(self, "cid"):
                STATS["finalized by timeouts"] += 1  # paid during the run
        finally:
            self._anchor.__exit__(None, None, None)

    @initialize()
    def start(self):
        self.cid = ranked(self.arena)

    def _pending(self):
        ch = self.comp.challenges(self.cid)
        return ch.dispute_id if ch.open else None

    @rule(who=st.integers(0, 2), k=st.integers(0, len(RANKINGS) - 1))
    def challenge(self, who, k):
        try:
            challenge(self.arena, self.cid, who=P[who], entry=who, ranking=RANKINGS[k])
            STATS["challenges"] += 1
        except boa.BoaError:
            STATS["challenges refused"] += 1

    @precondition(lambda self: self._pending() is not None)
    @rule(ruling=st.integers(0, 2), final=st.booleans())
    def rule_(self, ruling, final):
        """The arbitrator rules; with `final` its appeal window runs out and the ruling executes."""
        d = self._pending()
        if self.central.disputes(d).status == 0:
            self.central.give_ruling(d, ruling)
        if final:
            boa.env.time_travel(seconds=DAY)
            self.execute()

    @precondition(lambda self: self._pending() is not None)
    @rule()
    def appeal(self):
        d = self._pending()
        if self.central.disputes(d).status == 1 and now() < self.central.disputes(d).appeal_end:
            self.comp.appeal(self.cid, sender=P[3].address)
            STATS["appeals"] += 1

    @precondition(lambda self: self._pending() is not None)
    @rule()
    def execute(self):
        d = self._pending()
        info = self.central.disputes(d)
        if info.status == 1 and now() >= info.appeal_end:
            before = bytes(self.comp.ranking_hash(self.cid))
            self.central.execute(d)
            if info.ruling == 2:
                self.upheld += 1
                assert bytes(self.comp.ranking_hash(self.cid)) != before
            STATS[f"ruling {info.ruling}"] += 1

    @rule(seconds=st.sampled_from([600, 3_600, 3_600, DAY, DAY, CHALLENGE_PERIOD + 1, 200 * DAY]))
    def time_passes(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @rule()
    def payout(self):
        try:
            self.comp.payout(self.cid, BY_HASH[bytes(self.comp.ranking_hash(self.cid))])
            STATS["paid"] += 1
        except boa.BoaError:
            pass

    @invariant()
    def conserved(self):
        if not hasattr(self, "cid"):
            return
        status = self.comp.competition(self.cid).status
        owed_on_chain = 0 if status == 1 else held(self.arena, self.cid)
        assert self.arena.token.balanceOf(self.comp.address) == owed_on_chain + credits(self.arena)
        assert self.comp.challenges(self.cid).count <= 3 and self.upheld <= 3


def test_challenges_conserve_tokens_and_always_end(env):
    arena, _ = env
    central = partial(MOCKS / "CentralizedArbitrator.vy").deploy(
        arena.token.address, 10 * USD, 0, 10 * USD, DAY
    )
    other = arena_before(arena, central.address)
    other.bankroll(P[3])
    STATS.clear()
    run_state_machine_as_test(
        lambda: ChallengeMachine(other, central),
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    print("outcomes:", sorted(STATS.items()))
    assert STATS["finalized by timeouts"] >= 15
    assert STATS["challenges"] >= 5 and STATS["ruling 2"] >= 1


def test_defended_the_arbitration_fee_reaches_the_court_whole(env):
    """Token conservation through a challenge and an appeal before the real Court: the contract's
    balance never moves, the fees go on to the court."""
    arena, court = env
    comp_id = ranked(arena)
    before = arena.token.balanceOf(arena.comp.address)
    d = challenge(arena, comp_id)
    court_rules(court, d, 2)
    cost = court.appealCost(d, b"")
    arena.token.mint(P[0].address, cost, sender=COURT_DEPLOYER)
    arena.comp.appeal(comp_id, sender=P[0].address)
    assert arena.token.balanceOf(arena.comp.address) == before
    assert arena.token.allowance(arena.comp.address, court.address) == 0
