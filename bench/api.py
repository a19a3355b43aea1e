"""The REST API's job listing under load: 100,000 jobs in the SQLite chain index, the real API app
(`proofwork.api.v1.create_app`) served by uvicorn on 127.0.0.1 in one process, the load from a second
process (this one) on loopback: several concurrent clients on keep-alive connections, a mix of
filters (state, client, freelancer, skill, budget ranges) and cursor pages (each client follows
`next_cursor` a few pages, then starts another query).

The database: proofwork deployed on the embedded chain, then N synthetic jobs written through the
index's real write path (`IndexStore.write_batch`, which folds each batch into the jobs projection):
`JobCreated` for every job, a payment for some, a declared skill (`SkillDeclared`) for some. Cached
under .cache/bench-api, keyed by --jobs.

Baseline, measured in the same run with the same clients: `GET /api/v1/info` (the lightest route: the
same middleware, routing and JSON response, no query). `api_vs_baseline` = job list rps / info rps.

Targets (issue 12): at least 500 requests/s with p99 under 100 ms on 100,000 jobs.

Usage: python bench/api.py [--jobs N] [--clients C] [--seconds S]. Last line: one JSON object
(`api_rps`, `api_p99_ms`, `api_vs_baseline`...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_RPS = 500
TARGET_P99_MS = 100.0
SKILLS = ("vision", "nlp/sentiment", "tabular", "audio")
CLIENTS = 50  # distinct client addresses among the synthetic jobs
BATCH = 5_000  # jobs per write_batch


def address(n: int) -> str:
    return "0x" + f"{n:040x}"


def build(data_dir: Path, jobs: int) -> None:
    """proofwork deployed on the embedded chain, then `jobs` synthetic jobs through the index's write
    path (the projection folds them)."""
    from proofwork.db.index import Checkpoint, IndexedContract, IndexStore
    from proofwork.domain.indexing import IndexedEvent
    from proofwork.sdk import Proofwork

    with Proofwork.open(data_dir) as pw:
        pw.deploy("dev0")
        ws = pw.ws
        chain_id = ws.chain_id
        escrow = ws.deployment.escrow.lower()
        token = ws.deployment.token.lower()
        head = ws.chain.block_number()
        from proofwork.chain.logs import block_hash

        head_hash = block_hash(ws.chain, head) or ""
    attester = address(0xA77E5)
    rng = random.Random(12)
    started = time.monotonic()
    with IndexStore.open(data_dir / "index.sqlite3") as store:
        checkpoint = store.begin(chain_id, Checkpoint(0, ""))
        contracts = [
            IndexedContract(escrow, "JobEscrow", "escrow", 1),
            IndexedContract(attester, "JobAttester", "job_attester", 1),
        ]
        for first in range(1, jobs + 1, BATCH):
            events: list[IndexedEvent] = []
            for job_id in range(first, min(jobs, first + BATCH - 1) + 1):
                block = 1 + (job_id - 1) * max(1, head - 1) // jobs  # spread over the chain's blocks
                tx = f"0x{job_id:064x}"
                client = address(0xC000 + job_id % CLIENTS)
                freelancer = address(0xF000 + job_id % 200) if job_id % 3 else address(0)
                budget = rng.choice((10**6, 5 * 10**6, 10**8, 10**9, 10**12, 2**70))
                created = {
                    "job_id": str(job_id),
                    "client": client,
                    "freelancer": freelancer,
                    "token": token,
                    "arbiter": address(0),
                    "deadline": str(2_000_000_000 + job_id),
                    "review_period": "259200",
                    "fee_bps": "250",
                    "spec_hash": "0x" + f"{job_id:064x}",
                    "amounts": [str(budget)],
                }
                events.append(
                    IndexedEvent(
                        block, f"0x{block:064x}", tx, 0, 0, escrow, "JobEscrow", "JobCreated", created
                    )
                )
                log = 1
                if job_id % 4 == 0:
                    skill = {"job_id": str(job_id), "client": client, "skill": SKILLS[job_id % len(SKILLS)]}
                    events.append(
                        IndexedEvent(
                            block,
                            f"0x{block:064x}",
                            tx,
                            0,
                            log,
                            attester,
                            "JobAttester",
                            "SkillDeclared",
                            skill,
                        )
                    )
                    log += 1
                if freelancer != address(0) and job_id % 5 == 0:
                    paid = {
                        "job_id": str(job_id),
                        "milestone": "0",
                        "gross": str(budget),
                        "fee": "0",
                        "reason": "0",
                    }
                    events.append(
                        IndexedEvent(
                            block, f"0x{block:064x}", tx, 0, log, escrow, "JobEscrow", "MilestonePaid", paid
                        )
                    )
            last = first + BATCH > jobs
            new = Checkpoint(head, head_hash) if last else None
            store.write_batch(chain_id, checkpoint, new, events, contracts if first == 1 else [])
            if new is not None:
                checkpoint = new
            print(f"  {min(jobs, first + BATCH - 1):,} jobs indexed", file=sys.stderr)
    print(f"built {jobs:,} jobs into the index in {time.monotonic() - started:.1f} s", file=sys.stderr)


def serve(data_dir: Path, port: int) -> None:
    """The server process: the real API app under uvicorn."""
    import uvicorn

    from proofwork.api.v1 import create_app
    from proofwork.settings import Settings

    settings = Settings.from_env(data_dir=data_dir, rpc_url=None)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the load generator (asyncio streams: keep-alive HTTP/1.1, light enough to leave the server the CPU)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def get(self, path: str) -> tuple[int, bytes]:
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        self.writer.close()


def queries(rng: random.Random) -> list[dict[str, str]]:
    mix: list[dict[str, str]] = [
        {},
        {"state": "open"},
        {"state": "active"},
        {"state": "completed"},
        {"skill": rng.choice(SKILLS)},
        {"client": address(0xC000 + rng.randrange(CLIENTS))},
        {"freelancer": address(0xF000 + rng.randrange(1, 200))},
        {"min_budget": "100000000"},
        {"min_budget": "1000000", "max_budget": "1000000000"},
        {"state": "active", "min_budget": "1000000000"},
        {"skill": rng.choice(SKILLS), "state": "open"},
    ]
    return mix


async def client_loop(
    port: int, seed: int, until: float, latencies: list[float], errors: list[int], route: str
) -> None:
    rng = random.Random(seed)
    connection = await Connection.open(port)
    try:
        while time.monotonic() < until:
            if route == "info":
                started = time.perf_counter()
                status, _ = await connection.get("/api/v1/info")
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(status)
                continue
            params = rng.choice(queries(rng))
            params = {**params, "limit": str(rng.choice((10, 20, 50)))}
            for _ in range(rng.randint(1, 5)):  # a few pages of one query
                started = time.perf_counter()
                status, body = await connection.get("/api/v1/jobs?" + urlencode(params))
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(status)
                    break
                # the page's tail (after its jobs): next_cursor, dev_mode, indexed_block, stale; read
                # without parsing every job, to leave the CPU to the server
                tail = json.loads("{" + body[body.rindex(b'"next_cursor"') :].decode())
                if tail["stale"] or tail["indexed_block"] is None:
                    errors.append(-1)  # not from a caught-up index: not what is measured
                cursor = tail["next_cursor"]
                if cursor is None or time.monotonic() >= until:
                    break
                params = {**params, "cursor": cursor}
    finally:
        connection.close()


async def load(port: int, clients: int, seconds: float, route: str) -> tuple[float, list[float], list[int]]:
    latencies: list[float] = []
    errors: list[int] = []
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(client_loop(port, i, until, latencies, errors, route) for i in range(clients)))
    return time.monotonic() - started, latencies, errors


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the API server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the API server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the server process
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve), args.port)
        return

    cache = ROOT / ".cache" / "bench-api" / f"jobs-{args.jobs}"
    if not (cache / "index.sqlite3").is_file() or not (cache / "ready").is_file():
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        build(cache, args.jobs)
        (cache / "ready").write_text("ok")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PROOFWORK_API_RATE_LIMIT": str(10**9),  # the bench is one client address: not throttled
        "PROOFWORK_RPC_URL": "",
    }
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(cache), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(port, server)
        # warm up (the app opens its workspace, the index and its SQLite connections)
        asyncio.run(load(port, args.clients, 2.0, "jobs"))
        asyncio.run(load(port, args.clients, 1.0, "info"))
        base_s, base_lat, base_err = asyncio.run(load(port, args.clients, args.seconds / 2, "info"))
        api_s, api_lat, api_err = asyncio.run(load(port, args.clients, args.seconds, "jobs"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    if not api_lat or api_err or base_err:
        raise SystemExit(f"errors under load: jobs {api_err[:5]}, info {base_err[:5]}")
    rps = len(api_lat) / api_s
    base_rps = len(base_lat) / base_s
    p50 = percentile(api_lat, 0.50) * 1000
    p99 = percentile(api_lat, 0.99) * 1000
    ok = rps >= TARGET_RPS and p99 < TARGET_P99_MS
    print(
        f"index: {args.jobs:,} jobs; {args.clients} keep-alive clients from a second process, {args.seconds:g} s"
    )
    print(
        f"GET /api/v1/jobs (filters and cursor pages): {rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    print(
        f"baseline GET /api/v1/info: {base_rps:,.0f} req/s, p99 {percentile(base_lat, 0.99) * 1000:.1f} ms;"
        f" job list / baseline: {rps / base_rps:.2f}"
    )
    print(f"targets >= {TARGET_RPS} req/s and p99 < {TARGET_P99_MS:g} ms: {'met' if ok else 'NOT met'}")
    print(
        json.dumps(
            {
                "api_rps": round(rps),
                "api_p99_ms": round(p99, 2),
                "api_p50_ms": round(p50, 2),
                "api_vs_baseline": round(rps / base_rps, 3),
                "baseline_rps": round(base_rps),
                "jobs": args.jobs,
                "clients": args.clients,
                "requests": len(api_lat),
                "target_met": ok,
            }
        )
    )


if __name__ == "__main__":
    main()
