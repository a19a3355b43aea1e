"""Shared test set-up: artifacts cached inside the checkout, anvil from the npm registry."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROOFWORK_CACHE_DIR", str(ROOT / ".cache" / "artifacts"))
ANVIL = Path(
    os.environ.get("PROOFWORK_ANVIL", ROOT / ".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"anvil exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("anvil did not start listening in time")


@contextmanager
def running_anvil(binary: Path | str = ANVIL, *extra: str) -> Iterator[str]:
    """A real anvil node on 127.0.0.1 (free port), stopped on exit; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "--host", "127.0.0.1", "--port", str(port), "--silent", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    binary = ANVIL if ANVIL.exists() else shutil.which("anvil")
    if binary is None:
        pytest.fail(f"anvil not found at {ANVIL}: run `make anvil` (npm package @foundry-rs/anvil)")
    with running_anvil(binary) as url:
        yield url
