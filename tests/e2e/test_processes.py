"""One smoke test per command group as a real `python -m proofwork` process, and the in-process runner
held to it: the same command on two identical data directories, once as a process and once through
the entry point in this process, gives the same exit code, the same stdout (Rich tables at the width
the tests use included) and the same stderr.

The daemons (`oracle run`, `issuer serve`) and `demo` run as processes in their own tests
(test_ml_cli.py, test_identity_cli.py, test_identity_chain_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, copy_data_dir, refused

ORACLES = ["--oracle", "dev6", "--oracle", "dev7", "--oracle", "dev8", "--oracle", "dev9"]
COMMITTEE = ["committee", "deploy", "--f", "1", "--challenge-window", "1h", *ORACLES]
POST = ["job", "post", "--from", "dev1", "--freelancer", "dev2", "--budget", "12.5", "--deadline", "2d"]

# group: (set-up commands run first, the command, the exit code, a refusal's text or a text in stdout)
CASES: dict[str, tuple[list[list[str]], list[str], int, str]] = {
    "help": ([], ["job"], 2, "Escrowed jobs with milestones."),
    "deploy": ([], ["deploy", "--json"], 0, '"created": false'),
    "chain": ([], ["chain", "advance", "soon"], 2, "invalid duration"),
    "account": ([], ["account", "list"], 0, "│ 100000 │"),
    "job": ([POST], ["job", "show", "1"], 0, "12.5 pwUSD"),
    "fees": ([], ["fees", "show"], 0, "fee for new jobs: 2.5 %"),
    "store": (
        [],
        ["store", "add", "{file}", "--json"],
        0,
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    ),
    "committee": ([COMMITTEE], ["committee", "show"], 0, "dev9"),
    "oracle": ([], ["oracle", "register", "--from", "dev6", "--url", "ftp://x"], 2, "--url"),
    "eval": ([COMMITTEE], ["eval", "show", "1"], 1, "not evaluated"),
    "verify-score": ([COMMITTEE], ["verify-score", "1"], 1, "not evaluated"),
    "competition": ([COMMITTEE], ["competition", "cancel", "0", "--from", "dev1"], 1, "competition"),
    "leaderboard": ([COMMITTEE], ["leaderboard", "7"], 1, "no competition"),
    "identity": ([COMMITTEE], ["identity", "deploy", "--json"], 0, '"created": true'),
    "id": ([], ["id", "show", "--account", "dev2", "--json"], 0, "did:pkh:eip155:"),
    "cred": (
        [],
        ["cred", "verify", "{junk}", "--audience", "a", "--nonce", "n", "--offline"],
        1,
        "malformed",
    ),
    "issuer": ([], ["issuer", "list"], 1, "identity deploy"),
    "badge": ([], ["badge", "list", "dev2"], 1, "identity deploy"),
    "attest": ([], ["attest", "list", "--json"], 1, "identity deploy"),
    "reputation": ([], ["reputation", "show", "dev2"], 1, "identity deploy"),
}


@pytest.mark.parametrize("group", sorted(CASES))
def test_each_command_group_as_a_process_and_in_process(deployed: Cli, tmp_path: Path, group: str) -> None:
    setup, command, code, expected = CASES[group]
    (tmp_path / "hello.txt").write_bytes(b"hello world")
    (tmp_path / "junk.sdjwt").write_text("a.b.c~bm90IGEgZGlzY2xvc3VyZQ~")
    files = {"{file}": str(tmp_path / "hello.txt"), "{junk}": str(tmp_path / "junk.sdjwt")}
    args = [files.get(arg, arg) for arg in command]
    for step in setup:
        deployed.ok(*step)
    twin = Cli(copy_data_dir(deployed.data_dir, tmp_path / "twin"))

    as_process = deployed.process(*args)
    in_process = twin(*args)

    assert as_process.code == code, as_process.err
    if code == 0:
        assert as_process.err == "" and expected in as_process.out, as_process.out
    elif group == "help":
        assert expected in as_process.out and "Traceback" not in as_process.err
    else:
        refused(as_process, expected)
    # what a user sees, byte for byte the same (the data directory's path aside)
    assert in_process.code == as_process.code
    assert in_process.out.replace(str(twin.data_dir), str(deployed.data_dir)) == as_process.out
    assert in_process.err.replace(str(twin.data_dir), str(deployed.data_dir)) == as_process.err
