"""Fixtures for the contract tests (titanoboa, in-process EVM).

Deployments are module-scoped; titanoboa's pytest plugin (registered by the
`titanoboa` package) snapshots the EVM around every fixture and test, and around
every Hypothesis example, so each test starts from the module's deployments.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for path in (HERE, REPO):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import boa  # noqa: E402
import pytest  # noqa: E402

from tests import titanoboa_cache  # noqa: E402

titanoboa_cache.use()

from escrow_harness import EscrowHarness, new_account  # noqa: E402
from guild_fixtures import guild_world  # noqa: E402, F401
from round_fixtures import *  # noqa: E402, F403 (FundingRound fixtures)

ESCROW_PATH = REPO / "contracts" / "escrow" / "JobEscrow.vy"
STABLE_PATH = REPO / "contracts" / "tokens" / "StableToken.vy"
FOT_PATH = REPO / "contracts" / "mocks" / "FeeOnTransferToken.vy"
MOCKS = HERE / "mocks"

INITIAL_FEE_BPS = 250  # 2.5 %

ROLES = (
    "owner",
    "treasury",
    "treasury2",
    "client",
    "client2",
    "freelancer",
    "freelancer2",
    "arbiter",
    "outsider",
    "relayer",
)


@pytest.fixture(scope="module", autouse=True)
def fresh_storage_trace():
    """titanoboa records, per address, the storage keys ever written (`env.sstore_trace`) only to
    print a contract's storage when a call reverts; an address another module's contract used before
    (a different storage layout) makes that printout crash, even on an expected revert. Each module
    starts with an empty record (its own contracts are deployed after this runs)."""
    boa.env.sstore_trace.clear()


@pytest.fixture(scope="session")
def accounts():
    """Named eth_account accounts (they can sign); their addresses act as boa senders."""
    return SimpleNamespace(**{role: new_account(role) for role in ROLES})


@pytest.fixture(scope="session")
def escrow_deployer():
    return boa.load_partial(str(ESCROW_PATH))


@pytest.fixture(scope="session")
def stable_deployer():
    return boa.load_partial(str(STABLE_PATH))


@pytest.fixture(scope="session")
def fot_deployer():
    return boa.load_partial(str(FOT_PATH))


@pytest.fixture(scope="session")
def reentrant_deployer():
    return boa.load_partial(str(MOCKS / "ReentrantToken.vy"))


@pytest.fixture(scope="session")
def noreturn_deployer():
    return boa.load_partial(str(MOCKS / "NoReturnToken.vy"))


@pytest.fixture(scope="session")
def wallet_deployer():
    return boa.load_partial(str(MOCKS / "Erc1271Wallet.vy"))


@pytest.fixture(scope="module")
def token(stable_deployer, accounts):
    with boa.env.prank(accounts.owner.address):
        return stable_deployer.deploy("Proofwork Test USD", "pUSD")


@pytest.fixture(scope="module")
def escrow(escrow_deployer, accounts):
    with boa.env.prank(accounts.owner.address):
        return escrow_deployer.deploy(accounts.treasury.address, INITIAL_FEE_BPS)


@pytest.fixture
def h(escrow, token, accounts):
    """Model-checked driver of the module's escrow (fresh model per test)."""
    return EscrowHarness(escrow, token, accounts.owner.address)


# Contract tests of more than ten seconds on the 2-core CI machine: marked `slow` (`make quick` leaves
# them out) from here, as the test files are edited by others.
SLOW = {
    "test_escrow_invariants.py::test_escrow_invariants",
    "test_court_system_invariants.py::test_court_system_invariants",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == HERE and f"{item.path.name}::{item.name}" in SLOW:
            item.add_marker(pytest.mark.slow)


# --- LabelPayouts (the labeling campaigns' payouts); each module names its own `committee`


@pytest.fixture(scope="session")
def payouts_deployer():
    from label_payouts_fixtures import PAYOUTS_PATH

    return boa.load_partial(str(PAYOUTS_PATH))


@pytest.fixture(scope="module")
def payouts(payouts_deployer):
    return payouts_deployer.deploy()


@pytest.fixture
def cp(payouts, token, committee, accounts):
    """The payouts contract with its campaign helpers (`label_payouts_fixtures.Campaigns`)."""
    from label_payouts_fixtures import Campaigns

    return Campaigns(payouts, token, committee, accounts.owner.address, accounts.client.address)
