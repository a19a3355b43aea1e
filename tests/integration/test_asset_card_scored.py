"""A model delivered in a job the oracle committee judged gets the settled score in its card's
model-index: the real sandbox scores the digits model, four oracles (one lying) settle the median on
chain, the milestone is paid in full.

The committee's verdict leaves the milestone RESOLVED with the freelancer paid, which
`AssetRegistry.register_deliverable` accepts as paid in full (the price the IP terms' acceptance
recorded), so the rights pass to the client; the score is read (`asset_cards.job_results`) and
written into the card."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proofwork.domain import job as J
from proofwork.domain.cards import front_matter, model_card
from proofwork.domain.errors import TransactionRejected
from proofwork.domain.evalspec import SCORE_SCALE, parse_spec
from proofwork.services.asset_cards import job_results
from tests.integration.ml_fixtures import MlMarket, open_ml_market

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ml(tmp_path_factory: pytest.TempPathFactory, digits_task: dict[str, Path]) -> Iterator[MlMarket]:
    with open_ml_market("embedded", None, tmp_path_factory.mktemp("card-ml") / "data", digits_task) as market:
        market.pw.assets.deploy("dev0")
        yield market


@pytest.fixture(scope="module")
def judged(ml: MlMarket) -> int:
    """A job whose rights pass to the client, the good model delivered, judged and paid in full."""
    job_id = ml.post(ml.good)
    ml.pw.assets.propose_ip_terms(ml.client, job_id, transfer=True)
    ml.pw.assets.accept_ip_terms(ml.good, job_id)
    ml.submit(ml.good, job_id, "good")
    ml.settle_all()
    milestone = ml.evaluations.jobs.get(job_id).milestones[0]
    assert milestone.status is J.MilestoneStatus.RESOLVED and milestone.paid == ml.pw.amount("100")
    return job_id


def test_the_settled_score_is_the_model_index_result(ml: MlMarket, judged: int) -> None:
    (settled,) = ml.evaluations.get(judged).settlements
    spec = parse_spec(ml.spec.read_text())
    (result,) = job_results(ml.pw.ws, judged, 0)
    assert result.metric == spec.metric and result.value == settled["median"] / SCORE_SCALE
    assert result.task_type == "tabular-classification" and result.dataset_type.endswith(f":job:{judged}")
    manifest, _ = ml.pw.assets.manifest([ml.models["good"]], kind="model", name="digits", license="MIT")
    meta = front_matter(model_card(manifest, results=[result]))
    (entry,) = meta["model-index"][0]["results"]
    assert entry["metrics"] == [{"type": spec.metric, "value": result.value, "name": spec.metric}]
    assert "oracle committee" in entry["source"]["name"] and meta["metrics"] == [spec.metric]
    assert job_results(ml.pw.ws, judged, 1) == []  # no such milestone settled
    assert job_results(ml.pw.ws, 10_000, 0) == []  # no such job


def test_a_judged_deliverable_registers_with_its_score_in_the_card(ml: MlMarket, judged: int) -> None:
    assets = ml.pw.assets
    manifest, _ = assets.manifest([ml.models["good"]], kind="model", name="digits", license="MIT")
    # the verdict paid the full price recorded at acceptance: the rights passed to the client
    with pytest.raises(TransactionRejected, match="caller does not own the deliverable"):
        assets.register_deliverable(ml.good, judged, 0, manifest)
    done = assets.register_deliverable(ml.client, judged, 0, manifest)
    assert assets.show(done.asset_id)[0].owner == ml.client.address
    meta = front_matter(assets.card(done.asset_id, "hf-readme"))
    assert meta["model-index"][0]["results"][0]["metrics"][0]["value"] > 0.9
