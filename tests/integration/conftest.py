"""One SDK suite, run against every backend: the embedded py-evm chain and a real anvil node."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest

from proofwork.sdk import Proofwork, Signer
from tests.conftest import chain_snapshot, running_anvil

DAY = 86_400
# every SDK suite runs on both; the anvil runs carry the `anvil` mark (`make quick` leaves them out)
BACKENDS = ["embedded", pytest.param("anvil", marks=pytest.mark.anvil)]


@dataclass
class Market:
    """A deployed proofwork with funded roles; tests create their own jobs in it."""

    pw: Proofwork
    backend: str
    operator: Signer
    client: Signer
    freelancer: Signer
    other: Signer
    arbiter: Signer
    relayer: Signer

    def post(self, budget: str = "1000", milestones: int | list[int] = 1, **kwargs: object):  # type: ignore[no-untyped-def]
        kwargs.setdefault("freelancer", self.freelancer.address)
        kwargs.setdefault("deadline", self.pw.now() + 7 * DAY)
        kwargs.setdefault("review_period", 3 * DAY)
        return self.pw.jobs.post(self.client, budget=self.pw.amount(budget), milestones=milestones, **kwargs)


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


@pytest.fixture(scope="module", params=BACKENDS)
def deployed_market(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Market]:
    """Deployed once per module and backend; tests get it through `market`. On anvil, a node of its
    own: `market` reverts the chain after every test, which must not undo other modules' work on the
    session's shared node."""
    with ExitStack() as stack:
        rpc_url = stack.enter_context(running_anvil()) if request.param == "anvil" else None
        yield stack.enter_context(_deployed(rpc_url, request.param, tmp_path_factory))


@contextmanager
def _deployed(
    rpc_url: str | None, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Market]:
    data_dir = tmp_path_factory.mktemp(f"pw-{backend}")
    with Proofwork.open(data_dir, rpc_url) as pw:
        pw.deploy("dev0", treasury=pw.address("dev9"))
        market = Market(
            pw,
            backend,
            *(pw.signer(name) for name in ("dev0", "dev1", "dev2", "dev3", "dev4", "dev5")),
        )
        pw.fund(market.client.address, pw.amount("1000000"))
        pw.fund(market.other.address, pw.amount("1000"))
        yield market


@pytest.fixture
def market(deployed_market: Market) -> Iterator[Market]:
    """The module's market as deployed: every test's transactions are rolled back after it (chain
    snapshot), so no test sees another's jobs, balances or nonces."""
    with chain_snapshot(deployed_market.pw.ws.chain.web3):
        yield deployed_market


@pytest.fixture(scope="module")
def asset_market(deployed_market: Market) -> Market:
    """The module's market with the asset contracts (AssetRegistry, Licensing) deployed."""
    deployed_market.pw.assets.deploy("dev0")
    return deployed_market


@pytest.fixture
def am(asset_market: Market) -> Iterator[Market]:
    """`asset_market`, each test's transactions rolled back after it (as `market`)."""
    with chain_snapshot(asset_market.pw.ws.chain.web3):
        yield asset_market
