"""The chain indexer on a real EVM (the embedded chain and anvil): what it stores is what web3 decodes,
it resumes, it is idempotent whatever the chunking, it rolls back reorgs made with evm_snapshot and
evm_revert, it backfills contracts deployed below its checkpoint, it copes with a node that caps
eth_getLogs ranges, and it stores the same rows in PostgreSQL as in SQLite."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from proofwork.chain.events import ContractHandle
from proofwork.db.index import IndexStore
from proofwork.services.indexer import IndexOptions, IndexResult, deployed_contracts, index_once
from proofwork.services.manifest import artifact_for
from proofwork.services.workspace import Workspace
from tests.conftest import PostgresServer, chain_snapshot
from tests.integration.conftest import Market, digest


def activity(m: Market, jobs: int = 2, budget: str = "10") -> list[int]:
    """Jobs posted, their first milestone submitted and approved: JobCreated, token Transfers and
    Approvals, MilestoneSubmitted, MilestonePaid..."""
    ids = []
    for i in range(jobs):
        job = m.post(budget, milestones=2).job
        m.pw.jobs.submit(m.freelancer, job.job_id, 0, digest(f"{budget} v{i}"))
        m.pw.jobs.approve(m.client, job.job_id, 0)
        ids.append(job.job_id)
    return ids


def index(ws: Workspace, location: str | Path, **options: Any) -> IndexResult:
    with IndexStore.open(location) as store:
        return index_once(ws, store, IndexOptions(**options))


def dump(ws: Workspace, location: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    with IndexStore.open(location) as store:
        return store.dump(ws.chain_id)


def fresh(ws: Workspace, location: Path, **options: Any) -> dict[str, list[tuple[Any, ...]]]:
    """A full index into a new database."""
    assert not location.exists()
    index(ws, location, **options)
    return dump(ws, location)


def as_stored(value: Any) -> Any:
    """A value web3 decoded, as the index stores it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    if isinstance(value, list | tuple):
        return [as_stored(v) for v in value]
    return value


def test_every_event_is_stored_as_web3_decodes_it(market: Market, tmp_path: Path) -> None:
    ws = market.pw.ws
    job_ids = activity(market, jobs=3)
    result = index(ws, tmp_path / "index.sqlite3")
    assert result.last == ws.chain.block_number() and result.reorgs == 0
    assert result.events == result.total_events > 0
    with IndexStore.open(tmp_path / "index.sqlite3") as store:
        contracts, missing = deployed_contracts(ws.deployment, ws)
        assert missing == [] and {c.contract for c, _ in contracts} == {"JobEscrow", "StableToken"}
        for contract, abi in contracts:
            names = [i["name"] for i in abi if i.get("type") == "event"]
            artifact = artifact_for(ws.deployment, contract.role, ws.artifacts)
            expected = ContractHandle(ws.chain, artifact, contract.address, contract.from_block).events(
                *names
            )
            stored = store.events(ws.chain_id, address=contract.address)
            assert [(e.name, e.block_number, e.tx_hash) for e in stored] == [
                (e.name, e.block, e.tx_hash) for e in expected
            ]
            assert [e.args for e in stored] == [
                {k: as_stored(v) for k, v in e.args.items()} for e in expected
            ]
        created = store.events(
            ws.chain_id, contract="JobEscrow", name="JobCreated", args={"client": market.client.address}
        )
        assert [int(e.args["job_id"]) for e in created] == job_ids
        assert created[0].args["amounts"] == [str(5_000_000), str(5_000_000)]
        paid = store.events(ws.chain_id, name="MilestonePaid", args={"job_id": job_ids[1]})
        assert [(e.args["milestone"], e.args["gross"]) for e in paid] == [("0", "5000000")]
        assert store.latest_block(ws.chain_id) == result.last


def test_indexing_again_or_in_other_chunks_gives_the_same_rows(market: Market, tmp_path: Path) -> None:
    ws = market.pw.ws
    activity(market)
    location = tmp_path / "index.sqlite3"
    first = index(ws, location)
    once = dump(ws, location)
    again = index(ws, location)
    assert again.events == 0 and again.first == first.last + 1 and dump(ws, location) == once
    assert fresh(ws, tmp_path / "one-block-batches.sqlite3", chunk=1) == once
    assert fresh(ws, tmp_path / "three-block-batches.sqlite3", chunk=3) == once


def test_it_resumes_from_its_checkpoint(market: Market, tmp_path: Path) -> None:
    ws = market.pw.ws
    activity(market, jobs=1)
    location = tmp_path / "index.sqlite3"
    behind = index(ws, location, confirmations=3)
    assert behind.last == ws.chain.block_number() - 3
    before = dump(ws, location)["events"]
    activity(market, jobs=2)
    after = index(ws, location)
    assert after.first == behind.last + 1 and after.last == ws.chain.block_number()
    rows = dump(ws, location)
    assert rows["events"][: len(before)] == before and after.events == len(rows["events"]) - len(before)
    assert rows == fresh(ws, tmp_path / "fresh.sqlite3")


