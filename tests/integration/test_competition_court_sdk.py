"""A competition's ranking before the court, through the SDK, on the embedded chain and on anvil: the
committee (deployed after the court) ranks the entries and the prizes wait for the challenge period; the
weak model's entrant challenges with a ranking that puts itself first; jurors re-score every revealed
entry in the sandbox (`check_ranking`), see that the committee's ranking is the recomputed one, and
keep it; the prizes follow the ranking in force."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proofwork.domain import court as C
from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.services.competitions import Competitions
from proofwork.services.evaluated_jobs import AGGREGATION_GRACE
from tests.integration.conftest import BACKENDS
from tests.integration.ml_fixtures import DAY, MlMarket, court_market
from tests.integration.test_competitions_sdk import confirm, create

JURORS = ("dev4", "dev5")  # neither an entrant (dev2, dev3), the client (dev1) nor an oracle (dev6-dev9)
CHALLENGE_PERIOD = 3 * DAY


@pytest.fixture(scope="module", params=BACKENDS)
def deployed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, digits_task: dict[str, Path]
) -> Iterator[MlMarket]:
    rpc_url = request.getfixturevalue("anvil_url") if request.param == "anvil" else None
    data_dir = tmp_path_factory.mktemp(f"competition-court-{request.param}")
    with court_market(request.param, rpc_url, data_dir, digits_task, JURORS) as market:
        for entrant in (market.good, market.weak):  # bonds and the court's fee (3 % per juror of 100)
            market.pw.fund(entrant.address, market.pw.amount("100"))
        yield market


@pytest.fixture
def ml(deployed: MlMarket) -> MlMarket:
    """No chain snapshot between these tests: the oracles' databases and caches remember competitions
    by id, so each test runs its own competition on the same chain."""
    return deployed


def ranked(ml: MlMarket) -> tuple[int, int, int]:
    """A competition the good and the weak model entered, ranked by the committee: (id, good, weak)."""
    pw = ml.pw
    comps = Competitions(pw.ws)
    comp_id = create(ml, "100", prize_bps=[10_000])
    confirm(ml, comp_id)
    good, _ = comps.enter(ml.good, comp_id, ml.models["good"])
    weak, _ = comps.enter(ml.weak, comp_id, ml.models["weak"])
    ml.run_oracles()
    pw.advance_time(DAY + 1)
    for who in (ml.good, ml.weak):
        comps.reveal_all(who, comp_id)
    pw.advance_time(DAY + AGGREGATION_GRACE + 1)
    for _ in range(2):
        ml.run_oracles()
        if comps.get(comp_id).ranked:
            return comp_id, good, weak
    pytest.fail(f"competition {comp_id} was not ranked")


def test_a_challenged_ranking_is_kept_by_jurors_who_rescore_every_entry(ml: MlMarket) -> None:
    pw = ml.pw
    comps = Competitions(pw.ws)
    comp_id, good, weak = ranked(ml)
    comp = comps.get(comp_id)
    assert comp.ranked and not comp.finalized and [e for e, _ in comp.winners] == [good]
    with pytest.raises(NotAllowed, match="may be challenged until"):
        comps.payout(pw.signer("dev0"), comp_id)
    # the recomputed ranking is the committee's: there is nothing to challenge with it
    with pytest.raises(NotAllowed, match="is the one in force"):
        pw.court.challenge_ranking(ml.weak, comp_id, evaluator=ml.evaluator)
    with pytest.raises(InvalidInput, match="not revealed"):
        pw.court.challenge_ranking(ml.weak, comp_id, [(99, 990_000)])
    with pytest.raises(NotAllowed, match="revealed entry"):
        pw.court.challenge_ranking(ml.client, comp_id, [(weak, 990_000)])
    out = pw.court.challenge_ranking(ml.weak, comp_id, [(weak, 990_000)], "my model is the best")
    comp = comps.get(comp_id)
    assert comp.pending_challenge is not None and comp.pending_challenge.dispute_id == out.dispute_id
    with pytest.raises(NotAllowed, match="already in court"):
        pw.court.challenge_ranking(ml.good, comp_id, [(good, 999_999)])
    facts = pw.court.check_ranking(comp_id, ml.evaluator)
    assert facts["matches"] == "ranking in force"
    assert facts["recomputed"] == [list(w) for w in comp.winners]
    assert int(facts["scores"][str(good)]) > int(facts["scores"][str(weak)])
    # the jurors: drawn after the evidence period, vote to keep the ranking
    pw.advance_time(2 * DAY + 1)
    while pw.ws.court.state(out.dispute_id).period == C.Period.EVIDENCE:
        pw.court.advance_ranking("dev0", comp_id)
    seats = pw.ws.court.panel(out.dispute_id, 0)
    assert seats and {s.juror for s in seats} <= {pw.signer(n).address for n in JURORS}
    views = [v for n in JURORS for v in pw.court.cases(n)]
    assert {v.competition for v in views} == {comp_id}
    for juror in {s.juror for s in seats}:
        pw.court.commit(juror, comp_id, 1, competition=True)
    for juror in {s.juror for s in seats}:
        pw.court.reveal(juror, comp_id, competition=True)
    pw.advance_time(30 * DAY)
    while comps.get(comp_id).pending_challenge is not None:
        pw.court.advance_ranking("dev0", comp_id)
    comp = comps.get(comp_id)
    assert comp.challenges[-1].ruling == 1 and [e for e, _ in comp.winners] == [good]
    # a new challenge period follows the ruling; then anyone credits the prizes
    pw.advance_time(CHALLENGE_PERIOD + 1)
    before = comps.claimable(ml.good.address)
    comps.payout(pw.signer("dev0"), comp_id)
    assert comps.get(comp_id).finalized
    assert comps.claimable(ml.good.address) - before == pw.amount("100")


def test_the_oracles_pay_an_unchallenged_ranking_after_the_period(ml: MlMarket) -> None:
    pw = ml.pw
    comps = Competitions(pw.ws)
    comp_id, good, _ = ranked(ml)
    ml.run_oracles()
    assert not comps.get(comp_id).finalized, "held during the challenge period"
    pw.advance_time(CHALLENGE_PERIOD + AGGREGATION_GRACE + 1)
    ml.run_oracles()
    comp = comps.get(comp_id)
    assert comp.finalized and comp.awards[0].entry == good
    with pytest.raises(NotAllowed, match="credited"):
        pw.court.challenge_ranking(ml.weak, comp_id, [(good, 1)])
