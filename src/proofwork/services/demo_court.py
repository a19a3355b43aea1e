"""`proofwork demo --dispute`: a client rejects good work and loses before a court of staked jurors,
on a fresh embedded chain.

The story: a 100-token job judged by the court; the freelancer delivers, the client rejects the work
(a revision request) and the freelancer delivers the same again; the freelancer takes the milestone to
the court and pays its fee, the client pays its own; seven jurors (dev3 to dev9) stake PWK. The first
round (3 seats: a claim of 100 tokens or more) rules for the freelancer; the client, who lost, funds
its side of the appeal (2x the appeal cost) and the freelancer answers with its own (1.5x): the appeal
is made and the round draws 7 seats, 5 vote for the freelancer and 2 against; nobody appeals again,
the ruling becomes final and executes on the escrow (the freelancer also gets the appeal pot, both
deposits minus the appeal cost), and the jurors' fees and slashed stakes are distributed and withdrawn. A second case
(`demo_court_score`, when oracle endpoints can be served) challenges a committee's score before the
same jurors. Draws are stake-weighted with replacement, so a juror may hold several
seats of a round: the 2 votes against are the seats of the jurors the story picks so that their seats
add up to 2 (each juror votes the same way on all its seats), or, when no such jurors exist in the
draw, the last two seats.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from proofwork.chain.court_values import Seat
from proofwork.domain import court as C
from proofwork.domain.units import parse_amount
from proofwork.services.accounts import fund
from proofwork.services.deployment import deploy, deploy_court
from proofwork.services.disputes import Disputes
from proofwork.services.jobs import Jobs
from proofwork.services.jurors import Jurors
from proofwork.services.workspace import Signer, Workspace

DAY = 86_400
STAKE = 300 * C.PWK
JUROR_PWK = 1_000 * C.PWK


@dataclass
class DisputeDemoReport:
    ok: bool = False
    job_id: int = 0
    case_id: int = 0
    rounds: list[dict[str, Any]] = field(default_factory=list)  # per round: seats, votes, ruling
    final_ruling: int | None = None
    balances: dict[str, dict[str, int]] = field(default_factory=dict)  # account -> token/pwk changes
    steps: list[dict[str, Any]] = field(default_factory=list)
    decimals: int = 6
    symbol: str = ""
    data_dir: str = ""
    problems: list[str] = field(default_factory=list)
    score_case: dict[str, Any] = field(default_factory=dict)  # the second case (demo_court_score)


def against_seats(panel: list[tuple[int, str]], against: int) -> set[int]:
    """The seats that vote against: all the seats of jurors whose seat counts add up to `against`
    (fewest jurors first), else the last `against` seats. Pure."""
    counts: dict[str, list[int]] = {}
    for position, juror in panel:
        counts.setdefault(juror, []).append(position)
    jurors = sorted(counts)
    for size in range(1, len(jurors) + 1):
        for group in combinations(jurors, size):
            if sum(len(counts[j]) for j in group) == against:
                return {p for j in group for p in counts[j]}
    return {position for position, _ in panel[-against:]}


def run_round(
    ws: Workspace,
    operator: Signer,
    jurors: list[Signer],
    case_id: int,
    dispute: int,
    step: Callable[[str, int], None],
    *,
    against: int = 0,
    majority: int = 1,
    before_votes: Callable[[list[Seat]], None] | None = None,
) -> dict[str, Any]:
    """One round of a case, from the end of its evidence period to the end of its reveal period: the
    jurors are drawn (`before_votes` is then given the panel: the jurors check the case), every seat
    votes `majority` except `against` seats (`against_seats`), which vote the other side; every vote is
    committed then revealed through the juror service."""
    disputes, jurors_service = Disputes(ws), Jurors(ws)
    minority = 2 if majority == 1 else 1
    ws.chain.advance_time(int(disputes.periods()[0]) + 1)
    step("evidence period over: jurors drawn", disputes.advance(operator, case_id).gas)
    court = ws.court
    state = court.state(dispute)
    seated = court.panel(dispute, state.round)
    if before_votes is not None:
        before_votes(seated)
    panel = [(s.position, s.juror) for s in seated]
    no = against_seats(panel, against) if against else set()
    signers = {j.address: j for j in jurors}
    ballots: dict[tuple[str, int], list[int]] = {}  # (juror, choice) -> seats
    for position, juror in panel:
        ballots.setdefault((juror, minority if position in no else majority), []).append(position)
    for (juror_address, choice), seats in ballots.items():
        signer = signers[juror_address]
        out = jurors_service.commit(signer, case_id, choice, seats)
        step(f"{signer.name} commits ({len(out.seats)} seat(s))", sum(r.gas_used for _, r in out.steps))
    for juror_address in {j for j, _ in ballots}:
        signer = signers[juror_address]
        out = jurors_service.reveal(signer, case_id)
        step(f"{signer.name} reveals: {C.ruling_label(out.choice)}", sum(r.gas_used for _, r in out.steps))
    cast = {s.position: court.vote_of(dispute, state.round, s.position) - 1 for s in seated}
    votes = {"freelancer": 0, "client": 0}
    for choice in cast.values():
        votes["freelancer" if choice == 1 else "client"] += 1
    ruling = court.state(dispute).current_ruling
    return {
        "round": state.round + 1,
        "seats": [{"seat": p + 1, "juror": ws.name_of(j), "vote": cast[p]} for p, j in panel],
        "votes": votes,
        "ruling": ruling,
        "ruling_label": C.ruling_label(ruling),
    }


def run_dispute_demo(
    ws: Workspace, serve: Any = None, on_step: Callable[[str], None] = lambda _: None
) -> DisputeDemoReport:
    report = DisputeDemoReport(data_dir=str(ws.data_dir))
    operator, client, freelancer = (ws.signer(f"dev{i}") for i in range(3))
    jurors = [ws.signer(f"dev{i}") for i in range(3, 10)]

    def step(text: str, gas: int = 0) -> None:
        report.steps.append({"name": text, "gas": gas})
        on_step(text)

    deploy(ws, operator)
    court_deployed = deploy_court(ws, operator)
    step("proofwork and its court deployed (PWK, Court, EscrowArbitrable)", sum(court_deployed.gas.values()))
    token, pwk = ws.token, ws.court_token
    report.decimals, report.symbol = token.decimals, token.symbol
    # dev accounts have gas money already: only tokens are minted
    fund(ws, client.address, parse_amount("1000", token.decimals), gas_money=0)
    fund(ws, freelancer.address, parse_amount("50", token.decimals), gas_money=0)
    for juror in jurors:
        pwk.transfer(operator.key, juror.address, JUROR_PWK)
    step("client and freelancer funded; 7 jurors (dev3-dev9) get 1000 PWK each")

    people: dict[str, Signer] = {"client": client, "freelancer": freelancer, "treasury": operator}
    people.update({f"juror {j.name}": j for j in jurors})

    def snapshot() -> dict[str, dict[str, int]]:
        return {
            role: {"token": token.balance_of(s.address), "pwk": pwk.balance_of(s.address)}
            for role, s in people.items()
        }

    before = snapshot()
    jurors_service = Jurors(ws)
    for juror in jurors:
        out = jurors_service.stake(juror, STAKE)
        step(f"{juror.name} stakes 300 PWK", sum(r.gas_used for _, r in out.steps))

    jobs, disputes = Jobs(ws), Disputes(ws)
    amount = parse_amount("100", token.decimals)
    spec = hashlib.sha256(b"Label 1,000 images; 98 % agreement with the gold set.").digest()
    posted = jobs.post(
        client,
        budget=amount,
        milestones=1,
        deadline=ws.chain.next_timestamp() + 7 * DAY,
        review_period=3 * DAY,
        freelancer=freelancer.address,
        spec_hash=spec,
        arbiter=ws.deployment.arbitrable,
    )
    job_id = report.job_id = posted.job.job_id
    step(f"client posts job {job_id} (100 tokens) judged by the court", posted.gas)
    work = Path(tempfile.mkdtemp(prefix="proofwork-dispute-")) / "labels.csv"
    work.write_text("image,label\n" + "".join(f"img{i:04}.png,{i % 10}\n" for i in range(1000)))
    cid = ws.store.add_file(work)
    from proofwork.storage.unixfs import cid_digest

    digest = cid_digest(cid)
    step("freelancer submits the labels", jobs.submit(freelancer, job_id, 0, digest).gas)
    step("client rejects the work (revision request)", jobs.revise(client, job_id, 0).gas)
    step("freelancer delivers the same labels again", jobs.submit(freelancer, job_id, 0, digest).gas)

    opened = disputes.open(freelancer, job_id, 0, "The labels meet the spec: 98.7 % agreement.")
    case_id = report.case_id = opened.case.case_id
    step(f"freelancer disputes: case {case_id} opened, fee paid", opened.gas)
    report_file = work.with_name("agreement.txt")
    report_file.write_text("agreement with the gold set: 98.7 % (987/1000)\n")
    evidence, _ = disputes.evidence(freelancer, case_id, report_file, "agreement report")
    step("freelancer submits evidence (to the content store, CID on chain)", evidence.gas)
    paid = disputes.pay_fee(client, case_id)
    step("client pays its fee: the case goes to the court", paid.gas)
    dispute = paid.case.dispute_id

    def vote_round(against: int) -> dict[str, Any]:
        return run_round(ws, operator, jurors, case_id, dispute, step, against=against)

    report.rounds.append(vote_round(0))
    appealed = disputes.appeal(client, case_id)
    step("client (the loser) funds its side of the appeal: 2x the appeal cost", appealed.gas)
    answered = disputes.appeal(freelancer, case_id)
    step("freelancer (the winner) answers with 1.5x: the appeal is made (7 jurors)", answered.gas)
    if appealed.details.get("appealed") or not answered.details.get("appealed"):
        report.problems.append(
            f"the appeal was not made by the second funding: {appealed.details} {answered.details}"
        )
    report.rounds.append(vote_round(2))
    ws.chain.advance_time(int(disputes.periods()[3]) + 1)
    advanced = disputes.advance(operator, case_id)
    step("appeal period over: the ruling is final, executed on the escrow, jurors rewarded", advanced.gas)
    if serve is not None:  # the second case needs the oracles' report endpoints
        from proofwork.services.demo_court_score import run_score_challenge

        report.score_case = run_score_challenge(ws, serve, operator, client, freelancer, jurors, step)
        report.problems += report.score_case["problems"]
    for juror in jurors:
        owed = jurors_service.rewards(juror.address)
        if any(owed.values()):
            _, steps = jurors_service.withdraw(juror)
            step(f"{juror.name} withdraws its rewards", sum(r.gas_used for _, r in steps))
        out = jurors_service.unstake(juror)
        step(f"{juror.name} unstakes", sum(r.gas_used for _, r in out.steps))
    ws.escrow.withdraw_fees(operator.key, token.address)
    for kept in (token, pwk):  # the court's treasury (the operator): rounding and unrevealed rounds
        if ws.court.credit(operator.address, kept.address):
            ws.court.withdraw(operator.key, kept.address)
    after = snapshot()
    view = disputes.show(case_id)
    report.final_ruling = view.case.ruling if view.case.ruled else None
    report.balances = {
        role: {
            "token_before": before[role]["token"],
            "token_after": after[role]["token"],
            "token_change": after[role]["token"] - before[role]["token"],
            "pwk_change": after[role]["pwk"] - before[role]["pwk"],
        }
        for role in people
    }
    _check(report, ws, view, amount)
    report.ok = not report.problems
    return report


def _check(report: DisputeDemoReport, ws: Workspace, view: Any, amount: int) -> None:
    problems = report.problems
    if report.final_ruling != 1:
        problems.append(f"final ruling {report.final_ruling}, expected 1 (pay the freelancer)")
    if view.close is None or view.close["reason"] != "ruling":
        problems.append(f"case not closed by its ruling: {view.close}")
    if [r["votes"] for r in report.rounds[1:]] != [{"freelancer": 5, "client": 2}]:
        problems.append(
            f"appeal round votes {report.rounds[1:]}, expected 5 for the freelancer and 2 against"
        )
    if report.rounds and report.rounds[0]["ruling"] != 1:
        problems.append("the first round did not rule for the freelancer")
    token_total = sum(b["token_change"] for b in report.balances.values())
    if token_total != 0:
        problems.append(f"job tokens not conserved among the parties: {token_total}")
    pwk_total = sum(b["pwk_change"] for b in report.balances.values())
    if pwk_total != 0:
        problems.append(f"PWK not conserved: {pwk_total}")
    job = Jobs(ws).get(report.job_id)
    if job.milestones[0].paid != amount:
        problems.append(f"the freelancer was paid {job.milestones[0].paid} gross, expected {amount}")
    for address in (ws.deployment.arbitrable, ws.deployment.court):
        if ws.token.balance_of(address):
            problems.append(f"{address} still holds job tokens")
