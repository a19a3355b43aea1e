"""Shared test set-up: artifacts cached inside the checkout, anvil from the npm registry, Hypothesis
profiles, markers, and xdist groups for tests that share a module's set-up.

Hypothesis profiles (choose with `--hypothesis-profile NAME` or HYPOTHESIS_PROFILE; default `ci`):
- `ci`: `make test`; 100 examples a test (Hypothesis' default, today's count), failures printed with a
  reproduction blob.
- `dev`: `make quick`; 20 examples for the tests that do not set their own count.
A test's explicit `@settings(max_examples=...)` always wins over a profile: no profile lowers it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROOFWORK_CACHE_DIR", str(ROOT / ".cache" / "artifacts"))
ANVIL = Path(
    os.environ.get("PROOFWORK_ANVIL", ROOT / ".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
)

# Both from Hypothesis' own defaults (not from whatever profile is loaded: with CI set in the environment
# Hypothesis starts from a `ci` profile of its own, derandomized, which these replace). No deadline: a
# shared 2-core machine makes per-example timings noise (speed is measured by bench/).
_DEFAULT = settings.get_profile("default")
settings.register_profile("ci", _DEFAULT, max_examples=100, deadline=None, print_blob=True)
settings.register_profile("dev", _DEFAULT, max_examples=20, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# Where module-scoped set-ups are expensive (processes, deployments, oracle committees); titanoboa's
# module deployments in tests/contracts take milliseconds and are better left free to spread.
SHARED_SETUP_DIRS = (ROOT / "tests" / "e2e", ROOT / "tests" / "integration")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With `--dist loadgroup`, the e2e and integration tests that share a module-scoped set-up (a
    deployment and its committee, `issuer serve` daemons, a running `demo`...) go to one worker, so
    the set-up is built once, not once per worker. A test's own `xdist_group` mark is left as it is.
    Runs before xdist reads the marks."""
    for item in items:
        shared_dir = any(item.path.is_relative_to(directory) for directory in SHARED_SETUP_DIRS)
        if shared_dir and item.get_closest_marker("xdist_group") is None:
            group = _shared_setup_group(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))


def _shared_setup_group(item: pytest.Item) -> str | None:
    """`module:fixture=param,...` for a test using module-scoped fixtures, else None. (No brackets: xdist
    reads a group from the node id's last `@` only when it comes after the last `]`.)"""
    info = getattr(item, "_fixtureinfo", None)
    module = getattr(item, "module", None)
    if info is None or module is None:
        return None
    shared = sorted(
        name
        for name in info.names_closure
        if (defs := info.name2fixturedefs.get(name)) and defs[-1].scope in ("module", "class", "package")
    )
    if not shared:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    chosen = [f"{name}={params[name]}" for name in shared if name in params]
    return ":".join([module.__name__, *([",".join(chosen)] if chosen else [])])


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


@contextmanager
def chain_snapshot(web3: Any) -> Iterator[None]:
    """The chain as it was before the block: `evm_snapshot`, then `evm_revert` (the embedded chain and
    anvil both have them). For module-scoped deployments shared by tests that must not see one another's
    transactions, as titanoboa's plugin does for the contract tests. Chain state only: files and
    databases beside the chain are not rolled back, and the clock keeps any lead a test gave it."""
    taken = web3.provider.make_request("evm_snapshot", [])
    assert "error" not in taken, taken
    try:
        yield
    finally:
        reverted = web3.provider.make_request("evm_revert", [taken["result"]])
        assert "error" not in reverted and reverted.get("result") is not False, reverted


@pytest.fixture(scope="session")
def digits_task(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The ML demo's digits task as a client holds it (`train`, `test_features`, `labels` CSVs) and two
    models trained on it (`good` passes the spec's threshold, `weak` does not). Training is deterministic
    (the same bytes every time) and takes seconds, so it is done once per session (per xdist worker).
    Shared: copy a file before changing it."""
    from proofwork.services.demo_ml import prepare_task, train_onnx

    root = tmp_path_factory.mktemp("digits-task")
    prepared = prepare_task(root)
    paths: dict[str, Path] = dict(prepared["paths"])
    for name, weak in (("good", False), ("weak", True)):
        paths[name] = train_onnx(prepared["x_train"], prepared["y_train"], root / f"{name}.onnx", weak=weak)
    return paths


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    binary = ANVIL if ANVIL.exists() else shutil.which("anvil")
    if binary is None:
        pytest.fail(f"anvil not found at {ANVIL}: run `make anvil` (npm package @foundry-rs/anvil)")
    with running_anvil(binary) as url:
        yield url
