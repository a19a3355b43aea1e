"""The web app's routes without a browser (FastAPI's test client) on a deployed embedded chain: dev mode
and its refusal, the unsigned transactions a wallet is given, disputes on the job page, explorer links,
statements and bad input. The browser flows are in tests/e2e/test_web.py."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from proofwork.chain.unsigned import selectors
from proofwork.sdk import Proofwork
from proofwork.services.workspace import Workspace
from proofwork.settings import Settings
from proofwork.web import create_web_app
from tests.conftest import chain_snapshot

DAY = 86_400


@pytest.fixture(scope="module")
def pw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proofwork]:
    data_dir = tmp_path_factory.mktemp("web-app")
    with Proofwork.open(data_dir) as pw:
        pw.deploy("dev0")
        pw.fund(pw.address("dev1"), pw.amount("1000"))
        yield pw


def client(pw: Proofwork, *, csrf: bool = True, **settings: object) -> TestClient:
    """The app's test client; with `csrf`, as a page of the site: its token cookie and header."""
    base = Settings(data_dir=pw.ws.data_dir)
    web = TestClient(create_web_app(lambda: nullcontext(pw.ws), replace(base, **settings)))
    if csrf:
        page = web.get("/credentials/verify")
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
        assert token and web.cookies.get("proofwork_csrf") == token.group(1)
        web.headers["X-CSRF-Token"] = token.group(1)
    return web


def wallet_sign(tx: dict[str, Any], key: bytes) -> str:
    """What a wallet's eth_signTransaction answers for a transaction the app gave it."""
    fields = {
        k: (int(v, 16) if k not in ("to", "data") else v) for k, v in tx.items() if k not in ("label", "from")
    }
    return "0x" + bytes(Account.sign_transaction(fields, key).raw_transaction).hex()


def posted(pw: Proofwork, budget: str) -> Any:
    """A job dev1 posts (signed here) for dev2."""
    terms = {"deadline": pw.now() + DAY, "review_period": DAY, "freelancer": pw.address("dev2")}
    return pw.jobs.post(pw.signer("dev1"), budget=pw.amount(budget), **terms).job


def permit(answer: Any, key: bytes) -> dict[str, str]:
    typed = answer.json()["typed_data"]
    signature = bytes(Account.sign_typed_data(key, full_message=typed).signature).hex()
    return {"permit_deadline": str(typed["message"]["deadline"]), "permit_signature": "0x" + signature}


def test_dev_mode_signs_with_dev_accounts_and_says_so_on_every_page(pw: Proofwork) -> None:
    web = client(pw, web_dev_mode=True)
    posted = web.post(
        "/actions/jobs",
        data={"sign_as": "dev1", "budget": "12.5", "milestones": "1", "freelancer": pw.address("dev2")},
    )
    assert posted.status_code == 200, posted.text
    job_id = posted.json()["job_id"]
    assert len(posted.json()["sent"]) == 1  # create with a permit: one transaction
    submitted = web.post(
        f"/actions/jobs/{job_id}/submit",
        data={"sign_as": "dev2", "milestone": "1"},
        files={"deliverable": ("report.txt", b"the work")},
    )
    assert submitted.status_code == 200, submitted.text
    assert pw.ws.store.read_bytes(submitted.json()["cid"], 100) == b"the work"
    approved = web.post(f"/actions/jobs/{job_id}/approve", data={"sign_as": "dev1", "milestone": "1"})
    assert approved.status_code == 200, approved.text
    assert pw.jobs.get(job_id).status == "completed"
    for path in (
        "/",
        f"/jobs/{job_id}",
        "/jobs/new",
        f"/profiles/{pw.address('dev2')}",
        "/credentials/verify",
    ):
        page = web.get(path)
        assert page.status_code == 200 and "<strong>dev mode</strong>" in page.text, path
    assert 'name="sign_as"' in web.get("/jobs/new").text

    plain = client(pw)
    refused = plain.post(f"/actions/jobs/{job_id}/approve", data={"sign_as": "dev1", "milestone": "1"})
    assert refused.status_code == 403
    assert refused.json() == {"error": "server-side signing is only available in dev mode"}
    page = plain.get(f"/jobs/{job_id}").text
    assert "dev mode" not in page and 'name="sign_as"' not in page


