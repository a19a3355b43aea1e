"""`proofwork index` as a user runs it: a one-line summary, nothing new the second time, one-line errors,
a `kill -9` in the middle of its batches that leaves what a fresh full index holds, and `--follow`."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proofwork.chain.devnets import EMBEDDED_CHAIN_ID
from proofwork.db.index import IndexStore
from tests.e2e.conftest import Cli


def rows(location: Path) -> dict[str, list[tuple[object, ...]]]:
    with IndexStore.open(location) as store:
        return store.dump(EMBEDDED_CHAIN_ID)


def test_index_prints_one_line_and_finds_nothing_new_the_second_time(deployed: Cli) -> None:
    first = deployed.ok("index")
    lines = first.out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("indexed ") and "index.sqlite3" in lines[0]
    again = deployed.ok("index", "--json").json()
    assert again["ok"] and again["events"] == 0 and again["total_events"] > 0
    assert again["last_block"] == again["head"] and again["confirmations"] == 0
    deployed.ok("account", "fund", "dev2", "--amount", "5")
    more = deployed.ok("index", "--json").json()
    assert more["events"] == 1 and more["total_events"] == again["total_events"] + 1
    assert (deployed.data_dir / "index.sqlite3").is_file()


def test_index_before_a_deployment_says_so(cli: Cli) -> None:
    cli.fails("index", match="not deployed")


def test_index_errors_are_one_line(deployed: Cli, tmp_path: Path) -> None:
    deployed.fails("index", "--db", "mysql://u:p@127.0.0.1/x", match="unknown database kind")
    deployed.fails("index", "--chunk", "0", match="--chunk must be 1")
    deployed.fails("index", "--confirmations", "-1", match="--confirmations must be 0")
    deployed.fails("index", "--follow", "--poll", "0", match="--poll must be")
    deployed.fails("index", env={"PROOFWORK_INDEX_CHUNK": "many"}, match="invalid PROOFWORK_INDEX_CHUNK")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database" * 100)
    deployed.fails("index", "--db", str(junk), match="cannot be opened")


@pytest.mark.slow
def test_kill_9_in_the_middle_of_indexing_leaves_what_a_fresh_index_holds(
    deployed: Cli, tmp_path: Path
) -> None:
    """One-block batches over a few hundred blocks, the indexer killed (SIGKILL) at random moments
    three times, then resumed: the database, its jobs projection included, equals a fresh full index
    of the same chain."""
    from proofwork.sdk import Proofwork

    with Proofwork.open(deployed.data_dir) as pw:
        client, freelancer = pw.signer("dev1"), pw.signer("dev2")
        for i in range(120):
            pw.fund(pw.address("dev3"), i + 1)
            if i % 6 == 0:  # jobs posted, submitted and paid all along the blocks
                job = pw.jobs.post(
                    client,
                    budget=pw.amount(str(i + 1)),
                    milestones=2,
                    deadline=pw.now() + 7 * 86_400,
                    review_period=3 * 86_400,
                    freelancer=freelancer.address,
                ).job
                pw.jobs.submit(freelancer, job.job_id, 0, bytes([i + 1]) * 32)
                if i % 12 == 0:
                    pw.jobs.approve(client, job.job_id, 0)
        head = pw.ws.chain.block_number()
    location = tmp_path / "index.sqlite3"
    rng = random.Random(12)
    kills = []
    for _ in range(3):
        with IndexStore.open(location) as store:
            before = store.latest_block(EMBEDDED_CHAIN_ID) or 0
            proc = subprocess.Popen(
                [sys.executable, "-m", "proofwork", "index", "--chunk", "1", "--db", str(location)],
                env=deployed.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 120
            while (store.latest_block(EMBEDDED_CHAIN_ID) or 0) < before + 5 and proc.poll() is None:
                assert time.monotonic() < deadline, "the indexer made no progress"
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.05))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
            assert proc.stderr is not None
            proc.stderr.close()
            killed_at = store.latest_block(EMBEDDED_CHAIN_ID)
            assert killed_at is not None and before < killed_at < head, "killed after it had finished"
            kills.append(killed_at)
    assert kills == sorted(kills)
    resumed = deployed.ok("index", "--json", env={"PROOFWORK_INDEX_DB": str(location)}).json()
    assert resumed["first_block"] == kills[-1] + 1 and resumed["last_block"] == head
    deployed.ok("index", "--db", str(tmp_path / "fresh.sqlite3"))
    assert rows(location) == rows(tmp_path / "fresh.sqlite3")
    assert len(rows(location)["events"]) > 120
    assert len(rows(location)["jobs"]) == 20


@pytest.mark.daemon
def test_follow_keeps_up_and_frees_the_chain_between_passes(deployed: Cli) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofwork", "--json", "index", "--follow", "--poll", "0.2"],
        env={**deployed.env, "PYTHONFAULTHANDLER": "1"},  # SIGABRT prints every thread's stack
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["ok"] and first["total_events"] > 0
        # the embedded chain is free between passes: another command uses it meanwhile
        deployed.ok("account", "fund", "dev2", "--amount", "7")
        second = json.loads(proc.stdout.readline())
        assert second["events"] == 1 and second["total_events"] == first["total_events"] + 1
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # seen twice in full runs, never alone: the stacks say where Ctrl-C was lost
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"index --follow ignored Ctrl-C for 30 s; its threads:\n{err[-6000:]}")
        assert proc.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1]) == {"ok": True, "stopped": True}
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def post(cli: Cli, budget: str, freelancer: str | None = "dev2") -> int:
    args = ["job", "post", "--from", "dev1", "--budget", budget, "--deadline", "7d", "--review", "3d"]
    if freelancer:
        args += ["--freelancer", freelancer]
    return int(cli.ok(*args, "--json").json()["job"]["id"])


def test_job_list_and_the_sdk_read_the_index_while_it_is_caught_up(deployed: Cli) -> None:
    from proofwork.sdk import JobFilter, Proofwork

    ids = [post(deployed, "10"), post(deployed, "20", None), post(deployed, "30")]
    from_logs = deployed.ok("job", "list", "--json").json()
    assert from_logs["indexed_block"] is None and [j["id"] for j in from_logs["jobs"]] == ids
    mine_from_logs = deployed.ok("job", "list", "--account", "dev2", "--json").json()["jobs"]
    deployed.ok("index")
    from_index = deployed.ok("job", "list", "--json").json()
    assert from_index["indexed_block"] is not None
    assert from_index["jobs"] == from_logs["jobs"]
    mine = deployed.ok("job", "list", "--account", "dev2", "--json").json()
    assert mine["indexed_block"] is not None and mine["jobs"] == mine_from_logs
    assert [j["id"] for j in mine["jobs"]] == [ids[0], ids[2]]
    with Proofwork.open(deployed.data_dir) as pw:
        page = pw.list_jobs(state="open")
        assert page.indexed_block == from_index["indexed_block"] and [j.job.job_id for j in page.jobs] == [
            ids[1]
        ]
        assert pw.list_jobs(JobFilter(min_budget=pw.amount("20")), limit=1).next_cursor == ids[2]
    # a job the index does not hold yet: the logs answer, with it
    newest = post(deployed, "40")
    behind = deployed.ok("job", "list", "--json").json()
    assert behind["indexed_block"] is None and [j["id"] for j in behind["jobs"]] == [*ids, newest]
