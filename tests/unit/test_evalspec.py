"""Task specs: strict parsing, fixed-point scores and thresholds, the public/private row split."""

from __future__ import annotations

import json
import math

import pytest

from proofwork.domain.errors import InvalidInput
from proofwork.domain.evalspec import (
    SCORE_SCALE,
    EvalSpec,
    Limits,
    metric_direction,
    parse_spec,
    passes,
    split_rows,
    threshold_fixed,
    to_fixed,
)

CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
CID_V0 = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"

GOOD_YAML = f"""
version: 1
name: digits-classifier
task: classification        # classification | regression | ranking
metric: accuracy
threshold: 0.9
data:
  train: {CID}
  test_features: {CID_V0}
  label_column: label
submission:
  kind: onnx
  input: input
  output: label
limits: {{memory_mb: 512, cpu_seconds: 30, wall_seconds: 60, max_submission_mb: 64, max_rows: 5000}}
split: {{public_percent: 30}}
"""


def good() -> dict:
    return {
        "version": 1,
        "name": "house-prices",
        "task": "regression",
        "metric": "rmse",
        "threshold": 25000.5,
        "data": {"train": CID, "test_features": CID, "label_column": "price", "id_column": "id"},
        "submission": {"kind": "predictions", "format": "parquet", "column": "price_hat"},
    }


def test_parses_the_documented_yaml() -> None:
    spec = parse_spec(GOOD_YAML)
    assert spec.name == "digits-classifier" and spec.task == "classification" and spec.metric == "accuracy"
    assert spec.threshold == 0.9 and threshold_fixed(spec) == 900_000
    assert spec.data.train == CID and spec.data.test_features == CID_V0 and spec.data.label_column == "label"
    assert (
        spec.submission.kind == "onnx"
        and spec.submission.input == "input"
        and spec.submission.output == "label"
    )
    assert spec.limits == Limits(512, 30, 60, 64, 5000)
    assert spec.split is not None and spec.split.public_percent == 30
    assert spec.higher_is_better and not spec.needs_probabilities
    assert parse_spec(GOOD_YAML.encode()) == spec


def test_parses_json_with_defaults() -> None:
    spec = parse_spec(json.dumps(good()))
    assert spec.limits == Limits()  # memory 1024 MB, 60 s CPU, 120 s wall, 256 MB, 1M rows
    assert spec.submission.format == "parquet" and spec.submission.column == "price_hat"
    assert spec.data.id_column == "id" and spec.split is None and spec.classes is None
    assert not spec.higher_is_better and threshold_fixed(spec) == 25_000_500_000
    # a spec survives a round trip through its plain-data form
    assert parse_spec(json.dumps(spec.to_dict())) == spec
    assert parse_spec(json.dumps(parse_spec(GOOD_YAML).to_dict())) == parse_spec(GOOD_YAML)


def test_ranking_and_classes() -> None:
    doc = good() | {"task": "ranking", "metric": "ndcg", "threshold": 0.7}
    doc["data"] = doc["data"] | {"group_column": "query"}
    assert parse_spec(json.dumps(doc)).data.group_column == "query"
    classified = good() | {
        "task": "classification",
        "metric": "log_loss",
        "threshold": 0.3,
        "classes": ["cat", "dog"],
    }
    spec = parse_spec(json.dumps(classified))
    assert spec.classes == ("cat", "dog") and spec.needs_probabilities
    assert parse_spec(json.dumps(classified | {"classes": [0, 1, 2]})).classes == (0, 1, 2)


def _with(path: str, value: object) -> str:
    doc = good()
    target = doc
    *parents, leaf = path.split(".")
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[leaf]
    else:
        target[leaf] = value
    return json.dumps(doc)


_DELETE = object()

