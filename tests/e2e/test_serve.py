"""`proofwork serve` as a user runs it: a real process on free ports, the web app and the API over HTTP
on one port, other commands using its JSON-RPC URL while it holds the embedded chain, the indexer
catching up, Ctrl-C (SIGINT) and SIGTERM stopping it cleanly, a restart that keeps everything (jobs,
balances, the index, a signed-in session); and the same platform over anvil with --rpc-url."""

from __future__ import annotations

import json
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from siwe import SiweMessage

from proofwork.chain.devnets import ANVIL_DEV_KEYS, EMBEDDED_CHAIN_ID
from proofwork.db.index.store import IndexStore
from proofwork.keys.accounts import address_of
from tests.e2e.conftest import ORACLES, Cli

STOP_WITHIN = 15.0  # seconds from the signal to the exit, oracle daemons included
CATCH_UP_WITHIN = 15.0  # seconds for a new job to reach the index and the API
COMPONENTS = ["oracle committee", "indexer", "web app and API"]


def until(what: str, check: Any, timeout: float = CATCH_UP_WITHIN) -> Any:
    """Polls `check()` until it returns something truthy; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g}s")
        time.sleep(0.1)


def api_job_ids(api_url: str) -> list[str]:
    answer = httpx.get(f"{api_url}/jobs", timeout=10)
    assert answer.status_code == 200, answer.text
    return [str(j["id"]) for j in answer.json()["data"]]


def indexed_job_ids(index: Path, chain_id: int) -> list[str]:
    """The job ids of the JobCreated events in the index database (read while serve writes it)."""
    store = IndexStore.open(str(index))
    try:
        return [str(e.args["job_id"]) for e in store.events(chain_id, name="JobCreated")]
    finally:
        store.close()


def index_checkpoint(index: Path, chain_id: int) -> int:
    store = IndexStore.open(str(index))
    try:
        checkpoint = store.checkpoint(chain_id)
        assert checkpoint is not None
        return checkpoint.block
    finally:
        store.close()


def sign_in(api_url: str, key: bytes) -> str:
    """Sign-In with Ethereum over HTTP with a dev key: the session's bearer token."""
    nonce = httpx.get(f"{api_url}/auth/nonce", timeout=10).json()
    now = datetime.now(UTC)
    text = SiweMessage(
        domain=nonce["domain"],
        address=address_of(key),
        statement="Sign in to proofwork",
        uri=f"http://{nonce['domain']}/",
        version="1",
        chain_id=nonce["chain_id"],
        nonce=nonce["nonce"],
        issued_at=now.isoformat().replace("+00:00", "Z"),
        expiration_time=(now + timedelta(minutes=10)).isoformat().replace("+00:00", "Z"),
    ).prepare_message()
    signature = Account.sign_message(encode_defunct(text=text), key).signature.hex()
    answer = httpx.post(
        f"{api_url}/auth/sign-in",
        json={"message": text, "signature": signature if signature.startswith("0x") else "0x" + signature},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def session_of(api_url: str, token: str) -> httpx.Response:
    return httpx.get(f"{api_url}/auth/session", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def check_http(up: dict[str, Any], *, dev_mode: bool) -> None:
    """The web app at / and the API at /api/v1 on one port, both marked dev mode exactly when on."""
    url, api_url = up["url"], up["api_url"]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/") and api_url == url + "api/v1"
    board = httpx.get(url, timeout=10)
    assert board.status_code == 200 and "text/html" in board.headers["content-type"]
    assert ("dev mode" in board.text) is dev_mode
    for link in ("/static/app.css", "/jobs/new", "/competitions", "/credentials/verify"):
        assert f'href="{link}"' in board.text
        assert httpx.get(url + link[1:], timeout=10).status_code == 200, link
    info = httpx.get(f"{api_url}/info", timeout=10)
    assert info.status_code == 200, info.text
    assert info.json()["chain_id"] == up["chain_id"] and info.json()["dev_mode"] is dev_mode
    assert (info.headers.get("x-proofwork-dev-mode") == "true") is dev_mode
    assert info.json()["escrow"] == up["deployment"]["escrow"]
    schema = httpx.get(f"{api_url}/openapi.json", timeout=10)
    assert schema.status_code == 200 and "/api/v1/jobs" in schema.json()["paths"]
    docs = httpx.get(f"{api_url}/docs", timeout=10)
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text
    missing = httpx.get(f"{api_url}/no-such-thing", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"]  # the API's error body


class Serve:
    """One `proofwork serve --json` process: its first stdout line is the JSON it prints when ready."""

    def __init__(self, cli: Cli, log: Path, *extra: str) -> None:
        self.log_path = log
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "proofwork", "serve", "--rpc-port", "0", "--port", "0", "--json", *extra],
            env={**cli.env, "PROOFWORK_LOCK_TIMEOUT": "5"},
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)

    def ready(self, timeout: float = 180.0) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"serve did not get ready in {timeout:g}s: {self.log()}")
        data = json.loads(line)
        assert data["ok"] and data["ready"], data
        return dict(data)

    def stop(self, sig: signal.Signals = signal.SIGINT) -> tuple[int, float]:
        """Sends `sig`; the exit code and the seconds it took."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"serve ignored {sig.name}: {self.log()}")
        return code, time.monotonic() - start

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.mark.daemon
def test_serve_runs_the_platform_and_a_restart_keeps_everything(cli: Cli, tmp_path: Path) -> None:
    serve = Serve(cli, tmp_path / "serve.log")
    try:
        up = serve.ready()
        url = up["rpc_url"]
        assert up["chain_id"] == EMBEDDED_CHAIN_ID and up["embedded"] is True
        assert url.startswith("http://127.0.0.1:")
        assert {"token and escrow", "court", "oracle committee", "identity", "assets", "labeling"} <= set(
            up["deployed"]
        )
        assert up["deployment"]["asset_registry"] and up["deployment"]["licensing"]
        assert up["deployment"]["label_payouts"]
        assert [a["name"] for a in up["accounts"]] == [f"dev{i}" for i in range(10)]
        dev1 = up["accounts"][1]
        assert dev1["tokens"] == "100000" and int(dev1["units"]["wei"]) > 0
        assert address_of(bytes.fromhex(dev1["private_key"][2:])) == dev1["address"]
        assert [c["name"] for c in up["components"]] == COMPONENTS
        assert up["dev_mode"] is True
        check_http(up, dev_mode=True)
        # the asset contracts are there: the models and datasets pages and the API's list answer
        assert httpx.get(up["url"] + "assets", timeout=10).status_code == 200
        assets = httpx.get(up["api_url"] + "/assets", timeout=10)
        assert assets.status_code == 200 and assets.json()["data"] == [], assets.text
        labeling = httpx.get(up["api_url"] + "/labeling/campaigns", timeout=10)
        assert labeling.status_code == 200 and labeling.json()["campaigns"] == [], labeling.text
        api_url = up["api_url"]
        token = sign_in(api_url, bytes.fromhex(dev1["private_key"][2:]))
        assert session_of(api_url, token).json()["address"] == dev1["address"]

        # other commands, through its RPC URL, while it holds the chain
        job = cli.post_job("250", "--rpc-url", url)
        shown = cli.ok("job", "show", job, "--json", "--rpc-url", url).json()
        assert shown["job"]["status"] == "active" and shown["job"]["budget"] == "250"
        # the indexer follows the chain into the data directory's index; the API and pages show the job
        index = cli.data_dir / "index.sqlite3"
        until("the job in the index", lambda: indexed_job_ids(index, EMBEDDED_CHAIN_ID) == [job])
        until("the job in the API's list", lambda: api_job_ids(api_url) == [job])
        page = httpx.get(f"{up['url']}jobs/{job}", timeout=10)
        assert page.status_code == 200 and "250" in page.text
        committee = cli.ok("committee", "show", "--json", "--rpc-url", url).json()
        names = {m["name"] for m in committee["oracles"]}
        assert names == set(ORACLES)
        assert all(
            m["endpoint"] and m["endpoint"].startswith("http://127.0.0.1:") for m in committee["oracles"]
        )
        before = cli.ok("chain", "status", "--json", "--rpc-url", url).json()
        cli.ok("chain", "advance", "1h", "--rpc-url", url)
        after = cli.ok("chain", "status", "--json", "--rpc-url", url).json()
        assert after["time"] >= before["time"] + 3600, (before, after)
        # without the URL: told at once who holds the chain and what to use
        started = time.monotonic()
        cli.fails("job", "list", match=f"--rpc-url {url}")
        cli.fails("serve", "--rpc-port", "0", "--port", "0", match=f"already running on {cli.data_dir}")
        assert time.monotonic() - started < 5

        code, seconds = serve.stop(signal.SIGINT)
        assert code == 0, serve.log()
        assert "indexer: caught up to block" in serve.log()
        checkpoint = index_checkpoint(index, EMBEDDED_CHAIN_ID)
        assert seconds < STOP_WITHIN, f"stopping took {seconds:.1f}s"
        assert "Traceback" not in serve.log()
        assert not (cli.data_dir / "serve.json").exists()
        # the chain's lock is free again: the embedded chain opens in this process
        assert cli.ok("job", "show", job, "--json").json()["job"]["budget"] == "250"
    finally:
        serve.kill()

    again = Serve(cli, tmp_path / "serve-again.log")
    try:
        up2 = again.ready()
        assert up2["deployed"] == []  # nothing redeployed
        assert up2["deployment"]["escrow"] == up["deployment"]["escrow"]
        assert up2["deployment"]["licensing"] == up["deployment"]["licensing"]
        url2 = up2["rpc_url"]
        listed = cli.ok("job", "list", "--json", "--rpc-url", url2).json()
        assert [str(j["id"]) for j in listed["jobs"]] == [job]
        assert up2["accounts"][1]["tokens"] == "99750"  # dev1 paid 250 into the escrow
        assert up2["url"] != up["url"]  # --port 0: a free port each time, printed
        api2 = up2["api_url"]
        assert api_job_ids(api2) == [job]
        assert session_of(api2, token).json()["address"] == dev1["address"]  # the session was kept
        # the index resumed from its checkpoint: the job's event once, nothing indexed twice
        until("the indexer's resume", lambda: f"(from block {checkpoint + 1}:" in again.log())
        assert indexed_job_ids(index, EMBEDDED_CHAIN_ID) == [job]
        job2 = cli.post_job("5", "--rpc-url", url2)
        until("the new job in the API's list", lambda: api_job_ids(api2) == [job2, job])
        until("the new job in the index", lambda: indexed_job_ids(index, EMBEDDED_CHAIN_ID) == [job, job2])
        code, seconds = again.stop(signal.SIGTERM)
        assert code == 0 and seconds < STOP_WITHIN, again.log()
    finally:
        again.kill()

    # the web app's port in use: one line, everything started is stopped again, the chain released
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = str(busy.getsockname()[1])
        cli.fails(
            "serve",
            "--rpc-port",
            "0",
            "--port",
            port,
            match=f"cannot serve the web app and API on 127.0.0.1:{port}",
        )
    assert not (cli.data_dir / "serve.json").exists()
    assert cli.ok("job", "show", job, "--json").json()["job"]["budget"] == "250"


@pytest.mark.daemon
@pytest.mark.anvil
def test_serve_over_anvil_with_rpc_url(cli: Cli, anvil_url: str, tmp_path: Path) -> None:
    serve = Serve(cli, tmp_path / "serve.log", "--rpc-url", anvil_url)
    try:
        up = serve.ready()
        assert up["rpc_url"] == anvil_url and up["embedded"] is False
        assert up["chain_id"] == 31337
        assert [a["address"] for a in up["accounts"]] == [address_of(k) for k in ANVIL_DEV_KEYS]
        assert "oracle committee" in up["deployed"] or up["deployment"]["committee"]
        assert up["dev_mode"] is False and [c["name"] for c in up["components"]] == COMPONENTS
        check_http(up, dev_mode=False)  # a node other than the embedded chain: no dev mode anywhere
        job = cli.post_job("75", "--rpc-url", anvil_url)
        shown = cli.ok("job", "show", job, "--json", "--rpc-url", anvil_url).json()
        assert shown["job"]["budget"] == "75"
        index = cli.data_dir / "index.sqlite3"
        until("the job in the index", lambda: job in indexed_job_ids(index, 31337))
        until("the job in the API's list", lambda: job in api_job_ids(up["api_url"]))
        committee = cli.ok("committee", "show", "--json", "--rpc-url", anvil_url).json()
        assert all(m["endpoint"] for m in committee["oracles"])
        code, seconds = serve.stop(signal.SIGINT)
        assert code == 0 and seconds < STOP_WITHIN, serve.log()
        assert not (cli.data_dir / "serve.json").exists()  # nothing of the embedded chain was used
        assert not (cli.data_dir / "chain").exists()
    finally:
        serve.kill()


@pytest.mark.daemon
def test_ctrl_c_while_starting_gives_up_cleanly(cli: Cli, tmp_path: Path) -> None:
    serve = Serve(cli, tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 120
        while "deployed the token and the escrow" not in serve.log():
            assert time.monotonic() < deadline and serve.proc.poll() is None, serve.log()
            time.sleep(0.05)
        code, seconds = serve.stop(signal.SIGINT)
        assert code == 130 and seconds < 60, serve.log()
        assert "Traceback" not in serve.log()
        assert "error: stopped while starting" in serve.log()
    finally:
        serve.kill()
    # the chain was released, and what was deployed is kept
    assert cli.ok("chain", "status", "--json").json()["deployment"]["escrow"]
