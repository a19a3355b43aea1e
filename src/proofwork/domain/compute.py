"""Compute-to-data: what a compute licence's holder may ask of a private dataset, and why a node refuses.

A request names a licence, a task and its parameters. The task is `evaluate` (the holder's ONNX model
scored on the dataset with one of the evaluation's metrics) or a training recipe from `RECIPES`
(scikit-learn, bounded parameters). Which column is the label comes with the request, bounded like an
evaluation spec's names; every other column (but an optional id column) is a feature, in the file's
order. Ranking is left out: it needs a group column and a per-query metric the owner has not agreed to.

Pure: the checks only. Signing is `chain.compute_messages`; running is `services.compute_to_data`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from proofwork.domain.errors import ProofworkError
from proofwork.domain.evalspec import METRICS_BY_TASK

EVALUATE = "evaluate"
MAX_PARAMS_BYTES = 4096
MAX_REQUEST_SECONDS = 3600  # a request is valid for at most an hour: a short window for a replay
MAX_NAME_CHARS = 100
COMPUTE_METRICS: Mapping[str, str] = {
    metric: task for task in ("classification", "regression") for metric in METRICS_BY_TASK[task]
}
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._ -]{0,99}$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")

# Why a compute request is refused: stable code -> HTTP status (the API answers with both).
REFUSALS: Mapping[str, int] = {
    "request_malformed": 400,  # fields of the wrong type or out of bounds, an unknown task or parameter
    "wrong_chain": 400,  # signed for another chain or another Licensing contract
    "request_expired": 400,  # past its expiry, or valid for longer than MAX_REQUEST_SECONDS
    "bad_signature": 401,  # the signature does not recover to an address
    "not_licence_holder": 403,  # the signer does not hold the licence
    "download_only": 403,  # a download licence (or an offer of another kind): no computation on it
    "licence_expired": 403,
    "licence_revoked": 403,
    "licence_not_found": 404,
    "model_missing": 404,  # the model's CID is not in this node's store and no bytes came with it
    "not_a_dataset": 409,
    "not_asset_owner": 409,  # this node holds no key of the asset's owner
    "dataset_key_missing": 409,  # this node does not hold the dataset's file key
    "request_replayed": 409,  # the same signed request was served before
    "dataset_mismatch": 422,  # the dataset has no such file or column
    "model_refused": 422,  # the evaluation's hostile-input rules refused the model, or it failed on the data
    "model_mismatch": 422,  # the model bytes sent do not hash to the request's model CID
    "training_failed": 422,  # a recipe over its limits, or failing on the data (the message withheld)
    "compute_unavailable": 503,  # the sandbox failed (not the model): try again
    "bad_result": 422,  # a result whose signature is not the asset owner's, or that answers another request
}


class ComputeRefused(ProofworkError):
    """A compute request refused, with a stable `reason` (a key of REFUSALS) and nothing of the data."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = REFUSALS[reason]


@dataclass(frozen=True)
class Param:
    kind: type
    low: float
    high: float
    default: Any


# scikit-learn estimators a dataset's owner runs on the holder's behalf, with the only parameters allowed
RECIPES: Mapping[str, Mapping[str, Param]] = {
    "logistic_regression": {
        "C": Param(float, 1e-4, 1e4, 1.0),
        "max_iter": Param(int, 1, 10_000, 100),
        "fit_intercept": Param(bool, 0, 1, True),
    },
    "gradient_boosting": {
        "n_estimators": Param(int, 1, 500, 100),
        "learning_rate": Param(float, 1e-3, 1.0, 0.1),
        "max_depth": Param(int, 1, 8, 3),
        "subsample": Param(float, 0.1, 1.0, 1.0),
        "random_state": Param(int, 0, 2**31 - 1, 0),
    },
}
TASKS = (EVALUATE, *RECIPES)
_COMMON = ("label_column", "id_column", "file")


def malformed(message: str) -> ComputeRefused:
    return ComputeRefused("request_malformed", message)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _name(value: Any, what: str, pattern: re.Pattern[str] = _NAME) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise malformed(f"{what} must be a name of letters, digits and ._- (at most 100), not {_show(value)}")
    return value


