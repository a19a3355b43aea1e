"""The CLI end to end on the embedded chain, bad input included. Commands run through the entry point
in this process (tests/e2e/runner.py), as real processes where the process boundary is the point:
kill -9, a lock held by another process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

FREELANCER = "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"  # dev2 on the embedded chain
POST_BY_DEV1 = ("job", "post", "--from", "dev1", "--freelancer", "dev2")


def test_demo_json_tells_the_whole_story(cli: Cli) -> None:
    result = cli.ok("demo", "--json")
    data = result.json()
    assert data["ok"] is True
    names = [s["name"] for s in data["steps"]]
    assert any("posts job" in n for n in names)
    assert any("claims milestone 2" in n for n in names)
    gas = {s["name"]: s["gas"] for s in data["steps"]}
    assert all(isinstance(g, int) for g in gas.values())
    assert (
        data["balances"]["client"]["units"]["after"]
        == data["balances"]["client"]["units"]["before"] - 1_500_500_000
    )
    assert data["balances"]["escrow"]["units"]["after"] == data["balances"]["escrow"]["units"]["before"]
    paid_to_freelancer = (
        data["balances"]["freelancer"]["units"]["after"] - data["balances"]["freelancer"]["units"]["before"]
    )
    fees = data["balances"]["treasury"]["units"]["after"] - data["balances"]["treasury"]["units"]["before"]
    assert paid_to_freelancer + fees == 1_500_500_000
    assert fees == 2 * (750_250_000 * 250 // 10_000)


def test_demo_human_output_shows_balances_and_gas(cli: Cli) -> None:
    out = cli.ok("demo").out
    assert "balances" in out and "freelancer" in out and "gas" in out
    assert "ok" in out


def test_a_job_across_separate_commands(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    posted = cli.ok(
        "job",
        "post",
        "--from",
        "dev1",
        "--freelancer",
        FREELANCER,
        "--budget",
        "1500.50",
        "--milestones",
        "2",
        "--deadline",
        "7d",
        "--review",
        "3d",
        "--json",
    ).json()
    job_id = str(posted["job"]["id"])
    assert posted["job"]["budget"] == "1500.5"
    assert [s["name"] for s in posted["steps"]] == ["create+fund"]
    model = tmp_path / "model.onnx"
    model.write_bytes(b"\x08\x01 not really onnx")
    cli.ok("job", "submit", job_id, "--milestone", "1", "--file", str(model), "--from", "dev2")
    cli.ok("job", "submit", job_id, "-m", "2", "--hash", "ab" * 32, "--from", "dev2", "--relayer", "dev5")
    cli.ok("job", "approve", job_id, "-m", "1", "--from", "dev1")
    cli.fails("job", "claim", job_id, "-m", "2", "--from", "dev2", match="review window")
    cli.ok("chain", "advance", "3d")
    cli.ok("job", "claim", job_id, "-m", "2", "--from", "dev2")
    shown = cli.ok("job", "show", job_id, "--json").json()["job"]
    assert shown["status"] == "completed"
    assert [m["status"] for m in shown["milestones"]] == ["paid", "paid"]
    human = cli.ok("job", "show", job_id).out
    assert "completed" in human and "milestone 2" in human
    listed = cli.ok("job", "list", "--account", "dev2", "--json").json()["jobs"]
    assert int(job_id) in [j["id"] for j in listed]


def test_reclaim_revise_and_cancel_from_the_cli(deployed: Cli) -> None:
    cli = deployed
    post = [
        "job",
        "post",
        "--from",
        "dev1",
        "--freelancer",
        "dev2",
        "--deadline",
        "1d",
        "--review",
        "1d",
        "--json",
    ]
    a = str(cli.ok(*post, "--budget", "30", "--amounts", "10,20").json()["job"]["id"])
    b = str(cli.ok(*post, "--budget", "10").json()["job"]["id"])
    cli.ok("job", "submit", a, "-m", "1", "--hash", "11" * 32, "--from", "dev2")
    cli.ok("job", "revise", a, "-m", "1", "--from", "dev1")
    offer = cli.ok("job", "cancel", b, "--freelancer-gets", "4", "--from", "dev2", "--json").json()
    assert offer["job"]["cancel_offer"]["freelancer_amount"] == "4"
    done = cli.ok("job", "cancel", b, "--freelancer-gets", "4", "--from", "dev1", "--json").json()
    assert done["job"]["status"] == "cancelled"
    cli.ok("chain", "advance", "2d")
    refunded = cli.ok("job", "reclaim", a, "--from", "dev1", "--json").json()
    assert refunded["job"]["refunded"] == "30"


def test_an_unruled_dispute_is_ended_by_a_keeper_from_the_cli(deployed: Cli) -> None:
    """`job show` says when a dispute becomes resolvable; after 30 days a keeper's `job resolve`
    (no share given: half each) ends it."""
    cli = deployed
    job = cli.post_job("9", "--arbiter", "dev6")
    cli.ok("job", "submit", job, "--hash", "22" * 32, "--from", "dev2")
    disputed = cli.ok("job", "dispute", job, "--from", "dev2", "--json").json()["job"]["milestones"][0]
    shown = cli.ok("job", "show", job, "--json").json()["job"]["milestones"][0]
    assert shown["status"] == "disputed"
    assert shown["deadlines"]["resolvable_from"] == disputed["disputed_at"] + 30 * 86_400 + 1
    assert "anyone may end it (half each) from" in cli.ok("job", "show", job).out
    cli.fails("job", "resolve", job, "--from", "dev7", match="waits 30 days for its arbiter")
    cli.fails("job", "resolve", job, "--from", "dev6", match="as the arbiter, say how much")
    cli.ok("chain", "advance", "31d")
    cli.fails("job", "resolve", job, "--freelancer-gets", "9", "--from", "dev7", match="in half")
    done = cli.ok("job", "resolve", job, "--from", "dev7", "--json").json()["job"]
    assert done["milestones"][0]["status"] == "resolved"
    assert done["paid"] == "4.5" and done["refunded"] == "4.5"


def test_accounts_new_import_list_and_fund(deployed: Cli) -> None:
    cli = deployed
    env = {"PROOFWORK_PASSWORD": "correct horse"}
    created = cli.ok("account", "new", "alice", "--json", env=env).json()
    key = "0x" + "4c" * 32
    imported = cli.ok("account", "import", "bob", "--json", stdin=key + "\n", env=env)
    assert "4c4c4c" not in imported.out + imported.err  # the key is never printed
    bob = imported.json()["address"]
    listed = cli.ok("account", "list", "--json").json()["accounts"]
    names = {a["name"]: a for a in listed}
    assert {"dev0", "dev9", "alice", "bob"} <= set(names)
    assert names["alice"]["address"] == created["address"]
    cli.ok("account", "fund", "bob", "--amount", "250.5")
    assert (
        next(a for a in cli.ok("account", "list", "--json").json()["accounts"] if a["name"] == "bob")[
            "tokens"
        ]
        == "250.5"
    )
    # bob signs with his encrypted key
    cli.ok(
        "job", "post", "--from", "bob", "--freelancer", "dev2", "--budget", "100", "--deadline", "2d", env=env
    )
    cli.fails(
        "job",
        "post",
        "--from",
        "bob",
        "--freelancer",
        "dev2",
        "--budget",
        "1",
        "--deadline",
        "2d",
        env={"PROOFWORK_PASSWORD": "wrong"},
        match="wrong password",
    )
    keystore = (cli.data_dir / "keystore" / "bob.json").read_text()
    assert bob[2:].lower() in keystore.lower() and "4c4c4c" not in keystore
    cli.fails("account", "new", "dev3", env=env, match="reserved")
    cli.fails("account", "import", "carol", stdin="not-a-key\n", env=env, match="invalid private key")


def test_deploy_is_idempotent(cli: Cli) -> None:
    first = cli.ok("deploy", "--json").json()
    second = cli.ok("deploy", "--json").json()
    assert first["created"] is True and second["created"] is False
    assert first["deployment"]["escrow"] == second["deployment"]["escrow"]
    manifest = json.loads(
        (cli.data_dir / "deployments" / f"{first['deployment']['chain_id']}.json").read_text()
    )
    assert manifest["escrow"] == first["deployment"]["escrow"]
    assert len(manifest["escrow_source_hash"]) == 64


def test_bad_input_gets_one_line_and_a_non_zero_exit(deployed: Cli) -> None:
    cli = deployed
    post = ["job", "post", "--from", "dev1", "--deadline", "7d"]
    cli.fails("job", "show", "424242", match="no job 424242")
    cli.fails("job", "show", "abc", match="invalid value")
    cli.fails(*post, "--budget", "-5", "--freelancer", FREELANCER, match="invalid")
    cli.fails(*post, "--budget", "1.0000001", "--freelancer", FREELANCER, match="more than 6 decimal places")
    cli.fails(*post, "--budget", "10", "--freelancer", "0x123", match="invalid freelancer")
    cli.fails(*post, "--budget", "10", "--freelancer", FREELANCER.replace("E", "e", 1), match="checksum")
    cli.fails(*post, "--budget", "10", "--freelancer", "nobody", match="no account named 'nobody'")
    cli.fails(*post, "--budget", "100000000", "--freelancer", FREELANCER, match="insufficient balance")
    cli.fails(
        "job", "post", "--from", "dev1", "--budget", "1", "--deadline", "soon", match="invalid duration"
    )
    cli.fails(
        "job",
        "post",
        "--from",
        "dev7",
        "--budget",
        "1",
        "--deadline",
        "1d",
        "--freelancer",
        "dev2",
        match="insufficient balance",
    )
    job = str(cli.ok(*post, "--budget", "5", "--freelancer", "dev2", "--json").json()["job"]["id"])
    cli.fails("job", "approve", job, "--from", "dev3", match="only the client")
    cli.fails("job", "submit", job, "--from", "dev3", "--hash", "22" * 32, match="only the freelancer")
    cli.fails("job", "submit", job, "--from", "dev2", "-m", "0", "--hash", "22" * 32, match="numbered from 1")
    cli.fails("job", "submit", job, "--from", "dev2", "-m", "9", "--hash", "22" * 32, match="no milestone 9")
    cli.fails("job", "submit", job, "--from", "dev2", "--hash", "xyz", match="invalid deliverable hash")
    cli.fails("job", "submit", job, "--from", "dev2", "--file", "/nonexistent/file", match="cannot read")
    cli.fails("job", "approve", job, "--from", "dev1", "--amount", "9", match="only has")
    cli.fails("job", "show", job, "--rpc-url", "http://127.0.0.1:9", match="cannot reach the node")
    bad = cli("job", "show", "999", "--json")
    assert bad.code != 0 and json.loads(bad.out) == {
        "ok": False,
        "error": bad.err.strip().removeprefix("error: "),
    }
    # nothing above moved money: the job is untouched
    assert cli.ok("job", "show", job, "--json").json()["job"]["held"] == "5"


def test_dead_rpc_url_from_the_environment(cli: Cli) -> None:
    cli.fails(
        "chain", "status", env={"PROOFWORK_RPC_URL": "http://127.0.0.1:9"}, match="cannot reach the node"
    )
    cli.fails("chain", "status", "--rpc-url", "ftp://example", match="unsupported rpc url")


def test_corrupted_data_directory_is_reported_not_crashed_on(deployed: Cli) -> None:
    cli = deployed
    manifest = next((cli.data_dir / "deployments").glob("*.json"))
    saved = manifest.read_text()
    manifest.write_text("{not json")
    cli.fails("job", "list", match="manifest")
    manifest.write_text(saved)
    cli.ok("job", "list")
    db = next((cli.data_dir / "chain").glob("*.sqlite3"))
    db.write_bytes(b"garbage" * 1000)
    cli.fails("job", "list", match=str(db.name))


def test_kill_9_loses_nothing_that_was_reported_done(deployed: Cli) -> None:
    """Start many posts, kill -9 the writer mid-run, and find every reported job on the chain."""
    cli = deployed
    script = (
        "import sys\n"
        "from proofwork.cli.main import run\n"
        "for _ in range(200):\n"
        "    run(['job','post','--from','dev1','--freelancer','dev2','--budget','1','--deadline','1d','--json'])\n"
        "    sys.stdout.flush()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=cli.env, stdout=subprocess.PIPE, text=True)
    reported: list[int] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(reported) < 4 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("{"):
            reported.append(json.loads(line)["job"]["id"])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(reported) >= 4
    listed = {j["id"] for j in cli.ok("job", "list", "--json").json()["jobs"]}
    assert set(reported) <= listed


def test_second_writer_waits_then_gets_a_clear_error(deployed: Cli) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time, sys\nfrom proofwork.sdk import Proofwork\n"
            f"pw = Proofwork.open({str(deployed.data_dir)!r})\nprint('held', flush=True)\ntime.sleep(30)\n",
        ],
        env=deployed.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        # the second writer is a real process too: two processes, one lock
        deployed.process.fails("job", "list", env={"PROOFWORK_LOCK_TIMEOUT": "1"}, match="in use")
        assert time.monotonic() - started < 20
    finally:
        holder.kill()
        holder.wait()
    deployed.ok("job", "list")


@pytest.mark.anvil
def test_the_same_commands_drive_a_json_rpc_node(cli: Cli, anvil_url: str) -> None:
    """`--rpc-url` (here a real anvil) instead of the embedded chain; dev accounts are anvil's."""
    rpc = ["--rpc-url", anvil_url]
    status = cli.ok("chain", "status", *rpc, "--json").json()
    assert status["chain_id"] == 31337 and status["local"] is True
    cli.ok("deploy", *rpc)
    cli.ok("account", "fund", "dev1", "--amount", "100", *rpc)
    posted = cli.ok(
        *POST_BY_DEV1,
        "--budget",
        "60",
        "--deadline",
        "1d",
        *rpc,
        "--json",
    )
    job_id = str(posted.json()["job"]["id"])
    cli.ok("job", "submit", job_id, "--hash", "33" * 32, "--from", "dev2", *rpc)
    cli.ok("job", "approve", job_id, "--from", "dev1", *rpc)
    assert cli.ok("job", "show", job_id, *rpc, "--json").json()["job"]["status"] == "completed"
    cli.fails("chain", "advance", "0d", *rpc, match="invalid duration")