BAD = [
    ("unknown top-level key", _with("owner", "me"), "unknown field 'owner'"),
    ("unknown nested key", _with("data.extra", "x"), "unknown field 'data.extra'"),
    ("missing field", _with("metric", _DELETE), "field 'metric' is missing"),
    ("missing nested field", _with("data.label_column", _DELETE), "'data.label_column' is missing"),
    ("version", _with("version", 2), "field 'version' must be 1"),
    ("version as bool", _with("version", True), "field 'version' must be 1"),
    ("unknown task", _with("task", "clustering"), "field 'task' must be one of"),
    ("unknown metric", _with("metric", "bleu"), "field 'metric' must be one of"),
    ("metric of another task", _with("metric", "accuracy"), "does not fit a regression task"),
    ("threshold as text", _with("threshold", "high"), "field 'threshold' must be a number"),
    ("threshold as bool", _with("threshold", True), "field 'threshold' must be a number"),
    ("negative rmse threshold", _with("threshold", -1), "must not be negative"),
    ("threshold precision", _with("threshold", 0.1234567), "more than 6 decimal places"),
    ("name", _with("name", "../etc"), "field 'name'"),
    ("empty name", _with("name", ""), "field 'name' must be a non-empty string"),
    ("bad CID", _with("data.train", "not-a-cid"), "field 'data.train' must be an IPFS CID"),
    (
        "CID as number",
        _with("data.test_features", 12),
        "field 'data.test_features' must be a non-empty string",
    ),
    ("data not a mapping", _with("data", ["a"]), "field 'data' must be a mapping"),
    ("group column outside ranking", _with("data.group_column", "q"), "'data.group_column' is not allowed"),
    ("same column twice", _with("data.id_column", "price"), "must differ"),
    ("control characters", _with("data.label_column", "a\nb"), "column name"),
    ("unknown submission kind", _with("submission.kind", "docker"), "field 'submission.kind' must be one of"),
    ("onnx field on predictions", _with("submission.input", "x"), "'submission.input' is not allowed"),
    ("unknown format", _with("submission.format", "xlsx"), "field 'submission.format' must be one of"),
    (
        "memory as text",
        _with("limits", {"memory_mb": "1GB"}),
        "'limits.memory_mb' must be an integer from 64",
    ),
    ("memory too small", _with("limits", {"memory_mb": 10}), "'limits.memory_mb' must be an integer"),
    ("cpu as float", _with("limits", {"cpu_seconds": 1.5}), "'limits.cpu_seconds' must be an integer"),
    ("cpu as bool", _with("limits", {"cpu_seconds": True}), "'limits.cpu_seconds' must be an integer"),
    ("submission too large", _with("limits", {"max_submission_mb": 4096}), "'limits.max_submission_mb'"),
    ("unknown limit", _with("limits", {"gpus": 1}), "unknown field 'limits.gpus'"),
    (
        "public share 100",
        _with("split", {"public_percent": 100}),
        "'split.public_percent' must be an integer from 1 to 99",
    ),
    ("classes outside classification", _with("classes", [0, 1]), "only allowed for a classification task"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_refuses_bad_specs_naming_the_field(case: str, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match="invalid spec") as err:
        parse_spec(text)
    assert message in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_refuses_bad_thresholds_for_bounded_metrics() -> None:
    with pytest.raises(InvalidInput, match="between 0 and 1 for accuracy"):
        parse_spec(GOOD_YAML.replace("threshold: 0.9", "threshold: 1.5"))
    with pytest.raises(InvalidInput, match="finite"):
        parse_spec(GOOD_YAML.replace("threshold: 0.9", "threshold: .nan"))
    with pytest.raises(InvalidInput, match="not a number a spec may hold"):
        parse_spec('{"version": 1, "threshold": NaN}')
    r2 = good() | {"metric": "r2", "threshold": 1.5}
    with pytest.raises(InvalidInput, match="at most 1 for r2"):
        parse_spec(json.dumps(r2))
    assert parse_spec(json.dumps(good() | {"metric": "r2", "threshold": -3})).threshold == -3.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n# only a comment\n", "must be a mapping"),
        ("- a\n- b\n", "must be a mapping"),
        ("just text", "must be a mapping"),
        ("{", "not valid JSON"),
        ("version: [1\n", "not valid YAML"),
        ("a: &x [1, 2]\nb: *x\n", "aliases"),
        ("version: 1\nversion: 1\n", "appears twice"),
        ('{"version": 1, "version": 1}', "appears twice"),
        ("1: x\n", "is not a string"),
        ("version: !!python/object:os.system ls\n", "not valid YAML"),
    ],
)
def test_refuses_malformed_documents(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_spec(text)


def test_refuses_oversized_and_non_utf8_documents() -> None:
    with pytest.raises(InvalidInput, match="larger than 1048576 bytes"):
        parse_spec(GOOD_YAML + "#" * (1 << 20))
    with pytest.raises(InvalidInput, match="larger than"):
        parse_spec(b" " * ((1 << 20) + 1))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        parse_spec(b"\xff\xfe\x00")
    for deep in ("[" * 100_000, "a: " + "{b: " * 50 + "1" + "}" * 50, "{" * 100_000):
        with pytest.raises(InvalidInput, match="nested too deeply"):
            parse_spec(deep)
    block = "".join(" " * i + f"k{i}:\n" for i in range(40))  # block-style nesting, no brackets
    with pytest.raises(InvalidInput, match="nested too deeply"):
        parse_spec(block)


def test_bad_classes_are_refused() -> None:
    base = good() | {"task": "classification", "metric": "accuracy", "threshold": 0.5}
    for classes, message in (
        ([0], "2 to 100000"),
        ([0, "a"], "only integers or only"),
        ([1, 1], "twice"),
        ([True, False], "only integers"),
    ):
        with pytest.raises(InvalidInput, match=message):
            parse_spec(json.dumps(base | {"classes": classes}))


# ---------------------------------------------------------------- fixed point


@pytest.mark.parametrize(
    ("value", "fixed"),
    [
        (0.9, 900_000),
        (1, 1_000_000),
        (0.0, 0),
        (-0.0, 0),
        (0.0000005, 1),  # a half rounds away from zero...
        (-0.0000005, -1),
        (0.0000015, 2),
        (-0.0000025, -3),
        (0.00000049999, 0),
        (4.0000005, 4_000_001),  # 4.0000005 * 1e6 is 4000000.4999999995 in floats: rounded from the decimal
        (0.5000005, 500_001),
        (2.0000005, 2_000_001),  # not banker's rounding
        (0.1 + 0.2, 300_000),
        (2.675, 2_675_000),
        (123456.7894565, 123_456_789_457),
        (1e-7, 0),
        (1e20, 10**26),
        (-12.3456785, -12_345_679),
    ],
)
def test_to_fixed_rounds_half_away_from_zero_exactly(value: float, fixed: int) -> None:
    assert to_fixed(value) == fixed


def test_to_fixed_refuses_non_finite_and_non_numbers() -> None:
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(InvalidInput, match="finite"):
            to_fixed(bad)
    for bad in (True, "0.5", None):
        with pytest.raises(InvalidInput, match="must be a number"):
            to_fixed(bad)  # type: ignore[arg-type]
    assert SCORE_SCALE == 10**6


def test_directions_and_passes() -> None:
    assert [metric_direction(m) for m in ("accuracy", "macro_f1", "roc_auc", "r2", "ndcg")] == [True] * 5
    assert [metric_direction(m) for m in ("log_loss", "rmse", "mae")] == [False] * 3
    with pytest.raises(InvalidInput, match="unknown metric"):
        metric_direction("bleu")
    accuracy = parse_spec(GOOD_YAML)
    assert passes(accuracy, 900_000) and passes(accuracy, 1_000_000) and not passes(accuracy, 899_999)
    rmse: EvalSpec = parse_spec(json.dumps(good()))
    assert passes(rmse, 25_000_500_000) and passes(rmse, 0) and not passes(rmse, 25_000_500_001)


# ---------------------------------------------------------------- public / private split

SALT = bytes(range(32))


def test_split_is_a_deterministic_partition_of_about_the_asked_share() -> None:
    public, private = split_rows(10_000, SALT, 30)
    assert sorted(public + private) == list(range(10_000)) and not set(public) & set(private)
    assert public == sorted(public) and private == sorted(private)
    assert 2_800 <= len(public) <= 3_200
    assert split_rows(10_000, SALT, 30) == (public, private)
    # the rule, recomputed by hand for a few rows
    import hashlib

    for i in (0, 1, 9_999):
        value = int.from_bytes(hashlib.sha256(SALT + i.to_bytes(8, "big")).digest()[:8], "big")
        assert (i in public) == (value % 100 < 30)


def test_split_depends_on_the_salt_and_nests_by_share() -> None:
    a, _ = split_rows(2_000, SALT, 50)
    b, _ = split_rows(2_000, bytes(reversed(SALT)), 50)
    assert a != b and len(set(a) & set(b)) < 0.75 * len(a)
    smaller, _ = split_rows(2_000, SALT, 20)
    assert set(smaller) <= set(a)  # a row public at 20 % is public at 50 %
    assert split_rows(50, SALT, 0) == ([], list(range(50)))
    assert split_rows(50, SALT, 100) == (list(range(50)), [])
    assert split_rows(0, SALT, 30) == ([], [])


def test_split_refuses_bad_arguments() -> None:
    with pytest.raises(InvalidInput, match="at least 16 random bytes"):
        split_rows(10, b"short", 30)
    with pytest.raises(InvalidInput, match="percentage"):
        split_rows(10, SALT, 101)
    with pytest.raises(InvalidInput, match="row count"):
        split_rows(-1, SALT, 30)


def test_to_fixed_handles_huge_finite_scores_exactly() -> None:
    from proofwork.domain.evalspec import to_fixed

    assert to_fixed(1e22) == 10**28
    assert to_fixed(-1e300) == -(10**306)
