"""Verified evaluation with four `oracle run` daemons, as users run them: real processes (one killed
with SIGKILL mid-job and restarted), automatic payment, reveal, verify-score; a competition's public
leaderboard, private scores and prizes. The committee and its four daemons are shared by the tests of
this module (each uses its own job or competition); the commands run in this process."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ORACLES, Cli, copy_data_dir, spec_for


class Daemons:
    def __init__(self, cli: Cli, log_dir: Path) -> None:
        self.cli = cli
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "proofwork",
                "oracle",
                "run",
                "--from",
                name,
                "--announce",
                "--interval",
                "0.3",
            ],
            env={**self.cli.env, "PROOFWORK_LOCK_TIMEOUT": "60"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text()

    def stop(self) -> dict[str, int]:
        codes = {}
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = -9
        return codes


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def _reports(cli: Cli, oracle_address: str) -> list[tuple[int, int, int]]:
    path = cli.data_dir / "oracles" / f"{oracle_address.lower()}.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        try:
            return list(db.execute("select subject, item, round from reports where kind = 'job'"))
        except sqlite3.OperationalError:
            return []


def _committee_with_daemons(cli: Cli, daemons: Daemons, task: dict[str, Path]) -> Path:
    """On a deployed data dir: a committee of four, each oracle a daemon that has announced itself."""
    committee = ["committee", "deploy", "--challenge-window", "10m", "--f", "1"]
    for name in ORACLES:
        committee += ["--oracle", name]
    cli.ok(*committee)
    cli.ok("account", "fund", "dev1", "--amount", "1000")
    spec = spec_for(cli, task)
    for name in ORACLES:
        daemons.start(name)
    _wait(
        lambda: all(m["endpoint"] for m in cli.ok("committee", "show", "--json").json()["oracles"]),
        90,
        "all four oracles to announce their endpoints",
    )
    return spec


@pytest.fixture(scope="module")
def committee(
    deployed_template: Path, task: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Cli, Daemons, Path]]:
    """A deployed data dir with a committee of four `oracle run` daemons that have announced themselves,
    and the spec of the digits task. Shared by the daemon tests (starting four daemons is what costs);
    each uses its own job or competition. At the end every daemon, the restarted one included, must stop
    cleanly on SIGTERM."""
    root = tmp_path_factory.mktemp("committee")
    cli = Cli(copy_data_dir(deployed_template, root / "data"))
    daemons = Daemons(cli, root)
    try:
        spec = _committee_with_daemons(cli, daemons, task)
        yield cli, daemons, spec
    finally:
        codes = daemons.stop()
    assert all(code == 0 for code in codes.values()), codes


@pytest.mark.daemon
@pytest.mark.slow
def test_oracle_daemons_pay_a_passing_model_and_survive_a_kill(
    committee: tuple[Cli, Daemons, Path], task: dict[str, Path]
) -> None:
    cli, daemons, spec = committee
    job = cli.ok(
        "eval",
        "post",
        "--from",
        "dev1",
        "--spec",
        str(spec),
        "--labels",
        str(task["labels"]),
        "--budget",
        "100",
        "--freelancer",
        "dev2",
        "--review",
        "2d",
        "--json",
    ).json()
    job_id = job["job_id"]
    cli.ok("job", "submit", str(job_id), "--from", "dev2", "--file", str(task["good"]))
    # kill one oracle with SIGKILL while the committee is at work, then bring it back
    victim = "dev7"
    daemons.procs[victim].send_signal(signal.SIGKILL)
    daemons.procs[victim].wait(timeout=10)
    victim_address = cli.ok("account", "list", "--json").json()
    addresses = (
        {a["name"]: a["address"] for a in victim_address["accounts"]} if "accounts" in victim_address else {}
    )
    daemons.start(victim)
    others = [n for n in ORACLES if n != victim]
    _wait(
        lambda: "scored job" in daemons.log(victim) or bool(addresses and _reports(cli, addresses[victim])),
        90,
        "the restarted oracle to score",
    )
    _wait(
        lambda: all(f"scored job {job_id}" in daemons.log(n) for n in others),
        90,
        "the other oracles to score",
    )
    cli.ok("chain", "advance", "15m")
    _wait(
        lambda: cli.ok("eval", "show", str(job_id), "--json").json()["revealed"] is not None,
        120,
        "settlement and the labels reveal",
    )
    shown = cli.ok("eval", "show", str(job_id), "--json").json()
    assert [s["passed"] for s in shown["settlements"]] == [True]
    assert cli.ok("job", "show", str(job_id), "--json").json()["job"]["status"] == "completed"
    # one report per oracle for this submission, the restarted one included: nothing scored twice
    for name in ORACLES:
        assert daemons.log(name).count(f"scored job {job_id} ") <= 1, daemons.log(name)
    verified = cli.ok("verify-score", str(job_id), "--json").json()
    assert verified["ok"] is True and verified["scores"][0]["matches"] is True
    # (every daemon stops cleanly on SIGTERM: checked when `committee` ends)


@pytest.mark.daemon
@pytest.mark.slow
def test_competition_leaderboard_and_prizes(
    committee: tuple[Cli, Daemons, Path], task: dict[str, Path]
) -> None:
    cli, _, spec = committee
    created = cli.ok(
        "competition",
        "create",
        "--from",
        "dev1",
        "--spec",
        str(spec),
        "--labels",
        str(task["labels"]),
        "--prize",
        "100",
        "--split",
        "70,30",
        "--deadline",
        "1d",
        "--reveal-period",
        "1d",
        "--daily-limit",
        "1",
        "--json",
    ).json()
    comp = str(created["competition_id"])
    assert created["entry_bond"] == "1"  # the default: 1 % of the prize
    cli.ok("account", "fund", "dev2", "--amount", "5")
    cli.ok("account", "fund", "dev3", "--amount", "5")
    # the oracle daemons confirm the labels on their own; entries open then
    _wait(
        lambda: cli.ok("leaderboard", comp, "--json").json()["labels_confirmed"],
        90,
        "the committee to confirm the labels",
    )
    good = cli.ok(
        "competition", "enter", comp, "--from", "dev2", "--file", str(task["good"]), "--json"
    ).json()
    weak = cli.ok(
        "competition", "enter", comp, "--from", "dev3", "--file", str(task["weak"]), "--json"
    ).json()
    cli.fails(
        "competition",
        "enter",
        comp,
        "--from",
        "dev2",
        "--file",
        str(task["weak"]),
        match="daily submission limit",
    )

    def public_scores() -> dict[int, int | None]:
        rows = cli.ok("leaderboard", comp, "--json").json()["rows"]
        return {r["entry"]: r["public_score"] for r in rows if r["oracles"] == 4}

    _wait(lambda: len(public_scores()) == 2, 90, "public scores from all four oracles")
    board = cli.ok("leaderboard", comp, "--json").json()
    assert [r["entry"] for r in board["rows"]] == [good["entry"], weak["entry"]]
    assert all(r["private_score"] is None for r in board["rows"]) and board["finalized"] is False
    cli.fails("competition", "reveal", comp, "--from", "dev2", match="still open")  # before the deadline
    cli.ok("chain", "advance", "25h")
    cli.ok("competition", "reveal", comp, "--from", "dev2")
    cli.ok("competition", "reveal", comp, "--from", "dev3")
    cli.ok("chain", "advance", "25h")
    _wait(lambda: cli.ok("leaderboard", comp, "--json").json()["finalized"], 120, "the committee to finalize")
    board = cli.ok("leaderboard", comp, "--json").json()
    final = board["rows"]
    # the weak model is second but below the spec's threshold (the default minimum score): no prize,
    # and its 30 % goes back to the client
    assert [(r["entry"], r["prize"]) for r in final] == [(good["entry"], 70_000_000), (weak["entry"], 0)]
    assert [w["entry"] for w in board["winners"]] == [good["entry"]]
    assert final[0]["private_score"] > 900_000 > final[1]["private_score"]
    # every revealed entry's score comes with a proof against the root the committee signed
    assert board["scores_root"] and all(r["proof"] is not None for r in final)
    human = cli.ok("leaderboard", comp).out
    assert "70 pwUSD" in human and "2 of 2 revealed scores proven" in human
    # prizes and bonds are pulled
    withdrawn = cli.ok("competition", "withdraw", "--from", "dev2", "--json").json()
    assert withdrawn["withdrawn"] == "71"  # the prize and the returned bond
    assert "withdrew 1 pwUSD" in cli.ok("competition", "withdraw", "--from", "dev3").out
    cli.fails("competition", "withdraw", "--from", "dev3", match="nothing to withdraw")
    assert cli.ok("competition", "withdraw", "--from", "dev1", "--json").json()["withdrawn"] == "30"