@pytest.mark.anvil
def test_a_chain_that_is_not_a_dev_chain_gets_no_dev_accounts_and_no_free_money(cli: Cli) -> None:
    """A node that is not anvil (a real anvil behind a proxy that hides its anvil_ and evm_ methods and
    calls itself geth, on Sepolia's chain id) is treated like a public network's node."""
    from tests.conftest import ANVIL, masked_node, running_anvil

    with running_anvil(ANVIL, "--chain-id", "11155111") as anvil, masked_node(anvil) as url:
        rpc = ["--rpc-url", url]
        assert cli.ok("chain", "status", *rpc, "--json").json()["local"] is False
        cli.fails("deploy", "--from", "dev0", *rpc, match="only on local development chains")
        cli.fails("chain", "advance", "1d", *rpc, match="local development chain")
        key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # funded by this anvil
        env = {"PROOFWORK_PASSWORD": "pw"}
        cli.ok("account", "import", "ops", *rpc, stdin=key + "\n", env=env)
        cli.ok("deploy", "--from", "ops", *rpc, env=env)
        cli.fails("account", "fund", "ops", *rpc, match="only on local development chains")


def test_numbers_beyond_the_contract_types_are_refused_cleanly(deployed: Cli) -> None:
    cli = deployed
    cli.fails("job", "show", "9" * 90, match="no job")
    cli.fails(
        *POST_BY_DEV1,
        "--budget",
        "10",
        "--deadline",
        "1d",
        "--review",
        "400d",
        match="at most 365 days",
    )
    cli.fails(
        *POST_BY_DEV1,
        "--budget",
        "10",
        "--deadline",
        "9999999w",
        match="at most 100 years",
    )
    cli.fails(
        *POST_BY_DEV1,
        "--budget",
        "1" + "0" * 80,
        "--deadline",
        "1d",
        match="larger than any token",
    )


