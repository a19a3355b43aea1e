"""Commands that need no chain load no chain library: `--help` everywhere, the store, argument errors,
an account's DID on the embedded chain. Checked in a fresh interpreter (the process boundary is the
point: the test process itself has web3 loaded), through the console entry in process there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHAIN_LIBRARIES = ("web3", "eth_account", "eth", "vyper", "eth_tester")

PROBE = r"""
import contextlib, io, json, sys
from proofwork.cli.main import COMMANDS, build_app, run

def every_help():
    import typer.main
    group = typer.main.get_command(build_app())
    yield ["--help"]
    def walk(cmd, path):
        for name, sub in getattr(cmd, "commands", {}).items():
            yield [*path, name, "--help"]
            yield from walk(sub, [*path, name])
    yield from walk(group, [])

commands = list(every_help()) + json.loads(sys.argv[1])
heavy = set(json.loads(sys.argv[2]))
out = []
for argv in commands:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = run(argv)
    loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
    out.append({"argv": argv, "code": code, "loaded": loaded, "err": err.getvalue()})
print(json.dumps(out))
"""


def test_commands_that_need_no_chain_load_no_chain_library(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    artifact = tmp_path / "model.onnx"
    artifact.write_bytes(b"not really a model")
    commands = [
        ["--data-dir", data, "store", "add", str(artifact)],
        ["--data-dir", data, "--json", "store", "add", str(artifact)],
        ["--data-dir", data, "eval", "run", str(tmp_path / "no-spec.yaml"), str(artifact), "--labels", "x"],
        ["--data-dir", data, "eval", "run", "--labels"],
        ["--data-dir", data, "id", "show"],
        ["--data-dir", data, "id", "show", "--account", "dev3", "--json"],
        ["--data-dir", data, "cred", "list"],
        ["--data-dir", data, "job", "post", "--from", "dev1", "--budget", "5", "--deadline", "7x"],
        ["--data-dir", data, "job", "show", "-1"],
        [
            "--data-dir",
            data,
            "competition",
            "create",
            "--from",
            "dev1",
            "--spec",
            "s",
            "--labels",
            "l",
            "--prize",
            "1",
            "--split",
            "70,40",
        ],
        ["--data-dir", data, "juror", "commit", "1", "--from", "dev3", "--vote", "maybe"],
        ["--data-dir", data, "dispute", "settle", "1", "--from", "dev1", "--share", "140"],
        ["--data-dir", data, "nosuch"],
    ]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(commands), json.dumps(CHAIN_LIBRARIES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    helps = [r for r in results if r["argv"][-1] == "--help"]
    assert len(helps) > 60  # the root, every group and every command
    for r in results:
        assert r["loaded"] == [], f"proofwork {' '.join(r['argv'])} loaded {r['loaded']}"
        assert "Traceback" not in r["err"]
    assert all(r["code"] == 0 for r in helps)
    by_command = {" ".join(r["argv"][2:5]): r for r in results if r["argv"][0] == "--data-dir"}
    assert by_command["store add " + str(artifact)]["code"] == 0
    assert by_command["id show"]["code"] == 0
    assert by_command["eval run " + str(tmp_path / "no-spec.yaml")]["code"] != 0
    assert "no such spec file" in by_command["eval run " + str(tmp_path / "no-spec.yaml")]["err"]
    assert by_command["job post --from"]["code"] != 0 and "7x" in by_command["job post --from"]["err"]
    assert "invalid vote" in by_command["juror commit 1"]["err"]
    assert "0 to 100 %" in by_command["dispute settle 1"]["err"]