def _number(name: str, spec: Param, value: Any) -> Any:
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise malformed(f"parameter {name} is true or false, not {_show(value)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise malformed(f"parameter {name} is a number, not {_show(value)}")
    if spec.kind is int and not (isinstance(value, int) or float(value).is_integer()):
        raise malformed(f"parameter {name} is a whole number, not {_show(value)}")
    # an int is compared exactly (math.isfinite would overflow on 10**400); NaN fails the comparison
    if (isinstance(value, float) and not math.isfinite(value)) or not spec.low <= value <= spec.high:
        raise malformed(f"parameter {name} is from {spec.low:g} to {spec.high:g}, not {_show(value)}")
    return int(value) if spec.kind is int else float(value)


def check_params(task: str, params: Any) -> dict[str, Any]:
    """The parameters of a task, checked and completed with their defaults (ComputeRefused otherwise)."""
    if task not in TASKS:
        raise malformed(f"unknown compute task {_show(task)}: one of {', '.join(TASKS)}")
    if not isinstance(params, dict):
        raise malformed("the parameters are a JSON object")
    out: dict[str, Any] = {"label_column": _name(params.get("label_column"), "label_column")}
    if params.get("id_column") is not None:
        out["id_column"] = _name(params["id_column"], "id_column")
    if params.get("file") is not None:
        out["file"] = _name(params["file"], "file", _FILE)
    if task == EVALUATE:
        allowed = {*_COMMON, "metric", "input", "output"}
        metric = params.get("metric")
        if metric not in COMPUTE_METRICS:
            raise malformed(f"the metric is one of {', '.join(COMPUTE_METRICS)}, not {_show(metric)}")
        out["metric"] = metric
        out["input"] = _name(params.get("input", "input"), "input")
        out["output"] = _name(params.get("output", "output"), "output")
    else:
        recipe = RECIPES[task]
        allowed = {*_COMMON, *recipe}
        for name, spec in recipe.items():
            out[name] = _number(name, spec, params.get(name, spec.default))
    unknown = sorted(str(k) for k in params if k not in allowed)
    if unknown:
        raise malformed(f"unknown parameter {_show(unknown[0])} for {task}: {', '.join(sorted(allowed))}")
    return out


def canonical_params(params: Mapping[str, Any]) -> str:
    """What the request signs: sorted keys, no spaces, at most MAX_PARAMS_BYTES."""
    text = json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > MAX_PARAMS_BYTES:
        raise malformed(f"the parameters are over {MAX_PARAMS_BYTES} bytes")
    return text


def parse_recipe_param(text: str) -> tuple[str, Any]:
    """`k=v` from the command line: v as JSON when it parses (numbers, true/false), else the text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise malformed(f"a parameter is written NAME=VALUE, e.g. C=0.5; got {_show(text)}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def check_window(expires_at: int, now: int) -> None:
    """A request expires in the future, at most MAX_REQUEST_SECONDS from `now` (chain time)."""
    if expires_at <= now:
        raise ComputeRefused("request_expired", f"the request expired at {expires_at} (chain time now {now})")
    if expires_at > now + MAX_REQUEST_SECONDS:
        raise ComputeRefused(
            "request_expired",
            f"a request is valid for at most {MAX_REQUEST_SECONDS} s; this one until {expires_at}",
        )


# What an evaluation failure may say: these depend on the model and the limits only. Anything else
# (onnxruntime's error while running on the rows, the output's shape, a metric's complaint) may carry
# values of the data and is replaced by WITHHELD.
_SAFE_FAILURES = re.compile(
    r"^(the submission is |the submission file |the submission ran past |the submission used more than "
    r"|the submission ran out of memory|the submission's output is larger |the model imports |"
    r"the model defines |the model carries |the model uses operator |the model's .{0,100} (points at external"
    r"|declares )|the model declares |the model's weights declare |the ONNX model is invalid|the model's inputs "
    r"are |the model input |the model expects \d+ features |the model has no output |the model output "
    r"|onnxruntime cannot load the model|the model needs more than the memory limit|the model ran out of memory"
    r"|the scoring process crashed )"
)
WITHHELD = (
    "the model failed while running on the private data (the runtime's message is withheld: it could show "
    "values of the data)"
)


def public_failure(reason: str | None) -> str:
    """The reason an evaluation failed, as a node may tell the model's owner."""
    if reason and _SAFE_FAILURES.match(reason):
        return reason
    return WITHHELD
