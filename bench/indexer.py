"""Chain indexer throughput on the embedded chain (and on anvil): events fetched, decoded and stored into
SQLite per second, against raw `eth_getLogs` fetching alone from the same chain over the same blocks.

Builds a market once (cached under .cache/bench-indexer, keyed by --jobs): proofwork deployed and
N jobs posted (with a permit), submitted and approved, each job's milestones paid, about 8 events per
job over 3 blocks. Then, best of 3 each, in this process on the same open chain:
- raw: `eth_getLogs` over every contract, the indexer's chunk (2,000 blocks) at a time, logs only;
- index: a full pass of the indexer into a new SQLite file (fetch, block-hash checks, decoding,
  one transaction per chunk).
Also the rate of indexing with one-block batches (the worst case: a chain followed block by block).
Each timed run starts after a full garbage collection, so a collection of the whole heap left over by
the previous run (tens of milliseconds, at random) does not land in one side's figure.

The same market is then built on a fresh anvil node (not cached: anvil's state is not kept) and
measured the same way over JSON-RPC, unless --no-anvil or anvil is not installed (`make anvil`).

Targets (issue 12): at least 2,000 events/s into SQLite, and within 2x of raw fetching.

Usage: python bench/indexer.py [--jobs N] [--no-anvil]. Last line: one JSON object (`index_events_per_s`,
`index_vs_getlogs` = index time / raw fetch time, on the embedded chain; `anvil_...` the same on anvil).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.logs import fetch_logs  # noqa: E402
from proofwork.db.index import IndexStore  # noqa: E402
from proofwork.sdk import Proofwork  # noqa: E402
from proofwork.services.indexer import IndexOptions, deployed_contracts, index_once  # noqa: E402

ANVIL = Path(
    os.environ.get("PROOFWORK_ANVIL", ROOT / ".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
)
DAY = 86_400
TARGET_RATE = 2_000
TARGET_RATIO = 2.0


def build_market(data_dir: Path, jobs: int, rpc_url: str | None = None) -> None:
    with Proofwork.open(data_dir, rpc_url) as pw:
        pw.deploy("dev0")
        client, freelancer = pw.signer("dev1"), pw.signer("dev2")
        pw.fund(client.address, pw.amount("100000000"))
        for i in range(jobs):
            job = pw.jobs.post(
                client,
                budget=pw.amount("100"),
                milestones=2,
                deadline=pw.now() + 30 * DAY,
                review_period=3 * DAY,
                freelancer=freelancer.address,
            ).job
            pw.jobs.submit(freelancer, job.job_id, 0, (i + 1).to_bytes(32, "big"))
            pw.jobs.approve(client, job.job_id, 0)
            if (i + 1) % 100 == 0:
                print(f"  {i + 1} jobs", file=sys.stderr)


def market(jobs: int) -> Path:
    cache = ROOT / ".cache" / "bench-indexer" / f"jobs-{jobs}"
    if not (cache / "done").exists():
        shutil.rmtree(cache, ignore_errors=True)
        print(f"building a market of {jobs} jobs (cached in {cache})...", file=sys.stderr)
        build_market(cache / "data", jobs)
        (cache / "done").write_text("")
    return cache / "data"


def best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(pw: Proofwork, work: Path) -> dict[str, Any]:
    """Raw fetching and indexing over every block of the deployment, on `pw`'s chain."""
    ws = pw.ws
    chain = ws.chain
    head = chain.block_number()
    contracts, _ = deployed_contracts(ws.deployment, ws)
    addresses = [c.address for c, _ in contracts]
    first = min(c.from_block for c, _ in contracts)
    chunk = IndexOptions().chunk
    counted: list[int] = []

    def raw() -> None:
        total = 0
        for start in range(first, head + 1, chunk):
            total += len(fetch_logs(chain, addresses, start, min(head, start + chunk - 1)))
        counted.append(total)

    raw_s = best(raw)
    events = counted[-1]
    runs = iter(range(100))

    def index(batch: int) -> None:
        with IndexStore.open(work / f"index-{batch}-{next(runs)}.sqlite3") as store:
            result = index_once(ws, store, IndexOptions(chunk=batch))
        assert result.events == events, (result.events, events)

    index_s = best(lambda: index(chunk))
    small_s = best(lambda: index(1), repeat=1)
    return {
        "raw_s": raw_s,
        "index_s": index_s,
        "small_s": small_s,
        "events": events,
        "blocks": head - first + 1,
        "chunk": chunk,
    }


