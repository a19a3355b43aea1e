"""What an oracle exchanges with the world: peers' answers (any garbage), its HTTP endpoint
(what it serves, and what it never serves), its database (isolated per oracle and chain; every
database test runs on SQLite and on a real PostgreSQL server, see `oracle_db` in tests/conftest.py),
and signature recovery on whatever a peer sent."""

from __future__ import annotations

import gzip
import inspect
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from proofwork.api.oracle_http import ReportServer, served_json
from proofwork.chain.committee import CommitteeContract
from proofwork.chain.competition import CompetitionContract
from proofwork.db.oracle_state import OracleState, Report, oracle_db_path
from proofwork.domain.errors import DataDirCorrupted, InvalidInput
from proofwork.network.peers import HttpPeers
from tests.conftest import PostgresServer, free_port

ORACLE = "0x" + "ab" * 20
OTHER_ORACLE = "0x" + "cd" * 20
CONTRACT = "0x" + "12" * 20
CHAIN = 1337
DELIVERABLE = "0x" + "00" * 32

# --- a peer that misbehaves in every way ---------------------------------------------------------------

GOOD = [{"kind": "job", "item": 0, "score": "5", "signature": "0x00"}, 3, "x", None]


class _Peer(BaseHTTPRequestHandler):
    """The first path segment picks the behaviour: http://host:port/<behaviour>/v1/reports/..."""

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, body: bytes, status: int = 200, length: bool = True, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, data: bytes, pause: float) -> None:
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(pause)

    def do_GET(self) -> None:
        behaviour = self.path.split("/")[1]
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        try:
            if behaviour == "ok":
                self._send(json.dumps(GOOD).encode())
            elif behaviour == "many":
                self._send(json.dumps([{"item": i} for i in range(1500)]).encode())
            elif behaviour == "notlist":
                self._send(b'{"item": 1}')
            elif behaviour == "garbage":
                self._send(b"\x00\xffnot json at all")
            elif behaviour == "bomb":
                self._send(b"[" * 300_000)
            elif behaviour == "objbomb":
                self._send(b'{"a":' * 300_000)
            elif behaviour == "huge":
                self._send(b"[" + b'"x",' * (2 << 20) + b'"x"]')
            elif behaviour == "huge-unannounced":  # no Content-Length: the end is the connection's close
                self._send(b"[" + b'"x",' * (2 << 20) + b'"x"]', length=False)
            elif behaviour == "lying-length":
                self._send(b"[]", Content_Length_Extra="1")
            elif behaviour == "gzip":
                self._send(gzip.compress(json.dumps(GOOD).encode()), Content_Encoding="gzip")
            elif behaviour == "status500":
                self._send(json.dumps(GOOD).encode(), status=500)
            elif behaviour == "redirect":
                self._send(b"", status=302, Location="/ok" + self.path[len("/redirect") :])
            elif behaviour == "slow-body":
                self.send_response(200)
                self.end_headers()
                self._drip(json.dumps(GOOD).encode() * 20, 0.05)
            elif behaviour == "slow-headers":
                self._drip(b"HTTP/1.0 200 OK\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n[]", 0.05)
            elif behaviour == "close":
                self.close_connection = True
            elif behaviour == "not-http":
                self.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        except OSError:  # the client gave up: expected for the slow and huge ones
            pass


