"""Compute-to-data vs the evaluation sandbox alone, on one ONNX model and one private dataset of 10,000 rows.

    .venv/bin/python bench/compute_to_data.py [--runs 9] [--rows 10000] [--trees 100]

On the embedded chain in a fresh data directory: a dataset (scikit-learn's digits tiled and jittered to
the row count, 64 features and the label, CSV) registered encrypted, a compute licence offered and bought.
The model: a RandomForest exported with skl2onnx (as bench/sandbox.py). Both paths share one warm sandbox
and are timed alternately, N runs each, medians compared:
  (a) the evaluation alone: `Evaluator.evaluate` on the plaintext file (a fresh evaluator each run, as a
      node scoring a new submission: features read, model checked and run in the sandbox, metric);
  (b) compute-to-data: `ComputeNode.serve` on a fresh signed request (the signature and the licence
      checked on chain, the replay record, the dataset decrypted from the store, the same evaluation,
      the result signed).
Prints human lines, then as its LAST line one JSON object: `compute_to_data_ratio` = (b) / (a) (target
<= 1.5), `compute_to_data_s` and `evaluation_s` (medians, seconds) and the raw runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.evaluation.runner import Evaluator  # noqa: E402
from proofwork.evaluation.sandbox import Sandbox  # noqa: E402
from proofwork.sdk import Proofwork  # noqa: E402
from proofwork.services.compute_to_data import ComputeNode, _spec, make_request  # noqa: E402

TARGET = 1.5
PARAMS = {"metric": "accuracy", "label_column": "label", "input": "input", "output": "label"}


def build(rows: int, trees: int, workdir: Path) -> tuple[bytes, Path]:
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
    rng = np.random.default_rng(0)
    reps = rows // len(x) + 1
    features = np.tile(x, (reps, 1))[:rows] + rng.normal(0, 0.5, (rows, x.shape[1])).astype(np.float32)
    labels = np.tile(y, reps)[:rows]
    path = workdir / "digits.csv"
    header = ",".join([*(f"pixel{i}" for i in range(x.shape[1])), "label"])
    body = "\n".join(
        ",".join(f"{v:.4f}" for v in row) + f",{int(t)}" for row, t in zip(features, labels, strict=True)
    )
    path.write_text(header + "\n" + body + "\n")
    return bytes(model.SerializeToString()), path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="proofwork-bench-c2d-") as tmp:
        workdir = Path(tmp)
        model, data = build(args.rows, args.trees, workdir)
        model_path = workdir / "model.onnx"
        model_path.write_bytes(model)
        with Proofwork.open(workdir / "data") as pw, Sandbox() as sandbox:
            pw.deploy("dev0", treasury=pw.address("dev9"))
            pw.fund(pw.address("dev1"), pw.amount("1000"))
            pw.assets.deploy("dev0")
            manifest, key = pw.assets.manifest(
                [data], kind="dataset", name="digits", license="CC-BY-4.0", encrypt=True
            )
            dataset = pw.assets.register("dev3", manifest, key=key)
            offer = pw.assets.offer("dev3", dataset.asset_id, price=pw.amount("1"), kind="compute")
            licence = pw.assets.buy("dev1", offer)
            buyer = pw.signer("dev1")
            node = ComputeNode(pw.ws, sandbox)
            spec = _spec(dict(PARAMS), dataset.manifest_cid)
            print(
                f"model: RandomForest, {args.trees} trees, {len(model) / 1e6:.1f} MB ONNX; dataset {args.rows} rows "
                f"x 64 features, {data.stat().st_size / 1e6:.1f} MB CSV, encrypted; sandbox {sandbox.isolation}"
            )

            def evaluation() -> int:
                evaluator = Evaluator(sandbox, cache_predictions=False)
                try:
                    result = evaluator.evaluate(spec, model_path, data, data)
                finally:
                    evaluator.close()
                assert result.ok and result.score is not None, result.reason
                return result.score

            def compute() -> tuple[int, float]:
                request = make_request(pw.ws, buyer, licence, model=model, params=dict(PARAMS))
                start = time.perf_counter()
                result = node.serve(request)
                return result.score, time.perf_counter() - start

            assert evaluation() == compute()[0]  # warm both paths once; the same score both ways
            plain: list[float] = []
            c2d: list[float] = []
            for _ in range(args.runs):
                start = time.perf_counter()
                evaluation()
                plain.append(time.perf_counter() - start)
                c2d.append(compute()[1])
    evaluation_s = statistics.median(plain)
    compute_s = statistics.median(c2d)
    ratio = compute_s / evaluation_s
    print(
        f"evaluation alone {evaluation_s * 1000:.0f} ms, compute-to-data {compute_s * 1000:.0f} ms "
        f"(medians of {args.runs}): ratio {ratio:.2f} (target <= {TARGET})"
    )
    out: dict[str, Any] = {
        "compute_to_data_ratio": round(ratio, 3),
        "compute_to_data_s": round(compute_s, 4),
        "evaluation_s": round(evaluation_s, 4),
        "compute_to_data_runs_s": [round(t, 4) for t in c2d],
        "evaluation_runs_s": [round(t, 4) for t in plain],
        "rows": args.rows,
        "trees": args.trees,
        "runs": args.runs,
        "target": TARGET,
        "ok": ratio <= TARGET,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