def test_a_wallet_gets_unsigned_transactions_checked_before_anything_is_sent(pw: Proofwork) -> None:
    web = client(pw)
    client_address, freelancer = pw.address("dev1"), pw.address("dev2")
    terms = {
        "from": client_address,
        "budget": "30",
        "milestones": "3",
        "review": "1d",
        "freelancer": freelancer,
    }
    first = web.post("/actions/jobs", data=terms)  # no allowance yet: the permit to sign first
    assert first.status_code == 200, first.text
    assert first.json()["typed_data"]["primaryType"] == "Permit" and "txs" not in first.json()
    assert first.json()["typed_data"]["message"]["value"] == pw.amount("30")
    answer = web.post("/actions/jobs", data=terms | permit(first, pw.signer("dev1").key))
    assert answer.status_code == 200, answer.text
    (create,) = answer.json()["txs"]
    chain_id = hex(pw.ws.chain_id)
    assert (create["to"], create["chainId"], create["value"], create["from"]) == (
        pw.ws.escrow.address,
        chain_id,
        "0x0",
        client_address,
    )
    ((_, selector),) = selectors(pw.ws.escrow, ["create_job_with_permit"])
    assert create["data"][:10] == "0x" + selector.hex()
    assert int(create["gas"], 16) > 21_000 and int(create["maxFeePerGas"], 16) > 0
    assert answer.json()["register"] is False
    sent = web.post(
        "/actions/tx", data={"from": client_address, "raw": wallet_sign(create, pw.signer("dev1").key)}
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "success" and len(sent.json()["jobs_created"]) == 1
    assert pw.jobs.get(sent.json()["jobs_created"][0]).budget == pw.amount("30")

    # the escrow's rules are checked first, with a one-line reason
    job = posted(pw, "5")
    cases = [
        ("/actions/jobs", {"from": client_address, "budget": "5000"}, 400, "insufficient balance"),
        ("/actions/jobs", {"from": client_address, "budget": "-1"}, 400, "amount"),
        ("/actions/jobs", {"from": "0x12", "budget": "1"}, 400, "wallet address"),
        (
            "/actions/jobs",
            {"from": client_address, "budget": "1", "freelancer": client_address},
            400,
            "own job",
        ),
        (f"/actions/jobs/{job.job_id}/approve", {"from": freelancer, "milestone": "1"}, 403, "client"),
        (
            f"/actions/jobs/{job.job_id}/approve",
            {"from": client_address, "milestone": "4"},
            400,
            "milestone 4",
        ),
        ("/actions/jobs/999/approve", {"from": client_address, "milestone": "1"}, 404, "no job 999"),
        ("/actions/jobs/x1/approve", {"from": client_address, "milestone": "1"}, 400, "invalid job id"),
    ]
    for path, data, status, words in cases:
        refused = web.post(path, data=data)
        assert refused.status_code == status and words in refused.json()["error"], (path, data, refused.text)
    no_file = web.post(f"/actions/jobs/{job.job_id}/submit", data={"from": freelancer, "milestone": "1"})
    assert no_file.status_code == 400 and no_file.json()["error"] == "choose the deliverable file"
    outsider = web.post(
        f"/actions/jobs/{job.job_id}/submit",
        data={"from": pw.address("dev4"), "milestone": "1"},
        files={"deliverable": ("a.txt", b"x")},
    )
    assert outsider.status_code == 403
    submit = web.post(
        f"/actions/jobs/{job.job_id}/submit",
        data={"from": freelancer, "milestone": "1"},
        files={"deliverable": ("a.txt", b"x")},
    ).json()["txs"][0]
    assert (
        submit["to"] == pw.ws.escrow.address and submit["label"] == f"submit milestone 1 of job {job.job_id}"
    )
    unknown = "0x" + "ab" * 32
    assert web.get(f"/tx/{unknown}.json").json()["status"] == "pending"
    assert web.get("/tx/0x12.json").status_code == 400


def test_job_page_shows_disputes_and_links_transactions_to_the_explorer(pw: Proofwork) -> None:
    client_signer, freelancer = pw.signer("dev1"), pw.signer("dev2")
    job = pw.jobs.post(
        client_signer,
        budget=pw.amount("8"),
        deadline=pw.now() + 2 * DAY,
        review_period=DAY,
        freelancer=freelancer.address,
        arbiter=pw.address("dev5"),
    ).job
    pw.jobs.submit(freelancer, job.job_id, 0, b"\x07" * 32)
    raised = pw.jobs.dispute(client_signer, job.job_id, 0).receipts[0][1]
    web = client(pw, explorer_url="https://explorer.example/tx/")
    page = web.get(f"/jobs/{job.job_id}").text
    assert '<h2 id="disputes">Disputes</h2>' in page
    assert f'href="https://explorer.example/tx/{raised.tx_hash}"' in page
    assert f"milestone 1 disputed by {client_signer.address}" in page
    assert "8 pwUSD" in page


def test_statements_and_bad_addresses(pw: Proofwork) -> None:
    web = client(pw)
    nobody = web.get(f"/statements/{pw.address('dev7')}.csv")
    assert nobody.status_code == 200
    assert nobody.headers["content-disposition"].endswith(f'proofwork-statement-{pw.address("dev7")}.csv"')
    assert nobody.text == (
        "date_utc,timestamp,block,transaction,direction,amount,amount_units,token,token_address,"
        "counterparty,contract,job\n"
    )
    rows = list(csv.DictReader(io.StringIO(web.get(f"/statements/{pw.address('dev1')}.csv").text)))
    assert rows and {r["direction"] for r in rows} <= {"in", "out"}
    assert all(r["contract"] == "escrow" and r["job"] for r in rows)
    assert web.get("/statements/0x12.csv").status_code == 400
    assert web.get(f"/statements/{pw.address('dev1')}").status_code == 404
    assert web.get("/profiles/nobody").status_code == 400
    assert web.get("/?min_budget=lots").status_code == 400
    assert web.get("/?party=0x1").status_code == 400


def test_the_static_assets_are_served_from_the_package(pw: Proofwork) -> None:
    web = client(pw)
    page = web.get("/").text
    for asset in ("/static/vendor/pico.min.css", "/static/app.css", "/static/app.js"):
        assert asset in page and web.get(asset).status_code == 200
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page
    shipped = Path(__file__).resolve().parents[2] / "src/proofwork/web/static/vendor/pico.min.css"
    assert "Pico CSS ✨ v2.1.1" in shipped.read_text()[:200]


def test_a_forged_cross_site_post_is_refused_and_changes_nothing(pw: Proofwork) -> None:
    """Dev-mode signing from another site's page: without the page's token (or with another site's
    Origin) the POST gets a 403 with its reason and nothing is signed or stored."""
    jobs_before = pw.ws.escrow.job_count()
    block_before = pw.ws.chain.block_number()
    forged = {"sign_as": "dev1", "budget": "5", "freelancer": pw.address("dev2")}
    bare = client(pw, csrf=False, web_dev_mode=True)
    refused = bare.post("/actions/jobs", data=forged)
    assert refused.status_code == 403
    assert refused.json()["error"].startswith("refused: this request did not come from a proofwork page")
    # the victim's browser holds the cookie (a same-site visit earlier), the attacker's page has no token
    bare.get("/")
    assert bare.cookies.get("proofwork_csrf")
    assert bare.post("/actions/jobs", data=forged).status_code == 403
    wrong = bare.post("/actions/jobs", data=forged, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    # the token itself, sent from another origin or marked cross-site by the browser
    web = client(pw, web_dev_mode=True)
    for headers, words in (
        ({"Origin": "https://evil.example"}, "from https://evil.example"),
        ({"Sec-Fetch-Site": "cross-site"}, "cross-site request"),
    ):
        answer = web.post("/actions/jobs", data=forged, headers=headers)
        assert answer.status_code == 403 and words in answer.json()["error"], answer.text
    # a plain form (the verifier) says it on a page
    page = bare.post("/credentials/verify", data={"nonce": "n", "presentation": "x"})
    assert page.status_code == 403 and "CSRF token" in page.text and "<html" in page.text
    assert pw.ws.escrow.job_count() == jobs_before and pw.ws.chain.block_number() == block_before
    # the same POST from the site's own page goes through
    sent = web.post("/actions/jobs", data=forged, headers={"Origin": "http://testserver"})
    assert sent.status_code == 200 and pw.ws.escrow.job_count() == jobs_before + 1, sent.text


def test_bad_signed_transactions_get_a_clear_refusal(pw: Proofwork) -> None:
    web = client(pw)
    client_address, freelancer = pw.address("dev1"), pw.address("dev2")
    job = posted(pw, "3")
    prepared = web.post(
        f"/actions/jobs/{job.job_id}/submit",
        data={"from": freelancer, "milestone": "1"},
        files={"deliverable": ("a.txt", b"the work")},
    ).json()["txs"][0]
    key = pw.signer("dev2").key
    block_before = pw.ws.chain.block_number()
    cases = [
        ({"from": client_address, "raw": wallet_sign(prepared, key)}, 403, "is signed by"),
        ({"from": freelancer, "raw": wallet_sign(prepared | {"chainId": "0x1"}, key)}, 400, "chain 1"),
        (
            {"from": freelancer, "raw": wallet_sign(prepared | {"to": pw.ws.token.address}, key)},
            400,
            "not a call this server prepares",
        ),
        ({"from": freelancer, "raw": "0xnothex"}, 400, "0x-hex"),
        ({"from": freelancer, "raw": "0x" + "01" * 30}, 400, "cannot be decoded"),
        ({"from": freelancer, "raw": "0x" + "00" * 70_000}, 413, "over the 65536 bytes"),
        ({"from": "nobody", "raw": wallet_sign(prepared, key)}, 400, "wallet address"),
    ]
    for data, status, words in cases:
        answer = web.post("/actions/tx", data=data)
        assert answer.status_code == status and words in answer.json()["error"], (
            data["raw"][:12],
            answer.text,
        )
    assert pw.ws.chain.block_number() == block_before
    raw = wallet_sign(prepared, key)
    assert web.post("/actions/tx", data={"from": freelancer, "raw": raw}).status_code == 200
    replayed = web.post("/actions/tx", data={"from": freelancer, "raw": raw})
    assert replayed.status_code == 409 and "already used on chain" in replayed.json()["error"]


# --- the job board from the chain index ------------------------------------------------------------


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proofwork, list[int]]]:
    """25 plain jobs of dev1 (budgets 5 and 50; every third open to applicants, the others for
    dev2), indexed into the data directory's index."""
    from proofwork.db.index import IndexStore
    from proofwork.services.indexer import index_once

    data_dir = tmp_path_factory.mktemp("web-board")
    with Proofwork.open(data_dir) as pw:
        pw.deploy("dev0")
        pw.fund(pw.address("dev1"), pw.amount("5000"))
        ids = []
        for i in range(25):
            terms = {"deadline": pw.now() + DAY, "review_period": DAY}
            freelancer = None if i % 3 == 0 else pw.address("dev2")
            budget = pw.amount("50" if i % 2 else "5")
            ids.append(
                pw.jobs.post(pw.signer("dev1"), budget=budget, freelancer=freelancer, **terms).job.job_id
            )
        with IndexStore.open(pw.ws.settings.index_location) as store:
            index_once(pw.ws, store)
        yield pw, ids


def rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td><a href="/jobs/(\d+)">#', html)]


def older(html: str) -> str | None:
    found = re.search(r'<a id="older" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def walk_board(web: TestClient, path: str) -> list[list[int]]:
    pages = []
    next_path: str | None = path
    while next_path is not None:
        answer = web.get(next_path)
        assert answer.status_code == 200, answer.text
        pages.append(rows(answer.text))
        next_path = older(answer.text)
    return pages


def test_the_board_pages_and_filters_from_the_index_without_the_logs(
    indexed: tuple[Proofwork, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from proofwork.services import job_listing
    from proofwork.services.jobs import Jobs

    pw, ids = indexed

    def no_logs(*args: object, **kwargs: object) -> None:
        raise AssertionError("the board rebuilt every job from the logs")

    monkeypatch.setattr(Jobs, "list", no_logs)
    monkeypatch.setattr(job_listing, "SCAN_BATCH", 4)  # a search reads the index in several batches
    web = client(pw)
    first = web.get("/")
    assert first.status_code == 200 and 'id="stale"' not in first.text
    assert '<p id="count">25 jobs</p>' in first.text
    newest = sorted(ids, reverse=True)
    assert walk_board(web, "/") == [newest[:20], newest[20:]]
    open_ids = [j for i, j in enumerate(ids) if i % 3 == 0]
    for_dev2 = [j for i, j in enumerate(ids) if i % 3 != 0]
    big = [j for i, j in enumerate(ids) if i % 2]
    cases = {
        "/?state=open": open_ids,
        "/?state=active": for_dev2,
        "/?state=completed": [],
        "/?min_budget=50": big,
        "/?max_budget=5": [j for j in ids if j not in big],
        "/?min_budget=6&max_budget=49.99": [],
        "/?party=" + pw.address("dev2"): for_dev2,
        "/?party=" + pw.address("dev3"): [],
        "/?state=active&min_budget=50": [j for j in for_dev2 if j in big],
        f"/?q=%23{ids[4]}": [ids[4]],
        "/?q=open+plain": open_ids,
        "/?kind=plain": ids,
        "/?kind=evaluated": [],
        "/?q=" + pw.address("dev2").lower(): for_dev2,
        "/?q=nothing-like-it": [],
    }
    for path, expected in cases.items():
        pages = walk_board(web, path)
        assert [j for page in pages for j in page] == sorted(expected, reverse=True), path
        assert all(len(page) == 20 for page in pages[:-1]), path
    # the SQL filters are counted; a search is counted when its first page holds every match
    assert f'<p id="count">{len(open_ids)} jobs</p>' in web.get("/?state=open").text
    assert '<p id="count">20 jobs on this page</p>' in web.get("/?kind=plain").text
    assert f'<p id="count">{len(open_ids)} jobs</p>' in web.get("/?q=open").text
    # the older link keeps the filters
    link = older(web.get("/?kind=plain&state=active").text)
    assert link is None or ("kind=plain" in link and "state=active" in link)
    link = older(web.get("/?kind=plain").text)
    assert link is not None and "kind=plain" in link and "before=" in link
    assert web.get("/?before=zero").status_code == 400


def test_the_board_says_when_the_index_lags_or_the_node_is_gone(indexed: tuple[Proofwork, list[int]]) -> None:
    pw, ids = indexed
    web = client(pw)
    indexed_block = pw.ws.chain.block_number()
    assert 'id="stale"' not in web.get("/").text
    with chain_snapshot(pw.ws.chain.web3):
        new = posted(pw, "7")
        behind = pw.ws.chain.block_number() - indexed_block
        page = web.get("/")
        assert page.status_code == 200
        notice = re.search(r'<p id="stale"[^>]*>([^<]+)</p>', page.text)
        assert notice is not None
        assert notice.group(1) == (
            f"The index is {behind} block{'s' if behind > 1 else ''} behind the node: "
            f"data as of block {indexed_block}."
        )
        assert rows(page.text)[0] == max(ids) and new.job_id not in rows(page.text)
    # the node cannot be reached: the index answers, amounts in the token's units all the same
    settings = replace(Settings(data_dir=pw.ws.data_dir), rpc_url="http://127.0.0.1:9")
    with Workspace.open(settings) as offline:
        gone = TestClient(create_web_app(lambda: nullcontext(offline), settings))
        page = gone.get("/?state=active")
        assert page.status_code == 200, page.text
        notice = re.search(r'<p id="stale"[^>]*>([^<]+)</p>', page.text)
        assert notice is not None
        assert notice.group(1) == f"The node cannot be reached: data as of block {indexed_block}."
        active = [j for i, j in enumerate(ids) if i % 3 != 0]
        assert rows(page.text) == sorted(active, reverse=True)[:20]
        assert "50 pwUSD" in page.text and "5 pwUSD" in page.text


def test_one_job_is_read_from_the_caught_up_index(
    indexed: tuple[Proofwork, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web job page and the API's job detail: the same from the index as from the logs, and from
    the index (the job's logs never read) once it has caught up."""
    from proofwork.db.index import IndexStore
    from proofwork.services import job_listing
    from proofwork.services.indexer import index_once
    from proofwork.services.jobs import Jobs
    from proofwork.services.market_views import MarketViews

    pw, _ = indexed
    ws = pw.ws
    with chain_snapshot(ws.chain.web3), IndexStore.open(ws.settings.index_location) as store:
        client_signer, freelancer = pw.signer("dev1"), pw.signer("dev2")
        job = pw.jobs.post(
            client_signer,
            budget=pw.amount("8"),
            milestones=2,
            deadline=pw.now() + 2 * DAY,
            review_period=DAY,
            freelancer=freelancer.address,
            arbiter=pw.address("dev5"),
        ).job
        pw.jobs.submit(freelancer, job.job_id, 0, b"\x07" * 32)
        pw.jobs.dispute(client_signer, job.job_id, 0)
        assert job_listing.indexed_job(ws, job.job_id, store) is None  # the index is behind
        with monkeypatch.context() as logs_only:
            logs_only.setattr(job_listing, "indexed_job", lambda *args: None)
            from_logs = MarketViews(ws, store).job(job.job_id)
            api_from_logs = job_listing.job_detail(ws, job.job_id, store)
        index_once(ws, store)
        found = job_listing.indexed_job(ws, job.job_id, store)
        assert found is not None and found.job == pw.jobs.get(job.job_id)
        assert [e.name for e, _ in found.events] == ["JobCreated", "MilestoneSubmitted", "DisputeRaised"]

        def no_logs(*args: object, **kwargs: object) -> None:
            raise AssertionError("the job was rebuilt from the logs")

        monkeypatch.setattr(Jobs, "get", no_logs)
        from_index = MarketViews(ws, store).job(job.job_id)
        assert from_index == from_logs
        assert [h.name for h in from_index.history] == ["JobCreated", "MilestoneSubmitted", "DisputeRaised"]
        assert len(from_index.disputes) == 1 and from_index.summary.created_tx == from_logs.history[0].tx_hash
        assert job_listing.job_detail(ws, job.job_id, store) == api_from_logs
        monkeypatch.undo()
    with IndexStore.open(ws.settings.index_location) as store:
        index_once(ws, store)  # the chain was reverted: the index rolls the job back out
        assert job_listing.indexed_job(ws, job.job_id, store) is None
