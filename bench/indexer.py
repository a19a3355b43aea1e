"""Chain indexer throughput on the embedded chain: events fetched, decoded and stored into SQLite per
second, against raw `eth_getLogs` fetching alone from the same chain over the same blocks.

Builds a market once (cached under .cache/bench-indexer, keyed by --jobs): proofwork deployed and
N jobs posted (with a permit), submitted and approved, each job's milestones paid, about 8 events per
job over 3 blocks. Then, best of 3 each, in this process on the same open chain:
- raw: `eth_getLogs` over every contract, the indexer's chunk (2,000 blocks) at a time, logs only;
- index: a full pass of the indexer into a new SQLite file (fetch, block-hash checks, decoding,
  one transaction per chunk).
Also the rate of indexing with one-block batches (the worst case: a chain followed block by block).

Targets (issue 12): at least 2,000 events/s into SQLite, and within 2x of raw fetching.

Usage: python bench/indexer.py [--jobs N]. Last line: one JSON object (`index_events_per_s`,
`index_vs_getlogs` = index time / raw fetch time).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.logs import fetch_logs  # noqa: E402
from proofwork.db.index import IndexStore  # noqa: E402
from proofwork.sdk import Proofwork  # noqa: E402
from proofwork.services.indexer import IndexOptions, deployed_contracts, index_once  # noqa: E402

DAY = 86_400
TARGET_RATE = 2_000
TARGET_RATIO = 2.0


def build_market(data_dir: Path, jobs: int) -> None:
    with Proofwork.open(data_dir) as pw:
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
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=400)
    args = parser.parse_args()
    source = market(args.jobs)
    work = Path(tempfile.mkdtemp(prefix="bench-indexer-"))
    try:
        data_dir = work / "data"
        shutil.copytree(source, data_dir, ignore=shutil.ignore_patterns("chain.lock", "index.sqlite3*"))
        with Proofwork.open(data_dir) as pw:
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
        rate = events / index_s
        ratio = index_s / raw_s
        print(f"market: {args.jobs} jobs, {events:,} events in {head - first + 1:,} blocks")
        print(f"raw eth_getLogs ({chunk:,}-block ranges): {raw_s:.3f} s = {events / raw_s:,.0f} events/s")
        print(f"index into SQLite ({chunk:,}-block batches): {index_s:.3f} s = {rate:,.0f} events/s")
        print(f"index / raw fetch: {ratio:.2f}x")
        print(f"index with one-block batches: {small_s:.3f} s = {events / small_s:,.0f} events/s")
        ok = rate >= TARGET_RATE and ratio <= TARGET_RATIO
        print(
            f"targets >= {TARGET_RATE:,} events/s and <= {TARGET_RATIO:g}x raw fetching: "
            f"{'met' if ok else 'NOT met'}"
        )
        print(
            json.dumps(
                {
                    "index_events_per_s": round(rate),
                    "index_vs_getlogs": round(ratio, 3),
                    "getlogs_events_per_s": round(events / raw_s),
                    "index_one_block_batches_events_per_s": round(events / small_s),
                    "events": events,
                    "blocks": head - first + 1,
                    "jobs": args.jobs,
                    "target_met": ok,
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
