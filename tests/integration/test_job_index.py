"""The chain index's jobs projection on the embedded chain: the job list from the index is the job list
rebuilt from the logs (every filter, cursor pages, skills), `list_jobs` picks the index only while it
is caught up, a reorg leaves the projection equal to a fresh index, and the server's `JobBoard`
answers from the index with `stale: true` while the node is gone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from proofwork.db.index import IndexStore
from proofwork.domain.errors import ChainUnavailable
from proofwork.services import job_listing as L
from proofwork.services.indexer import index_once
from proofwork.services.workspace import Workspace
from tests.conftest import PostgresServer, chain_snapshot
from tests.integration.conftest import DAY, Market, _deployed, digest

if TYPE_CHECKING:
    from proofwork.sdk import Proofwork


@pytest.fixture(scope="module")
def board_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    """Jobs in every state, from two clients, with budgets of several sizes and declared skills."""
    with _deployed(None, "embedded", tmp_path_factory) as m:
        pw = m.pw
        pw.deploy_committee([f"dev{i}" for i in range(6, 10)], f=1)
        pw.identity.deploy("dev0")
        pw.fund(m.other.address, pw.amount("100000"))
        ids = []
        for i in range(9):
            client = m.client if i % 3 else m.other
            freelancer = None if i % 4 == 0 else m.freelancer.address
            budget = ("5", "40", "300", "2000")[i % 4]
            ids.append(
                pw.jobs.post(
                    client,
                    budget=pw.amount(budget),
                    milestones=2,
                    freelancer=freelancer,
                    arbiter=m.arbiter.address if i % 2 else None,
                    deadline=pw.now() + 7 * DAY,
                    review_period=3 * DAY,
                ).job
            )
        by_id = {j.job_id: j for j in ids}
        active = [j for j in ids if j.freelancer != "0x0000000000000000000000000000000000000000"]
        # completed: both milestones paid; one cancelled by both parties; one with a dispute
        done = active[0]
        client_of = {j.job_id: (m.client if j.client == m.client.address else m.other) for j in ids}
        # skills are declared before any milestone is settled
        for job_id, skill in (
            (ids[0].job_id, "vision"),
            (ids[3].job_id, "nlp/sentiment"),
            (done.job_id, "vision"),
        ):
            pw.identity.declare_skill(client_of[job_id].address, job_id, skill)
        for index in (0, 1):
            pw.jobs.submit(m.freelancer, done.job_id, index, digest(f"d{index}"))
            pw.jobs.approve(client_of[done.job_id], done.job_id, index)
        cancelled = active[1]
        pw.jobs.cancel(client_of[cancelled.job_id], cancelled.job_id, 0)
        pw.jobs.cancel(m.freelancer, cancelled.job_id, 0)
        disputed = next(j for j in active[2:] if j.arbiter == m.arbiter.address)
        pw.jobs.submit(m.freelancer, disputed.job_id, 0, digest("x"))
        pw.jobs.dispute(client_of[disputed.job_id], disputed.job_id, 0)
        assert len(by_id) == 9
        yield m


def index_into(ws: Workspace, location: Path | str) -> None:
    with IndexStore.open(location) as store:
        index_once(ws, store)


def filters(m: Market) -> list[L.JobFilter]:
    pw = m.pw
    return [
        L.JobFilter(),
        L.JobFilter(state="open"),
        L.JobFilter(state="active"),
        L.JobFilter(state="completed"),
        L.JobFilter(state="cancelled"),
        L.JobFilter(state="refunded"),
        L.JobFilter(client=m.client.address),
        L.JobFilter(client=m.other.address.lower()),
        L.JobFilter(freelancer=m.freelancer.address),
        L.JobFilter(involving=m.freelancer.address),
        L.JobFilter(involving=m.arbiter.address),
        L.JobFilter(skill="vision"),
        L.JobFilter(skill="nlp/sentiment"),
        L.JobFilter(skill="none-such"),
        L.JobFilter(min_budget=pw.amount("40")),
        L.JobFilter(max_budget=pw.amount("40")),
        L.JobFilter(min_budget=pw.amount("40"), max_budget=pw.amount("300")),
        L.JobFilter(min_budget=2**300),
        L.JobFilter(max_budget=2**300, state="active", client=m.client.address),
        L.JobFilter(skill="vision", state="completed"),
    ]


def walk(fetch, limit: int) -> list[L.JobPage]:  # type: ignore[no-untyped-def]
    pages = [fetch(None, limit)]
    while pages[-1].next_cursor is not None:
        pages.append(fetch(pages[-1].next_cursor, limit))
    return pages


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "index.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


def test_the_index_lists_what_the_logs_list(board_market: Market, location: str) -> None:
    m = board_market
    ws = m.pw.ws
    index_into(ws, location)
    escrow = ws.deployment.escrow
    with IndexStore.open(location) as store:
        checkpoint = store.checkpoint(ws.chain_id)
        assert checkpoint is not None
        for where in filters(m):
            for limit in (1, 2, 4, None):

                def from_index(before, limit, where=where):  # type: ignore[no-untyped-def]
                    page = L.index_page(store, ws.chain_id, escrow, where, before, limit)
                    assert page is not None
                    return page

                def from_logs(before, limit, where=where):  # type: ignore[no-untyped-def]
                    return L.logs_page(ws, where, before, limit)

                indexed = walk(from_index, limit) if limit else [from_index(None, None)]
                logged = walk(from_logs, limit) if limit else [from_logs(None, None)]
                assert [(p.jobs, p.next_cursor, p.total) for p in indexed] == [
                    (p.jobs, p.next_cursor, p.total) for p in logged
                ], where
                assert all(p.indexed_block == checkpoint.block and not p.stale for p in indexed)
        whole = L.index_page(store, ws.chain_id, escrow, L.JobFilter(), None, None)
        assert whole is not None
        everything = whole.jobs
    states = {item.job.status for item in everything}
    assert states == {"open", "active", "completed", "cancelled"}
    assert {item.skill for item in everything} == {None, "vision", "nlp/sentiment"}
    # a cursor at or past the ids, and one past uint256, page the same way on both
    for before in (0, 1, 3, 10**80):
        with IndexStore.open(location) as store:
            indexed = L.index_page(store, ws.chain_id, escrow, L.JobFilter(), before, 3)
            assert indexed is not None
        logged = L.logs_page(ws, L.JobFilter(), before, 3)
        assert (indexed.jobs, indexed.next_cursor, indexed.total) == (
            logged.jobs,
            logged.next_cursor,
            logged.total,
        )


def test_list_jobs_reads_the_index_only_while_it_is_caught_up(board_market: Market, tmp_path: Path) -> None:
    m = board_market
    location = tmp_path / "index.sqlite3"
    with Workspace.open(replace(m.pw.ws.settings, index_db=str(location))) as ws:
        ws._chain = m.pw.ws.chain  # the embedded chain the market holds
        without = L.list_jobs(ws, L.JobFilter(), limit=3)
        assert without.indexed_block is None and not location.exists()  # a read creates no index
        index_into(ws, location)
        page = L.list_jobs(ws, L.JobFilter(), limit=3)
        assert page.indexed_block == ws.chain.block_number() and not page.stale
        assert (page.jobs, page.next_cursor, page.total) == (without.jobs, without.next_cursor, without.total)
        with chain_snapshot(ws.chain.web3):
            new = m.post("7").job
            behind = L.list_jobs(ws, L.JobFilter(), limit=3)
            assert behind.indexed_block is None and behind.jobs[0].job.job_id == new.job_id
            index_into(ws, location)
            caught_up = L.list_jobs(ws, L.JobFilter(), limit=3)
            assert caught_up.indexed_block is not None and caught_up.jobs == behind.jobs
        # the chain reverted: the next pass rolls the new job back out of the projection
        index_into(ws, location)
        after = L.list_jobs(ws, L.JobFilter(), limit=3)
        assert after.indexed_block is not None and after.jobs == page.jobs
        with IndexStore.open(location) as store:
            rows = store.dump(ws.chain_id)
        fresh = tmp_path / "fresh.sqlite3"
        index_into(ws, fresh)
        with IndexStore.open(fresh) as store:
            assert store.dump(ws.chain_id) == rows
        ws._chain = None  # not ours to close


def test_the_board_answers_from_the_index_while_the_node_is_gone(
    board_market: Market, tmp_path: Path
) -> None:
    m = board_market
    ws = m.pw.ws
    location = tmp_path / "index.sqlite3"
    index_into(ws, location)
    node_up = True
    now = [0.0]

    def use(fn):  # type: ignore[no-untyped-def]
        if not node_up:
            raise ChainUnavailable("the node at http://127.0.0.1:1 cannot be reached")
        return fn(ws)

    board = L.JobBoard(replace(ws.settings, index_db=str(location)), use, clock=lambda: now[0])
    try:
        page, decimals = board.page(L.JobFilter(), limit=4)
        assert not page.stale and page.indexed_block == ws.chain.block_number() and decimals == 6
        node_up = False
        now[0] += 5
        gone, _ = board.page(L.JobFilter(state="active"), limit=4)
        assert gone.stale and gone.indexed_block == page.indexed_block
        assert gone.jobs == L.logs_page(ws, L.JobFilter(state="active"), None, 4).jobs
        node_up = True
        now[0] += 5
        again, _ = board.page(L.JobFilter(), limit=4)
        assert not again.stale and again.total == page.total
        # the index moves: the count is taken again
        with chain_snapshot(ws.chain.web3):
            m.post("9")
            index_into(ws, location)
            now[0] += 5
            moved, _ = board.page(L.JobFilter(), limit=4)
            assert moved.total == page.total + 1 and moved.indexed_block == ws.chain.block_number()
            assert board.quick_page(L.JobFilter(), limit=4) is not None  # counted: answered inline
    finally:
        board.close()


def post_three_jobs(pw: Proofwork) -> None:
    """dev0 deploys; dev1 posts three jobs for dev2, budgets 3, 30 and 300 tokens."""
    pw.deploy("dev0")
    client = pw.signer("dev1")
    pw.fund(client.address, pw.amount("1000"))
    for budget in ("3", "30", "300"):
        pw.jobs.post(
            client,
            budget=pw.amount(budget),
            deadline=pw.now() + 7 * DAY,
            review_period=3 * DAY,
            freelancer=pw.address("dev2"),
        )


@pytest.mark.anvil
def test_the_api_lists_jobs_from_the_index_with_a_stale_flag_once_the_node_is_gone(tmp_path: Path) -> None:
    """anvil stopped under a running API: the job list still answers (200) from the index, stale."""
    from contextlib import ExitStack

    from fastapi.testclient import TestClient

    from proofwork.api.v1 import create_app
    from proofwork.sdk import Proofwork
    from tests.conftest import running_anvil

    data_dir = tmp_path / "pw"
    with ExitStack() as node, ExitStack() as server:
        url = node.enter_context(running_anvil())
        with Proofwork.open(data_dir, url) as pw:
            post_three_jobs(pw)
            index_into(pw.ws, data_dir / "index.sqlite3")
            settings = replace(pw.ws.settings, api_rate_limit=100_000)
        app = create_app(settings)
        api = server.enter_context(TestClient(app))
        up = api.get("/api/v1/jobs", params={"limit": 2})
        assert up.status_code == 200, up.text
        body = up.json()
        assert body["stale"] is False and body["indexed_block"] > 0 and body["count"] == 3
        assert [j["budget_display"] for j in body["data"]] == ["300", "30"]
        node.close()  # anvil stopped
        app.state.proofwork.board._head_checked = -1e18  # the head was asked a moment ago: ask again
        gone = api.get("/api/v1/jobs", params={"limit": 2, "cursor": body["next_cursor"]})
        assert gone.status_code == 200, gone.text
        stale = gone.json()
        assert stale["stale"] is True and stale["indexed_block"] == body["indexed_block"]
        assert [j["budget_display"] for j in stale["data"]] == ["3"] and stale["count"] == 3
        assert api.get("/api/v1/jobs", params={"state": "open"}).json()["count"] == 0
        # what needs the node says so in the error body
        missing = api.get("/api/v1/jobs/1")
        assert missing.status_code == 503 and missing.json()["error"]["code"] == "chain_unavailable"


@pytest.mark.anvil
def test_an_api_started_while_the_node_is_down_lists_jobs_from_the_index(tmp_path: Path) -> None:
    """The API never reached the node: the chain id, escrow and token come from this data directory's
    deployment manifest and the index, and the job list answers (200) with `stale: true`."""
    from fastapi.testclient import TestClient

    from proofwork.api.v1 import create_app
    from proofwork.sdk import Proofwork
    from tests.conftest import running_anvil

    data_dir = tmp_path / "pw"
    with running_anvil() as url, Proofwork.open(data_dir, url) as pw:
        post_three_jobs(pw)
        index_into(pw.ws, data_dir / "index.sqlite3")
        indexed = pw.ws.chain.block_number()
        settings = replace(pw.ws.settings, api_rate_limit=100_000)
    # anvil stopped before the API starts
    with TestClient(create_app(settings)) as api:
        first = api.get("/api/v1/jobs", params={"limit": 2})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["stale"] is True and body["indexed_block"] == indexed and body["count"] == 3
        assert [j["budget_display"] for j in body["data"]] == ["300", "30"]
        rest = api.get("/api/v1/jobs", params={"limit": 2, "cursor": body["next_cursor"]}).json()
        assert [j["budget_display"] for j in rest["data"]] == ["3"] and rest["next_cursor"] is None
        assert api.get("/api/v1/jobs", params={"state": "completed"}).json()["count"] == 0
    # without an index of this deployment there is nothing to answer from
    (data_dir / "index.sqlite3").unlink()
    with TestClient(create_app(settings)) as api:
        gone = api.get("/api/v1/jobs")
        assert gone.status_code == 503 and gone.json()["error"]["code"] == "chain_unavailable"
