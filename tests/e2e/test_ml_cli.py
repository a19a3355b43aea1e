"""Verified evaluation as users drive it: artifacts, local scoring, four `oracle run` daemons
(one killed with SIGKILL mid-job and restarted), automatic payment, reveal, verify-score."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proofwork.services.demo_ml import prepare_task, train_onnx, write_spec
from tests.e2e.conftest import Cli

ORACLES = ("dev6", "dev7", "dev8", "dev9")


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("task")
    prepared = prepare_task(root)
    paths = dict(prepared["paths"])
    paths["good"] = train_onnx(prepared["x_train"], prepared["y_train"], root / "good.onnx", weak=False)
    paths["weak"] = train_onnx(prepared["x_train"], prepared["y_train"], root / "weak.onnx", weak=True)
    paths["root"] = root
    return paths


def _spec(cli: Cli, task: dict[str, Path]) -> Path:
    train = cli.ok("store", "add", str(task["train"]), "--json").json()["cid"]
    features = cli.ok("store", "add", str(task["test_features"]), "--json").json()["cid"]
    return write_spec(task["root"] / f"spec-{cli.data_dir.parent.name}.yaml", train, features)


# --- store -----------------------------------------------------------------------------------------------


def test_store_add_and_get_round_trip(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "hello.txt"
    source.write_bytes(b"hello world")
    added = cli.ok("store", "add", str(source), "--json").json()
    assert added == {"cid": "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"}
    assert cli.ok("store", "add", str(source)).out.strip() == added["cid"]
    out = tmp_path / "back.txt"
    cli.ok("store", "get", added["cid"], str(out))
    assert out.read_bytes() == b"hello world"


def test_store_refuses_bad_input(cli: Cli, tmp_path: Path) -> None:
    cli.fails("store", "add", str(tmp_path / "missing"), match="no such")
    cli.fails("store", "get", "not-a-cid", str(tmp_path / "x"), match="cid")
    unknown = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    cli.fails("store", "get", unknown, str(tmp_path / "x"), match="no artifact")
    assert not (tmp_path / "x").exists()


# --- eval run ---------------------------------------------------------------------------------------------


def test_eval_run_scores_like_an_oracle(cli: Cli, task: dict[str, Path]) -> None:
    spec = _spec(cli, task)
    good = cli.ok(
        "eval", "run", str(spec), str(task["good"]), "--labels", str(task["labels"]), "--json"
    ).json()
    assert good["ok"] is True and good["reason"] is None and good["score"] > 900_000
    again = cli.ok(
        "eval", "run", str(spec), str(task["good"]), "--labels", str(task["labels"]), "--json"
    ).json()
    assert again["score"] == good["score"], "scores are bit-for-bit reproducible"
    weak = cli("eval", "run", str(spec), str(task["weak"]), "--labels", str(task["labels"]), "--json")
    assert weak.code == 0 and weak.json()["score"] < 900_000  # scored fine, just below the threshold


def test_eval_run_hostile_submission_fails_cleanly(cli: Cli, task: dict[str, Path], tmp_path: Path) -> None:
    spec = _spec(cli, task)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(os.urandom(2048))
    result = cli("eval", "run", str(spec), str(junk), "--labels", str(task["labels"]), "--json")
    assert result.code != 0 and "Traceback" not in result.err
    data = result.json()
    assert data["ok"] is False and data["score"] is None and data["reason"]
    cli.fails(
        "eval",
        "run",
        str(tmp_path / "nope.yaml"),
        str(junk),
        "--labels",
        str(task["labels"]),
        match="no such",
    )
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("version: 1\nmetric: astrology\n")
    cli.fails("eval", "run", str(bad_spec), str(junk), "--labels", str(task["labels"]), match="invalid spec")


# --- the whole flow with real oracle daemons ---------------------------------------------------------


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


@pytest.fixture
def daemons(cli: Cli, tmp_path: Path) -> Iterator[Daemons]:
    d = Daemons(cli, tmp_path)
    yield d
    d.stop()


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
    cli.ok("deploy")
    committee = ["committee", "deploy", "--challenge-window", "10m", "--f", "1"]
    for name in ORACLES:
        committee += ["--oracle", name]
    cli.ok(*committee)
    cli.ok("account", "fund", "dev1", "--amount", "1000")
    spec = _spec(cli, task)
    for name in ORACLES:
        daemons.start(name)
    _wait(
        lambda: all(m["endpoint"] for m in cli.ok("committee", "show", "--json").json()["oracles"]),
        90,
        "all four oracles to announce their endpoints",
    )
    return spec


def test_oracle_daemons_pay_a_passing_model_and_survive_a_kill(
    cli: Cli, daemons: Daemons, task: dict[str, Path]
) -> None:
    spec = _committee_with_daemons(cli, daemons, task)
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
    codes = daemons.stop()
    assert all(code == 0 for code in codes.values()), codes


def test_competition_leaderboard_and_prizes(cli: Cli, daemons: Daemons, task: dict[str, Path]) -> None:
    spec = _committee_with_daemons(cli, daemons, task)
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


def test_competition_entries_wait_for_the_committee(cli: Cli, task: dict[str, Path]) -> None:
    """Without oracles at work the labels are never confirmed: entering is refused with a reason,
    and the client takes its prize back at once."""
    cli.ok("deploy")
    committee = ["committee", "deploy", "--challenge-window", "10m", "--f", "1"]
    for name in ORACLES:
        committee += ["--oracle", name]
    cli.ok(*committee)
    for name in ORACLES:  # keys published, nobody running
        cli.ok("oracle", "register", "--from", name, "--url", "http://127.0.0.1:9")
    cli.ok("account", "fund", "dev1", "--amount", "100")
    cli.ok("account", "fund", "dev2", "--amount", "5")
    spec = _spec(cli, task)
    args = ["competition", "create", "--from", "dev1", "--spec", str(spec), "--labels", str(task["labels"])]
    cli.fails(*args, "--prize", "10", "--entry-bond", "0.0000001", match="decimal places")
    created = cli.ok(*args, "--prize", "10", "--entry-bond", "2.5", "--json").json()
    comp = str(created["competition_id"])
    assert created["entry_bond"] == "2.5"
    board = cli.ok("leaderboard", comp, "--json").json()
    assert board["labels_confirmed"] is False and board["entry_bond"] == "2.5"
    assert "waiting for the oracles to confirm its labels" in cli.ok("leaderboard", comp).out
    cli.fails(
        "competition",
        "enter",
        comp,
        "--from",
        "dev2",
        "--file",
        str(task["good"]),
        match="takes no entries yet",
    )
    cli.fails("competition", "cancel", comp, "--from", "dev2", match="only the client")
    assert "10 pwUSD credited" in cli.ok("competition", "cancel", comp, "--from", "dev1").out
    cli.fails("competition", "cancel", comp, "--from", "dev1", match="already cancelled")
    cli.fails("competition", "withdraw", "--from", "dev1", "--token", "0x1234", match="--token")
    assert cli.ok("competition", "withdraw", "--from", "dev1", "--json").json()["withdrawn"] == "10"
    cli.fails("competition", "withdraw", "--from", "dev1", match="nothing to withdraw")


def test_eval_post_refuses_bad_input(deployed: Cli, task: dict[str, Path], tmp_path: Path) -> None:
    cli = deployed
    args = [
        "eval",
        "post",
        "--from",
        "dev1",
        "--labels",
        str(task["labels"]),
        "--budget",
        "10",
        "--freelancer",
        "dev2",
    ]
    spec = _spec(cli, task)
    cli.fails(*args, "--spec", str(spec), match="committee")  # no committee deployed yet
    committee = ["committee", "deploy", "--challenge-window", "1h"]
    for name in ORACLES:
        committee += ["--oracle", name]
    cli.fails(*committee, "--f", "2", match="n > 3f")
    cli.fails("committee", "deploy", "--oracle", "dev6", "--oracle", "dev6", match="twice")
    cli.ok(*committee, "--f", "1")
    cli.fails(*args, "--spec", str(tmp_path / "missing.yaml"), match="no such spec")
    cli.fails(*args, "--spec", str(spec), match="not published its key")
    bad = tmp_path / "spec.json"
    bad.write_text("{not json")
    cli.fails(*args, "--spec", str(bad), match="not valid JSON")
    cli.fails("eval", "show", "999", match="not evaluated")
    cli.fails("verify-score", "999", match="not evaluated")
    cli.fails("leaderboard", "7", match="no competition")


def test_demo_ml_json(cli: Cli) -> None:
    data = cli.ok("demo", "--ml", "--json").json()
    assert data["ok"] is True
    scores = data["scores"]
    assert scores["dev2"]["passed"] is True and scores["dev3"]["passed"] is False
    assert data["payouts"]["dev2"] > 0 and data["payouts"]["dev3"] == 0
    assert all(data["verified"].values())
    assert data["outliers"]["dev9"] == 2
    assert json.dumps(data)  # plain JSON all the way down


# --- refusals: ids, options and URLs checked before anything is sent ---------------------------------

BIG = str(2**256)
LAST = str(2**256 - 1)


def _in_process(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    """The CLI's entry point in this process: for refusals that happen before any chain is opened."""
    from proofwork.cli.main import run

    code = run(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_ids_beyond_uint256_are_one_line_errors(cli: Cli) -> None:
    cli.fails("eval", "show", BIG, match="invalid job id")
    cli.fails("leaderboard", BIG, match="invalid competition id")
    # in range, on a chain with nothing deployed: still one line
    cli.fails("eval", "show", LAST, match="not deployed")


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "show", "--", "-1"],
        ["eval", "register", BIG, "--from", "dev1"],
        ["verify-score", BIG],
        ["eval", "reveal", BIG, "--from", "dev1"],
        ["eval", "register", "--from", "dev1", "--", "-5"],
        ["competition", "enter", BIG, "--from", "dev2", "--file", "x.onnx"],
        ["competition", "reveal", BIG, "--from", "dev2"],
        ["competition", "cancel", BIG, "--from", "dev1"],
        ["leaderboard", "--", "-1"],
    ],
)
def test_every_id_argument_is_bounded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]
) -> None:
    code, _, err = _in_process(capsys, tmp_path / "data", *args)
    assert code == 2 and err.count("\n") == 1 and "invalid" in err and " id " in err, err
    assert not (tmp_path / "data" / "chain").exists(), "refused before the chain was opened"


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("--split", "60,30,20", "add up to 110"),
        ("--split", "30,70", "must not increase"),
        ("--split", "100,0", "more than 0"),
        ("--split", "110,-10", "more than 0"),
        ("--split", "50,50,nan", "finite"),
        ("--split", "inf", "finite"),
        ("--split", "33.333,33.333,33.334", "two decimals"),
        ("--split", ",".join(["10"] * 9 + ["5", "5"]), "1 to 10"),
        ("--split", "sixty,forty", "percentages"),
        ("--daily-limit", "0", "--daily-limit"),
        ("--daily-limit", "256", "--daily-limit"),
        ("--public-percent", "0", "--public-percent"),
        ("--public-percent", "100", "--public-percent"),
        ("--min-score", "nan", "finite"),
        ("--min-score", "-inf", "finite"),
        ("--min-score", "1e300", "beyond"),
        ("--min-score", "high", "a number"),
        ("--entry-bond", "0", "more than 0"),
        ("--entry-bond", "-1", "--entry-bond"),
        ("--entry-bond", "two", "--entry-bond"),
    ],
)
def test_competition_create_refuses_before_any_transaction(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str, value: str, match: str
) -> None:
    args = ["competition", "create", "--from", "dev1", "--spec", "s.yaml", "--labels", "l.csv"]
    code, _, err = _in_process(capsys, tmp_path / "data", *args, "--prize", "10", option, value)
    assert code == 2 and err.count("\n") == 1 and match in err, err
    # no approval can have been sent: the chain was never even opened
    assert not (tmp_path / "data" / "chain").exists()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["oracle", "run", "--from", "dev6", "--interval", "nan"], "--interval"),
        (["oracle", "run", "--from", "dev6", "--interval", "0"], "--interval"),
        (["oracle", "run", "--from", "dev6", "--interval", "1e9"], "--interval"),
        (["oracle", "run", "--from", "dev6", "--port", "70000"], "--port"),
        (["oracle", "run", "--from", "dev6", "--passes", "-1"], "--passes"),
        (["oracle", "run", "--from", "dev6", "--announce", "--public-url", "ftp://x"], "--public-url"),
        (["oracle", "run", "--from", "dev6", "--announce", "--public-url", "http://"], "--public-url"),
        (["oracle", "register", "--from", "dev6", "--url", "javascript:alert(1)"], "--url"),
        (["oracle", "register", "--from", "dev6", "--url", "http://[::1"], "--url"),
        (["oracle", "register", "--from", "dev6", "--url", "http://a b/"], "--url"),
        # 133 characters but 257 bytes: the contract counts bytes
        (["oracle", "register", "--from", "dev6", "--url", "http://x/" + "é" * 124], "256 bytes"),
    ],
)
def test_oracle_options_and_urls_are_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], match: str
) -> None:
    code, _, err = _in_process(capsys, tmp_path / "data", *args)
    assert code == 2 and err.count("\n") == 1 and match in err, err
    assert not (tmp_path / "data" / "chain").exists()


def test_oracle_run_survives_failing_passes_and_json_is_one_line(cli: Cli) -> None:
    # nothing is deployed: every pass fails (NotFound), the daemon carries on and serves
    result = cli("oracle", "run", "--from", "dev6", "--passes", "2", "--interval", "0.05", "--json")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ['{"ok": true, "passes": 2}']
    assert result.err.count("pass failed") == 2 and "Traceback" not in result.err


def test_endpoints_are_printed_as_they_are(cli: Cli) -> None:
    # a data directory of its own: `deployed` is shared and must stay without a committee
    cli.ok("deploy")
    committee = ["committee", "deploy", "--challenge-window", "1h", "--f", "1"]
    for name in ORACLES:
        committee += ["--oracle", name]
    cli.ok(*committee)
    url = "http://127.0.0.1:9/[/]x[bold]"  # Rich markup: MarkupError (exit 70) if printed as markup
    assert url in cli.ok("oracle", "register", "--from", "dev6", "--url", url).out
    assert url in cli.ok("committee", "show").out
    cli.fails("competition", "cancel", "0", "--from", "dev1", match="competition")
