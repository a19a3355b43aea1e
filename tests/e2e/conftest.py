"""Drive the `proofwork` command as a user does: real files, a real chain, the user's view of the output.

Commands run in this process through the entry point (`tests.e2e.runner.run_in_process`: its own
environment, stdin, stdout and stderr per call); `cli.process` runs the same commands as real
`python -m proofwork` processes, for where the process boundary is the point (kill -9, locks held by
another process, daemons, signals, and one smoke test per command group).

A deployed data directory (`deploy` + 100,000 test tokens for dev1) is built once per session and
copied for each test that asks for `deployed`: the embedded chain lives in DATA_DIR/chain/chain.sqlite3
beside deployments/ (and keystore/), so a copy is an identical chain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.runner import Result, run_in_process, run_process

__all__ = ["ORACLES", "Cli", "Result", "copy_data_dir", "demo_process", "refused", "spec_for"]

ORACLES = ("dev6", "dev7", "dev8", "dev9")


class Cli:
    """`proofwork` on one data directory; `self.env` is the whole environment of every call."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, *, spawn: bool = False) -> None:
        self.data_dir = data_dir
        self.spawn = spawn  # True: each call is a new process
        self._extra = env or {}
        self.env = {**os.environ, "PROOFWORK_DATA_DIR": str(data_dir), "COLUMNS": "200", **self._extra}
        self.env.pop("PROOFWORK_RPC_URL", None)
        self.env.pop("PROOFWORK_DEBUG", None)

    @property
    def process(self) -> Cli:
        """The same data directory and environment, each command a real process."""
        return Cli(self.data_dir, self._extra, spawn=True)

    def __call__(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
        run = run_process if self.spawn else run_in_process
        return run(list(args), {**self.env, **(env or {})}, stdin)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.code == 0, f"proofwork {' '.join(args)} failed: {result.err}"
        assert "Traceback" not in result.err
        return result

    def post_job(self, budget: str, *extra: str, **kwargs: Any) -> str:
        """dev1 posts a one-day job for dev2; returns the new job id."""
        args = [
            "job",
            "post",
            "--from",
            "dev1",
            "--freelancer",
            "dev2",
            "--budget",
            budget,
            "--deadline",
            "1d",
        ]
        return str(self.ok(*args, *extra, "--json", **kwargs).json()["job"]["id"])

    def fails(self, *args: str, match: str, **kwargs: Any) -> Result:
        """A refusal as the brief wants it: non-zero exit, one line on stderr, no traceback."""
        return refused(self(*args, **kwargs), match, f"proofwork {' '.join(args)}")


def refused(result: Result, match: str, what: str = "the command") -> Result:
    """Non-zero exit, one `error:` line on stderr naming `match`, no traceback anywhere."""
    assert result.code != 0, f"{what} should have failed: {result.out}"
    assert "Traceback" not in result.err and "Traceback" not in result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got: {result.err!r}"
    assert lines[0].startswith("error: ")
    assert match.lower() in lines[0].lower(), lines[0]
    return result


@contextmanager
def demo_process(story: str, root: Path) -> Iterator[subprocess.Popen[str]]:
    """`proofwork demo STORY --json` as a real process, its chain kept under `root` (its TMPDIR), killed
    if still running at the end: started by a module fixture so that it runs beside the module's tests."""
    cli = Cli(root / "unused", env={"TMPDIR": str(root)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofwork", "demo", story, "--json"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def copy_data_dir(source: Path, target: Path) -> Path:
    """An identical chain (and manifests, keys, store) in `target`; `source` must not be in use."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("chain.lock"))
    return target


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """An empty data directory: nothing deployed."""
    return Cli(tmp_path / "data")


@pytest.fixture(scope="session")
def deployed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session (per xdist worker): proofwork deployed, dev1 holding test stablecoin.
    Never used directly: tests get copies."""
    template = Cli(tmp_path_factory.mktemp("deployed-template") / "data")
    template.ok("deploy")
    template.ok("account", "fund", "dev1", "--amount", "100000")
    return template.data_dir


@pytest.fixture
def deployed(deployed_template: Path, tmp_path: Path) -> Cli:
    """A data directory of this test's own with proofwork deployed and dev1 holding test stablecoin."""
    return Cli(copy_data_dir(deployed_template, tmp_path / "data"))


@pytest.fixture(scope="session")
def task(digits_task: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The digits task and its two models (trained once per session), and a directory for specs."""
    return {**digits_task, "root": tmp_path_factory.mktemp("task")}


def spec_for(cli: Cli, task: dict[str, Path]) -> Path:
    """The task's public data added to `cli`'s store, and a spec naming it."""
    from proofwork.services.demo_ml import write_spec

    train = cli.ok("store", "add", str(task["train"]), "--json").json()["cid"]
    features = cli.ok("store", "add", str(task["test_features"]), "--json").json()["cid"]
    return write_spec(task["root"] / f"spec-{cli.data_dir.parent.name}.yaml", train, features)
