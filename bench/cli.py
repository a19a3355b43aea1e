"""How fast the CLI answers, against the floor the framework allows, measured in one run.

Each command runs as a user runs it (a new interpreter: `python -m proofwork ...`), several times;
the figures are medians of wall time and of CPU time (user + system, from the children's rusage):

- floors: a bare `python -c pass`, and `--help` of a minimal two-command Typer app;
- `proofwork --help`;
- `job show` and `job list` on an embedded chain holding 100 jobs, and `chain status` there;
- `job show` against a running anvil node over JSON-RPC (anvil from the npm registry, as the tests use).

Goals (issue 9): `--help` at most 1.5x the minimal Typer app's; `job show` at most 1.0 s of CPU on the
embedded chain and at most 0.5 s over JSON-RPC. The last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANVIL = ROOT / ".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
JOBS = 100

MINIMAL_TYPER = """
import typer
app = typer.Typer()
@app.command()
def first() -> None: pass
@app.command()
def second() -> None: pass
app()
"""


def measure(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Median wall and CPU seconds of `argv` over RUNS runs (one warm-up run first)."""
    walls, cpus = [], []
    for i in range(RUNS + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
        if i:  # the first run warms the file cache and the bytecode cache
            walls.append(wall)
            cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return {"wall_s": round(statistics.median(walls), 4), "cpu_s": round(statistics.median(cpus), 4)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def populate(data_dir: Path, rpc_url: str | None) -> None:
    """A deployment holding JOBS jobs (dev1 pays dev2), made through the SDK."""
    from proofwork.sdk import Proofwork

    with Proofwork.open(data_dir, rpc_url) as pw:
        pw.deploy("dev0")
        client, freelancer = pw.signer("dev1"), pw.address("dev2")
        pw.fund(client.address, pw.amount("1000000"))
        for _ in range(JOBS):
            pw.jobs.post(
                client,
                budget=pw.amount("10"),
                milestones=2,
                freelancer=freelancer,
                deadline=pw.now() + 7 * 86_400,
                review_period=86_400,
            )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="proofwork-bench-cli-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROOFWORK_")}
    env["PROOFWORK_DATA_DIR"] = str(work / "embedded")
    py = sys.executable
    pw = [py, "-m", "proofwork"]
    anvil = None
    try:
        populate(work / "embedded", None)
        (work / "typer_app.py").write_text(MINIMAL_TYPER)
        figures = {
            "python_pass": measure([py, "-c", "pass"], env),
            "typer_help": measure([py, str(work / "typer_app.py"), "--help"], env),
            "help": measure([*pw, "--help"], env),
            "job_show": measure([*pw, "job", "show", str(JOBS // 2)], env),
            "job_list": measure([*pw, "job", "list"], env),
            "chain_status": measure([*pw, "chain", "status"], env),
        }
        binary = ANVIL if ANVIL.exists() else shutil.which("anvil")
        if binary is None:
            raise SystemExit(f"anvil not found at {ANVIL}: run `make anvil`")
        port = free_port()
        anvil = subprocess.Popen(
            [str(binary), "--host", "127.0.0.1", "--port", str(port), "--silent"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("anvil did not start") from None
                time.sleep(0.05)
        populate(work / "rpc", url)
        rpc_env = {**env, "PROOFWORK_DATA_DIR": str(work / "rpc"), "PROOFWORK_RPC_URL": url}
        figures["job_show_rpc"] = measure([*pw, "job", "show", str(JOBS // 2)], rpc_env)
    finally:
        if anvil is not None:
            anvil.terminate()
            anvil.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    for name, f in figures.items():
        print(f"{name:<14} wall {f['wall_s']:.3f} s   cpu {f['cpu_s']:.3f} s", file=sys.stderr)
    ratio = figures["help"]["wall_s"] / figures["typer_help"]["wall_s"]
    result = {
        "cli_help_vs_typer": round(ratio, 3),
        "cli_help_cpu_vs_typer": round(figures["help"]["cpu_s"] / figures["typer_help"]["cpu_s"], 3),
        "job_show_cpu_s": figures["job_show"]["cpu_s"],
        "job_show_rpc_cpu_s": figures["job_show_rpc"]["cpu_s"],
        "job_list_cpu_s": figures["job_list"]["cpu_s"],
        "chain_status_cpu_s": figures["chain_status"]["cpu_s"],
        "runs": RUNS,
        "jobs": JOBS,
        "figures": figures,
        "goals": {"cli_help_vs_typer": 1.5, "job_show_cpu_s": 1.0, "job_show_rpc_cpu_s": 0.5},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
