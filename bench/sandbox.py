"""Sandboxed scoring vs plain in-process onnxruntime, on a realistic model and 10,000 rows.

    .venv/bin/python bench/sandbox.py [--runs 15] [--rows 10000] [--trees 100] [--no-tmp-clone]

Builds a RandomForest (64 features: scikit-learn's bundled digits, tiled and jittered to the row
count) exported with skl2onnx, then measures the median of N runs of
  (a) in-process: onnxruntime InferenceSession(model bytes) + run on a ready float32 array, with the
      sandbox's session options (1 intra-op thread, 1 inter-op thread, sequential), and for
      reference with onnxruntime's default options;
  (b) sandboxed: Evaluator.predict through a warm Sandbox (files in, predictions out: the model
      checked and loaded in a forked child under rlimits, inside bubblewrap when available);
  (c) a tiny model's sandboxed round trip (the fixed cost of one submission).
It measures twice: from the checkout where it is, then from a copy of the checkout under /tmp
with a virtualenv of its own there (its site-packages hard-linked from this one's, or copied
across filesystems): where CI and many users clone, and where the sandbox once paid hundreds
of milliseconds per job for what was bound under /tmp.
Prints human lines, then as its LAST line one JSON object: sandbox_ratio, inprocess_ms,
sandbox_ms, overhead_ms, tiny_roundtrip_ms, isolation (and more), and the same figures from the
/tmp copy as sandbox_ratio_tmp_clone, tiny_roundtrip_ms_tmp_clone, ... Target: sandbox_ratio
<= 1.5 in both places, and the two tiny round trips close to each other.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.domain.evalspec import parse_spec  # noqa: E402
from proofwork.evaluation.runner import Evaluator  # noqa: E402
from proofwork.evaluation.sandbox import Sandbox  # noqa: E402
from proofwork.evaluation.submissions import session_options  # noqa: E402

CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
SPEC = f"""
version: 1
name: bench
task: classification
metric: accuracy
threshold: 0.9
data: {{train: {CID}, test_features: {CID}, label_column: label}}
submission: {{kind: onnx, input: input, output: label}}
limits: {{memory_mb: 1024, cpu_seconds: 60, wall_seconds: 120, max_submission_mb: 256, max_rows: 1000000}}
"""


def build(rows: int, trees: int, workdir: Path) -> tuple[bytes, np.ndarray, Path, Path, bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from onnx import TensorProto, helper
    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier

    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float32)
    forest = RandomForestClassifier(n_estimators=trees, random_state=0, n_jobs=1).fit(x, y)
    model = to_onnx(
        forest, x[:1], options={id(forest): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3}
    )
    old = model.graph.input[0].name
    model.graph.input[0].name = "input"
    for node in model.graph.node:
        node.input[:] = ["input" if v == old else v for v in node.input]
    model_bytes = model.SerializeToString()
    rng = np.random.default_rng(0)
    features = np.tile(x, (rows // len(x) + 1, 1))[:rows]
    features = np.ascontiguousarray(features + rng.normal(0, 0.5, features.shape).astype(np.float32))
    features_path = workdir / "features.parquet"
    pq.write_table(pa.table({f"pixel{i}": features[:, i] for i in range(features.shape[1])}), features_path)
    model_path = workdir / "forest.onnx"
    model_path.write_bytes(model_bytes)
    tiny = helper.make_model(
        helper.make_graph(
            [helper.make_node("ArgMax", ["input"], ["label"], axis=1, keepdims=0)],
            "tiny",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 64])],
            [helper.make_tensor_value_info("label", TensorProto.INT64, [None])],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
        ir_version=8,
    )
    return model_bytes, features, features_path, model_path, tiny.SerializeToString()


def median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def measure(args: argparse.Namespace, label: str) -> dict[str, Any]:
    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    spec = parse_spec(SPEC)
    with tempfile.TemporaryDirectory(prefix="proofwork-bench-") as tmp:
        workdir = Path(tmp)
        model_bytes, features, features_path, model_path, tiny_bytes = build(args.rows, args.trees, workdir)
        tiny_path = workdir / "tiny.onnx"
        tiny_path.write_bytes(tiny_bytes)
        print(
            f"[{label}] model: RandomForest, {args.trees} trees, {len(model_bytes) / 1e6:.1f} MB ONNX; "
            f"{args.rows} rows x 64; proofwork from {Path(sys.modules['proofwork'].__file__ or '').parent}"
        )

        def in_process(options: Any = None) -> np.ndarray:
            session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
            return session.run(["label"], {"input": features})[0]

        expected = in_process(session_options())
        in_process()  # warm both paths once
        start_sandbox = time.perf_counter()
        with Sandbox() as sandbox:
            started_ms = (time.perf_counter() - start_sandbox) * 1000
            evaluator = Evaluator(sandbox, cache_predictions=False)  # every call scores the submission
            cold_start = time.perf_counter()
            first = evaluator.predict(spec, model_path, features_path)
            cold_ms = (time.perf_counter() - cold_start) * 1000
            assert np.array_equal(first, expected), "sandboxed predictions differ from in-process ones"

            def sandboxed() -> None:
                evaluator.predict(spec, model_path, features_path)

            def tiny() -> None:
                evaluator.predict(spec, tiny_path, features_path)

            # interleave the measurements so both see the same machine load
            inproc_t, sandbox_t, default_t, tiny_t = [], [], [], []
            for _ in range(args.runs):
                inproc_t.append(median_ms(lambda: in_process(session_options()), 1)[0])
                sandbox_t.append(median_ms(sandboxed, 1)[0])
                default_t.append(median_ms(in_process, 1)[0])
                tiny_t.append(median_ms(tiny, 1)[0])
            isolation = sandbox.isolation
            confined = sandbox.confined
        inproc_ms = statistics.median(inproc_t)
        sandbox_ms = statistics.median(sandbox_t)
        default_ms = statistics.median(default_t)
        tiny_ms = statistics.median(tiny_t)
    ratio = sandbox_ms / inproc_ms
    print(
        f"[{label}] isolation: {isolation}{' (jobs confined)' if confined else ''}; "
        f"sandbox start {started_ms:.0f} ms; first (cold) predict {cold_ms:.1f} ms"
    )
    print(f"[{label}] in-process onnxruntime, sandbox session options (1 thread): median {inproc_ms:.1f} ms")
    print(
        f"[{label}] in-process onnxruntime, default options (its own thread count): median {default_ms:.1f} ms"
    )
    print(f"[{label}] sandboxed predict (warm worker, fork per job):             median {sandbox_ms:.1f} ms")
    print(
        f"[{label}] fixed cost per submission: sandboxed - in-process {sandbox_ms - inproc_ms:.1f} ms; "
        f"tiny model round trip {tiny_ms:.1f} ms"
    )
    print(
        f"[{label}] ratio sandboxed / in-process: {ratio:.2f} (target <= 1.5); "
        f"vs default options {sandbox_ms / default_ms:.2f}"
    )
    return {
        "sandbox_ratio": round(ratio, 3),
        "inprocess_ms": round(inproc_ms, 2),
        "sandbox_ms": round(sandbox_ms, 2),
        "overhead_ms": round(sandbox_ms - inproc_ms, 2),
        "tiny_roundtrip_ms": round(tiny_ms, 2),
        "inprocess_default_options_ms": round(default_ms, 2),
        "ratio_vs_default_options": round(sandbox_ms / default_ms, 3),
        "isolation": isolation,
        "checkout": str(ROOT),
    }


def _link_tree(source: Path, target: Path) -> str:
    """`source` copied to `target` as hard links (a copy across filesystems): 'linked' or 'copied'."""
    try:
        shutil.copytree(source, target, symlinks=True, copy_function=os.link)
        return "linked"
    except (shutil.Error, OSError):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)
        return "copied"


def measure_from_tmp_clone(args: argparse.Namespace) -> dict[str, Any]:
    """The same measurement, run from a copy of this checkout under /tmp with its own virtualenv
    under /tmp (what a CI clone looks like): this script runs again there, in a child process."""
    clone = Path(tempfile.mkdtemp(prefix="proofwork-bench-clone-", dir="/tmp"))
    try:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for part in ("src", "bench"):
            shutil.copytree(ROOT / part, clone / part, ignore=ignore)
        venv = clone / ".venv"
        subprocess.run(
            [os.path.realpath(sys.executable), "-m", "venv", "--without-pip", "--symlinks", str(venv)],
            check=True,
            capture_output=True,
        )
        python = venv / "bin" / "python"
        inner_paths = json.loads(
            subprocess.run(
                [str(python), "-c", "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        how = "linked"
        for key in dict.fromkeys(("purelib", "platlib")):
            source, target = Path(sysconfig.get_paths()[key]), Path(inner_paths[key])
            if target.exists() and not any(target.iterdir()):
                target.rmdir()
            if not target.exists():
                how = _link_tree(source, target)
        print(f"[/tmp clone] {clone}: src and bench copied, virtualenv site-packages {how}")
        env = {
            **os.environ,
            "PYTHONPATH": str(clone / "src"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        command = [str(python), str(clone / "bench" / "sandbox.py"), "--inner"]
        command += ["--runs", str(args.runs), "--rows", str(args.rows), "--trees", str(args.trees)]
        done = subprocess.run(command, env=env, cwd=clone, capture_output=True, text=True, check=False)
        lines = done.stdout.strip().splitlines()
        for line in lines[:-1]:
            print(line.replace("[in place]", "[/tmp clone]"))
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"the benchmark failed in the /tmp clone: {done.stderr.strip()[-2000:]}")
        return dict(json.loads(lines[-1]))
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--no-tmp-clone", action="store_true", help="measure from this checkout only")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)  # one measurement, JSON
    args = parser.parse_args()

    if args.inner:
        print(json.dumps(measure(args, "in place")))
        return
    result = measure(args, "in place")
    if not args.no_tmp_clone:
        tmp = measure_from_tmp_clone(args)
        for key in (
            "sandbox_ratio",
            "tiny_roundtrip_ms",
            "sandbox_ms",
            "inprocess_ms",
            "overhead_ms",
            "checkout",
        ):
            result[f"{key}_tmp_clone"] = tmp[key]
        print(
            f"in place: ratio {result['sandbox_ratio']:.2f}, tiny round trip {result['tiny_roundtrip_ms']:.1f} ms; "
            f"from a clone under /tmp: ratio {tmp['sandbox_ratio']:.2f}, "
            f"tiny round trip {tmp['tiny_roundtrip_ms']:.1f} ms"
        )
    result.update(rows=args.rows, runs=args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