@pytest.fixture(scope="module")
def peer() -> Iterator[tuple[str, list[str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Peer)
    server.daemon_threads = True
    server.block_on_close = False
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.paths  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def peers() -> Iterator[HttpPeers]:
    client = HttpPeers(timeout=1.0, deadline=0.6)
    yield client
    client.close()


def test_a_good_peer_yields_its_dict_reports(peer: tuple[str, list[str]], peers: HttpPeers) -> None:
    base, paths = peer
    assert peers.reports(f"{base}/ok", CONTRACT.upper().replace("0X", "0x"), "job", 7) == [GOOD[0]]
    assert paths[-1] == f"/ok/v1/reports/{CONTRACT}/job/7"
    assert peers.reports(f"{base}/ok/?q=1#frag", CONTRACT, "final", 2**255) == [GOOD[0]]
    assert paths[-1] == f"/ok/v1/reports/{CONTRACT}/final/{2**255}"
    assert len(peers.reports(f"{base}/many", CONTRACT, "public", 1)) == 1000


@pytest.mark.parametrize(
    "behaviour",
    [
        "notlist",
        "garbage",
        "bomb",
        "objbomb",
        "huge",
        "huge-unannounced",
        "gzip",
        "status500",
        "redirect",
        "close",
        "not-http",
        "missing",
    ],
)
def test_a_misbehaving_peer_yields_nothing(
    peer: tuple[str, list[str]], peers: HttpPeers, behaviour: str
) -> None:
    base, _ = peer
    started = time.monotonic()
    assert peers.reports(f"{base}/{behaviour}", CONTRACT, "job", 1) == []
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("behaviour", ["slow-body", "slow-headers"])
def test_a_dripping_peer_is_cut_off_at_the_overall_deadline(
    peer: tuple[str, list[str]], peers: HttpPeers, behaviour: str
) -> None:
    base, _ = peer
    started = time.monotonic()
    # each byte arrives well within the 1 s read timeout; the whole answer would take seconds
    assert peers.reports(f"{base}/{behaviour}", CONTRACT, "job", 1) == []
    assert time.monotonic() - started < 1.2


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "   ",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "http://[::1",
        "http:///no-host",
        "127.0.0.1:8080",
        "http://127.0.0.1:99999/",
        "http://exa mple.com/",
        "http://\x00/",
        "http://" + "a" * 300 + ".com/",
        "http://é" * 60,
    ],
)
def test_invalid_endpoints_yield_nothing(peers: HttpPeers, endpoint: str) -> None:
    assert peers.reports(endpoint, CONTRACT, "job", 1) == []


@pytest.mark.parametrize(
    ("contract", "kind", "subject"),
    [
        ("0x" + "zz" * 20, "job", 1),
        ("12" * 21, "job", 1),
        (CONTRACT, "private", 1),
        (CONTRACT, "job", -1),
        (CONTRACT, "job", 2**256),
        (CONTRACT, "job", True),
    ],
)
def test_invalid_queries_yield_nothing(
    peer: tuple[str, list[str]], peers: HttpPeers, contract: str, kind: str, subject: int
) -> None:
    base, paths = peer
    before = len(paths)
    assert peers.reports(f"{base}/ok", contract, kind, subject) == []
    assert len(paths) == before  # refused before anything was sent


