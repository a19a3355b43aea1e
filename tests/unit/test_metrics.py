"""Fixed-point metrics: each against a hand-computed or independently computed value, validated
inputs, and bit-for-bit determinism across processes."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proofwork.domain.errors import EvaluationFailed, InvalidInput
from proofwork.domain.evalspec import EvalSpec, parse_spec, to_fixed
from proofwork.evaluation.metrics import score

sys.path.insert(0, str(Path(__file__).parent))
import evaluation_fixtures as F

ROOT = Path(__file__).resolve().parents[2]


def spec(metric: str, task: str = "classification", **extra: str) -> EvalSpec:
    threshold = {"log_loss": 1.0, "rmse": 1.0, "mae": 1.0, "r2": 0.5}.get(metric, 0.5)
    return parse_spec(
        F.spec_text(
            task=task,
            metric=metric,
            threshold=threshold,
            extra_data="  group_column: query\n" if task == "ranking" else "",
            **extra,
        )
    )


# ---------------------------------------------------------------- classification


def test_accuracy_by_hand() -> None:
    assert score(spec("accuracy"), [0, 2, 2, 2], [0, 1, 2, 2]) == 750_000
    assert score(spec("accuracy"), np.array([[1], [0], [1]]), np.array([1, 1, 0])) == 333_333  # 1/3, a column
    # whole-number floats and digit strings are class labels too; classes are the labels' own
    assert score(spec("accuracy"), np.array([1.0, 0.0, 0.0]), np.array([1, 1, 0])) == 666_667
    assert score(spec("accuracy"), np.array(["1", "0", "1"]), np.array([1, 1, 0])) == 333_333
    assert (
        score(spec("accuracy"), np.array(["cat", "dog", "dog"]), np.array(["cat", "cat", "dog"])) == 666_667
    )
    # a class the labels never hold is unknown unless the spec lists it
    with pytest.raises(EvaluationFailed, match="'2', which is not one of the 2 classes"):
        score(spec("accuracy"), [0, 2], [0, 1])
    declared = parse_spec(F.spec_text(extra="classes: [0, 1, 2]\n"))
    assert score(declared, [0, 2], [0, 1]) == 500_000


def test_macro_f1_by_hand() -> None:
    # class 0: tp 1, fp 0, fn 1 -> P 1, R 1/2, F1 2/3; class 1: tp 2, fp 1, fn 0 -> P 2/3, R 1, F1 4/5
    assert score(spec("macro_f1"), [0, 1, 1, 1], [0, 0, 1, 1]) == to_fixed((2 / 3 + 4 / 5) / 2) == 733_333


def test_binary_roc_auc_by_hand_from_either_shape() -> None:
    labels = [0, 0, 1, 1]
    positive = np.array([0.1, 0.4, 0.35, 0.8])
    # positive/negative pairs ranked right: (0.35>0.1) (0.8>0.1) (0.8>0.4), wrong: (0.35<0.4) -> 3/4
    assert score(spec("roc_auc"), positive, labels) == 750_000
    assert score(spec("roc_auc"), np.column_stack([1 - positive, positive]), labels) == 750_000


def _pairwise_auc(positive_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    wins = sum((p > n) + 0.5 * (p == n) for p in positive_scores for n in negative_scores)
    return wins / (len(positive_scores) * len(negative_scores))


def test_multiclass_roc_auc_is_the_mean_one_vs_rest_auc() -> None:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 3, 60)
    raw = rng.random((60, 3)) + np.eye(3)[labels] * 0.5
    proba = raw / raw.sum(axis=1, keepdims=True)
    per_class = [_pairwise_auc(proba[labels == c, c], proba[labels != c, c]) for c in range(3)]
    assert score(spec("roc_auc"), proba, labels) == to_fixed(sum(per_class) / 3)


def test_log_loss_by_hand() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.25, 0.25, 0.5], [0.6, 0.3, 0.1]])
    labels = [0, 1, 2, 1]
    expected = -(math.log(0.7) + math.log(0.8) + math.log(0.5) + math.log(0.3)) / 4
    assert score(spec("log_loss"), proba, labels) == to_fixed(expected) == 619_235
    # binary, one positive-class column
    assert score(spec("log_loss"), np.array([0.9, 0.2]), [1, 0]) == to_fixed(
        -(math.log(0.9) + math.log(0.8)) / 2
    )


def test_classes_from_the_spec_order_probability_columns() -> None:
    s = parse_spec(F.spec_text(metric="log_loss", threshold=1.0, extra="classes: [dog, cat]\n"))
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])  # columns: dog, cat
    assert score(s, proba, np.array(["dog", "cat"])) == to_fixed(-(math.log(0.9) + math.log(0.8)) / 2)
    with pytest.raises(InvalidInput, match="not one of the task's classes"):
        score(s, proba, np.array(["dog", "cow"]))


# ---------------------------------------------------------------- regression and ranking


def test_regression_metrics_by_hand() -> None:
    labels = np.array([1.0, 2.0, 3.0, 4.0])
    predictions = np.array([1.0, 2.0, 3.0, 6.0])
    assert score(spec("rmse", "regression"), predictions, labels) == 1_000_000  # sqrt(4 / 4)
    assert score(spec("mae", "regression"), predictions, labels) == 500_000  # 2 / 4
    assert score(spec("r2", "regression"), predictions, labels) == 200_000  # 1 - 4 / 5
    assert score(spec("r2", "regression"), np.array([4.0, 3.0, 2.0, 1.0]), labels) == -3_000_000  # 1 - 20 / 5
    assert score(spec("rmse", "regression"), predictions.reshape(-1, 1), labels) == 1_000_000


def test_ndcg_per_query_averaged_by_hand() -> None:
    # query a: relevance [3, 2, 0], scores rank them 3, 0, 2 -> DCG 3 + 0 + 2/log2(4) = 4
    #          ideal order 3, 2, 0 -> IDCG 3 + 2/log2(3); query b: one relevant document -> 1
    relevance = np.array([3, 2, 0, 1])
    scores = np.array([0.9, 0.1, 0.5, 0.3])
    groups = np.array(["a", "a", "a", "b"])
    ndcg_a = 4 / (3 + 2 / math.log2(3))
    assert score(spec("ndcg", "ranking"), scores, relevance, groups=groups) == to_fixed((ndcg_a + 1) / 2)
    assert score(spec("ndcg", "ranking"), scores, relevance, rows=[0, 1, 2], groups=groups) == to_fixed(
        ndcg_a
    )
    with pytest.raises(InvalidInput, match="group"):
        score(spec("ndcg", "ranking"), scores, relevance)


def test_rows_select_what_is_scored() -> None:
    assert score(spec("accuracy"), [0, 1, 1, 0], [0, 1, 0, 1], rows=[0, 1]) == 1_000_000
    assert score(spec("accuracy"), [0, 1, 1, 0], [0, 1, 0, 1], rows=np.array([2, 3])) == 0
    for rows, message in (([], "no rows"), ([0, 0], "twice"), ([9], "outside"), ([0.5], "integer")):
        with pytest.raises(InvalidInput, match=message):
            score(spec("accuracy"), [0, 1, 1, 0], [0, 1, 0, 1], rows=rows)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("metric", "predictions", "labels", "message"),
    [
        ("accuracy", [0, 1], [0, 1, 1], "have 2 rows but the labels have 3"),
        ("accuracy", [0, 7], [0, 1], "'7', which is not one of the 2 classes"),
        ("accuracy", ["0", "x"], [0, 1], "'x', which is not one of the classes"),
        ("accuracy", [0.0, 0.5], [0, 1], "fractional"),
        ("accuracy", [0.0, math.nan], [0, 1], "NaN"),
        ("roc_auc", [0.2, math.nan], [0, 1], "NaN or infinite"),
        ("roc_auc", [0.2, 1.3], [0, 1], "probability 1.3, outside [0, 1]"),
        ("roc_auc", [-0.1, 0.3], [0, 1], "outside [0, 1]"),
        ("roc_auc", [0.2, 0.3], [1, 1], "needs at least two classes"),
        ("log_loss", [[0.5, 0.6], [0.5, 0.5]], [0, 1], "row 0 sum to 1.1, not 1"),
        (
            "log_loss",
            [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]],
            [0, 1],
            "3 probability columns but there are 2 classes",
        ),
        ("log_loss", [0.3, 0.7, 0.5], [0, 1, 2], "one probability column was given but there are 3 classes"),
        ("log_loss", [["a", "b"], ["c", "d"]], [0, 1], "must be numbers"),
    ],
)
def test_bad_classification_predictions_are_refused(
    metric: str, predictions: list, labels: list, message: str
) -> None:
    with pytest.raises(EvaluationFailed) as err:
        score(spec(metric), np.array(predictions), np.array(labels))
    assert message in str(err.value), str(err.value)


def test_bad_regression_inputs_are_refused() -> None:
    with pytest.raises(EvaluationFailed, match="NaN or infinite"):
        score(spec("rmse", "regression"), np.array([1.0, math.inf]), np.array([1.0, 2.0]))
    with pytest.raises(EvaluationFailed, match="one value per row"):
        score(spec("mae", "regression"), np.ones((2, 2)), np.array([1.0, 2.0]))
    with pytest.raises(InvalidInput, match="labels contain NaN"):
        score(spec("mae", "regression"), np.array([1.0, 2.0]), np.array([1.0, math.nan]))
    with pytest.raises(InvalidInput, match="must not be negative"):
        score(spec("ndcg", "ranking"), np.array([1.0, 2.0]), np.array([-1, 2]), groups=np.array([1, 1]))
    with pytest.raises(EvaluationFailed, match="finite"):
        score(spec("rmse", "regression"), np.array([1e308, -1e308]), np.array([-1e308, 1e308]))


# ---------------------------------------------------------------- determinism

_CHILD = """
import json, sys
import numpy as np
from proofwork.domain.evalspec import parse_spec
from proofwork.evaluation.metrics import score
data = np.load(sys.argv[1])
print(json.dumps({m: score(parse_spec(t), **inputs(m, data)) for m, t in json.loads(sys.argv[2]).items()}))
"""

TASKS = {
    "accuracy": "classification",
    "macro_f1": "classification",
    "roc_auc": "classification",
    "log_loss": "classification",
    "rmse": "regression",
    "mae": "regression",
    "r2": "regression",
    "ndcg": "ranking",
}


def inputs(metric: str, data: Any) -> dict[str, Any]:
    """The arguments of `score` for one metric, from the shared arrays."""
    if metric in ("roc_auc", "log_loss"):
        return {"predictions": data["proba"], "labels": data["labels"]}
    if metric in ("accuracy", "macro_f1"):
        return {"predictions": data["predicted"], "labels": data["labels"]}
    if metric == "ndcg":
        return {"predictions": data["scores"], "labels": data["relevance"], "groups": data["groups"]}
    return {"predictions": data[metric], "labels": data["targets"]}


def test_scores_are_identical_across_processes(tmp_path: Path) -> None:
    rng = np.random.default_rng(2024)
    n = 5_000
    labels = rng.integers(0, 4, n)
    raw = rng.random((n, 4)).astype(np.float32) + 0.3 * np.eye(4, dtype=np.float32)[labels]
    proba = raw / raw.sum(axis=1, keepdims=True)
    targets = rng.normal(10, 3, n)
    arrays = {
        "labels": labels,
        "proba": proba,
        "predicted": proba.argmax(axis=1),
        "targets": targets,
        "rmse": targets + rng.normal(0, 1, n),
        "mae": targets + rng.normal(0, 1, n),
        "r2": targets + rng.normal(0, 1, n),
        "scores": rng.random(n),
        "relevance": rng.integers(0, 4, n),
        "groups": rng.integers(0, 300, n),
    }
    np.savez(tmp_path / "data.npz", **arrays)
    texts = {
        m: F.spec_text(
            task=t, metric=m, threshold=0.5, extra_data="  group_column: q\n" if t == "ranking" else ""
        )
        for m, t in TASKS.items()
    }
    here = {m: score(parse_spec(t), **inputs(m, arrays)) for m, t in texts.items()}
    program = _CHILD.replace(
        "data = np.load", inspect.getsource(inputs).replace("Any", "object") + "\ndata = np.load"
    )
    child = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path / "data.npz"), json.dumps(texts)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONHASHSEED": "123",
            "OMP_NUM_THREADS": "2",
            "PYTHONPATH": str(ROOT / "src"),
        },
    )
    there = json.loads(child.stdout.strip().splitlines()[-1])
    assert there == here
    assert len(set(here.values())) == len(here)  # eight distinct, non-trivial scores
    # the same values in another memory layout (Fortran order, a strided view) give the same ints
    log_loss = parse_spec(texts["log_loss"])
    assert score(log_loss, np.asfortranarray(proba), labels) == here["log_loss"]
    assert score(log_loss, np.repeat(proba, 2, axis=0)[::2], labels) == here["log_loss"]
