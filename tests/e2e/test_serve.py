"""`proofwork serve` as a user runs it: a real process on free ports, other commands using its JSON-RPC
URL while it holds the embedded chain, Ctrl-C (SIGINT) and SIGTERM stopping it cleanly, a restart that
keeps everything; and the same platform over anvil with --rpc-url."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from proofwork.chain.devnets import ANVIL_DEV_KEYS, EMBEDDED_CHAIN_ID
from proofwork.keys.accounts import address_of
from tests.e2e.conftest import ORACLES, Cli

STOP_WITHIN = 15.0  # seconds from the signal to the exit, oracle daemons included


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
        assert {"token and escrow", "court", "oracle committee", "identity"} <= set(up["deployed"])
        assert [a["name"] for a in up["accounts"]] == [f"dev{i}" for i in range(10)]
        dev1 = up["accounts"][1]
        assert dev1["tokens"] == "100000" and int(dev1["units"]["wei"]) > 0
        assert address_of(bytes.fromhex(dev1["private_key"][2:])) == dev1["address"]
        assert [c["name"] for c in up["components"]] == ["oracle committee"]

        # other commands, through its RPC URL, while it holds the chain
        job = cli.post_job("250", "--rpc-url", url)
        shown = cli.ok("job", "show", job, "--json", "--rpc-url", url).json()
        assert shown["job"]["status"] == "active" and shown["job"]["budget"] == "250"
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
        url2 = up2["rpc_url"]
        listed = cli.ok("job", "list", "--json", "--rpc-url", url2).json()
        assert [str(j["id"]) for j in listed["jobs"]] == [job]
        assert up2["accounts"][1]["tokens"] == "99750"  # dev1 paid 250 into the escrow
        code, seconds = again.stop(signal.SIGTERM)
        assert code == 0 and seconds < STOP_WITHIN, again.log()
    finally:
        again.kill()


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
        job = cli.post_job("75", "--rpc-url", anvil_url)
        shown = cli.ok("job", "show", job, "--json", "--rpc-url", anvil_url).json()
        assert shown["job"]["budget"] == "75"
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
