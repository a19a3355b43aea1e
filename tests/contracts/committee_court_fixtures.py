"""Shared by the tests of committee-evaluated jobs before the court (test_committee_court.py and
test_committee_court_attacks.py): the adapter's and the test arbitrator's terms, a scored job whose
score was disputed, and a check that an adapter call made the committee resolve a milestone."""

from __future__ import annotations

from pathlib import Path

import boa
from committee_fixtures import COMMITTEE_PATH, SCALE, WINDOW, CommitteeDeployer
from court_fixtures import partial
from escrow_harness import DAY, OK, addr

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "contracts" / "court" / "EscrowArbitrable.vy"
MOCKS = Path(__file__).resolve().parent / "mocks"
# the test CentralizedArbitrator's fees and the adapter's fee timeout
BASE_FEE, FEE_BPS, APPEAL_FEE, FEE_TIMEOUT = 1_000, 100, 5_000, 2 * DAY
MAX_FEE_TIMEOUT = 4 * DAY  # EscrowArbitrable.MAX_FEE_TIMEOUT
ESCROW_TIMEOUT = 30 * DAY  # JobEscrow.ARBITRATION_TIMEOUT
AMOUNT = 1_000 * SCALE
ESCROW_FEE_BPS = 250
GOOD = [990_000, 985_000, 995_000]
BAD = [410_000, 400_000, 420_000]
COST = BASE_FEE + AMOUNT * FEE_BPS // 10_000


def fund(h, accounts, adapter, token=None):
    """Client and freelancer hold tokens and have approved `adapter` for their fees."""
    token = h.token if token is None else token
    for who in (accounts.client.address, accounts.freelancer.address):
        token.mint(who, 10**12, sender=h.model.owner)
        token.approve(adapter.address, 2**255, sender=who)


def scored_and_disputed(d, h, accounts, adapter, by, amounts=(AMOUNT,)) -> int:
    """A committee job whose milestone 0 was submitted and disputed by `by` inside the
    challenge window; both parties can pay fees to `adapter`."""
    job_id = d.job(accounts.client, accounts.freelancer, list(amounts))
    d.register(job_id)
    d.submit(job_id, 0)
    h.raise_dispute(addr(by), job_id, 0, expect=OK)
    fund(h, accounts, adapter)
    return job_id


def executed(h, arbiter, adapter, job_id, share, call):
    """Runs `call`, an adapter call that must make `arbiter` resolve milestone 0 with
    `share`, and checks the escrow's events and transfers against the harness model."""
    trial = h.model.clone()
    outcome = trial.resolve(str(arbiter.address), job_id, None, 0, share)
    call()
    h._check_logs("court ruling", adapter.get_logs(), outcome, job_id, None)
    h.model = trial
    h.check_job(job_id)


def deploy_court(escrow, token, deployer: str):
    """The test CentralizedArbitrator and an adapter on it (3 jurors asked, FEE_TIMEOUT), deployed
    from `deployer` (an address of the calling module's own): (arbitrator, adapter)."""
    with boa.env.prank(deployer):
        arb = partial(MOCKS / "CentralizedArbitrator.vy").deploy(
            token.address, BASE_FEE, FEE_BPS, APPEAL_FEE, 0
        )
        adapter = partial(ADAPTER).deploy(escrow.address, arb.address, 3, FEE_TIMEOUT)
    return arb, adapter


def deploy_committee(escrow, oracles, adapter):
    """A committee of `oracles` (f = 1) that names `adapter` as its court."""
    return CommitteeDeployer(COMMITTEE_PATH).deploy(
        escrow.address, [o.address for o in oracles], 1, WINDOW, adapter.address
    )
