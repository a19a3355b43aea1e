"""An oracle signs only what the spec says (audit: a verified badge bought by registering "higher is
better, pass at -2^127" for junk): a registered threshold or direction other than the spec's is
refused before anything is scored or signed."""

from __future__ import annotations

import pytest

from proofwork.domain.evalspec import metric_direction, parse_spec, threshold_fixed
from proofwork.services.evaluated_jobs import Evaluation
from proofwork.services.oracle.node import Abstain, check_registered_matches_spec

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
