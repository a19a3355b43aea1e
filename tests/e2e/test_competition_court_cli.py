"""A competition's ranking challenge on the command line (in process): the market is set up through the
SDK (court, committee with its oracles, a competition the good and weak models entered, ranked by the
committee), then the SDK session closes and everything else is the CLI on the same data directory:
`competition challenge`, `juror check --competition` (re-scoring in the sandbox), `competition advance`,
`juror commit|reveal --competition`, `competition payout`, `leaderboard`."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Cli
from tests.integration.ml_fixtures import court_market
from tests.integration.test_competition_court_sdk import JURORS, ranked


def test_a_ranking_challenge_on_the_command_line(tmp_path: Path, digits_task: dict[str, Path]) -> None:
    data_dir = tmp_path / "data"
    with court_market("embedded", None, data_dir, digits_task, JURORS) as market:
        market.pw.fund(market.weak.address, market.pw.amount("100"))
        comp_id, good, weak = ranked(market)
        weak_name = market.weak.name
    cli = Cli(data_dir)
    comp = str(comp_id)
    board = cli.ok("leaderboard", comp, "--json").json()
    assert board["ranked"] and not board["finalized"] and board["winners"][0]["entry"] == good
    cli.fails("competition", "payout", comp, match="may be challenged until")
    cli.fails("competition", "challenge", comp, "--from", weak_name, match="is the one in force")
    out = cli.ok(
        "competition", "challenge", comp, "--from", weak_name, "--ranking", f"{weak}:990000",
        "--statement", "mine is better", "--json",
    ).json()  # fmt: skip
    dispute = out["dispute"]
    assert [s["name"] for s in out["steps"]][-1] == "challenge the ranking"
    check = cli.ok("juror", "check", comp, "--competition", "--json").json()
    assert check["dispute"] == dispute and check["matches"] == "ranking in force"
    assert "recomputed here" in cli.ok("juror", "check", comp, "--competition").out
    cli.fails("competition", "advance", comp, match="nothing to advance")
    cli.ok("chain", "advance", "2d")
    cli.ok("chain", "advance", "1m")
    for _ in range(3):  # arm the draw, then draw in a later block
        cli.ok("competition", "advance", comp)
        seats = [
            s
            for name in JURORS
            for s in cli.ok("juror", "cases", "--from", name, "--json").json()["seats"]
            if s["competition"] == comp_id
        ]
        if seats:
            break
    assert seats, "the jurors were drawn"
    voters = [
        name
        for name in JURORS
        if any(
            s["competition"] == comp_id
            for s in cli.ok("juror", "cases", "--from", name, "--json").json()["seats"]
        )
    ]
    for name in voters:
        cli.ok("juror", "commit", comp, "--competition", "--from", name, "--vote", "keep")
    for name in voters:
        assert "keep the ranking" in cli.ok("juror", "reveal", comp, "--competition", "--from", name).out
    cli.ok("chain", "advance", "30d")
    advanced = cli.ok("competition", "advance", comp).out
    assert "court gives its ruling" in advanced
    board = cli.ok("leaderboard", comp, "--json").json()
    assert board["challenges"][0]["ruling"] == 1
    cli.ok("chain", "advance", "3d")
    cli.ok("chain", "advance", "1m")
    cli.ok("competition", "payout", comp)
    board = cli.ok("leaderboard", comp, "--json").json()
    assert board["finalized"] and board["winners"][0]["entry"] == good
