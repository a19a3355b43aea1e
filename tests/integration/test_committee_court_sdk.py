"""A challenged score on a committee-evaluated job before the court, through the SDK, on the embedded
chain and on anvil: the committee is deployed after the court and names it; the weak model's failing
score is challenged inside the challenge window, the labels are revealed while the milestone is in
dispute, `juror check` shows the oracles' signed reports next to the score recomputed in the sandbox,
and the jurors' ruling executes through the committee."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proofwork.domain import court as C
from proofwork.domain import job as J
from proofwork.domain.errors import NotAllowed
from proofwork.network.peers import HttpPeers
from proofwork.services.jurors import Jurors
from tests.conftest import chain_snapshot
from tests.integration.conftest import BACKENDS
from tests.integration.ml_fixtures import DAY, LIE, MlMarket, court_market

JURORS = ("dev4", "dev5")  # neither a party (dev1-dev3) nor an oracle (dev6-dev9)


@pytest.fixture(scope="module", params=BACKENDS)
def deployed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, digits_task: dict[str, Path]
) -> Iterator[MlMarket]:
    rpc_url = request.getfixturevalue("anvil_url") if request.param == "anvil" else None
    data_dir = tmp_path_factory.mktemp(f"committee-court-{request.param}")
    with court_market(request.param, rpc_url, data_dir, digits_task, JURORS) as market:
        yield market


@pytest.fixture
def ml(deployed: MlMarket) -> Iterator[MlMarket]:
    with chain_snapshot(deployed.pw.ws.chain.web3):
        yield deployed


def test_the_committee_names_the_court(ml: MlMarket) -> None:
    assert J.same_address(ml.pw.ws.committee.court, ml.pw.court.address)


def test_a_challenged_score_is_judged_by_jurors_who_recompute_it(ml: MlMarket) -> None:
    pw = ml.pw
    job_id = ml.post(ml.weak)
    ml.submit(ml.weak, job_id, "weak")
    ml.run_oracles()  # every oracle scores and signs; none settles inside the challenge window
    case = pw.court.open(ml.weak, job_id, 0, "the hidden labels are wrong").case
    assert pw.court.pay_fee(ml.client, case.case_id).case.status == C.CaseStatus.DISPUTED
    jurors = Jurors(pw.ws)
    peers = HttpPeers()
    try:
        hidden = jurors.check(case.case_id, ml.evaluator, peers)["score_check"]
        assert not hidden["labels_revealed"] and hidden["recomputed"] is None
        assert "not revealed" in hidden["reason"]
        ml.evaluations.reveal(ml.client, job_id)  # allowed: the only milestone is in dispute
        facts = jurors.check(case.case_id, ml.evaluator, peers)
    finally:
        peers.close()
    score = facts["score_check"]
    reported = sorted(r["score"] for r in score["reports"])
    assert len(reported) == 4 and reported[-1] == LIE  # the lying oracle's report is shown as signed
    assert score["recomputed"] == score["reported_median"] == reported[2] < score["threshold"]
    assert score["recomputed_pass"] is False and score["reported_pass"] is False
    # the oracles' verdict waits for the court, whatever the clock says, until the escrow's fallback
    before = pw.balance(ml.client.address)
    pw.advance_time(2 * DAY + 1)
    assert [s.name for s in pw.court.advance("dev0", case.case_id).steps][-1].startswith("draw")
    panel = pw.court.show(case.case_id).rounds[-1].panel
    for juror in {s.juror for s in panel}:
        seats = [s.position for s in panel if s.juror == juror]
        pw.court.commit(juror, case.case_id, 2, seats)
    for juror in {s.juror for s in panel}:
        pw.court.reveal(juror, case.case_id)
    pw.advance_time(30 * DAY)
    while pw.court.show(case.case_id).case.status != C.CaseStatus.CLOSED:
        pw.court.advance("dev0", case.case_id)
    job = pw.jobs.get(job_id)
    assert job.milestones[0].status == J.MilestoneStatus.RESOLVED and job.milestones[0].paid == 0
    assert pw.balance(ml.client.address) - before >= pw.amount("100")  # the budget back, and its fee share


def test_a_score_disputed_too_long_ago_is_left_to_the_committee(ml: MlMarket) -> None:
    pw = ml.pw
    job_id = ml.post(ml.weak)
    ml.submit(ml.weak, job_id, "weak")
    pw.jobs.dispute(ml.weak, job_id, 0)
    pw.advance_time(3 * DAY)
    with pytest.raises(NotAllowed, match="disputed too long ago to go to the court"):
        pw.court.open(ml.weak, job_id, 0, "late")


def test_labels_stay_hidden_while_a_milestone_can_be_submitted(ml: MlMarket) -> None:
    job_id = ml.post(ml.weak)
    with pytest.raises(NotAllowed, match="can be submitted"):
        ml.evaluations.reveal(ml.client, job_id)
