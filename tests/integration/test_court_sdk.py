"""The court through the SDK, on the embedded chain and on anvil: a plain job judged by staked jurors
(open, fees, evidence, draw, commit-reveal, appeal, execution on the escrow, rewards), settlement
before the draw, a default for an unpaid fee, and the bad input each step refuses in one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from proofwork.domain import court as C
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound, ProofworkError, TransactionRejected
from proofwork.sdk import Signer
from proofwork.services.disputes import AppealView
from tests.conftest import chain_snapshot, running_anvil
from tests.integration.conftest import BACKENDS, DAY, Market, _deployed, digest

JURORS = [f"dev{i}" for i in range(3, 10)]
STAKE = 300 * C.PWK


@dataclass
class CourtMarket:
    market: Market
    jurors: list[Signer]


@pytest.fixture(scope="module", params=BACKENDS)
def deployed_court(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CourtMarket]:
    """proofwork, its court and seven staked jurors, once per module and backend."""
    with ExitStack() as stack:
        rpc_url = stack.enter_context(running_anvil()) if request.param == "anvil" else None
        market = stack.enter_context(_deployed(rpc_url, request.param, tmp_path_factory))
        pw = market.pw
        pw.court.deploy("dev0")
        pw.fund(market.freelancer.address, pw.amount("100"))
        jurors = [pw.signer(name) for name in JURORS]
        for juror in jurors:
            pw.court.transfer_pwk("dev0", juror.address, 1_000 * C.PWK)
            pw.court.stake(juror, STAKE)
        yield CourtMarket(market, jurors)


@pytest.fixture
def court(deployed_court: CourtMarket) -> Iterator[CourtMarket]:
    with chain_snapshot(deployed_court.market.pw.ws.chain.web3):
        yield deployed_court


def disputed_job(m: Market, budget: str = "100") -> int:
    """A job judged by the court with its milestone submitted."""
    job = m.post(budget, arbiter=m.pw.court.address).job
    m.pw.jobs.submit(m.freelancer, job.job_id, 0, digest(f"work {job.job_id}"))
    return job.job_id


def to_court(m: Market, job_id: int) -> int:
    """Both fees paid, the evidence period over, the jurors drawn: the case id."""
    pw = m.pw
    case_id = pw.court.open(m.freelancer, job_id, 0, "good work").case.case_id
    assert pw.court.pay_fee(m.client, case_id).case.status == C.CaseStatus.DISPUTED
    pw.advance_time(2 * DAY + 1)
    out = pw.court.advance("dev0", case_id)  # arms the draw on its own block, then draws in the next
    assert [s.name for s in out.steps] == ["arm the jury draw", "draw 3 juror seat(s)"], out.message
    return case_id


def vote(m: Market, case_id: int, choices: dict[int, int]) -> None:
    """Every seated juror commits then reveals `choices[seat]` (default 1: the freelancer)."""
    pw = m.pw
    view = pw.court.show(case_id)
    panel = view.rounds[-1].panel
    ballots: dict[tuple[str, int], list[int]] = {}
    court = pw.ws.court
    for seat in panel:
        if court.vote_of(seat.dispute, seat.round, seat.position):
            continue  # committed already
        ballots.setdefault((seat.juror, choices.get(seat.position, 1)), []).append(seat.position)
    for (juror, choice), seats in ballots.items():
        pw.court.commit(juror, case_id, choice, seats)
    for juror in {s.juror for s in panel}:
        pw.court.reveal(juror, case_id)


def test_small_claims_cost_at_most_five_tokens(court: CourtMarket) -> None:
    m = court.market
    pw = m.pw
    disputes = pw.court.disputes
    small = m.post("50", arbiter=pw.court.address).job
    large = m.post("1000", arbiter=pw.court.address).job
    # one juror at 3 % below 100 tokens; three above
    assert disputes.fee_for(small, 0) == pw.amount("1.5")
    assert disputes.fee_for(large, 0) == pw.amount("90")


def test_a_case_from_rejection_to_executed_ruling_with_an_appeal(court: CourtMarket, tmp_path: Path) -> None:
    m = court.market
    pw = m.pw
    job_id = disputed_job(m)
    before = {who: pw.balance(who.address) for who in (m.client, m.freelancer)}
    opened = pw.court.open(m.freelancer, job_id, 0, "the labels meet the spec")
    case_id = opened.case.case_id
    assert opened.case.status == C.CaseStatus.WAITING_CLIENT
    fee = pw.amount("9")  # 3 jurors x 3 % of 100
    assert pw.balance(m.freelancer.address) == before[m.freelancer] - fee
    with pytest.raises(NotAllowed, match="already has your fee"):
        pw.court.open(m.freelancer, job_id, 0)
    evidence = tmp_path / "report.txt"
    evidence.write_text("agreement 98.7 %\n")
    _, cid = pw.court.evidence(m.freelancer, case_id, evidence, "agreement report")
    assert pw.ws.store.has(cid)
    pw.court.pay_fee(m.client, case_id)  # the case goes to the court
    view = pw.court.show(case_id)
    assert view.created and view.dispute is not None and view.dispute.period == C.Period.EVIDENCE
    assert view.evidence[0]["uri"].startswith("/ipfs/") and view.meta_evidence.startswith("/ipfs/")
    offered = pw.court.settle(m.client, case_id, 5_000)  # until the draw, an offer is still possible
    assert offered.case.status == C.CaseStatus.DISPUTED and "offered" in offered.message
    with pytest.raises(NotAllowed, match="nothing to advance"):
        pw.court.advance("dev0", case_id)
    pw.advance_time(2 * DAY + 1)
    pw.court.advance("dev0", case_id)  # draws 3 seats
    panel = pw.court.show(case_id).rounds[0].panel
    assert len(panel) == 3
    with pytest.raises(NotAllowed, match="only possible until the jurors are drawn"):
        pw.court.settle(m.freelancer, case_id, 5_000)
    juror = panel[0].juror
    with pytest.raises(NotAllowed, match="reveal period"):
        pw.court.reveal(juror, case_id)
    outsider = next(j for j in court.jurors if j.address not in {s.juror for s in panel})
    with pytest.raises(NotAllowed, match="holds no seat"):
        pw.court.commit(outsider, case_id, 1)
    unstaked = pw.court.unstake(juror)  # a juror who unstakes during a case stays bound by it
    assert unstaked.weight == 0 and unstaked.locked >= 100 * C.PWK and unstaked.balance == unstaked.locked
    first = pw.court.commit(juror, case_id, 1, [panel[0].position])  # one seat (a juror may hold more)
    with pytest.raises(NotAllowed, match="already committed"):
        pw.court.commit(juror, case_id, 2, [panel[0].position])
    seats = pw.court.cases(juror)
    assert any(s.case_id == case_id and s.vote == "committed" for s in seats)
    with pytest.raises(InvalidInput):
        pw.court.commit(juror, case_id, 9)
    vote(m, case_id, {})
    assert first.choice == 1
    view = pw.court.show(case_id)
    assert view.dispute is not None and view.dispute.period == C.Period.APPEAL
    assert view.rounds[0].ruling == 1 and view.appeal_cost == pw.amount("21")
    with pytest.raises(NotAllowed, match="only the client or freelancer"):
        pw.court.appeal(m.other, case_id)
    funding = pw.court.appeal_funding(case_id)
    assert funding is not None and funding.cost == pw.amount("21") and funding.appeals == 0
    client_side, freelancer_side = funding.sides["client"], funding.sides["freelancer"]
    assert (client_side.role, client_side.requirement) == ("loser", pw.amount("42"))  # 2x
    assert (freelancer_side.role, freelancer_side.requirement) == ("winner", pw.amount("31.5"))  # 1.5x
    assert freelancer_side.deadline - client_side.deadline == pw.court.disputes.periods()[3] // 2
    funds = pw.balance(m.client.address)
    pw.ws.token.transfer(m.client.key, m.other.address, funds)
    with pytest.raises(NotAllowed, match="insufficient funds for the appeal deposit"):
        pw.court.appeal(m.client, case_id)
    pw.ws.token.transfer(m.other.key, m.client.address, funds)
    # the client (loser) funds 2x, the freelancer (winner) answers with 1.5x: the appeal is made
    first = pw.court.appeal(m.client, case_id)
    assert first.details["paid"] == pw.amount("42") and not first.details["appealed"]
    assert first.details["waiting_for"] == "freelancer" and "loses by default" in first.message
    assert (
        "freelancer" in pw.court.show(case_id).next_step
        and "loses by default" in pw.court.show(case_id).next_step
    )
    second = pw.court.appeal(m.freelancer, case_id)
    assert second.details["appealed"] and second.details["pot"] == pw.amount("52.5")  # 42 + 31.5 - 21
    assert "appealed" in second.message
    # the client loses again, 7 seats
    pw.advance_time(2 * DAY + 1)
    pw.court.advance("dev0", case_id)
    assert len(pw.court.show(case_id).rounds[1].panel) == 7
    vote(m, case_id, {5: 2, 6: 2})
    with pytest.raises(NotAllowed, match="nothing to advance"):
        pw.court.advance("dev0", case_id)
    # another case's draw is armed when this one's rewards are due: it freezes distribution, so
    # `advance` makes that draw first
    other = pw.court.open(m.freelancer, disputed_job(m), 0).case.case_id
    other_dispute = pw.court.pay_fee(m.client, other).case.dispute_id
    pw.advance_time(2 * DAY + 1)
    pw.ws.court.pass_period(pw.signer("dev0").key, other_dispute)  # arms it only
    assert pw.ws.court.draw_pending()
    done = pw.court.advance("dev0", case_id)
    names = [s.name for s in done.steps]
    assert names[:3] == [  # an appeal period that ran out is final without a separate pass
        f"draw the jurors of case {other}",
        "court gives its ruling",
        "execute ruling on the escrow",
    ]
    assert "distribute round 1" in names and "distribute round 2" in names
    assert pw.court.show(other).dispute.period == C.Period.COMMIT  # type: ignore[union-attr]
    view = pw.court.show(case_id)
    # the court cleared the distributed rounds' vote slots: the votes come from its events
    assert view.rounds[1].votes == {p: 2 if p in (5, 6) else 1 for p in range(7)}
    assert view.rounds[0].votes == {0: 1, 1: 1, 2: 1}
    assert any(s.vote == "revealed:1" for s in pw.court.cases(juror))
    assert view.case.status == C.CaseStatus.CLOSED and view.case.ruling == 1
    assert view.close == {"reason": "ruling", "freelancer_bps": 10_000, "resolved": True}
    job = pw.jobs.get(job_id)
    assert job.milestones[0].paid == pw.amount("100")
    # the freelancer got the milestone less the platform fee, its fee deposit back and the pot (52.5,
    # for its appeal deposit of 31.5); the client paid its fee and its appeal deposit (each also paid 9
    # for the other case, whose 100 the client escrowed)
    assert pw.balance(m.freelancer.address) == before[m.freelancer] + pw.amount("97.5") - fee + pw.amount(
        "21"
    )
    assert pw.balance(m.client.address) == before[m.client] - pw.amount("51") - fee - pw.amount("100")
    assert pw.court.appeal_funding(case_id) == AppealView(appeals=1, pot=0, cost=None)  # pot shared
    rewards = {j.address: pw.court.rewards(j.address) for j in court.jurors}
    assert sum(r["token"] for r in rewards.values()) == pw.amount("30")
    assert sum(r["pwk"] for r in rewards.values()) == 200 * C.PWK
    winner = next(a for a, r in rewards.items() if r["token"])
    owed, _ = pw.court.withdraw(winner)
    assert owed == rewards[winner]
    with pytest.raises(NotAllowed, match="no rewards"):
        pw.court.withdraw(winner)
    with pytest.raises(NotAllowed, match="no ruling to appeal"):
        pw.court.appeal(m.client, case_id)
    later = pw.court.unstake(juror)  # its lock was released when the rounds were distributed
    assert later.balance == 0 and later.sent == unstaked.locked


def test_a_lone_appeal_funder_wins_by_default_and_bad_funding_is_refused(court: CourtMarket) -> None:
    """The jurors pay the freelancer; only the client funds its side of an appeal: once the period is
    over the adapter records the client's full win instead, and the client's deposit comes back.
    Funding outside the period, twice, late for the loser, or by a non-party is refused in one line."""
    m = court.market
    pw = m.pw
    job_id = disputed_job(m)
    case_id = to_court(m, job_id)
    with pytest.raises(NotAllowed, match="not in its appeal period"):
        pw.court.appeal(m.client, case_id)  # the jurors have not voted yet
    vote(m, case_id, {})
    appeal = pw.court.disputes.periods()[3]
    with pytest.raises(NotAllowed, match="only the client or freelancer"):
        pw.court.appeal(m.other, case_id)
    before = pw.balance(m.client.address)
    out = pw.court.appeal(m.client, case_id)
    assert out.details["paid"] == pw.amount("42") and out.details["waiting_for"] == "freelancer"
    assert pw.balance(m.client.address) == before - pw.amount("42")
    with pytest.raises(NotAllowed, match="already funded its side"):
        pw.court.appeal(m.client, case_id)
    pw.advance_time(appeal + 1)
    with pytest.raises(NotAllowed, match="not in its appeal period"):
        pw.court.appeal(m.freelancer, case_id)  # too late for the winner too
    done = pw.court.advance("dev0", case_id)
    assert "execute ruling on the escrow" in [s.name for s in done.steps]
    view = pw.court.show(case_id)
    assert view.dispute is not None and view.dispute.current_ruling == 1  # the jurors' ruling
    assert view.case.ruling == 2  # recorded: the lone funder (the client) wins by default
    assert view.close == {"reason": "ruling", "freelancer_bps": 0, "resolved": True}
    # the milestone back, the fee reserve (9) and the appeal deposit (42) back
    assert pw.balance(m.client.address) == before + pw.amount("100") + pw.amount("9")
    # the loser may fund in the first half of the period only
    late = to_court(m, disputed_job(m))
    vote(m, late, {})
    pw.advance_time(appeal // 2)
    with pytest.raises(NotAllowed, match="first half of the appeal period"):
        pw.court.appeal(m.client, late)
    assert pw.court.appeal(m.freelancer, late).details["waiting_for"] == "client"


def test_reveal_without_the_vote_file_and_a_mismatched_reveal(court: CourtMarket) -> None:
    m = court.market
    pw = m.pw
    case_id = to_court(m, disputed_job(m))
    panel = pw.court.show(case_id).rounds[0].panel
    for seat in panel:
        pw.court.commit(seat.juror, case_id, 2, [seat.position])
    assert pw.court.show(case_id).dispute.period == C.Period.REVEAL  # type: ignore[union-attr]
    first = panel[0]
    store = pw.court.jurors.votes
    path = store.path(first.juror, first.dispute, first.round, first.position)
    assert path.stat().st_mode & 0o777 == 0o600
    path.unlink()  # lost: the salt is derived again from the key
    with pytest.raises(TransactionRejected, match="reveal does not match commit"):
        pw.court.reveal(first.juror, case_id, 1)
    assert pw.court.reveal(first.juror, case_id).choice == 2
    # (a juror holding every seat has ended the reveal period with its reveal)
    with pytest.raises(NotAllowed, match=r"already revealed|in its appeal period"):
        pw.court.reveal(first.juror, case_id)


def test_an_armed_draw_freezes_stakes_until_advance_draws_it(court: CourtMarket) -> None:
    m = court.market
    pw = m.pw
    case_id = pw.court.open(m.freelancer, disputed_job(m), 0).case.case_id
    dispute = pw.court.pay_fee(m.client, case_id).case.dispute_id
    pw.advance_time(2 * DAY + 1)
    pw.ws.court.pass_period(pw.signer("dev0").key, dispute)  # the first call only arms the draw
    view = pw.court.show(case_id)
    assert view.dispute is not None and view.dispute.period == C.Period.EVIDENCE
    assert view.draw_block > 0 and "armed" in view.next_step and not view.rounds[0].panel
    juror = court.jurors[0]
    with pytest.raises(
        NotAllowed, match=rf"^staking waits: the jury draw of case {case_id} is armed"
    ) as refused:
        pw.court.stake(juror, 100 * C.PWK)
    assert "\n" not in str(refused.value) and f"court advance {case_id}" in str(refused.value)
    with pytest.raises(NotAllowed, match="unstaking waits"):
        pw.court.unstake(juror)
    [armed] = pw.court.disputes.armed_draws()
    assert (armed.case_id, armed.draw_block, armed.open) == (case_id, view.draw_block, True)
    out = pw.court.advance("dev0", case_id)  # draws at once: the draw was armed in an earlier block
    assert [s.name for s in out.steps] == ["draw 3 juror seat(s)"]
    assert pw.court.show(case_id).dispute.period == C.Period.COMMIT  # type: ignore[union-attr]
    assert not pw.ws.court.draw_pending() and pw.court.disputes.armed_draws() == []
    assert pw.court.stake(juror, 100 * C.PWK).weight == STAKE + 100 * C.PWK


def test_settlement_before_the_draw_returns_every_fee(court: CourtMarket) -> None:
    m = court.market
    pw = m.pw
    job_id = disputed_job(m)
    before = {who: pw.balance(who.address) for who in (m.client, m.freelancer)}
    case_id = pw.court.open(m.client, job_id, 0).case.case_id
    pw.court.settle(m.freelancer, case_id, 6_000)
    with pytest.raises(TransactionRejected, match="own settlement offer"):
        pw.court.disputes.ws.arbitrable.accept_settlement(
            m.freelancer.key, case_id, pw.jobs.get(job_id), 6_000
        )
    out = pw.court.settle(m.client, case_id, 6_000)
    assert out.case.status == C.CaseStatus.CLOSED
    assert pw.court.show(case_id).close == {"reason": "settlement", "freelancer_bps": 6_000, "resolved": True}
    assert pw.balance(m.client.address) == before[m.client] + pw.amount("40")
    assert pw.balance(m.freelancer.address) == before[m.freelancer] + pw.amount("60") - pw.amount("1.5")


def test_settlement_after_both_fees_until_the_draw(court: CourtMarket) -> None:
    """The dispute exists at the court; until its draw is armed the parties may still settle: the court
    takes the dispute back and every fee comes back."""
    m = court.market
    pw = m.pw
    job_id = disputed_job(m)
    before = {who: pw.balance(who.address) for who in (m.client, m.freelancer)}
    case_id = pw.court.open(m.freelancer, job_id, 0).case.case_id
    dispute = pw.court.pay_fee(m.client, case_id).case.dispute_id
    pw.court.settle(m.client, case_id, 5_000)
    out = pw.court.settle(m.freelancer, case_id, 5_000)
    assert out.case.status == C.CaseStatus.CLOSED
    assert pw.court.show(case_id).close == {"reason": "settlement", "freelancer_bps": 5_000, "resolved": True}
    assert pw.balance(m.client.address) == before[m.client] + pw.amount("50")
    assert pw.balance(m.freelancer.address) == before[m.freelancer] + pw.amount("50") - pw.amount("1.25")
    assert pw.ws.court.state(dispute).period == C.Period.EXECUTION
    with pytest.raises(NotAllowed, match=r"nothing to advance|closed"):
        pw.court.advance("dev0", case_id)


def test_a_fee_not_paid_in_time_loses_by_default(court: CourtMarket) -> None:
    m = court.market
    pw = m.pw
    job_id = disputed_job(m)
    case_id = pw.court.open(m.freelancer, job_id, 0).case.case_id
    with pytest.raises(NotAllowed, match="waits for a fee"):
        pw.court.advance("dev3", case_id)
    pw.advance_time(2 * DAY + 1)
    with pytest.raises(NotAllowed, match="fee deadline of case"):
        pw.court.pay_fee(m.client, case_id)
    pw.court.advance("dev3", case_id)
    assert pw.court.show(case_id).close == {"reason": "default", "freelancer_bps": 10_000, "resolved": True}
    assert pw.jobs.get(job_id).milestones[0].paid == pw.amount("100")


def test_bad_input_is_refused_in_one_line(court: CourtMarket) -> None:
    m = court.market
    pw = m.pw
    plain = m.post("10").job  # no arbiter
    pw.jobs.submit(m.freelancer, plain.job_id, 0, digest("x"))
    with pytest.raises(NotAllowed, match="arbiter is not the court"):
        pw.court.open(m.freelancer, plain.job_id, 0)
    job_id = disputed_job(m, "10")
    pw.jobs.approve(m.client, job_id, 0)
    with pytest.raises(NotAllowed, match="is paid: nothing is left to dispute"):
        pw.court.open(m.freelancer, job_id, 0)
    with pytest.raises(NotFound, match="no job 999"):
        pw.court.open(m.freelancer, 999, 0)
    with pytest.raises(NotFound, match="no case 77"):
        pw.court.show(77)
    with pytest.raises(InvalidInput, match="no milestone 3"):
        pw.court.open(m.freelancer, disputed_job(m, "10"), 2)
    for error in (NotAllowed, InvalidInput, NotFound, TransactionRejected):
        assert issubclass(error, ProofworkError)
