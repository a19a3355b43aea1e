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
    three times, then resumed: the database equals a fresh full index of the same chain."""
    from proofwork.sdk import Proofwork

    with Proofwork.open(deployed.data_dir) as pw:
        for i in range(120):
            pw.fund(pw.address("dev3"), i + 1)
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


@pytest.mark.daemon
def test_follow_keeps_up_and_frees_the_chain_between_passes(deployed: Cli) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofwork", "--json", "index", "--follow", "--poll", "0.2"],
        env=deployed.env,
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
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1]) == {"ok": True, "stopped": True}
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