def report(where: str, jobs: int, m: dict[str, Any]) -> tuple[float, float, bool]:
    events, raw_s, index_s, small_s, chunk = m["events"], m["raw_s"], m["index_s"], m["small_s"], m["chunk"]
    rate = events / index_s
    ratio = index_s / raw_s
    ok = rate >= TARGET_RATE and ratio <= TARGET_RATIO
    print(f"{where}: {jobs} jobs, {events:,} events in {m['blocks']:,} blocks")
    print(f"  raw eth_getLogs ({chunk:,}-block ranges): {raw_s:.3f} s = {events / raw_s:,.0f} events/s")
    print(f"  index into SQLite ({chunk:,}-block batches): {index_s:.3f} s = {rate:,.0f} events/s")
    print(f"  index / raw fetch: {ratio:.2f}x")
    print(f"  index with one-block batches: {small_s:.3f} s = {events / small_s:,.0f} events/s")
    print(
        f"  targets >= {TARGET_RATE:,} events/s and <= {TARGET_RATIO:g}x raw fetching: "
        f"{'met' if ok else 'NOT met'}"
    )
    return rate, ratio, ok


@contextmanager
def running_anvil() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("anvil did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--no-anvil", action="store_true", help="measure the embedded chain only")
    args = parser.parse_args()
    source = market(args.jobs)
    work = Path(tempfile.mkdtemp(prefix="bench-indexer-"))
    try:
        data_dir = work / "data"
        shutil.copytree(source, data_dir, ignore=shutil.ignore_patterns("chain.lock", "index.sqlite3*"))
        with Proofwork.open(data_dir) as pw:
            embedded = measure(pw, work)
        rate, ratio, ok = report("embedded chain", args.jobs, embedded)
        events, raw_s, small_s = embedded["events"], embedded["raw_s"], embedded["small_s"]
        summary: dict[str, Any] = {
            "index_events_per_s": round(rate),
            "index_vs_getlogs": round(ratio, 3),
            "getlogs_events_per_s": round(events / raw_s),
            "index_one_block_batches_events_per_s": round(events / small_s),
            "events": events,
            "blocks": embedded["blocks"],
            "jobs": args.jobs,
            "target_met": ok,
        }
        if args.no_anvil:
            pass
        elif not ANVIL.exists():
            print(f"anvil: not measured ({ANVIL} not found: `make anvil`)")
        else:
            print(f"building the market of {args.jobs} jobs on anvil...", file=sys.stderr)
            with running_anvil() as url:
                build_market(work / "anvil", args.jobs, url)
                with Proofwork.open(work / "anvil", url) as pw:
                    on_anvil = measure(pw, work)
            a_rate, a_ratio, a_ok = report("anvil", args.jobs, on_anvil)
            summary.update(
                {
                    "anvil_index_events_per_s": round(a_rate),
                    "anvil_index_vs_getlogs": round(a_ratio, 3),
                    "anvil_getlogs_events_per_s": round(on_anvil["events"] / on_anvil["raw_s"]),
                    "anvil_index_one_block_batches_events_per_s": round(
                        on_anvil["events"] / on_anvil["small_s"]
                    ),
                    "anvil_events": on_anvil["events"],
                    "anvil_target_met": a_ok,
                }
            )
        print(json.dumps(summary))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
