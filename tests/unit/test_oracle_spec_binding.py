"""An oracle signs only what the spec says (audit: a verified badge bought by registering "higher is
better, pass at -2^127" for junk): a registered threshold or direction other than the spec's is
refused before anything is scored or signed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from proofwork.chain.encoding import evaluation_hash
from proofwork.domain import job as J
from proofwork.domain.evalspec import metric_direction, parse_spec, threshold_fixed
from proofwork.services.evaluated_jobs import Evaluation
from proofwork.services.oracle.node import Abstain, check_evaluation_binds, check_registered_matches_spec

SPEC = parse_spec(
    """
version: 1
name: digits
task: classification
metric: accuracy
threshold: 0.9
data: {train: bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e,
       test_features: bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e,
       label_column: label}
submission: {kind: onnx, input: input, output: label}
"""
)


def registered(threshold: int, higher_is_better: bool) -> Evaluation:
    return Evaluation(
        1, "0x" + "11" * 20, b"\x01" * 32, b"\x03" * 32, b"\x02" * 32, threshold, higher_is_better, 0, "cid"
    )


def test_the_spec_s_own_threshold_and_direction_pass() -> None:
    assert threshold_fixed(SPEC) == 900_000 and metric_direction(SPEC.metric) is True
    check_registered_matches_spec(registered(900_000, True), SPEC)


@pytest.mark.parametrize(
    ("threshold", "higher"),
    [(-(2**127), True), (900_000, False), (899_999, True), (2**127, True), (0, False)],
)
def test_any_other_registration_is_refused(threshold: int, higher: bool) -> None:
    with pytest.raises(Abstain, match="not the spec's"):
        check_registered_matches_spec(registered(threshold, higher), SPEC)


def test_an_evaluation_that_is_not_the_job_s_spec_hash_is_refused() -> None:
    """The job's spec hash is its evaluation's hash: an oracle signs nothing for anything else."""
    evaluation = registered(900_000, True)
    job = J.new_job(
        J.JobCreated(
            1,
            "0x" + "11" * 20,
            "0x" + "22" * 20,
            "0x" + "33" * 20,
            "0x" + "44" * 20,
            10,
            10,
            0,
            evaluation.hash,
            (5,),
        )
    )
    assert evaluation.hash == evaluation_hash(b"\x03" * 32, b"\x02" * 32, 900_000, True, 0)
    check_evaluation_binds(job, evaluation)
    for other in (
        replace(evaluation, threshold=0),
        replace(evaluation, tolerance=1),
        replace(evaluation, spec_digest=b"\x04" * 32),
        replace(evaluation, higher_is_better=False),
    ):
        with pytest.raises(Abstain, match="does not hash to its spec hash"):
            check_evaluation_binds(job, other)
