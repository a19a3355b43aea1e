"""The evaluation spec of a task: what to score, with which metric, against which threshold.

A spec is a small YAML or JSON document (in the spirit of a Codabench competition bundle)
parsed into a frozen `EvalSpec` with strict validation: an unknown key, a wrong type or an
out-of-range value is refused with a message naming the field. Scores are integers in
fixed point (`SCORE_SCALE` units per metric unit), so every oracle reports the same number
for the same predictions and the contracts compare integers.

Pure: nothing here reads files or the network.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

import yaml

from proofwork.domain.errors import InvalidInput

SCORE_SCALE = 10**6
MAX_SPEC_BYTES = 1 << 20

TASKS = ("classification", "regression", "ranking")
METRICS_BY_TASK: Mapping[str, tuple[str, ...]] = {
    "classification": ("accuracy", "macro_f1", "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
    "ranking": ("ndcg",),
}
_HIGHER_IS_BETTER = {
    "accuracy": True,
    "macro_f1": True,
    "roc_auc": True,
    "ndcg": True,
    "r2": True,
    "log_loss": False,
    "rmse": False,
    "mae": False,
}
METRICS = tuple(_HIGHER_IS_BETTER)
PROBABILITY_METRICS = frozenset({"roc_auc", "log_loss"})
_UNIT_INTERVAL = frozenset({"accuracy", "macro_f1", "roc_auc", "ndcg"})
SUBMISSION_KINDS = ("onnx", "predictions")
PREDICTION_FORMATS = ("csv", "parquet")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# CIDv0 (base58btc sha2-256 multihash) or CIDv1 in base32 (multibase prefix 'b').
_CID = re.compile(r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,200})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BRACKETS = re.compile(r"[\[\]{}]")

# name -> (default, low, high); every limit is an integer.
_LIMITS: Mapping[str, tuple[int, int, int]] = {
    "memory_mb": (1024, 64, 65_536),
    "cpu_seconds": (60, 1, 86_400),
    "wall_seconds": (120, 1, 86_400),
    "max_submission_mb": (256, 1, 2_047),  # a protobuf (an ONNX model) cannot exceed 2 GiB
    "max_rows": (1_000_000, 1, 100_000_000),
}


@dataclass(frozen=True)
class DataSpec:
    train: str
    test_features: str
    label_column: str
    group_column: str | None = None  # ranking: the query id column of the test features
    id_column: str | None = None  # a row id column of the test features, never fed to a model


@dataclass(frozen=True)
class SubmissionSpec:
    kind: str  # onnx | predictions
    input: str | None = None  # onnx: the model input fed float32 [N, n_features]
    output: str | None = None  # onnx: the model output that is scored
    format: str | None = None  # predictions: csv | parquet
    column: str = "prediction"  # predictions: the predicted label or value (probabilities: prob_<class>)


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024
    cpu_seconds: int = 60
    wall_seconds: int = 120
    max_submission_mb: int = 256
    max_rows: int = 1_000_000


@dataclass(frozen=True)
class SplitSpec:
    public_percent: int


@dataclass(frozen=True)
class EvalSpec:
    version: int
    name: str
    task: str
    metric: str
    threshold: float
    data: DataSpec
    submission: SubmissionSpec
    limits: Limits = Limits()
    split: SplitSpec | None = None
    # classification: the class labels in the order of probability columns (default: the sorted
    # distinct hidden labels)
    classes: tuple[int, ...] | tuple[str, ...] | None = None

    @property
    def higher_is_better(self) -> bool:
        return metric_direction(self.metric)

    @property
    def needs_probabilities(self) -> bool:
        return self.metric in PROBABILITY_METRICS

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (what `parse_spec(json.dumps(...))` reads back to an equal spec)."""
        data = {k: v for k, v in vars(self.data).items() if v is not None}
        sub = {k: v for k, v in vars(self.submission).items() if v is not None}
        if self.submission.kind == "onnx":
            sub.pop("column", None)
        out: dict[str, Any] = {
            "version": self.version,
            "name": self.name,
            "task": self.task,
            "metric": self.metric,
            "threshold": self.threshold,
            "data": data,
            "submission": sub,
            "limits": dict(vars(self.limits)),
        }
        if self.split is not None:
            out["split"] = {"public_percent": self.split.public_percent}
        if self.classes is not None:
            out["classes"] = list(self.classes)
        return out


