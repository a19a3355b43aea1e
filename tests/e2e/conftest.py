"""Drive the `proofwork` command as a user does: a new process per command, real files, real chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = {**os.environ, "PROOFWORK_DATA_DIR": str(data_dir), "COLUMNS": "200", **(env or {})}
        self.env.pop("PROOFWORK_RPC_URL", None)
        self.env.pop("PROOFWORK_DEBUG", None)

    def __call__(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "proofwork", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=120,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

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


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A data directory with proofwork deployed and dev1 holding test stablecoin."""
    cli = Cli(tmp_path_factory.mktemp("cli") / "data")
    cli.ok("deploy")
    cli.ok("account", "fund", "dev1", "--amount", "100000")
    return cli
