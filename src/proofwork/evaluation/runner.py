"""Scoring one submission against a task: predictions from the sandbox, then a fixed-point metric.

`Evaluator.evaluate` never raises for a broken or hostile submission: it returns
`EvalResult(ok=False, reason=...)` and the sandbox keeps serving. Problems with the task's own
files (features, labels: trusted inputs, still validated) raise InvalidInput.

A job the sandbox itself fails (its worker died or hung) is tried again, up to MAX_TRIES times
with a fresh worker. If every try fails that way while the sandbox still runs a trivial job, the
submission is what stops it: a failure like any other (an oracle signs a failing score). Only a
sandbox that fails even the trivial job gives a transient result (an oracle abstains).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from proofwork.domain.errors import EvaluationFailed, InvalidInput
from proofwork.domain.evalspec import EvalSpec, passes
from proofwork.evaluation import submissions as subs
from proofwork.evaluation.metrics import score
from proofwork.evaluation.sandbox import JobLimits, JobResult, Sandbox, private_tempdir

MiB = 1 << 20
OUTPUT_BYTES_PER_ROW = 1024  # room for about 128 float64 values (or long string labels) per row
MAX_TRIES = 3  # of a job whose sandbox fails, each with a fresh worker
_FEATURE_CACHE = 4
_PREDICTION_CACHE = 2
_LABELS_CACHE = 2


@dataclass(frozen=True)
class EvalResult:
    ok: bool
    score: int | None
    reason: str | None
    passed: bool | None
    # the sandbox itself failed (its worker died or hung), not the submission: worth retrying,
    # and never a reason to sign a failing score
    transient: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "score": self.score, "reason": self.reason}

    @classmethod
    def failure(cls, reason: str, transient: bool = False) -> EvalResult:
        return cls(ok=False, score=None, reason=reason, passed=None, transient=transient)


@dataclass(frozen=True)
class _Features:
    npy: Path  # float32 [rows, features], written once, linked into each job
    rows: int
    columns: int
    groups: np.ndarray | None
    ids: Path | None  # the id column (int64 or text), when the spec names one the features hold


def _identity(path: Path) -> tuple[Any, ...]:
    """What identifies a file's content without reading it (not its ctime: linking a file into a
    job directory changes that)."""
    st = path.stat()
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _class_name(value: Any) -> str:
    return str(value)


class Evaluator:
    """Predicts and scores submissions through one sandbox (thread-safe, one job at a time)."""

    def __init__(self, sandbox: Sandbox, *, cache_predictions: bool = True) -> None:
        """`cache_predictions`: keep the last two submissions' predictions (or failures), so scoring
        the public and then the private rows of one submission runs it once."""
        self.sandbox = sandbox
        self.cache_predictions = cache_predictions
        self._lock = threading.RLock()
        self._cache_dir = private_tempdir("features")
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._cache_dir), True)
        self._features: OrderedDict[tuple[Any, ...], _Features] = OrderedDict()
        # submission -> predictions (and their column names), or the reason it cannot be scored
        self._predictions: OrderedDict[tuple[Any, ...], tuple[np.ndarray, list[str] | None] | str] = (
            OrderedDict()
        )
        self._labels: OrderedDict[tuple[Any, ...], tuple[np.ndarray, np.ndarray | None]] = OrderedDict()

    def close(self) -> None:
        """Removes the cached feature files (also done when the evaluator is garbage-collected)."""
        self._cleanup()

    # --- trusted inputs ----------------------------------------------------------------------------

    def _load_features(self, spec: EvalSpec, features: Path) -> _Features:
        features = Path(features)
        if not features.is_file():
            raise InvalidInput(f"no such test features file: {features}")
        key = (_identity(features), spec.data.id_column, spec.data.group_column, spec.data.label_column)
        with self._lock:
            cached = self._features.get(key)
            if cached is not None and cached.npy.exists():
                self._features.move_to_end(key)
                return cached
            table = subs.read_table(features, spec.limits.max_rows, "test features")
            exclude = (spec.data.id_column, spec.data.group_column, spec.data.label_column)
            matrix = subs.features_matrix(table, exclude)
            groups = None
            if spec.data.group_column and spec.data.group_column in table.column_names:
                groups = subs.label_values(table, spec.data.group_column, "test features")
            ids = None
            if spec.data.id_column and spec.data.id_column in table.column_names:
                ids = subs.feature_ids(table, spec.data.id_column)
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            entry = _Features(
                self._save(matrix),
                matrix.shape[0],
                matrix.shape[1],
                groups,
                self._save(ids) if ids is not None else None,
            )
            self._features[key] = entry
            while len(self._features) > _FEATURE_CACHE:
                _, old = self._features.popitem(last=False)
                old.npy.unlink(missing_ok=True)
                if old.ids is not None:
                    old.ids.unlink(missing_ok=True)
            return entry

    def _save(self, array: np.ndarray) -> Path:
        fd, name = tempfile.mkstemp(suffix=".npy", dir=self._cache_dir)
        with os.fdopen(fd, "wb") as f:
            np.save(f, array, allow_pickle=False)
        return Path(name)

    def _load_labels(self, spec: EvalSpec, labels: Path) -> tuple[np.ndarray, np.ndarray | None]:
        labels = Path(labels)
        if not labels.is_file():
            raise InvalidInput(f"no such labels file: {labels}")
        key = (_identity(labels), spec.data.label_column, spec.data.group_column, spec.limits.max_rows)
        with self._lock:
            cached = self._labels.get(key)
        if cached is None:
            cached = self._read_labels(spec, labels)
            with self._lock:
                self._labels[key] = cached
                while len(self._labels) > _LABELS_CACHE:
                    self._labels.popitem(last=False)
        return cached

    @staticmethod
    def _read_labels(spec: EvalSpec, labels: Path) -> tuple[np.ndarray, np.ndarray | None]:
        table = subs.read_table(labels, spec.limits.max_rows, "labels")
        values = subs.label_values(table, spec.data.label_column)
        groups = None
        if spec.data.group_column and spec.data.group_column in table.column_names:
            groups = subs.label_values(table, spec.data.group_column)
        if values.shape[0] == 0:
            raise InvalidInput("the labels file has no rows")
        return values, groups

    def count_rows(self, spec: EvalSpec, labels: Path) -> int:
        """Rows of a labels file (validated: it holds the spec's label column, with no empty value)."""
        values, _ = self._load_labels(spec, labels)
        return int(values.shape[0])

    # --- predictions -------------------------------------------------------------------------------

    def predict(self, spec: EvalSpec, submission: Path, features: Path) -> np.ndarray:
        """The submission's predictions for every row of `features` (EvaluationFailed if it cannot give them).

        Probability files are returned with their columns in class order (`spec.classes`, or
        the prob_<class> names sorted as numbers when they all are, else as text).
        """
        array, columns = self._predict(spec, Path(submission), Path(features))
        if columns is not None and spec.needs_probabilities:
            order = _column_order(columns, spec.classes)
            return array[:, order]
        return array.copy()

    def _predict(
        self, spec: EvalSpec, submission: Path, features: Path
    ) -> tuple[np.ndarray, list[str] | None]:
        feats = self._load_features(spec, features)
        try:
            info = submission.stat()  # through a symlink: what it names is the submission
        except FileNotFoundError:
            broken = " (a symlink to nothing)" if submission.is_symlink() else ""
            raise EvaluationFailed(f"the submission file is missing{broken}") from None
        except OSError as exc:
            raise EvaluationFailed(f"the submission file cannot be read: {exc.strerror or exc}") from None
        if not stat.S_ISREG(info.st_mode):
            raise EvaluationFailed("the submission is not a regular file")
        size = info.st_size
        max_bytes = spec.limits.max_submission_mb * MiB
        if size > max_bytes:
            raise EvaluationFailed(
                f"the submission is {size / MiB:.1f} MB, over the limit of {spec.limits.max_submission_mb} MB"
            )
        if size == 0:
            raise EvaluationFailed("the submission is empty")
        key = (spec, _identity(submission), feats.npy)
        with self._lock:
            cached = self._predictions.get(key)
            if cached is not None:
                self._predictions.move_to_end(key)
        if cached is None:
            try:
                cached = self._run(spec, submission, feats)
            except EvaluationFailed as exc:
                if getattr(exc, "transient", False):
                    raise
                cached = str(exc)  # a submission that fails, fails the same way again: scored once
            if self.cache_predictions:
                with self._lock:
                    self._predictions[key] = cached
                    while len(self._predictions) > _PREDICTION_CACHE:
                        self._predictions.popitem(last=False)
        if isinstance(cached, str):
            raise EvaluationFailed(cached)
        return cached

    def _run(self, spec: EvalSpec, submission: Path, feats: _Features) -> tuple[np.ndarray, list[str] | None]:
        max_bytes = spec.limits.max_submission_mb * MiB
        limits = JobLimits(
            memory_mb=spec.limits.memory_mb,
            cpu_seconds=spec.limits.cpu_seconds,
            wall_seconds=spec.limits.wall_seconds,
            max_output_bytes=16 * MiB + feats.rows * OUTPUT_BYTES_PER_ROW,
        )
        params: dict[str, Any] = {"max_submission_bytes": max_bytes}
        files: dict[str, Path | bytes] = {"submission": submission}
        if spec.submission.kind == "onnx":
            params.update(input=spec.submission.input, output=spec.submission.output)
            files["features.npy"] = feats.npy
        else:
            params.update(
                format=spec.submission.format,
                column=spec.submission.column,
                probabilities=spec.needs_probabilities,
                n_rows=feats.rows,
                max_rows=spec.limits.max_rows,
            )
            if spec.data.id_column:  # rows are matched by id, not by their order in the file
                if feats.ids is None:
                    raise InvalidInput(f"the test features file has no id column {spec.data.id_column!r}")
                params["id_column"] = spec.data.id_column
                files["ids.npy"] = feats.ids
        result = self._run_with_retries(spec.submission.kind, params, files, limits)
        if not result.ok or result.array is None:
            failure = EvaluationFailed(result.reason or "the submission could not be scored")
            failure.transient = result.transient  # type: ignore[attr-defined]
            raise failure
        array = result.array
        if array.ndim == 0 or array.shape[0] != feats.rows:
            raise EvaluationFailed(
                f"the submission gave {array.shape[0] if array.ndim else 0} rows for {feats.rows}"
            )
        raw_columns = result.meta.get("columns")
        columns = [str(c) for c in raw_columns] if isinstance(raw_columns, list) and array.ndim == 2 else None
        if columns is not None and len(columns) != array.shape[1]:
            raise EvaluationFailed("the predictions' column names do not match their values")
        return array, columns

    def _run_with_retries(
        self, kind: str, params: dict[str, Any], files: dict[str, Path | bytes], limits: JobLimits
    ) -> JobResult:
        """The job's result; when the sandbox fails it MAX_TRIES times in a row, a failure of the
        submission if the sandbox still serves a trivial job, else the transient failure."""
        result = self.sandbox.run(kind, params, files, limits)
        tries = 1
        while result.transient and tries < MAX_TRIES:
            result = self.sandbox.run(kind, params, files, limits)
            tries += 1
        if not result.transient or not self.sandbox.healthy():
            return result
        return JobResult(
            False,
            reason=f"the submission stopped the sandbox on {tries} tries in a row ({result.reason})",
            cpu_seconds=result.cpu_seconds,
            wall_seconds=result.wall_seconds,
        )

    # --- scoring -----------------------------------------------------------------------------------

    def evaluate(
        self,
        spec: EvalSpec,
        submission: Path,
        features: Path,
        labels: Path,
        rows: Sequence[int] | None = None,
    ) -> EvalResult:
        """Scores `submission` on the rows `rows` (default: all) of the hidden `labels`."""
        truth, label_groups = self._load_labels(spec, labels)
        feats = self._load_features(spec, features)
        if truth.shape[0] != feats.rows:
            raise InvalidInput(
                f"the labels file has {truth.shape[0]} rows but the test features have {feats.rows}"
            )
        groups = label_groups if label_groups is not None else feats.groups
        if spec.task == "ranking" and groups is None:
            raise InvalidInput(
                f"ranking needs the group column {spec.data.group_column!r} in the labels or the test features"
            )
        try:
            array, columns = self._predict(spec, Path(submission), Path(features))
            classes = None
            if spec.task == "classification":
                classes = list(spec.classes) if spec.classes is not None else _sorted_classes(truth)
                if columns is not None and spec.needs_probabilities:
                    array = array[:, _match_columns(columns, classes)]
            value = score(spec, array, truth, rows, groups=groups, classes=classes)
        except EvaluationFailed as exc:
            return EvalResult.failure(str(exc), transient=bool(getattr(exc, "transient", False)))
        return EvalResult(ok=True, score=value, reason=None, passed=passes(spec, value))


def task_rows(spec: EvalSpec, labels: Path, features: Path) -> tuple[int, int]:
    """Rows of a labels file and of a test-features file, each validated as scoring reads it
    (trusted tables: no sandbox needed)."""
    if not Path(labels).is_file():
        raise InvalidInput(f"no such labels file: {labels}")
    values, _ = Evaluator._read_labels(spec, Path(labels))
    table = subs.read_table(Path(features), spec.limits.max_rows, "test features")
    exclude = (spec.data.id_column, spec.data.group_column, spec.data.label_column)
    return int(values.shape[0]), int(subs.features_matrix(table, exclude).shape[0])


def _sorted_classes(truth: np.ndarray) -> list[Any]:
    values = np.unique(truth)
    if values.dtype.kind == "f" and np.all(np.floor(values) == values):
        values = values.astype(np.int64)
    return values.tolist()


def _match_columns(columns: list[str], classes: Sequence[Any]) -> list[int]:
    """Indices of prob_<class> for each class, in class order; any mismatch is refused."""
    names = {c[len("prob_") :]: i for i, c in enumerate(columns)}
    wanted = [_class_name(c) for c in classes]
    if sorted(names) != sorted(wanted):
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        expected = ", ".join(f"prob_{w}" for w in wanted[:8]) + (", ..." if len(wanted) > 8 else "")
        raise EvaluationFailed(f"the probability columns ({shown}) do not match the classes ({expected})")
    return [names[w] for w in wanted]


def _column_order(columns: list[str], classes: Sequence[Any] | None) -> list[int]:
    if classes is not None:
        return _match_columns(columns, classes)
    suffixes = [c[len("prob_") :] for c in columns]
    try:
        keys: list[Any] = [int(s) for s in suffixes]
    except ValueError:
        keys = suffixes
    return sorted(range(len(columns)), key=lambda i: keys[i])