def test_a_data_directory_that_is_a_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    cli.fails("--data-dir", str(not_a_dir), "chain", "status", match="is a file")
    cli.fails("--data-dir", str(not_a_dir / "sub"), "chain", "status", match="not a directory")


def test_a_misbehaving_node_gets_one_line(cli: Cli) -> None:
    """A server on 127.0.0.1 that answers HTTP but not proper JSON-RPC."""
    import http.server
    import threading

    class Garbage(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = (
                b"<html>not json</html>"
                if self.path == "/html"
                else (b'{"jsonrpc":"2.0","id":0,"error":{"code":-32000,"message":"rate limited"}}')
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cli.fails("chain", "status", "--rpc-url", url + "/html", match="did not answer with JSON-RPC")
        cli.fails("chain", "status", "--rpc-url", url + "/rpc", match="rate limited")
    finally:
        server.shutdown()


def test_more_bad_values_get_one_line(deployed: Cli) -> None:
    cli = deployed
    huge = "9" * 80
    cli.fails("account", "fund", "dev4", "--amount", huge, match="larger than any token")
    cli.fails("account", "new", "zed\n", env={"PROOFWORK_PASSWORD": "x"}, match="invalid account name")
    cli.fails("job", "show", "\uff15", match="invalid value")
    cli.fails(
        *POST_BY_DEV1,
        "--budget",
        "1",
        "--deadline",
        "\uff17d",
        match="invalid duration",
    )
    job = cli.post_job("2", "--arbiter", "dev6")
    cli.fails(
        "job", "resolve", job, "--freelancer-gets", huge, "--from", "dev6", match="larger than any token"
    )
    cli.fails("job", "resolve", job, "--freelancer-gets", "3", "--from", "dev6", match="between 0 and")
    cli.fails("job", "dispute", job, "-m", huge, "--from", "dev1", match="no milestone")
    cli.fails("deploy", "--force", "--token", "0x" + "00" * 19 + "01", match="no contract at token address")
    cli.fails("deploy", "--force", "--fee-bps", "-1", match="outside 0 to 1000")
    cli.fails("job", "list", env={"PROOFWORK_LOCK_TIMEOUT": "nan"}, match="PROOFWORK_LOCK_TIMEOUT")


def test_job_withdraw_and_what_show_says_is_credited(deployed: Cli) -> None:
    """`job withdraw` pulls payouts the token refused (none on the test stablecoin, which refuses
    nobody): nothing credited, a bad token or account each get one line; `job show --json` lists
    what the escrow holds for the job's parties."""
    cli = deployed
    job = cli.post_job("3")
    shown = cli.ok("job", "show", job, "--json").json()["job"]
    assert shown["claimable"]["client"]["units"] == 0 and shown["claimable"]["freelancer"]["units"] == 0
    assert "credited to" not in cli.ok("job", "show", job).out  # nothing credited: not shown
    cli.fails("job", "withdraw", "--from", "dev2", match="holds nothing for")
    cli.fails("job", "withdraw", "--from", "dev2", "--token", "0x1234", match="token")
    cli.fails("job", "withdraw", "--from", "nobody", match="no key for")
    cli.fails("job", "withdraw", match="--from")


def test_fees_show_set_and_withdraw(cli: Cli) -> None:
    cli.ok("deploy", "--treasury", "dev9")
    cli.ok("account", "fund", "dev1", "--amount", "1000")
    job = cli.post_job("400")
    cli.ok("job", "approve", job, "--from", "dev1")
    shown = cli.ok("fees", "show", "--json").json()
    assert shown["fee_bps"] == 250 and shown["owed"] == "10"
    cli.fails("fees", "set", "300", "--from", "dev1", match="only the escrow's owner")
    cli.fails("fees", "set", "1001", "--from", "dev0", match="outside 0 to 1000")
    cli.ok("fees", "set", "300", "--from", "dev0")
    sent = cli.ok("fees", "withdraw", "--from", "dev5", "--json").json()
    assert sent["sent"] == "10"
    treasury = next(a for a in cli.ok("account", "list", "--json").json()["accounts"] if a["name"] == "dev9")
    assert treasury["tokens"] == "10"
    assert (
        cli.ok("fees", "show", "--json").json() | {"owed": "0", "fee_bps": 300}
        == cli.ok("fees", "show", "--json").json()
    )
    cli.fails("fees", "withdraw", "--from", "dev5", match="no fees")
