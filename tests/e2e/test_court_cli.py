"""The court on the command line, in process on the embedded chain: `demo --dispute`, a whole case
(`dispute`, `juror`, `court` commands) and the bad input each refuses in one line."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from proofwork.domain.court import PWK
from proofwork.sdk import Proofwork
from tests.e2e.conftest import Cli, copy_data_dir, demo_process

JURORS = [f"dev{i}" for i in range(3, 10)]
DEMO_TEST = "test_demo_dispute_json_prints_rulings_and_every_balance_change"


@pytest.fixture(scope="module", autouse=True)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[subprocess.Popen[str], Path] | None]:
    """`demo --dispute --json` as a real process, started first so that it runs beside the module's
    other tests (checked last). A process also because in process under pytest this story runs 2-3
    times slower (its allocations churn through mmap/munmap there: ~1.3 million calls, ~7,000 alone)."""
    if not any(item.name == DEMO_TEST for item in request.session.items):
        yield None  # deselected (`make quick`: it is slow)
        return
    root = tmp_path_factory.mktemp("demo")
    with demo_process("--dispute", root) as proc:
        yield proc, root


@pytest.fixture(scope="module")
def court_template(deployed_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """proofwork and its court deployed, dev2 funded, seven jurors with 300 PWK staked each."""
    cli = Cli(copy_data_dir(deployed_template, tmp_path_factory.mktemp("court-template") / "data"))
    deployed = cli.ok("court", "deploy", "--json").json()
    assert deployed["params"]["fee_bps"] == 300 and deployed["params"]["periods"] == [
        172_800,
        86_400,
        86_400,
        172_800,
    ]
    cli.ok("account", "fund", "dev2", "--amount", "100")
    cli.ok("court", "transfer", "dev3", "--from", "dev0", "--amount", "1000")
    cli.ok("juror", "stake", "--from", "dev3", "--amount", "300")
    with Proofwork.open(cli.data_dir) as pw:  # the other six in one session: faster than a command each
        for juror in JURORS[1:]:
            pw.court.transfer_pwk("dev0", juror, 1_000 * PWK)
            pw.court.stake(juror, 300 * PWK)
    return cli.data_dir


@pytest.fixture
def court_cli(court_template: Path, tmp_path: Path) -> Cli:
    return Cli(copy_data_dir(court_template, tmp_path / "data"))


def test_a_case_on_the_command_line(court_cli: Cli, tmp_path: Path) -> None:
    cli = court_cli
    job = cli.post_job("100", "--arbiter", "court")
    work = tmp_path / "labels.csv"
    work.write_text("image,label\nimg1.png,3\n")
    cli.ok("job", "submit", job, "--from", "dev2", "--file", str(work))
    opened = cli.ok("dispute", "open", job, "--from", "dev2", "--statement", "good work", "--json").json()
    case = str(opened["case"]["id"])
    assert opened["case"]["status"] == "waiting client" and opened["case"]["deposits"]["freelancer"] == "9"
    cli.fails("dispute", "open", job, "--from", "dev2", match="already has your fee")
    evidence = tmp_path / "agreement.txt"
    evidence.write_text("98.7 %\n")
    given = cli.ok("dispute", "evidence", case, str(evidence), "--from", "dev2", "--json").json()
    assert given["uri"].startswith("/ipfs/") and given["cid"].startswith("bafk")
    cli.fails(
        "dispute",
        "evidence",
        case,
        str(tmp_path / "nope.txt"),
        "--from",
        "dev2",
        match="no such evidence file",
    )
    cli.ok("dispute", "open", job, "--from", "dev1")  # the client pays: the case goes to the court
    cli.ok("dispute", "settle", case, "--from", "dev1", "--share", "50")  # an offer, until the draw
    cli.fails("court", "advance", case, match="nothing to advance")
    cli.fails(
        "juror", "commit", case, "--from", "dev3", "--vote", "freelancer", match="jurors are drawn when"
    )
    cli.ok("chain", "advance", "49h")
    advanced = cli.ok("court", "advance", case).out  # arms the draw, then draws in the next block
    cli.fails(
        "dispute", "settle", case, "--from", "dev2", "--share", "50", match="until the jurors are drawn"
    )
    assert "arm the jury draw" in advanced and "draw 3 juror seat(s)" in advanced
    shown = cli.ok("dispute", "show", case, "--json").json()["case"]
    assert shown["draw_block"] is None
    assert shown["period"] == "commit" and shown["round"] == 1
    panel = shown["rounds"][0]["panel"]
    assert len(panel) == 3
    by_name = sorted({p["name"] for p in panel})
    first = by_name[0]
    cli.fails("juror", "reveal", case, "--from", first, match="reveal period")
    cli.ok("juror", "commit", case, "--from", first, "--vote", "freelancer")
    if len(by_name) > 1:
        cli.fails("juror", "commit", case, "--from", first, "--vote", "client", match="already committed")
    seats = cli.ok("juror", "cases", "--account", first, "--json")
    assert seats.json()["seats"][0]["vote"] == "committed" and seats.json()["armed_draws"] == []
    for other in by_name[1:]:
        cli.ok("juror", "commit", case, "--from", other, "--vote", "1")
    warned = cli.ok("juror", "cases", "--account", first)
    assert "REVEAL your vote before" in warned.err and "DUE SOON" in warned.err
    cli.fails(
        "juror", "reveal", case, "--from", first, "--vote", "client", match="reveal does not match commit"
    )
    for name in by_name:
        cli.ok("juror", "reveal", case, "--from", name)
    shown = cli.ok("dispute", "show", case, "--json").json()["case"]
    assert shown["period"] == "appeal" and shown["current_ruling"] == 1 and shown["appeal_cost"] == "21"
    sides = shown["appeal"]["sides"]
    assert (sides["client"]["role"], sides["client"]["requirement"]) == ("loser", "42")
    assert (sides["freelancer"]["role"], sides["freelancer"]["requirement"]) == ("winner", "31.5")
    assert sides["freelancer"]["deadline"] - sides["client"]["deadline"] == 86_400  # half the period
    assert "appeal: client" in cli.ok("dispute", "show", case).out
    cli.fails("dispute", "appeal", case, "--from", "dev4", match="only the client or freelancer")
    cli.ok("chain", "advance", "25h")  # past the first half: too late for the loser
    cli.fails("dispute", "appeal", case, "--from", "dev1", match="first half of the appeal period")
    cli.ok("chain", "advance", "24h")
    cli.fails("dispute", "appeal", case, "--from", "dev1", match="not in its appeal period")
    done = cli.ok("court", "advance", case, "--from", "dev5", "--json").json()
    assert [s["name"] for s in done["steps"]][:2] == [
        "court gives its ruling",
        "execute ruling on the escrow",
    ]
    assert cli.ok("dispute", "show", case, "--json").json()["case"]["closed"]["reason"] == "ruling"
    assert "Case " + case in cli.ok("dispute", "show", case).out
    facts = cli.ok("juror", "check", case, "--json").json()
    submitted = [e for e in facts["timeline"] if e["event"] == "submitted"]
    assert submitted and submitted[0]["in_store"] and submitted[0]["cid"].startswith("bafk")
    assert "deliverable" in cli.ok("juror", "check", case).out
    cli.ok("juror", "withdraw", "--from", first)
    cli.fails("juror", "withdraw", "--from", first, match="no rewards")
    cli.fails("dispute", "open", job, "--from", "dev2", match="already")
    cli.ok("juror", "unstake", "--from", first)


def test_an_appeal_funded_by_one_side_then_by_both(court_cli: Cli) -> None:
    """The loser funds its side: the command says what it paid and that the winner loses by default
    unless it funds too; funding twice is refused; the winner answers and the appeal is made."""
    cli = court_cli
    job = cli.post_job("100", "--arbiter", "court")
    cli.ok("job", "submit", job, "--from", "dev2", "--hash", "44" * 32)
    case = str(cli.ok("dispute", "open", job, "--from", "dev2", "--json").json()["case"]["id"])
    cli.ok("dispute", "open", job, "--from", "dev1")
    cli.ok("chain", "advance", "49h")
    cli.ok("court", "advance", case)
    cli.fails("dispute", "appeal", case, "--from", "dev1", match="not in its appeal period")
    with Proofwork.open(cli.data_dir) as pw:  # the jurors vote for the freelancer
        panel = pw.court.show(int(case)).rounds[0].panel
        for juror in sorted({s.juror for s in panel}):
            pw.court.commit(juror, int(case), 1)
        for juror in sorted({s.juror for s in panel}):
            pw.court.reveal(juror, int(case))
    paid = cli.ok("dispute", "appeal", case, "--from", "dev1", "--json").json()
    assert paid["appeal"]["paid"] == "42" and paid["appeal"]["appealed"] is False
    assert paid["appeal"]["waiting_for"] == "freelancer" and paid["appeal"]["other_requirement"] == "31.5"
    shown = cli.ok("dispute", "show", case, "--json").json()["case"]
    assert shown["appeal"]["sides"]["client"]["funded"] and shown["appeal"]["sides"]["client"]["paid"] == "42"
    assert "loses by default" in shown["next"]
    cli.fails("dispute", "appeal", case, "--from", "dev1", match="already funded its side")
    cli.fails("dispute", "appeal", case, "--from", "dev4", match="only the client or freelancer")
    answered = cli.ok("dispute", "appeal", case, "--from", "dev2")
    assert "appealed" in answered.out and "31.5" in answered.out
    shown = cli.ok("dispute", "show", case, "--json").json()["case"]
    assert shown["round"] == 2 and shown["appeal"]["appeals"] == 1 and shown["appeal"]["pot"] == "52.5"


def test_bad_input_is_one_line(court_cli: Cli) -> None:
    cli = court_cli
    cli.fails("dispute", "show", "5", match="no case 5")
    cli.fails("dispute", "show", "0", match="invalid case id 0")
    cli.fails("dispute", "open", "42", "--from", "dev2", match="no job 42")
    paid = cli.post_job("10", "--arbiter", "court")
    cli.ok("job", "submit", paid, "--from", "dev2", "--hash", "11" * 32)
    cli.ok("job", "approve", paid, "--from", "dev1")
    cli.fails("dispute", "open", paid, "--from", "dev2", match="nothing is left to dispute")
    cli.fails("dispute", "open", paid, "--from", "dev2", "-m", "5", match="has no milestone 5")
    plain = cli.post_job("10")
    cli.ok("job", "submit", plain, "--from", "dev2", "--hash", "22" * 32)
    cli.fails("dispute", "open", plain, "--from", "dev2", match="arbiter is not the court")
    cli.fails("dispute", "settle", "1", "--from", "dev1", "--share", "140", match="0 to 100")
    cli.fails("juror", "commit", "1", "--from", "dev3", "--vote", "maybe", match="invalid vote")
    cli.fails(
        "juror",
        "commit",
        "1",
        "--from",
        "dev3",
        "--vote",
        "client",
        "--competition",
        match="keep, challenger",
    )
    cli.fails("juror", "reveal", "1", "--from", "dev3", "--competition", match="committee")
    cli.fails("juror", "stake", "--from", "dev3", "--amount", "5000", match="insufficient PWK")
    cli.fails("juror", "unstake", "--from", "dev3", "--amount", "250", match="0 or at least 100")
    cli.fails("court", "deploy", "--periods", "9d,9d,9d,9d", "--force", match="25 days")
    cli.fails("court", "deploy", "--fee-timeout", "5d", "--force", match="fee timeout is 1 second to 4 days")


def test_settlement_on_the_command_line(court_cli: Cli) -> None:
    cli = court_cli
    job = cli.post_job("50", "--arbiter", "court")
    cli.ok("job", "submit", job, "--from", "dev2", "--hash", "33" * 32)
    opened = cli.ok("dispute", "open", job, "--from", "dev1", "--json").json()
    assert opened["case"]["deposits"]["client"] == "1.5"  # a 50-token claim: one juror at 3 %
    case = str(opened["case"]["id"])
    cli.ok("dispute", "settle", case, "--from", "dev2", "--share", "70%")
    settled = cli.ok("dispute", "settle", case, "--from", "dev1", "--share", "70", "--json").json()
    assert settled["case"]["status"] == "closed"


def test_without_a_court_the_commands_say_how_to_deploy_one(deployed: Cli) -> None:
    deployed.fails("dispute", "show", "1", match="run `proofwork court deploy`")
    deployed.fails(
        "job",
        "post",
        "--from",
        "dev1",
        "--budget",
        "5",
        "--deadline",
        "1d",
        "--arbiter",
        "court",
        match="court deploy",
    )


# --- demo --dispute (started by the `demo` fixture when the module began) ---------------------------


@pytest.mark.slow
def test_demo_dispute_json_prints_rulings_and_every_balance_change(
    demo: tuple[subprocess.Popen[str], Path] | None,
) -> None:
    assert demo is not None
    proc, root = demo
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "Traceback" not in err, err
    data = json.loads(out)
    assert Path(data["data_dir"]).parent == root
    assert data["ok"] is True, data["problems"]
    assert [r["votes"] for r in data["rounds"]] == [
        {"freelancer": 3, "client": 0},
        {"freelancer": 5, "client": 2},
    ]
    assert data["final_ruling"] == 1
    balances = data["balances"]
    assert {"client", "freelancer", "treasury"} <= set(balances)
    assert {f"juror {j}" for j in JURORS} <= set(balances)
    # case 1: the milestone (100), its fee (9) and its appeal deposit (2 x 21); case 2: nothing (its
    # budget and its fee come back)
    assert balances["client"]["token_change"] == "-151"
    # case 1: the milestone less the platform fee, and the pot (42 + 31.5 - 21) for its 31.5;
    # case 2: its fee (3 jurors at 3 % of 100), lost
    assert balances["freelancer"]["token_change"] == "109.5"
    assert sum(b["units"]["token_change"] for b in balances.values()) == 0  # jurors and treasury included
    jurors_token = sum(b["units"]["token_change"] for r, b in balances.items() if r.startswith("juror"))
    assert jurors_token == 39_000_000  # every fee of every round went to the coherent jurors
    score = data["score_case"]
    assert score["problems"] == [] and score["ruling"] == 2  # the challenged score stood: refund
    assert score["recomputed"] == score["reported_median"] < score["threshold"]
    assert len(score["checked_by"]) >= 1 and score["balances"]["dev1"] >= 0
    # `juror check` on the demo's chain, after the fact: the labels are public, the score recomputes
    # (the oracles' endpoints are gone with the demo: their reports are not shown)
    cli = Cli(Path(data["data_dir"]))
    case = str(score["case_id"])
    facts = cli.ok("juror", "check", case, "--json").json()["score_check"]
    assert facts["labels_revealed"] and facts["recomputed"] == score["recomputed"]
    assert facts["reports"] == [] and facts["recomputed_pass"] is False
    assert (
        "recomputed from public artifacts: " + str(score["recomputed"]) in cli.ok("juror", "check", case).out
    )
    assert sum(b["units"]["pwk_change"] for b in balances.values()) == 0
    # 2 seats slashed, 100 PWK each (one juror or two: the draw is by stake and the chain's randomness)
    slashed = sum(min(b["units"]["pwk_change"], 0) for b in balances.values())
    assert slashed == -200 * 10**18


def test_a_committee_names_the_court_deployed_before_it(court_cli: Cli) -> None:
    """`committee deploy` after `court deploy`: its disputed scores go to the court. A court deployed
    after a committee says that committee's disputes still end by its verdict."""
    cli = court_cli
    oracles = [arg for i in range(6, 10) for arg in ("--oracle", f"dev{i}")]
    shown = cli.ok("committee", "deploy", *oracles, "--f", "1", "--json").json()
    court = cli.ok("court", "deploy", "--json").json()
    assert shown["court"].lower() == court["arbitrable"].lower()
    assert "disputed scores go to the court" in cli.ok("committee", "deploy", *oracles, "--force").out
    # ... and its competition contract names the court itself, for ranking challenges
    cli.fails("competition", "challenge", "1", "--from", "dev2", "--ranking", "0:1", match="no competition 1")
    cli.fails("juror", "check", "1", "--competition", match="no competition 1")
    later = cli.ok("court", "deploy", "--force").out
    assert "predates this court" in later and "committee deploy --force" in later