def test_a_closed_port_and_any_bug_yield_nothing(
    peers: HttpPeers, monkeypatch: pytest.MonkeyPatch, peer: tuple[str, list[str]]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert peers.reports(f"http://127.0.0.1:{port}", CONTRACT, "job", 1) == []

    def broken(url: Any) -> bytes:
        raise RuntimeError("a bug")

    monkeypatch.setattr(peers, "_fetch", broken)
    assert peers.reports(f"{peer[0]}/ok", CONTRACT, "job", 1) == []


# --- the oracle's database ------------------------------------------------------------------------------


def _report(subject: int = 1, *, kind: str = "job", item: int = 0, score: int = 5, **kw: Any) -> Report:
    fields: dict[str, Any] = {
        "ok": True,
        "score": score,
        "reason": "",
        "signature": "0x" + "11" * 65,
        "payload": "",
    }
    fields.update(kw)
    return Report(CONTRACT, kind, subject, item, 0, DELIVERABLE, **fields)


def test_oracle_db_path_names_the_file(tmp_path: Path) -> None:
    assert oracle_db_path(tmp_path, ORACLE.upper().replace("0X", "0x")) == (
        tmp_path / "oracles" / f"{ORACLE}.sqlite3"
    )


def _rows(location: str) -> list[tuple[Any, ...]]:
    """Every stored row (oracle, chain, subject, score, reason), read past OracleState."""
    url = location if "://" in location else f"sqlite:///{location}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = "select oracle, chain_id, subject, score, reason from reports order by id"
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def test_rows_are_isolated_by_oracle_and_chain(oracle_db: str) -> None:
    mine = OracleState.open(oracle_db, oracle=ORACLE, chain_id=CHAIN)
    other_oracle = OracleState.open(oracle_db, oracle=OTHER_ORACLE, chain_id=CHAIN)
    as_url = oracle_db if "://" in oracle_db else f"sqlite:///{oracle_db}"  # a path or a URL: one database
    other_chain = OracleState.open(as_url, oracle=ORACLE, chain_id=CHAIN + 1)
    try:
        saved = mine.save(_report(score=5))
        assert mine.reports(CONTRACT, "job", 1) == [saved]
        for state in (other_oracle, other_chain):
            assert state.reports(CONTRACT, "job", 1) == []
            assert state.find(CONTRACT, "job", 1, 0, 0, DELIVERABLE) is None
            # the same report key is free for them, and does not touch ours
            assert state.save(_report(score=9)).score == 9
        assert [r.score for r in mine.reports(CONTRACT, "job", 1)] == [5]
        assert mine.save(_report(score=7)).score == 5, "the report signed first wins"
        assert _rows(oracle_db) == [
            (ORACLE, CHAIN, 1, "5", ""),
            (OTHER_ORACLE, CHAIN, 1, "9", ""),
            (ORACLE, CHAIN + 1, 1, "9", ""),
        ]
    finally:
        for state in (mine, other_oracle, other_chain):
            state.close()


def test_ids_use_64_bit_columns(oracle_db: str) -> None:
    state = OracleState.open(oracle_db, oracle=ORACLE, chain_id=2**63 - 1)
    try:
        big = 2**63 - 1
        state.save(_report(big, item=2**40, score=-(2**255)))
        state.save(_report(big, item=big, score=2**255 - 1, kind="final", payload='{"ranking": []}'))
        [row] = state.reports(CONTRACT, "job", big)
        assert (row.subject, row.item, row.score) == (big, 2**40, -(2**255))
        [final] = state.reports(CONTRACT, "final", big, item=big)
        assert (final.item, final.score, final.ok) == (big, 2**255 - 1, True)
        with pytest.raises(InvalidInput, match="2\\^63"):
            state.save(_report(2**63))
        with pytest.raises(InvalidInput):
            state.reports(CONTRACT, "job", -1)
    finally:
        state.close()


def test_a_vanished_row_after_a_conflict_is_a_corrupted_database(
    oracle_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = OracleState.open(oracle_db, oracle=ORACLE, chain_id=CHAIN)
    try:
        state.save(_report())
        monkeypatch.setattr(state, "find", lambda *a: None)
        with pytest.raises(DataDirCorrupted, match="holds none"):
            state.save(_report())
    finally:
        state.close()


def _together(count: int, action: Callable[[int], Any]) -> list[Any]:
    """`action(i)` for i in range(count), in as many threads released at the same moment."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        return action(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_oracles_starting_together_on_a_new_database_all_open_it(oracle_db: str) -> None:
    """PostgreSQL runs concurrent CREATE TABLEs side by side and all but one fail (most runs without the
    schema lock); SQLite serializes them. Every oracle must start either way."""

    def start(i: int) -> Report:
        state = OracleState.open(oracle_db, oracle="0x" + f"{i + 1:02x}" * 20, chain_id=CHAIN)
        try:
            return state.save(_report(score=i))
        finally:
            state.close()

    assert [r.score for r in _together(6, start)] == list(range(6))
    assert sorted(row[3] for row in _rows(oracle_db)) == [str(i) for i in range(6)]


def test_concurrent_saves_of_one_report_all_return_the_first(oracle_db: str) -> None:
    """Oracle processes racing on one report (a restart while the old process still runs): one row is
    written, and every writer gets that row back, never its own different score."""
    OracleState.open(oracle_db, oracle=ORACLE, chain_id=CHAIN).close()  # the schema, made once

    def save(i: int) -> Report:
        state = OracleState.open(oracle_db, oracle=ORACLE, chain_id=CHAIN)
        try:
            return state.save(_report(score=100 + i, reason=f"writer {i}"))
        finally:
            state.close()

    results = _together(8, save)
    [row] = _rows(oracle_db)
    assert {(r.score, r.reason) for r in results} == {(int(row[3]), row[4])}


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        # PostgreSQL refuses over-long values (VARCHAR(n)) and NUL in text; SQLite stores anything
        pytest.param("contract", "0x" + "12" * 30, "contract address", id="contract-too-long"),
        pytest.param("contract", CONTRACT[:-2] + "zz", "contract address", id="contract-not-hex"),
        pytest.param("kind", "k" * 30, "report kind", id="kind-too-long"),
        pytest.param("kind", "jobs", "report kind", id="kind-unknown"),
        pytest.param("deliverable", "0x" + "00" * 40, "deliverable", id="deliverable-too-long"),
        pytest.param("deliverable", "0x\x00", "deliverable", id="deliverable-nul"),
        pytest.param("signature", "0x" + "11" * 80, "signature", id="signature-too-long"),
        pytest.param("score", 2**255, "int256", id="score-over-int256"),
        pytest.param("score", -(2**255) - 1, "int256", id="score-under-int256"),
        pytest.param("score", True, "int256", id="score-bool"),
        pytest.param("ok", 1, "outcome", id="ok-not-bool"),
        # the payload is signed content that must come back exactly: refused, never escaped
        pytest.param("payload", '{"ranking": "\x00"}', "NUL", id="payload-nul"),
        pytest.param("payload", "bafy\udcff", "unencodable", id="payload-surrogate"),
        pytest.param("subject", 2**63, "2\\^63", id="subject-over-bigint"),
    ],
)
def test_fields_no_column_holds_exactly_are_refused_on_every_database(
    oracle_db: str, field: str, value: Any, match: str
) -> None:
    state = OracleState.open(oracle_db, oracle=ORACLE, chain_id=CHAIN)
    try:
        report = _report()
        bad = Report(**{**report.__dict__, field: value})
        with pytest.raises(InvalidInput, match=match) as caught:
            state.save(bad)
        assert "\n" not in str(caught.value)
        assert _rows(oracle_db) == []
        assert state.save(report) == report  # the database is still usable
    finally:
        state.close()


def test_reasons_are_stored_with_nul_and_unencodable_characters_escaped(oracle_db: str) -> None:
    """A reason quotes what a submission contained (a label, a column name): NUL, which PostgreSQL refuses
    in text, and lone surrogates, which no UTF-8 database can hold, must not stop the oracle."""
    state = OracleState.open(oracle_db, oracle=ORACLE, chain_id=CHAIN)
    try:
        saved = state.save(_report(ok=False, reason="label 'a\x00b' unknown; column 'c\udcff'"))
        assert saved.reason == "label 'a\\x00b' unknown; column 'c\\udcff'"
        assert state.find(CONTRACT, "job", 1, 0, 0, DELIVERABLE) == saved
        assert state.save(_report(ok=False, reason="again \x00")) == saved
        assert [row[4] for row in _rows(oracle_db)] == [saved.reason]
    finally:
        state.close()


def test_a_connection_the_server_dropped_is_replaced(postgres: PostgresServer) -> None:
    """A PostgreSQL restart or idle timeout ends the pooled connection: the next call must not fail."""
    url = postgres.create_database()
    state = OracleState.open(url, oracle=ORACLE, chain_id=CHAIN)
    try:
        saved = state.save(_report())
        assert postgres.terminate_connections(make_url(url).database or "") >= 1
        assert state.reports(CONTRACT, "job", 1) == [saved]
        assert postgres.terminate_connections(make_url(url).database or "") >= 1
        assert state.save(_report(2)).subject == 2
    finally:
        state.close()


def test_postgres_failures_are_one_line_without_the_password(postgres: PostgresServer) -> None:
    url = make_url(postgres.create_database())
    secret = url.password or ""
    cases = [
        (url.set(password="wrong-" + secret), "password authentication failed"),
        (url.set(database="no_such_database"), "does not exist"),
        (url.set(port=free_port()), "cannot be opened"),  # nothing listens there
    ]
    for bad, match in cases:
        started = time.monotonic()
        with pytest.raises(DataDirCorrupted, match=match) as caught:
            OracleState.open(bad.render_as_string(hide_password=False), oracle=ORACLE, chain_id=CHAIN)
        message = str(caught.value)
        assert "\n" not in message and secret not in message and "cannot be opened" in message
        assert time.monotonic() - started < 10
    # a plain postgresql:// URL uses the driver proofwork installs (psycopg 3)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    state = OracleState.open(plain, oracle=ORACLE, chain_id=CHAIN)
    try:
        assert state.save(_report()).score == 5
    finally:
        state.close()


def test_postgres_columns_have_the_declared_types(postgres: PostgresServer) -> None:
    """SQLite stores any value in any column; on PostgreSQL the declared types are the real ones."""
    url = postgres.create_database()
    OracleState.open(url, oracle=ORACLE, chain_id=CHAIN).close()
    types = dict(
        postgres.execute(
            "SELECT column_name, data_type || coalesce('(' || character_maximum_length || ')', '') "
            "FROM information_schema.columns WHERE table_name = 'reports'",
            database=make_url(url).database or "",
        )
    )
    assert types == {
        "id": "integer",
        "oracle": "character varying(42)",
        "chain_id": "bigint",
        "contract": "character varying(42)",
        "kind": "character varying(24)",
        "subject": "bigint",
        "item": "bigint",
        "round": "bigint",
        "deliverable": "character varying(66)",
        "ok": "boolean",
        "score": "character varying(80)",
        "reason": "text",
        "payload": "text",
        "signature": "character varying(140)",
        "created_at": "double precision",
    }


@pytest.mark.parametrize(
    ("location", "error", "match"),
    [
        ("foo://x", InvalidInput, "unknown database kind"),
        ("postgresql+psycopg2://user:s3cret@127.0.0.1:1/db", InvalidInput, "driver"),
        ("postgresql://user:s3cret@127.0.0.1:1/db", DataDirCorrupted, "cannot be opened"),
        ("://nothing", InvalidInput, "not a valid"),
        ("mysql+nosuchdriver://h/db", InvalidInput, "unknown database kind"),
    ],
)
def test_bad_database_urls_are_one_line_errors(location: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        OracleState.open(location, oracle=ORACLE, chain_id=CHAIN)
    assert "\n" not in str(caught.value) and "s3cret" not in str(caught.value)


def test_unusable_database_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DataDirCorrupted, match="cannot be opened"):
        OracleState.open(tmp_path, oracle=ORACLE, chain_id=CHAIN)  # a directory
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataDirCorrupted, match="cannot create"):
        OracleState.open(blocker / "sub" / "db.sqlite3", oracle=ORACLE, chain_id=CHAIN)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 1000)
    with pytest.raises(DataDirCorrupted):
        OracleState.open(garbage, oracle=ORACLE, chain_id=CHAIN)
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as raw:
        raw.execute("create table reports (id integer primary key, contract text, kind text)")
    with pytest.raises(DataDirCorrupted, match="older proofwork"):
        OracleState.open(old, oracle=ORACLE, chain_id=CHAIN)


@pytest.mark.parametrize(("oracle", "chain_id"), [("alice", CHAIN), ("0x" + "zz" * 20, CHAIN), (ORACLE, 0)])
def test_the_binding_is_checked(tmp_path: Path, oracle: str, chain_id: int) -> None:
    with pytest.raises(InvalidInput):
        OracleState.open(tmp_path / "db.sqlite3", oracle=oracle, chain_id=chain_id)


# --- the HTTP endpoint ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OracleState, httpx.Client]]:
    state = OracleState.open(tmp_path_factory.mktemp("served") / "db.sqlite3", oracle=ORACLE, chain_id=CHAIN)
    server = ReportServer(state, ORACLE).start()
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            yield state, client
    finally:
        server.stop()
        state.close()


def test_reason_and_entry_payloads_are_never_served(served: tuple[OracleState, httpx.Client]) -> None:
    state, client = served
    state.save(_report(4, ok=False, reason="label 'secret-class-name' unknown"))
    state.save(_report(5, kind="public", item=2, payload="bafkreisubmissioncid"))
    state.save(_report(5, kind="private", item=2, payload="x"))
    state.save(_report(5, kind="final", payload='{"ranking": [[2, 5]]}'))
    [job] = client.get(f"/v1/reports/{CONTRACT}/job/4").json()
    assert job == {
        "kind": "job",
        "subject": 4,
        "item": 0,
        "round": 0,
        "deliverable": DELIVERABLE,
        "ok": False,
        "score": "5",
        "signature": "0x" + "11" * 65,
    }
    [public] = client.get(f"/v1/reports/{CONTRACT}/public/5").json()
    assert "payload" not in public and "reason" not in public
    [final] = client.get(f"/v1/reports/{CONTRACT}/final/5").json()
    assert final["payload"] == '{"ranking": [[2, 5]]}' and "reason" not in final
    assert client.get(f"/v1/reports/{CONTRACT}/private/5").status_code == 404
    assert served_json(_report(kind="public", payload="cid", reason="r")).keys() == job.keys()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/v1/reports/{CONTRACT}/job/{2**63 - 1}", 200),
        (f"/v1/reports/{CONTRACT}/job/{2**63}", 422),
        (f"/v1/reports/{CONTRACT}/job/{2**256 + 1}", 422),
        (f"/v1/reports/{CONTRACT}/job/{'9' * 5000}", 422),
        (f"/v1/reports/{CONTRACT}/job/-1", 422),
        (f"/v1/reports/{CONTRACT}/job/1.5", 422),
        ("/v1/reports/0x1234/job/1", 422),
        (f"/v1/reports/0x{'zz' * 20}/job/1", 422),
        (f"/v1/reports/{CONTRACT}/{'k' * 100}/1", 422),
        (f"/v1/reports/{CONTRACT}/unknown/1", 404),
    ],
)
def test_route_parameters_are_bounded(
    served: tuple[OracleState, httpx.Client], path: str, status: int
) -> None:
    _, client = served
    assert client.get(path).status_code == status


def test_report_server_refuses_bad_ports(tmp_path: Path) -> None:
    state = OracleState.open(tmp_path / "db.sqlite3", oracle=ORACLE, chain_id=CHAIN)
    try:
        for port in (-1, 65536, 10**6):
            with pytest.raises(InvalidInput, match="invalid port"):
                ReportServer(state, ORACLE, port=port)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            with pytest.raises(InvalidInput, match=r"cannot serve reports on 127\.0\.0\.1") as caught:
                ReportServer(state, ORACLE, port=taken.getsockname()[1])
            assert "\n" not in str(caught.value)
        with pytest.raises(InvalidInput, match="cannot serve"):
            ReportServer(state, ORACLE, host="no-such-host.invalid")
    finally:
        state.close()


def test_a_real_endpoint_serves_what_peers_read(oracle_db: str) -> None:
    state = OracleState.open(oracle_db, oracle=ORACLE, chain_id=CHAIN)
    server = ReportServer(state, ORACLE).start()
    peers = HttpPeers()
    try:
        state.save(_report(3, reason="hidden class names"))
        [got] = peers.reports(server.url, CONTRACT, "job", 3)
        assert got["score"] == "5" and "reason" not in got
        assert peers.reports(server.url, CONTRACT, "job", 2**63) == []  # a 422, not a crash
    finally:
        peers.close()
        server.stop()
        state.close()


# --- signatures a peer sent -----------------------------------------------------------------------------


class _StubChain:
    """Enough of a Chain to sign and recover (no calls are made)."""

    chain_id = CHAIN

    def contract(self, abi: Any, address: str) -> Any:
        return None


@pytest.fixture(scope="module")
def contracts() -> tuple[CommitteeContract, CompetitionContract]:
    from proofwork.chain.artifacts import Artifact

    empty = Artifact("x", [], b"", "")
    chain: Any = _StubChain()
    return CommitteeContract(chain, empty, CONTRACT), CompetitionContract(chain, empty, "0x" + "34" * 20, 0)


KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ADDRESS = Account.from_key(KEY).address

GARBAGE_SIGNATURES: list[Any] = [
    b"",
    b"\x00" * 65,
    b"\xff" * 65,
    b"\x01" * 64,
    b"\x01" * 66,
    "0xzz",
    "not hex",
    12345,
    None,
]


def test_score_report_signers(contracts: tuple[CommitteeContract, CompetitionContract]) -> None:
    committee, _ = contracts
    message = committee.report_message(7, 0, b"\x01" * 32, 0, 912_345, b"\x02" * 32, b"\x03" * 32)
    signature = committee.sign_report(KEY, message)
    assert committee.report_signer(message, signature) == ADDRESS
    assert committee.report_signer(message, "0x" + signature.hex()) == ADDRESS
    for bad in GARBAGE_SIGNATURES:
        assert committee.report_signer(message, bad) is None, bad
    bad_messages = [
        {**message, "score": 2**255},  # beyond int256: eth_abi ValueOutOfBounds
        {**message, "score": "912345x"},
        {**message, "jobId": -1},
        {**message, "jobId": 2**256},
        {**message, "deliverable": b"\x01" * 31},
        {**message, "specHash": "0x1234"},
        {k: v for k, v in message.items() if k != "commitment"},
        {},
    ]
    for bad_message in bad_messages:
        assert committee.report_signer(bad_message, signature) is None, bad_message
    other = {**message, "score": 1}
    assert committee.report_signer(other, signature) not in (None, ADDRESS)


def test_final_scores_and_labels_signers(contracts: tuple[CommitteeContract, CompetitionContract]) -> None:
    _, competition = contracts
    message = competition.final_message(3, b"\x05" * 32, 2, [(0, 10), (1, -(2**255))], b"\x04" * 32)
    assert set(message) == {"competitionId", "scoresRoot", "entries", "winnersHash", "commitment"}
    signature = competition.sign_final(KEY, message)
    assert competition.final_signer(message, signature) == ADDRESS
    for bad in GARBAGE_SIGNATURES:
        assert competition.final_signer(message, bad) is None, bad
    for bad_message in (
        {**message, "scoresRoot": b"\x00" * 33},
        {**message, "entries": -1},
        {**message, "competitionId": -5},
        {**message, "commitment": None},
    ):
        assert competition.final_signer(bad_message, signature) is None, bad_message
    assert competition.final_signer({**message, "entries": 3}, signature) not in (None, ADDRESS)
    labels = competition.labels_message(3, b"\x04" * 32)
    confirmation = competition.sign_labels(KEY, labels)
    assert competition.labels_signer(labels, confirmation) == ADDRESS
    assert competition.labels_signer({**labels, "competitionId": 4}, confirmation) not in (None, ADDRESS)
    assert competition.final_signer(message, confirmation) != ADDRESS  # distinct types
    for bad in GARBAGE_SIGNATURES:
        assert competition.labels_signer(labels, bad) is None, bad


def test_public_score_signatures(contracts: tuple[CommitteeContract, CompetitionContract]) -> None:
    _, competition = contracts
    signature = competition.sign_public_score(KEY, 3, 1, 870_000)
    # the exact text the services signed and checked before: existing signatures stay valid
    text = f"proofwork public score {competition.address.lower()} 3 1 870000"
    assert Account.recover_message(encode_defunct(text=text), signature=signature) == ADDRESS
    assert competition.public_score_signer(3, 1, 870_000, signature) == ADDRESS
    assert competition.public_score_signer(3, 1, 870_000, "0x" + signature.hex()) == ADDRESS
    assert competition.public_score_signer(3, 1, 870_001, signature) not in (None, ADDRESS)
    for bad in GARBAGE_SIGNATURES:
        assert competition.public_score_signer(3, 1, 870_000, bad) is None, bad
    for args in (("3", 1, 870_000), (3, None, 870_000), (3, 1, 10**5000), (3, 1, True)):
        assert competition.public_score_signer(*args, signature) is None, args  # type: ignore[arg-type]


def test_competition_create_takes_explicit_keywords() -> None:
    params = inspect.signature(CompetitionContract.create).parameters
    assert [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY] == [
        "token",
        "prize",
        "spec_hash",
        "commitment",
        "deadline",
        "reveal_period",
        "daily_limit",
        "entry_bond",
        "public_percent",
        "prize_bps",
        "min_score",
        "higher_is_better",
        "sealed_labels",
    ]


# --- the new views and id checks, on a real embedded chain ------------------------------------------


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from proofwork.sdk import Proofwork
    from proofwork.services.deployment import deploy_committee

    with Proofwork.open(tmp_path_factory.mktemp("views")) as pw:
        pw.deploy("dev0")
        oracles = [pw.signer(f"dev{i}").address for i in range(6, 10)]
        deploy_committee(pw.ws, pw.signer("dev0"), oracles, f=1, challenge_window=600)
        yield pw.ws


def test_views_and_id_bounds(deployed: Any) -> None:
    committee, competitions = deployed.committee, deployed.competitions
    assert committee.revealed_labels(0) == b""
    assert committee.posted_reports(0, 0, 0, b"\x00" * 32) == 0
    assert competitions.revealed_count(0) == 0
    assert committee.events("EvaluationRegistered", subject=2**256 - 1) == []
    for bad in (-1, 2**256, True):
        with pytest.raises(InvalidInput, match="invalid id"):
            committee.events("EvaluationRegistered", subject=bad)
        with pytest.raises(InvalidInput, match="invalid competition id"):
            competitions.revealed_count(bad)
        with pytest.raises(InvalidInput, match="invalid job id"):
            committee.revealed_labels(bad)


def test_competition_hashes_are_the_contracts(deployed: Any) -> None:
    """The committee's EIP-712 digests, the winners hash and the scores tree's leaves as the
    Competition contract computes them (views on a real embedded chain)."""
    from eth_utils import keccak

    from proofwork.chain.events import typed_data
    from proofwork.chain.scores_tree import winners_hash

    competitions = deployed.competitions
    views = competitions.contract.functions
    cases = [(0, 0), (1, -(2**255)), (2**256 - 1, 2**255 - 1), (7, -1), (12, 912_345)]

    def digest(primary: str, fields: Any, message: Any) -> bytes:
        domain = ("proofwork Competition", "1", deployed.chain.chain_id, competitions.address)
        signable = typed_data(domain, primary, fields, message)
        return bytes(keccak(b"\x19" + signable.version + signable.header + signable.body))

    from proofwork.chain.competition import FINAL_SCORES_FIELDS, LABELS_CONFIRMED_FIELDS

    # competition 0 does not exist: its commitment and revealed count read as zero
    final = competitions.final_message(0, b"\x05" * 32, 0, cases[:2], bytes(32))
    on_chain = deployed.chain.call(views.final_scores_digest(0, b"\x05" * 32, winners_hash(cases[:2])))
    assert bytes(on_chain) == digest("FinalScores", FINAL_SCORES_FIELDS, final)
    labels = competitions.labels_message(0, bytes(32))
    on_chain = deployed.chain.call(views.labels_confirmed_digest(0))
    assert bytes(on_chain) == digest("LabelsConfirmed", LABELS_CONFIRMED_FIELDS, labels)