# ---------------------------------------------------------------- parsing


_YAML_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~5x faster
MAX_NESTING = 16


class _StrictLoader(_YAML_BASE):  # type: ignore[misc,valid-type]
    """safe_load that refuses duplicate keys (aliases are refused before it runs)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                raise InvalidInput(f"invalid spec: key {key!r} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_nesting(text: str) -> None:
    """Refuses deeply nested brackets before any parser sees them (YAML parsers are quadratic there)."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_NESTING:
            raise InvalidInput("invalid spec: nested too deeply")


def _refuse_aliases(text: str) -> None:
    """No YAML aliases (*name): no billion laughs, and a spec reads as it looks."""
    depth = 0
    for event in yaml.parse(text, Loader=_YAML_BASE):
        if isinstance(event, yaml.AliasEvent):
            raise InvalidInput("invalid spec: YAML aliases (*name) are not allowed")
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise InvalidInput("invalid spec: nested too deeply")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidInput(f"invalid spec: key {key!r} appears twice")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(f"invalid spec: {name} is not a number a spec may hold")


def load_document(text: str | bytes) -> Any:
    """A spec document (JSON, or YAML without aliases, tags or duplicate keys), bounded in size and depth."""
    if isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
        if len(raw) > MAX_SPEC_BYTES:
            raise InvalidInput(f"invalid spec: larger than {MAX_SPEC_BYTES} bytes")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput("invalid spec: not UTF-8 text") from exc
    elif not isinstance(text, str):
        raise InvalidInput("invalid spec: expected text or bytes")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        raise InvalidInput(f"invalid spec: larger than {MAX_SPEC_BYTES} bytes")
    if "\x00" in text:
        raise InvalidInput("invalid spec: contains a NUL character")
    stripped = text.lstrip()
    if not stripped:
        raise InvalidInput("invalid spec: the document is empty")
    _check_nesting(text)
    if stripped.startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"invalid spec: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        except RecursionError as exc:
            raise InvalidInput("invalid spec: nested too deeply") from exc
    try:
        _refuse_aliases(text)
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark is not None else ""
        raise InvalidInput(f"invalid spec: not valid YAML ({exc.problem}{where})") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput("invalid spec: not valid YAML") from exc
    except RecursionError as exc:
        raise InvalidInput("invalid spec: nested too deeply") from exc


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class SpecFields:
    """Reads one mapping of a spec, remembering which keys were used (`finish` refuses the others)."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            where = f"field {path!r}" if path else "the spec"
            raise InvalidInput(f"invalid spec: {where} must be a mapping, got {_show(value)}")
        for key in value:
            if not isinstance(key, str):
                raise InvalidInput(f"invalid spec: key {_show(key)} in {path or 'the spec'} is not a string")
        self.value: dict[str, Any] = value
        self.path = path
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.value

    def get(self, key: str, required: bool = True) -> Any:
        self.used.add(key)
        if key not in self.value:
            if required:
                raise InvalidInput(f"invalid spec: field {self.name(key)!r} is missing")
            return None
        return self.value[key]

    def text(self, key: str, required: bool = True, choices: Sequence[str] = ()) -> str | None:
        value = self.get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(
                f"invalid spec: field {self.name(key)!r} must be a non-empty string, got {_show(value)}"
            )
        if choices and value not in choices:
            raise InvalidInput(
                f"invalid spec: field {self.name(key)!r} must be one of {', '.join(choices)}, got {_show(value)}"
            )
        return value

    def column(self, key: str, required: bool = True) -> str | None:
        value = self.text(key, required)
        if value is not None and (len(value) > 256 or _CONTROL.search(value)):
            raise InvalidInput(
                f"invalid spec: field {self.name(key)!r} must be a column name (at most 256 printable characters)"
            )
        return value

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self.get(key, required=default is None)
        if value is None:
            assert default is not None
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(
                f"invalid spec: field {self.name(key)!r} must be an integer from {low} to {high}, got {_show(value)}"
            )
        return value

    def forbid(self, key: str, why: str) -> None:
        if key in self.value:
            raise InvalidInput(f"invalid spec: field {self.name(key)!r} is not allowed {why}")

    def finish(self) -> None:
        unknown = sorted(set(self.value) - self.used)
        if unknown:
            names = ", ".join(repr(self.name(k)) for k in unknown)
            raise InvalidInput(f"invalid spec: unknown field {names}")


def cid_field(fields: SpecFields, key: str) -> str:
    value = fields.text(key)
    assert value is not None
    if not _CID.match(value):
        raise InvalidInput(
            f"invalid spec: field {fields.name(key)!r} must be an IPFS CID (Qm... or b...), got {_show(value)}"
        )
    return value


def _threshold(value: Any, metric: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"invalid spec: field 'threshold' must be a number, got {_show(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput("invalid spec: field 'threshold' must be a finite number")
    if abs(number) >= 1e15:
        raise InvalidInput("invalid spec: field 'threshold' is out of range")
    if Decimal(repr(number)) != Decimal(to_fixed(number)) / SCORE_SCALE:
        raise InvalidInput("invalid spec: field 'threshold' has more than 6 decimal places")
    if metric in _UNIT_INTERVAL and not 0.0 <= number <= 1.0:
        raise InvalidInput(
            f"invalid spec: field 'threshold' must be between 0 and 1 for {metric}, got {_show(value)}"
        )
    if metric in ("log_loss", "rmse", "mae") and number < 0:
        raise InvalidInput(f"invalid spec: field 'threshold' must not be negative for {metric}")
    if metric == "r2" and number > 1.0:
        raise InvalidInput("invalid spec: field 'threshold' must be at most 1 for r2")
    return number


def _classes(value: Any) -> tuple[int, ...] | tuple[str, ...]:
    if not isinstance(value, list) or not 2 <= len(value) <= 100_000:
        raise InvalidInput("invalid spec: field 'classes' must be a list of 2 to 100000 class labels")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        ints = tuple(int(v) for v in value)
        if any(abs(v) >= 2**63 for v in ints):
            raise InvalidInput("invalid spec: field 'classes' holds an integer outside the int64 range")
        out: tuple[int, ...] | tuple[str, ...] = ints
    elif all(isinstance(v, str) and v and len(v) <= 256 and not _CONTROL.search(v) for v in value):
        out = tuple(str(v) for v in value)
    else:
        raise InvalidInput("invalid spec: field 'classes' must hold only integers or only non-empty strings")
    if len(set(out)) != len(out):
        raise InvalidInput("invalid spec: field 'classes' lists a class twice")
    return out


def parse_spec(text: str | bytes) -> EvalSpec:
    """Parses and validates a task spec (YAML or JSON); every problem is an InvalidInput naming the field."""
    top = SpecFields(load_document(text), "")
    version = top.get("version")
    if isinstance(version, bool) or version != 1:
        raise InvalidInput(f"invalid spec: field 'version' must be 1, got {_show(version)}")
    name = top.text("name")
    assert name is not None
    if not _NAME.match(name):
        raise InvalidInput(
            "invalid spec: field 'name' must be 1-100 letters, digits, '.', '_' or '-' starting with a letter or digit"
        )
    task = top.text("task", choices=TASKS)
    assert task is not None
    metric = top.text("metric", choices=METRICS)
    assert metric is not None
    if metric not in METRICS_BY_TASK[task]:
        raise InvalidInput(
            f"invalid spec: metric {metric!r} does not fit a {task} task (use {', '.join(METRICS_BY_TASK[task])})"
        )
    threshold = _threshold(top.get("threshold"), metric)

    d = SpecFields(top.get("data"), "data")
    train = cid_field(d, "train")
    test_features = cid_field(d, "test_features")
    label_column = d.column("label_column")
    assert label_column is not None
    if task == "ranking":
        group_column = d.column("group_column")
    else:
        d.forbid("group_column", "outside a ranking task")
        group_column = None
    id_column = d.column("id_column", required=False)
    named = [c for c in (label_column, group_column, id_column) if c is not None]
    if len(set(named)) != len(named):
        raise InvalidInput(
            "invalid spec: data.label_column, data.group_column and data.id_column must differ"
        )
    d.finish()
    data = DataSpec(train, test_features, label_column, group_column, id_column)

    s = SpecFields(top.get("submission"), "submission")
    kind = s.text("kind", choices=SUBMISSION_KINDS)
    if kind == "onnx":
        s.forbid("format", "for an onnx submission")
        s.forbid("column", "for an onnx submission")
        submission = SubmissionSpec("onnx", input=s.column("input"), output=s.column("output"))
    else:
        s.forbid("input", "for a predictions submission")
        s.forbid("output", "for a predictions submission")
        fmt = s.text("format", choices=PREDICTION_FORMATS)
        column = s.column("column", required=False) or "prediction"
        submission = SubmissionSpec("predictions", format=fmt, column=column)
    s.finish()

    limits = Limits()
    if top.has("limits"):
        lim = SpecFields(top.get("limits"), "limits")
        limits = Limits(
            **{k: lim.integer(k, low, high, default) for k, (default, low, high) in _LIMITS.items()}
        )
        lim.finish()

    split = None
    if top.has("split"):
        sp = SpecFields(top.get("split"), "split")
        split = SplitSpec(sp.integer("public_percent", 1, 99))
        sp.finish()

    classes = None
    if top.has("classes"):
        if task != "classification":
            raise InvalidInput("invalid spec: field 'classes' is only allowed for a classification task")
        classes = _classes(top.get("classes"))
    top.finish()
    return EvalSpec(1, name, task, metric, threshold, data, submission, limits, split, classes)


# ---------------------------------------------------------------- fixed point and thresholds


def metric_direction(metric: str) -> bool:
    """True when a higher value of `metric` is better (accuracy), False when lower is (rmse)."""
    try:
        return _HIGHER_IS_BETTER[metric]
    except KeyError:
        raise InvalidInput(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)}") from None


def to_fixed(x: float) -> int:
    """round(x * 10**6), halves away from zero, computed exactly from the float's shortest repr.

    0.9 -> 900000, 0.0000005 -> 1, -0.0000005 -> -1. Refuses NaN and infinities.
    """
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise InvalidInput(f"a score must be a number, got {_show(x)}")
    if isinstance(x, int):
        return x * SCORE_SCALE
    if not math.isfinite(x):
        raise InvalidInput(f"a score must be finite, got {x!r}")
    scaled = Decimal(repr(float(x))).scaleb(6)
    try:
        return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=Context(prec=400)))
    except InvalidOperation:
        raise InvalidInput(f"a score must be a finite number of sensible size, got {x!r}") from None


def threshold_fixed(spec: EvalSpec) -> int:
    return to_fixed(spec.threshold)


def passes(spec: EvalSpec, score_fixed: int) -> bool:
    """Whether a fixed-point score meets the spec's threshold in the metric's direction."""
    threshold = threshold_fixed(spec)
    return score_fixed >= threshold if metric_direction(spec.metric) else score_fixed <= threshold


# ---------------------------------------------------------------- public / private rows

MIN_SALT_BYTES = 16


def split_rows(n_rows: int, salt: bytes, public_percent: int) -> tuple[list[int], list[int]]:
    """Splits rows 0..n_rows-1 into (public, private), deterministically from a secret salt.

    Row i is public iff the first 8 bytes of sha256(salt || i as 8 big-endian bytes), as an
    integer, are below `public_percent` modulo 100. Without the salt nobody can tell which
    rows are public; with it anyone can recompute the split.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or not 0 <= n_rows < 2**63:
        raise InvalidInput(f"the row count must be a non-negative integer, got {_show(n_rows)}")
    if not isinstance(salt, bytes | bytearray) or len(salt) < MIN_SALT_BYTES:
        raise InvalidInput(f"the split salt must be at least {MIN_SALT_BYTES} random bytes")
    if (
        isinstance(public_percent, bool)
        or not isinstance(public_percent, int)
        or not 0 <= public_percent <= 100
    ):
        raise InvalidInput(
            f"the public share must be a percentage from 0 to 100, got {_show(public_percent)}"
        )
    prefix = hashlib.sha256(bytes(salt))
    public: list[int] = []
    private: list[int] = []
    for i in range(n_rows):
        h = prefix.copy()
        h.update(i.to_bytes(8, "big"))
        if int.from_bytes(h.digest()[:8], "big") % 100 < public_percent:
            public.append(i)
        else:
            private.append(i)
    return public, private
