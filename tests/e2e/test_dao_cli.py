"""The DAO on the command line, in process on the embedded chain: deployed and handed the platform, a
holder delegates, proposes a lower fee (shown in words), a relayed vote passes it, the timelock's delay
is waited out and it executes; bad input refused in one line."""

from __future__ import annotations

from tests.e2e.conftest import Cli


def test_dao_lowers_the_fee_end_to_end(deployed: Cli) -> None:
    cli = deployed
    cli.ok("court", "deploy")
    out = cli.ok(
        "dao",
        "deploy",
        "--from",
        "dev0",
        "--voting-period",
        "3",
        "--threshold",
        "1000",
        "--delay",
        "3600",
        "--hand-over",
        "--json",
    ).json()
    assert out["handed_over"] == ["escrow fee", "escrow treasury"]
    assert "court parameters" in out["absent_levers"]
    cli.fails("fees", "set", "0", "--from", "dev0", match="only the escrow's owner")
    cli.ok("court", "transfer", "dev1", "--from", "dev0", "--amount", "100000")
    cli.ok("court", "transfer", "dev2", "--from", "dev0", "--amount", "100000")
    cli.ok("dao", "delegate", "--from", "dev1")
    cli.ok("dao", "delegate", "--from", "dev2")
    cli.ok("chain", "advance", "1s")
    proposed = cli.ok(
        "dao", "propose", "--from", "dev1", "--set-fee", "200", "--description", "Lower the fee", "--json"
    ).json()
    assert proposed["calls"] == ["set the platform fee from 2.5 % to 2 %"]
    pid = proposed["proposal"]
    cli.fails("dao", "vote", pid, "for", "--from", "dev2", match="governor: voting has not started")
    cli.ok("chain", "advance", "1s")
    cli.ok("dao", "vote", pid, "for", "--from", "dev2", "--relay-by", "dev3")
    cli.fails("dao", "vote", pid, "against", "--from", "dev2", match="governor: already voted")
    for _ in range(3):
        cli.ok("chain", "advance", "1s")
    shown = cli.ok("dao", "show", pid, "--json").json()
    assert shown["state"] == "succeeded" and shown["votes"]["for"] == "100000"
    cli.ok("dao", "queue", pid)
    cli.fails("dao", "execute", pid, match="timelock: operation not ready")
    cli.ok("chain", "advance", "1h")
    cli.ok("dao", "execute", pid)
    assert cli.ok("fees", "show", "--json").json()["fee_bps"] == 200
    listed = cli.ok("dao", "list").out
    assert "(executed)" in listed and "set the platform fee from 2.5 % to 2 %" in listed
    cli.fails("dao", "vote", pid, "maybe", "--from", "dev2", match="expected for, against or abstain")
    cli.fails("dao", "show", "nope", match="invalid proposal id")
