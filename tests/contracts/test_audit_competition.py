"""Regression tests for the attacks of the security audit on competitions
(contracts/evaluation/Competition.vy). Each test performs the attack and asserts the
safe outcome; each failed against the contract before the fixes.
"""

from __future__ import annotations

import boa
import pytest
from competition_fixtures import USD, Arena, oracle_accounts, players
from conftest import MOCKS, REPO
from eth_utils import keccak

COMPETITION_PATH = REPO / "contracts" / "evaluation" / "Competition.vy"
ORACLES = oracle_accounts(4)
P = players(4)


@pytest.fixture(scope="session")
def competition_deployer():
    return boa.load_partial(str(COMPETITION_PATH))


@pytest.fixture(scope="module")
def committee():
    return boa.load_partial(str(MOCKS / "CommitteeStub.vy")).deploy([o.address for o in ORACLES], 3)


@pytest.fixture(scope="module")
def comp(competition_deployer, committee):
    return competition_deployer.deploy(committee.address)


@pytest.fixture(scope="module")
def blocklist_token():
    return boa.load_partial(str(MOCKS / "BlocklistToken.vy")).deploy()


@pytest.fixture
def arena(comp, token, committee, accounts):
    return Arena(comp, token, committee, accounts.owner.address, accounts.client.address, list(ORACLES))


def test_flooded_reveals_cannot_shut_out_an_honest_entry(arena, comp):
    """Audit: commits were unlimited but reveals stopped at 256; 256 throw-away entries
    revealed first shut out the honest one, and a 0.60 model won against a 0.99 one.
    Every committed entry must be revealable."""
    cid = arena.create(daily_limit=255)
    flood = [arena.commit(P[i % 2], cid) for i in range(256)]
    honest = arena.commit(P[3], cid)
    arena.to_reveal(cid)
    for e in flood:
        arena.reveal(cid, e)
    arena.reveal(cid, honest)
    assert comp.entry(cid, honest).revealed


def test_entries_wait_for_the_committee_to_confirm_the_labels(arena, comp):
    """Audit: a client committed to labels nobody can open, collected the revealed
    entries and took the prize back after the grace period. Nobody may enter (and so
    release work) before the committee has confirmed the hidden labels open the
    commitment."""
    cid = arena.create(commitment=keccak(b"labels nobody can open"))
    with boa.reverts():
        arena.commit(P[0], cid)


def test_a_winner_whose_transfer_reverts_does_not_block_the_others(comp, committee, blocklist_token, accounts):
    """Audit: finalize pushed every prize in one transaction, so one winner whose
    transfer reverts (a token blocklist) blocked everyone's payout."""
    token = blocklist_token
    arena = Arena(comp, token, committee, accounts.owner.address, accounts.client.address, list(ORACLES))
    token.mint(arena.client, arena.PRIZE)
    token.approve(comp.address, arena.PRIZE, sender=arena.client)
    cid = arena.create(fund=False)
    entries = [arena.commit(P[i], cid) for i in range(3)]
    arena.to_reveal(cid)
    for e in entries:
        arena.reveal(cid, e)
    arena.to_finalize(cid)
    token.set_blocked(P[1].address, True)
    ranking = [(entries[0], 900_000), (entries[1], 800_000), (entries[2], 700_000)]
    arena.finalize(cid, ranking)
    assert token.balanceOf(P[0].address) + comp.claimable(token.address, P[0].address) == 5_000 * USD
