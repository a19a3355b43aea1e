"""Stateful Hypothesis test of Competition.vy: honest entrants and flooders (many
throw-away addresses) commit and reveal in any order, time passes, the committee
finalizes or stays silent, winners withdraw (one of them cannot receive).

The class of the audit covered here, unrevealable entries, and the money around it:
- every committed entry can be revealed until the reveal period ends, however many
  others were committed or revealed before it (no cap, first come first served);
- the contract always holds exactly the open prizes, the bonds of unrevealed entries and
  what it credited and nobody withdrew yet; after a finalization the credits add up to
  the prize plus the bonds;
- a winner whose transfers revert blocks nobody else's withdrawal.
"""

from collections import Counter

import boa
import hypothesis.strategies as st
from competition_fixtures import BOND, DAY, Arena, oracle_accounts, players
from conftest import MOCKS, REPO
from escrow_model import ZERO_ADDRESS
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

COMPETITION_PATH = REPO / "contracts" / "evaluation" / "Competition.vy"
ORACLES = oracle_accounts(4)
HONEST = players(3)
FLOOD = players(40)[3:]  # throw-away addresses
STATS: Counter = Counter()


class CompetitionMachine(RuleBasedStateMachine):
    def __init__(self, comp, token, committee, client):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.comp, self.token = comp, token
        self.arena = Arena(comp, token, committee, None, client, list(ORACLES))
        self.arena.bankroll(*HONEST, *FLOOD)
        self.withdrawn: Counter = Counter()
        self.stats: Counter = Counter()
        self.cid = 0
        self.checked = (0, 0)  # (pending, entries) when every entry was last shown revealable

    def teardown(self):
        largest = self.stats.pop("largest field", 0)
        STATS.update(self.stats)
        STATS["largest field"] = max(STATS["largest field"], largest)
        self._anchor.__exit__(None, None, None)

    def _c(self):
        return self.comp.competition(self.cid)

    def _open_for_commits(self) -> bool:
        return boa.env.timestamp <= self._c().deadline

    def _in_reveal(self) -> bool:
        c = self._c()
        return c.deadline < boa.env.timestamp <= c.deadline + c.reveal_period

    def _unrevealed(self) -> list[int]:
        return [
            e for e in range(self.comp.entry_count(self.cid)) if not self.comp.entry(self.cid, e).revealed
        ]

    @initialize(places=st.sampled_from([[10_000], [5_000, 3_000, 2_000]]))
    def create(self, places):
        self.cid = self.arena.create(prize_bps=places, daily_limit=255, deadline=boa.env.timestamp + 3 * DAY)
        self.arena.token.set_blocked(HONEST[2].address, False)

    @precondition(lambda self: self._open_for_commits() and self.comp.entry_count(self.cid) < 320)
    @rule(n=st.integers(1, 150), k=st.integers(0, 100))
    def flood(self, n, k):
        """Throw-away entries from many addresses."""
        for i in range(n):
            self.arena.commit(FLOOD[(k + i) % len(FLOOD)], self.cid)
        self.stats["flood entries"] += n

    @precondition(lambda self: self._open_for_commits())
    @rule(who=st.integers(0, 2))
    def honest_commit(self, who):
        self.arena.commit(HONEST[who], self.cid)

    @precondition(lambda self: self._in_reveal() and self._unrevealed())
    @rule(k=st.integers(0, 10_000), many=st.booleans())
    def reveal(self, k, many):
        pending = self._unrevealed()
        for e in pending[k % len(pending) :][: 50 if many else 1]:
            self.arena.reveal(self.cid, e)

    @rule(seconds=st.sampled_from([3_600, DAY, 3 * DAY + 1, 2 * DAY]))
    def time_passes(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @precondition(
        lambda self: (
            self._c().status == 0 and boa.env.timestamp > self._c().deadline + self._c().reveal_period
        )
    )
    @rule(block=st.booleans())
    def finalize_and_withdraw(self, block):
        revealed = [
            e for e in range(self.comp.entry_count(self.cid)) if self.comp.entry(self.cid, e).revealed
        ]
        ranking = [(e, (e * 7919) % 1001) for e in revealed]
        c = self._c()
        self.arena.finalize(self.cid, ranking)
        # nothing was withdrawn before: the credits are the prize and every bond, to the cent
        credited = sum(self.comp.claimable(self.token.address, x) for x in self._accounts())
        assert credited == c.prize + c.entry_count * BOND
        if block:
            self.token.set_blocked(HONEST[2].address, True)
        for x in self._accounts():
            if self.comp.claimable(self.token.address, x) == 0:
                continue
            if block and x == HONEST[2].address:
                with boa.reverts("blocklist: account blocked"):
                    self.comp.withdraw(self.token.address, sender=x)
                continue
            self.withdrawn[x] += self.comp.withdraw(self.token.address, sender=x)
        self.stats["finalized"] += 1

    def _accounts(self) -> list[str]:
        return [p.address for p in (*HONEST, *FLOOD)] + [self.arena.client]

    @invariant()
    def the_contract_holds_exactly_what_it_owes(self):
        c = self._c()
        owed = sum(self.comp.claimable(self.token.address, x) for x in self._accounts())
        open_prize = c.prize if c.status == 0 else 0
        held_bonds = len(self._unrevealed()) * BOND if c.status == 0 else 0
        assert self.token.balanceOf(self.comp.address) == open_prize + held_bonds + owed

    @invariant()
    def every_committed_entry_can_be_revealed(self):
        c = self._c()
        if c.status != 0 or boa.env.timestamp > c.deadline + c.reveal_period:
            return
        pending = self._unrevealed()
        if not pending or (len(pending), c.entry_count) == self.checked:
            return
        self.checked = (len(pending), c.entry_count)
        with boa.env.anchor():
            if boa.env.timestamp <= c.deadline:
                boa.env.time_travel(seconds=c.deadline + 1 - boa.env.timestamp)
            for e in pending:
                self.arena.reveal(self.cid, e)
            assert self.comp.revealed_count(self.cid) == self.comp.entry_count(self.cid)
        self.stats["all entries revealable"] += 1
        self.stats["largest field"] = max(self.stats["largest field"], c.entry_count)


def test_competition_invariants(accounts):
    STATS.clear()
    with boa.swap_env(boa.Env()):
        boa.env.time_travel(seconds=4_000_000_000 - boa.env.timestamp, block_delta=1)
        committee = boa.load_partial(str(MOCKS / "CommitteeStub.vy")).deploy([o.address for o in ORACLES], 3)
        comp = boa.load_partial(str(COMPETITION_PATH)).deploy(committee.address, ZERO_ADDRESS)
        blocklist = boa.load_partial(str(MOCKS / "BlocklistToken.vy")).deploy()
        client = accounts.client.address
        run_state_machine_as_test(
            lambda: CompetitionMachine(comp, blocklist, committee, client),
            settings=settings(
                max_examples=8,
                stateful_step_count=12,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    print("outcomes:", sorted(STATS.items()))
    assert STATS["largest field"] > 256  # more entries than the old reveal cap
    assert STATS["finalized"] >= 1
    assert STATS["all entries revealable"] >= 10
