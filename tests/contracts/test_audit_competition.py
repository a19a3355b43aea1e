"""Regression tests for the attacks of the security audit on competitions
(contracts/evaluation/Competition.vy). Each test performs the attack and asserts the
safe outcome; each failed against the contract before the fixes.
"""

from __future__ import annotations

import boa
import pytest
from competition_fixtures import USD, Arena, oracle_accounts, players
from conftest import MOCKS, REPO
from escrow_model import ZERO_ADDRESS
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
    return competition_deployer.deploy(committee.address, ZERO_ADDRESS)


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


def test_entries_wait_for_the_committee_to_confirm_the_labels(arena, comp, accounts):
    """Audit: a client committed to labels nobody can open, collected the revealed
    entries and took the prize back after the grace period. Nobody may enter (and so
    release work) before the committee has confirmed the hidden labels open the
    commitment; honest oracles never confirm labels that do not."""
    cid = arena.create(commitment=keccak(b"labels nobody can open"), confirm=False)
    with boa.reverts("competition: labels not confirmed"):
        arena.commit(P[0], cid)
    # the client can only take back a prize no entrant ever saw
    assert comp.cancel_unjudged(cid, sender=accounts.client.address) == arena.PRIZE


def test_a_winner_whose_transfer_reverts_does_not_block_the_others(
    comp, committee, blocklist_token, accounts
):
    """Audit: finalize pushed every prize in one transaction, so one winner whose
    transfer reverts (a token blocklist) blocked everyone's payout. Payouts are pulled."""
    token = blocklist_token
    arena = Arena(comp, token, committee, None, accounts.client.address, list(ORACLES))
    cid = arena.create()
    entries = [arena.commit(P[i], cid) for i in range(3)]
    arena.to_reveal(cid)
    for e in entries:
        arena.reveal(cid, e)
    arena.to_finalize(cid)
    token.set_blocked(P[1].address, True)
    ranking = [(entries[0], 900_000), (entries[1], 800_000), (entries[2], 700_000)]
    arena.finalize(cid, ranking)
    before = token.balanceOf(P[0].address)
    arena.withdraw(P[0])
    assert token.balanceOf(P[0].address) - before == 5_000 * USD + arena.comp.competition(cid).entry_bond
    assert comp.claimable(token.address, P[1].address) == 3_000 * USD + comp.competition(cid).entry_bond
