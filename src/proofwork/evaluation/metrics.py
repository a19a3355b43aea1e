"""Deterministic fixed-point scores: scikit-learn metrics, validated inputs, one integer out.

`score` returns round(metric * 10**6) (see `domain.evalspec.to_fixed`), so every oracle that
runs the same predictions against the same labels reports the same integer. Inputs are
copied into fresh contiguous float64 / int64 arrays before any arithmetic, per-group values
(ndcg) are summed with `math.fsum`, and accuracy is an exact count ratio.

Bad predictions (length mismatch, NaN or infinite values, probabilities outside [0, 1] or not
summing to 1, labels that are not classes) raise EvaluationFailed with a one-line reason;
bad labels (the task owner's data) raise InvalidInput.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from proofwork.domain.errors import EvaluationFailed, InvalidInput
from proofwork.domain.evalspec import EvalSpec, to_fixed

PROBABILITY_SUM_TOLERANCE = 1e-3  # float32 model outputs sum to 1 within ~1e-6
PROBABILITY_RANGE_TOLERANCE = 1e-6


def score(
    spec: EvalSpec,
    predictions: Any,
    labels: Any,
    rows: Sequence[int] | None = None,
    *,
    groups: Any = None,
    classes: Sequence[Any] | None = None,
) -> int:
    """The fixed-point value of `spec.metric` for `predictions` against `labels`.

    `rows` restricts scoring to those row indices (a public or private split). Ranking needs
    `groups` (one query id per row). Classification uses `classes` (in probability-column
    order) if given, else `spec.classes`, else the sorted distinct labels over all rows.
    """
    preds = np.asarray(predictions)
    truth = np.asarray(labels)
    if truth.ndim == 2 and truth.shape[1] == 1:
        truth = truth[:, 0]
    if truth.ndim != 1 or truth.shape[0] == 0:
        raise InvalidInput("the labels must be one non-empty column")
    if preds.ndim == 0 or preds.shape[0] != truth.shape[0]:
        got = preds.shape[0] if preds.ndim else 0
        raise EvaluationFailed(f"the predictions have {got} rows but the labels have {truth.shape[0]}")
    if preds.ndim > 2:
        raise EvaluationFailed(f"the predictions must be one row per example, got shape {preds.shape}")
    group_ids = None
    if spec.task == "ranking":
        if groups is None:
            raise InvalidInput("ranking needs the group (query id) of every row")
        group_ids = np.asarray(groups)
        if group_ids.ndim != 1 or group_ids.shape[0] != truth.shape[0]:
            raise InvalidInput("there must be exactly one group id per label")
    class_list = _class_list(spec, truth, classes) if spec.task == "classification" else None
    if rows is not None:
        index = _row_index(rows, truth.shape[0])
        preds, truth = preds[index], truth[index]
        if group_ids is not None:
            group_ids = group_ids[index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = _METRICS[spec.metric](preds, truth, class_list, group_ids)
        except (EvaluationFailed, InvalidInput):
            raise
        except ValueError as exc:
            raise EvaluationFailed(f"{spec.metric} cannot be computed: {_first_line(exc)}") from exc
    if not math.isfinite(value):
        raise EvaluationFailed(f"{spec.metric} is not a finite number for these predictions")
    return to_fixed(float(value))


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _row_index(rows: Sequence[int], n: int) -> np.ndarray:
    index = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows)
    if index.size == 0:
        raise InvalidInput("no rows to score")
    if index.ndim != 1 or index.dtype.kind not in "iu":
        raise InvalidInput("the rows to score must be integer row indices")
    index = index.astype(np.int64)
    if index.min() < 0 or index.max() >= n:
        raise InvalidInput(f"a row to score is outside 0..{n - 1}")
    if np.unique(index).size != index.size:
        raise InvalidInput("a row to score is listed twice")
    return index


# ---------------------------------------------------------------- labels and classes


def _integral(values: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(values)) and np.all(np.floor(values) == values))


def _normalise_labels(values: np.ndarray) -> np.ndarray:
    """Trusted labels as int64 (integral numbers) or str."""
    kind = values.dtype.kind
    if kind == "b":
        return values.astype(np.int64)
    if kind in "iu":
        return values.astype(np.int64)
    if kind == "f":
        if not _integral(values):
            raise InvalidInput("classification labels must be integers or strings, not fractional numbers")
        return values.astype(np.int64)
    if kind in "USO":
        if kind == "O" and not all(isinstance(v, str) for v in values.tolist()):
            raise InvalidInput("classification labels must be integers or strings")
        out = values.astype(str)
        if np.any(out == ""):
            raise InvalidInput("a classification label is empty")
        return out
    raise InvalidInput(f"classification labels of type {values.dtype} are not supported")


def _class_list(spec: EvalSpec, truth: np.ndarray, classes: Sequence[Any] | None) -> np.ndarray:
    labels = _normalise_labels(truth)
    if classes is None:
        classes = spec.classes
    if classes is None:
        return np.unique(labels)
    out = np.asarray(list(classes))
    out = out.astype(np.int64) if out.dtype.kind in "iu" else out.astype(str)
    if out.dtype.kind != labels.dtype.kind:
        labels = labels.astype(str)
        out = out.astype(str)
    unknown = ~np.isin(labels, out)
    if np.any(unknown):
        raise InvalidInput(
            f"the labels hold class {labels[np.argmax(unknown)]!r}, which is not one of the task's classes"
        )
    if np.unique(out).size != out.size:
        raise InvalidInput("a class is listed twice")
    return out


def _as_classes(values: np.ndarray, classes: np.ndarray, what: str) -> np.ndarray:
    """Maps labels or predicted labels onto the dtype of `classes`; unknown ones are refused."""
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise EvaluationFailed(f"the {what} must be one label per row, got shape {values.shape}")
    kind = values.dtype.kind
    if kind == "f" and not np.all(np.isfinite(values)):
        raise EvaluationFailed(f"the {what} contain NaN or infinite values")
    if classes.dtype.kind == "i":
        if kind in "biu":
            out = values.astype(np.int64)
        elif kind == "f":
            if not _integral(values):
                raise EvaluationFailed(f"the {what} hold fractional numbers, not class labels")
            out = values.astype(np.int64)
        elif kind in "USO":
            text = values.astype(str)
            if not all(t.lstrip("-").isdigit() and len(t) < 19 for t in text.tolist()):
                bad = next(t for t in text.tolist() if not (t.lstrip("-").isdigit() and len(t) < 19))
                raise EvaluationFailed(f"the {what} hold {bad[:40]!r}, which is not one of the classes")
            out = text.astype(np.int64)
        else:
            raise EvaluationFailed(f"the {what} have an unsupported type {values.dtype}")
    else:
        if kind == "f":
            if not _integral(values):
                raise EvaluationFailed(f"the {what} hold fractional numbers, not class labels")
            values = values.astype(np.int64)
            kind = "i"
        if kind in "biuUS" or (kind == "O" and all(isinstance(v, str | int) for v in values.tolist())):
            out = values.astype(str)
        else:
            raise EvaluationFailed(f"the {what} have an unsupported type {values.dtype}")
    unknown = ~np.isin(out, classes)
    if np.any(unknown):
        bad = out[np.argmax(unknown)]
        raise EvaluationFailed(
            f"the {what} hold {str(bad)[:40]!r}, which is not one of the {classes.size} classes"
        )
    return np.ascontiguousarray(out)


def _finite_float(values: np.ndarray, what: str) -> np.ndarray:
    if values.dtype.kind not in "biuf":
        raise EvaluationFailed(f"the {what} must be numbers, got type {values.dtype}")
    out = np.array(values, dtype=np.float64, order="C", copy=True)
    if not np.all(np.isfinite(out)):
        raise EvaluationFailed(f"the {what} contain NaN or infinite values")
    return out


def _probabilities(preds: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """[N, C] float64 rows summing to 1 (binary: a [N] or [N, 1] positive-class column is accepted)."""
    p = _finite_float(preds, "probabilities")
    n_classes = classes.size
    if n_classes < 2:
        raise EvaluationFailed(
            "a probability metric needs at least two classes (declare them in the spec's classes)"
        )
    if p.ndim == 1 or p.shape[1] == 1:
        if n_classes != 2:
            raise EvaluationFailed(
                f"one probability column was given but there are {n_classes} classes: give one column per class"
            )
        p = p.reshape(-1)
        _check_range(p)
        p = np.ascontiguousarray(np.column_stack([1.0 - p, p]))
    else:
        if p.shape[1] != n_classes:
            raise EvaluationFailed(
                f"the predictions have {p.shape[1]} probability columns but there are {n_classes} classes"
            )
        _check_range(p)
        sums = p.sum(axis=1)
        worst = float(np.max(np.abs(sums - 1.0)))
        if worst > PROBABILITY_SUM_TOLERANCE:
            row = int(np.argmax(np.abs(sums - 1.0)))
            raise EvaluationFailed(f"the probabilities of row {row} sum to {float(sums[row]):.6g}, not 1")
    p = np.clip(p, 0.0, 1.0)
    return np.ascontiguousarray(p / p.sum(axis=1, keepdims=True))


def _check_range(p: np.ndarray) -> None:
    low, high = float(p.min()), float(p.max())
    if low < -PROBABILITY_RANGE_TOLERANCE or high > 1.0 + PROBABILITY_RANGE_TOLERANCE:
        bad = low if low < 0 else high
        raise EvaluationFailed(f"the predictions hold the probability {bad:.6g}, outside [0, 1]")


# ---------------------------------------------------------------- metrics


def _accuracy(preds: np.ndarray, truth: np.ndarray, classes: Any, groups: Any) -> float:
    from sklearn.metrics import accuracy_score

    y_true = _as_classes(truth, classes, "labels")
    y_pred = _as_classes(preds, classes, "predictions")
    return float(accuracy_score(y_true, y_pred))


def _macro_f1(preds: np.ndarray, truth: np.ndarray, classes: Any, groups: Any) -> float:
    from sklearn.metrics import f1_score

    y_true = _as_classes(truth, classes, "labels")
    y_pred = _as_classes(preds, classes, "predictions")
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def _roc_auc(preds: np.ndarray, truth: np.ndarray, classes: Any, groups: Any) -> float:
    from sklearn.metrics import roc_auc_score

    y_true = _as_classes(truth, classes, "labels")
    p = _probabilities(preds, classes)
    present = np.unique(y_true)
    if classes.size == 2:
        if present.size < 2:
            raise EvaluationFailed("roc_auc is undefined: the scored labels hold only one class")
        positive = np.ascontiguousarray((y_true == classes[1]).astype(np.int64))
        return float(roc_auc_score(positive, np.ascontiguousarray(p[:, 1])))
    if present.size < classes.size:
        raise EvaluationFailed("roc_auc is undefined: some classes do not occur among the scored labels")
    return float(roc_auc_score(y_true, p, multi_class="ovr", average="macro", labels=classes))


def _log_loss(preds: np.ndarray, truth: np.ndarray, classes: Any, groups: Any) -> float:
    from sklearn.metrics import log_loss

    y_true = _as_classes(truth, classes, "labels")
    p = _probabilities(preds, classes)
    order = np.argsort(classes, kind="stable")  # log_loss reads columns in sorted-label order
    return float(log_loss(y_true, np.ascontiguousarray(p[:, order]), labels=classes[order]))


def _regression_inputs(preds: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if preds.ndim == 2:
        if preds.shape[1] != 1:
            raise EvaluationFailed(f"the predictions must be one value per row, got {preds.shape[1]} columns")
        preds = preds[:, 0]
    y_pred = _finite_float(preds, "predictions")
    if truth.dtype.kind not in "biuf":
        raise InvalidInput("regression labels must be numbers")
    y_true = np.array(truth, dtype=np.float64, order="C", copy=True)
    if not np.all(np.isfinite(y_true)):
        raise InvalidInput("the labels contain NaN or infinite values")
    return y_pred, y_true


def _rmse(preds: np.ndarray, truth: np.ndarray, classes: Any, groups: Any) -> float:
    from sklearn.metrics import root_mean_squared_error

    y_pred, y_true = _regression_inputs(preds, truth)
    return float(root_mean_squared_error(y_true, y_pred))


def _mae(preds: np.ndarray, truth: np.ndarray, classes: Any, groups: Any) -> float:
    from sklearn.metrics import mean_absolute_error

    y_pred, y_true = _regression_inputs(preds, truth)
    return float(mean_absolute_error(y_true, y_pred))


def _r2(preds: np.ndarray, truth: np.ndarray, classes: Any, groups: Any) -> float:
    from sklearn.metrics import r2_score

    y_pred, y_true = _regression_inputs(preds, truth)
    if y_true.size < 2:
        raise EvaluationFailed("r2 needs at least two scored rows")
    return float(r2_score(y_true, y_pred))


def _ndcg(preds: np.ndarray, truth: np.ndarray, classes: Any, groups: Any) -> float:
    """Mean over queries (sorted query ids) of sklearn's ndcg_score; a one-document query scores
    1 if it is relevant, else 0 (sklearn's value for an all-irrelevant query)."""
    from sklearn.metrics import ndcg_score

    y_pred, y_true = _regression_inputs(preds, truth)
    if np.any(y_true < 0):
        raise InvalidInput("ranking relevance labels must not be negative")
    group_ids = np.asarray(groups)
    if group_ids.dtype.kind == "f" and not np.all(np.isfinite(group_ids)):
        raise InvalidInput("a group id is NaN")
    keys, inverse = np.unique(group_ids, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(keys.size + 1))
    values = []
    for g in range(keys.size):
        members = order[bounds[g] : bounds[g + 1]]
        rel = np.ascontiguousarray(y_true[members])
        if members.size == 1:
            values.append(1.0 if rel[0] > 0 else 0.0)
            continue
        values.append(float(ndcg_score(rel[None, :], np.ascontiguousarray(y_pred[members])[None, :])))
    return math.fsum(values) / len(values)


_METRICS = {
    "accuracy": _accuracy,
    "macro_f1": _macro_f1,
    "roc_auc": _roc_auc,
    "log_loss": _log_loss,
    "rmse": _rmse,
    "mae": _mae,
    "r2": _r2,
    "ndcg": _ndcg,
}
