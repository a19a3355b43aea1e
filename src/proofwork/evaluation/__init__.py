"""Scoring submissions: fixed-point metrics, and untrusted models run in a sandbox.

Exports are loaded lazily, so the sandbox's worker (which imports `proofwork.evaluation.worker`)
does not pull in scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proofwork.evaluation.metrics import score
    from proofwork.evaluation.runner import EvalResult, Evaluator
    from proofwork.evaluation.sandbox import JobLimits, JobResult, Sandbox

__all__ = ["EvalResult", "Evaluator", "JobLimits", "JobResult", "Sandbox", "score"]

_WHERE = {
    "score": "proofwork.evaluation.metrics",
    "EvalResult": "proofwork.evaluation.runner",
    "Evaluator": "proofwork.evaluation.runner",
    "JobLimits": "proofwork.evaluation.sandbox",
    "JobResult": "proofwork.evaluation.sandbox",
    "Sandbox": "proofwork.evaluation.sandbox",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'proofwork.evaluation' has no attribute {name!r}")
