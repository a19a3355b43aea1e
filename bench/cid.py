"""Throughput of content ids and the local artifact store under the unixfs-v1-2025 profile.

Hashes a deterministic file (default 256 MiB) with `cid_of_file`, adds it to a fresh LocalStore
(durable: fsync per block), reads it back verified with `get`, and, if Node and the npm package
ipfs-unixfs-importer are in .tools/node_modules, times the reference importer on the same file.

Usage: python bench/cid.py [--mib N]. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.storage.store import LocalStore  # noqa: E402
from proofwork.storage.unixfs import cid_of_file  # noqa: E402

MiB = 1 << 20
T = TypeVar("T")


def write_file(path: Path, mib: int) -> None:
    block = bytearray(hashlib.shake_256(b"proofwork-bench-cid").digest(MiB))
    with path.open("wb") as out:
        for i in range(mib):
            block[:8] = i.to_bytes(8, "big")
            out.write(block)
        out.write(b"\x01")


def timed(label: str, fn: Callable[[], T], size: int) -> tuple[T, float]:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    rate = size / MiB / seconds
    print(f"{label:<28} {seconds:7.2f} s  {rate:8.0f} MiB/s", file=sys.stderr)
    return result, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="file size in MiB (plus one byte)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="proofwork-bench-cid-") as tmp:
        src = Path(tmp) / "artifact.bin"
        write_file(src, args.mib)
        size = src.stat().st_size
        cid, cid_rate = timed("cid_of_file", lambda: cid_of_file(src), size)
        store = LocalStore(Path(tmp) / "store")
        added, add_rate = timed("LocalStore.add_file (fsync)", lambda: store.add_file(src), size)
        _, get_rate = timed(
            "LocalStore.get (verified)", lambda: store.get(str(added), Path(tmp) / "out"), size
        )
        assert added == cid and (Path(tmp) / "out").stat().st_size == size
        node = shutil.which("node")
        modules = ROOT / ".tools" / "node_modules"
        ref_rate = None
        if node and (modules / "ipfs-unixfs-importer").is_dir():
            script = ROOT / "tests" / "unit" / "cid_reference.mjs"
            run = lambda: subprocess.run(  # noqa: E731
                [node, str(script), str(modules), str(src), "profile"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[-1]
            ref_cid, ref_rate = timed("ipfs-unixfs-importer (node)", run, size)
            assert ref_cid == cid, (ref_cid, cid)
    print(
        json.dumps(
            {
                "bytes": size,
                "cid": cid,
                "cid_mib_s": round(cid_rate),
                "local_add_mib_s": round(add_rate),
                "local_get_mib_s": round(get_rate),
                "reference_mib_s": None if ref_rate is None else round(ref_rate),
                "matches_reference": ref_rate is not None,
            }
        )
    )


if __name__ == "__main__":
    main()