def test_a_reorg_is_rolled_back_to_the_common_ancestor(market: Market, tmp_path: Path) -> None:
    """evm_snapshot, jobs indexed, evm_revert, other jobs (more blocks than before): the index drops
    the jobs that are no longer on the chain and holds exactly what a fresh index of it holds."""
    ws = market.pw.ws
    activity(market, jobs=1, budget="10")
    location = tmp_path / "index.sqlite3"
    index(ws, location)
    kept = dump(ws, location)["events"]
    with chain_snapshot(ws.chain.web3):
        orphaned = activity(market, jobs=2, budget="20")
        index(ws, location)
        orphaned_rows = dump(ws, location)["events"][len(kept) :]
        assert orphaned_rows
    replacing = activity(market, jobs=3, budget="30")
    assert replacing[:2] == orphaned  # the same job ids, other jobs
    result = index(ws, location)
    assert result.reorgs == 1 and result.rolled_back == len(orphaned_rows)
    rows = dump(ws, location)
    assert rows["events"][: len(kept)] == kept
    assert not {r[0] for r in orphaned_rows} & {r[0] for r in rows["events"]}
    assert rows == fresh(ws, tmp_path / "fresh.sqlite3")
    with IndexStore.open(location) as store:
        budgets = {e.args["amounts"][0] for e in store.events(ws.chain_id, name="JobCreated")}
    assert budgets == {"5000000", "15000000"}


def test_a_chain_that_got_shorter_is_rolled_back(market: Market, tmp_path: Path) -> None:
    ws = market.pw.ws
    activity(market, jobs=1)
    location = tmp_path / "index.sqlite3"
    index(ws, location)
    kept = dump(ws, location)
    with chain_snapshot(ws.chain.web3):
        activity(market, jobs=1, budget="20")
        index(ws, location)
        assert dump(ws, location) != kept
    result = index(ws, location)
    assert result.reorgs == 1 and result.last == ws.chain.block_number()
    assert dump(ws, location) == kept


def test_contracts_deployed_below_the_checkpoint_are_backfilled(market: Market, tmp_path: Path) -> None:
    """An indexer that read the manifest before the court was deployed indexes past the court's
    blocks; the next pass, seeing the court, indexes its contracts from their deployment block."""
    pw = market.pw
    ws = pw.ws
    activity(market, jobs=1)
    pw.court.deploy("dev0")
    stake = int(ws.deployment.court_params["min_stake"])
    pw.court.transfer_pwk("dev0", market.other.address, stake)
    pw.court.stake(market.other, stake)
    activity(market, jobs=1)
    full = ws.deployment
    location = tmp_path / "index.sqlite3"
    ws.use_deployment(replace(full, court_token="", court="", arbitrable=""))
    try:
        without = index(ws, location)
    finally:
        ws.use_deployment(full)
    assert without.contracts == 2
    result = index(ws, location)
    assert result.contracts == 5 and result.events > 0 and result.first == without.last + 1
    rows = dump(ws, location)
    assert {r[6] for r in rows["events"]} >= {"CourtToken", "Court"}
    assert {r[1] for r in rows["contracts"]} >= {"CourtToken", "Court", "EscrowArbitrable"}
    assert rows == fresh(ws, tmp_path / "fresh.sqlite3")


def test_the_same_rows_in_postgresql_as_in_sqlite(
    market: Market, tmp_path: Path, postgres: PostgresServer
) -> None:
    ws = market.pw.ws
    activity(market)
    url = postgres.create_database()
    index(ws, url, chunk=4)
    activity(market, jobs=1)
    index(ws, url, chunk=4)
    assert dump(ws, url) == fresh(ws, tmp_path / "index.sqlite3")
    with IndexStore.open(url) as store:
        assert len(store.events(ws.chain_id, name="JobCreated", args={"client": market.client.address})) == 3


@contextmanager
def capped_node(upstream: str, max_blocks: int) -> Iterator[tuple[str, list[int]]]:
    """A JSON-RPC proxy in front of anvil that refuses eth_getLogs over more than `max_blocks` blocks,
    as public providers do; yields its URL and the sizes of the ranges it served."""
    served: list[int] = []

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            call = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            body: Any = None
            if call.get("method") == "eth_getLogs":
                query = call["params"][0]
                size = int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
                if size > max_blocks:
                    error = {"code": -32005, "message": f"query exceeds max block range {max_blocks}"}
                    body = {"jsonrpc": "2.0", "id": call.get("id"), "error": error}
                else:
                    served.append(size)
            if body is None:
                body = httpx.post(upstream, json=call, timeout=30, trust_env=False).json()
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", served
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.anvil
@pytest.mark.parametrize("deployed_market", ["anvil"], indirect=True)
def test_a_node_that_caps_log_ranges_gets_smaller_ones(market: Market, tmp_path: Path) -> None:
    """A range cap is a JSON-RPC node's: anvil behind a proxy that applies one."""
    ws = market.pw.ws
    activity(market)
    assert ws.settings.rpc_url is not None
    with (
        capped_node(ws.settings.rpc_url, 5) as (url, served),
        Workspace.open(replace(ws.settings, rpc_url=url)) as capped,
    ):
        result = index(capped, tmp_path / "index.sqlite3", chunk=1000)
    assert result.chunk <= 5 and served and max(served) <= 5
    assert result.last == ws.chain.block_number()
    assert dump(ws, tmp_path / "index.sqlite3") == fresh(ws, tmp_path / "fresh.sqlite3")
