"""`dispute open|settle|evidence|appeal|show`, `juror stake|unstake|cases|commit|reveal|check|withdraw`,
`court deploy|advance|transfer`: disputes of plain jobs before proofwork's court of staked jurors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from proofwork.cli.args import FromOpt, MilestoneOpt, cli_state, existing_file, milestone_index, uint_id
from proofwork.cli.output import CliState, money, when
from proofwork.domain import court as C
from proofwork.domain import job as J
from proofwork.domain.units import format_amount, parse_amount, parse_duration

if TYPE_CHECKING:
    from proofwork.services.disputes import AppealView, CaseOutcome, CaseView
    from proofwork.services.workspace import Workspace

dispute_app = typer.Typer(
    help="Disputes of jobs judged by the court (arbiter: the court adapter).", no_args_is_help=True
)
juror_app = typer.Typer(help="Jurors: stake PWK, vote on the cases you are drawn to.", no_args_is_help=True)
court_app = typer.Typer(help="The court of staked jurors: deploy it, advance cases.", no_args_is_help=True)

CaseArg = Annotated[int, typer.Argument(help="Case id (from 1; `dispute open` prints it).")]
JobArg = Annotated[int, typer.Argument(help="Job id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(dispute_app, name="dispute")
    app.add_typer(juror_app, name="juror")
    app.add_typer(court_app, name="court")


def case_arg(value: int) -> int:
    return uint_id(value, "case id", lowest=1)


def _pwk(units: int) -> str:
    return f"{format_amount(units, C.PWK_DECIMALS)} PWK"


def _steps(steps: list[Any]) -> list[dict[str, Any]]:
    out = []
    for step in steps:
        name, receipt = (step.name, step.receipt) if hasattr(step, "receipt") else step
        out.append(
            {"name": name, "tx": receipt.tx_hash, "gas": receipt.gas_used, "block": receipt.block_number}
        )
    return out


def _emit_steps(state: CliState, data: dict[str, Any], message: str) -> None:
    steps = data.get("steps", [])
    human = message + "".join(f"\n  {s['name']}: tx {s['tx']} (gas {s['gas']:,})" for s in steps)
    state.emit({"ok": True, **data}, Text(human))


def _case_json(ws: Workspace, case: Any, created: bool | None = None) -> dict[str, Any]:
    if created is None:
        created = case.status in (C.CaseStatus.DISPUTED, C.CaseStatus.RULED)
    dec = ws.token.decimals
    return {
        "id": case.case_id,
        "job": case.job_id,
        "milestone": case.milestone + 1,
        "status": case.status.label,
        "client": case.client,
        "freelancer": case.freelancer,
        "amount": format_amount(case.amount, dec),
        "fee_deadline": case.fee_deadline if case.status.awaiting_fee else None,
        "deposits": {
            "client": format_amount(case.client_fee, dec),
            "freelancer": format_amount(case.freelancer_fee, dec),
        },
        "dispute": case.dispute_id if created else None,
        "ruling": case.ruling if case.ruled else None,
        "settlement_offer": None
        if int(case.settlement_proposer, 16) == 0
        else {"by": case.settlement_proposer, "freelancer_bps": case.settlement_bps},
    }


def _outcome(state: CliState, ws: Workspace, out: CaseOutcome) -> None:
    _emit_steps(state, {"case": _case_json(ws, out.case), "steps": _steps(out.steps)}, out.message)


# --------------------------------------------------------------------------------------------- dispute


@dispute_app.command("open")
def dispute_open(
    ctx: typer.Context,
    job_id: JobArg,
    sender: FromOpt,
    milestone: MilestoneOpt = 1,
    statement: Annotated[str, typer.Option(help="A short statement for the meta-evidence.")] = "",
) -> None:
    """Take a milestone to the court: raise the dispute, open the case and pay your fee; on a case
    that waits for your fee, pay it (the jurors are then drawn after the evidence period)."""
    from proofwork.services.disputes import Disputes

    state = cli_state(ctx)
    index = milestone_index(milestone)
    uint_id(job_id, "job id", lowest=1)
    with state.workspace() as ws:
        out = Disputes(ws).open(ws.signer(sender), job_id, index, statement)
        _outcome(state, ws, out)


@dispute_app.command("settle")
def dispute_settle(
    ctx: typer.Context,
    case_id: CaseArg,
    sender: FromOpt,
    share: Annotated[str, typer.Option(help="The freelancer's share of the milestone, in percent, e.g. 60.")],
) -> None:
    """Offer a split until the case goes to the court (both fees paid); the other party accepts by offering the same split."""
    from proofwork.services.disputes import Disputes

    state = cli_state(ctx)
    bps = C.parse_share(share)
    with state.workspace() as ws:
        out = Disputes(ws).settle(ws.signer(sender), case_arg(case_id), bps)
        _outcome(state, ws, out)


@dispute_app.command("evidence")
def dispute_evidence(
    ctx: typer.Context,
    case_id: CaseArg,
    file: Annotated[Path, typer.Argument(help="The evidence file (added to the content store).")],
    sender: FromOpt,
    description: Annotated[str, typer.Option(help="What the file shows.")] = "",
) -> None:
    """Submit a file as evidence: it goes to the content store, its CID on chain (ERC-1497 Evidence)."""
    from proofwork.services.disputes import Disputes

    state = cli_state(ctx)
    existing_file(file, "evidence")
    with state.workspace() as ws:
        out, cid = Disputes(ws).evidence(ws.signer(sender), case_arg(case_id), file, description)
        data = {
            "case": _case_json(ws, out.case),
            "cid": cid,
            "uri": out.message.split()[1],
            "steps": _steps(out.steps),
        }
        _emit_steps(state, data, f"{out.message} (file {cid})")


@dispute_app.command("appeal")
def dispute_appeal(ctx: typer.Context, case_id: CaseArg, sender: FromOpt) -> None:
    """Fund your side of an appeal of the current ruling: the loser 2x the appeal cost (first half
    of the appeal period), the winner 1.5x (until its end). The appeal is made when both sides have
    funded; a side that funds alone wins by default (its deposit comes back)."""
    from proofwork.services.disputes import Disputes

    state = cli_state(ctx)
    with state.workspace() as ws:
        out = Disputes(ws).appeal(ws.signer(sender), case_arg(case_id))
        dec = ws.token_at(out.case.token).decimals
        d = out.details
        other = d["other_requirement"]
        appeal = {
            "paid": format_amount(d["paid"], dec),
            "side": d["side"],
            "role": d["role"],
            "appealed": d["appealed"],
            "appeals": d["appeals"],
            "pot": format_amount(d["pot"], dec),
            "waiting_for": d["waiting_for"],
            "other_requirement": None if other is None else format_amount(other, dec),
            "other_deadline": d["other_deadline"],
        }
        data = {"case": _case_json(ws, out.case), "appeal": appeal, "steps": _steps(out.steps)}
        _emit_steps(state, data, out.message)


@dispute_app.command("show")
def dispute_show(ctx: typer.Context, case_id: CaseArg) -> None:
    """A case: its state, the court's period and deadline, the panels and votes, rulings, fees."""
    from proofwork.services.disputes import Disputes

    state = cli_state(ctx)
    with state.workspace() as ws:
        view = Disputes(ws).show(case_arg(case_id))
        data = _view_json(ws, view)
        state.emit({"ok": True, "case": data}, lambda: _view_table(ws, view, data))


def _view_json(ws: Workspace, view: CaseView) -> dict[str, Any]:
    dec = ws.token.decimals
    data = _case_json(ws, view.case, view.created)
    data.update(
        {
            "created": view.created,
            "period": view.dispute.period.label if view.dispute else None,
            "round": view.dispute.round + 1 if view.dispute else None,
            "deadline": view.deadline,
            "draw_block": view.draw_block or None,
            "current_ruling": view.dispute.current_ruling if view.dispute else None,
            "current_ruling_label": C.ruling_label(view.dispute.current_ruling) if view.dispute else None,
            "fee_due": format_amount(view.fee_due, dec),
            "appeal_cost": None if view.appeal_cost is None else format_amount(view.appeal_cost, dec),
            "appeal": None if view.appeal is None else _appeal_json(view.appeal, dec),
            "rounds": [
                {
                    "round": r.round + 1,
                    "requested": r.info.requested,
                    "seats": r.info.seats,
                    "commits": r.info.commits,
                    "reveals": r.info.reveals,
                    "distributed": r.info.distributed,
                    "panel": [
                        {
                            "seat": s.position + 1,
                            "juror": s.juror,
                            "name": ws.name_of(s.juror),
                            "vote": r.votes.get(s.position),
                        }
                        for s in r.panel
                    ],
                    "ruling": r.ruling,
                }
                for r in view.rounds
            ],
            "meta_evidence": view.meta_evidence,
            "evidence": view.evidence,
            "closed": view.close,
            "next": view.next_step,
            "job_status": view.job.milestones[view.case.milestone].status.label,
        }
    )
    return data


def _appeal_json(appeal: AppealView, dec: int) -> dict[str, Any]:
    return {
        "appeals": appeal.appeals,
        "pot": format_amount(appeal.pot, dec),
        "cost": None if appeal.cost is None else format_amount(appeal.cost, dec),
        "sides": {
            name: {
                "role": side.role,
                "requirement": None if side.requirement is None else format_amount(side.requirement, dec),
                "paid": format_amount(side.paid, dec),
                "funded": side.funded,
                "deadline": side.deadline,
            }
            for name, side in appeal.sides.items()
        },
    }


def _view_table(ws: Workspace, view: CaseView, data: dict[str, Any]) -> Table:
    dec, sym = ws.token.decimals, ws.token.symbol
    table = Table(
        title=f"Case {view.case.case_id}: {view.case.status.label}", show_header=False, title_justify="left"
    )
    table.add_column("field", style="bold")
    table.add_column("value")
    c = view.case
    table.add_row("job", f"{c.job_id}, milestone {c.milestone + 1} ({data['job_status']})")
    table.add_row("in dispute", money(c.amount, dec, sym))
    table.add_row("client", f"{c.client} ({ws.name_of(c.client) or '-'})")
    table.add_row("freelancer", f"{c.freelancer} ({ws.name_of(c.freelancer) or '-'})")
    table.add_row(
        "deposits", f"client {money(c.client_fee, dec, sym)}, freelancer {money(c.freelancer_fee, dec, sym)}"
    )
    if view.dispute is not None:
        d = view.dispute
        table.add_row("court", f"dispute {d.dispute}, round {d.round + 1}, {d.period.label} period")
        if view.deadline:
            table.add_row("period ends", when(view.deadline))
        if view.draw_block:
            table.add_row("jury draw", f"armed on block {view.draw_block} (`court advance` draws the jurors)")
        table.add_row("current ruling", f"{d.current_ruling}: {C.ruling_label(d.current_ruling)}")
        for r in view.rounds:
            votes = ", ".join(
                f"{s.position + 1}:{ws.name_of(s.juror) or s.juror[:10]}="
                + (C.ruling_label(r.votes[s.position]) if s.position in r.votes else "?")
                for s in r.panel
            )
            table.add_row(
                f"round {r.round + 1}", f"{r.info.seats}/{r.info.requested} seats; {votes or 'not drawn yet'}"
            )
    elif c.status.awaiting_fee:
        table.add_row("fee deadline", when(c.fee_deadline))
        table.add_row("fee due", money(view.fee_due, dec, sym))
    if view.appeal_cost is not None:
        table.add_row("appeal cost", money(view.appeal_cost, dec, sym))
    if view.appeal is not None:
        for side in view.appeal.sides.values():
            if side.funded:
                funding = f"funded {money(side.paid, dec, sym)}"
            elif side.requirement is None:
                funding = "no further appeal"
            else:
                funding = f"owes {money(side.requirement, dec, sym)} until {when(side.deadline)}"
            table.add_row(f"appeal: {side.party}", f"{side.role}; {funding}")
        if view.appeal.appeals or view.appeal.pot:
            table.add_row(
                "appeal pot",
                f"{money(view.appeal.pot, dec, sym)} after {view.appeal.appeals} appeal(s), "
                "shared by the final ruling",
            )
    if c.settlement_proposer and int(c.settlement_proposer, 16):
        table.add_row(
            "settlement offer", f"{c.settlement_bps / 100:g} % to the freelancer, by {c.settlement_proposer}"
        )
    for e in view.evidence:
        table.add_row("evidence", f"{e['uri']} by {ws.name_of(e['party']) or e['party']}")
    if view.close:
        table.add_row(
            "closed", f"by {view.close['reason']}: {view.close['freelancer_bps'] / 100:g} % to the freelancer"
        )
    table.add_row("next", view.next_step)
    return table


# --------------------------------------------------------------------------------------------- juror


@juror_app.command("stake")
def juror_stake(
    ctx: typer.Context, sender: FromOpt, amount: Annotated[str, typer.Option(help="PWK to stake, e.g. 300.")]
) -> None:
    """Stake PWK: it enters the draw at once (stake-weighted)."""
    from proofwork.services.jurors import Jurors

    state = cli_state(ctx)
    units = parse_amount(amount, C.PWK_DECIMALS)
    with state.workspace() as ws:
        out = Jurors(ws).stake(ws.signer(sender), units)
        _stake_report(state, out, f"staked {_pwk(units)}")


@juror_app.command("unstake")
def juror_unstake(
    ctx: typer.Context,
    sender: FromOpt,
    amount: Annotated[str | None, typer.Option(help="PWK to leave the draw with (default: all).")] = None,
) -> None:
    """Leave the draw and take back what no open case locks (locked stake follows when its cases end)."""
    from proofwork.services.jurors import Jurors

    state = cli_state(ctx)
    units = None if amount is None else parse_amount(amount, C.PWK_DECIMALS)
    with state.workspace() as ws:
        out = Jurors(ws).unstake(ws.signer(sender), units)
        _stake_report(state, out, f"unstaked; {_pwk(out.sent)} sent back")


def _stake_report(state: CliState, out: Any, message: str) -> None:
    data = {
        "juror": out.juror,
        "weight": format_amount(out.weight, C.PWK_DECIMALS),
        "balance": format_amount(out.balance, C.PWK_DECIMALS),
        "locked": format_amount(out.locked, C.PWK_DECIMALS),
        "sent": format_amount(out.sent, C.PWK_DECIMALS),
        "steps": _steps(out.steps),
    }
    detail = f"{message}: in the draw {_pwk(out.weight)}, held by the court {_pwk(out.balance)}, locked {_pwk(out.locked)}"
    _emit_steps(state, data, detail)


@juror_app.command("cases")
def juror_cases(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", "--from", help="The juror: a name or an address.")],
) -> None:
    """The cases you sit on, what each waits for from you and by when (warns before a reveal deadline)."""
    from proofwork.services.jurors import Jurors

    state = cli_state(ctx)
    with state.workspace() as ws:
        jurors = Jurors(ws)
        who = ws.address(account)
        seats = jurors.cases(who)
        stake = jurors.status(who)
        rewards = jurors.rewards(who)
        rows: list[dict[str, Any]] = [
            {
                "case": s.case_id or None,
                "competition": s.competition,
                "dispute": s.dispute,
                "round": s.round + 1,
                "seat": s.seat + 1,
                "period": s.period.label,
                "deadline": s.deadline,
                "vote": s.vote,
                "stored_vote": s.stored,
                "warning": s.warning,
            }
            for s in seats
        ]
        for row in rows:  # a reveal (or commit) that is due: said on stderr too, whatever the output mode
            if row["warning"]:
                which = f"case {row['case']}" if row["case"] else f"competition {row['competition']}"
                sys.stderr.write(f"warning: {which} seat {row['seat']}: {row['warning']}\n")
        armed = [
            {
                "case": a.case_id or None,
                "dispute": a.dispute,
                "round": a.round + 1,
                "draw_block": a.draw_block,
                "until_block": a.until,
                "open": a.open,
            }
            for a in jurors.disputes.armed_draws()
        ]
        for a in armed:  # stakes are frozen until these draws are made
            which = f"case {a['case']}" if a["case"] else f"dispute {a['dispute']}"
            what = "stake and unstake wait until it is made (`court advance`)" if a["open"] else "expired"
            sys.stderr.write(f"note: the jury draw of {which} is armed on block {a['draw_block']}: {what}\n")
        data = {
            "juror": who,
            "seats": rows,
            "stake": {"weight": format_amount(stake.weight, 18), "locked": format_amount(stake.locked, 18)},
            "armed_draws": armed,
            "rewards": {
                "token": format_amount(rewards["token"], ws.token.decimals),
                "pwk": format_amount(rewards["pwk"], 18),
            },
        }

        def table() -> Any:
            t = Table(title=f"seats of {ws.name_of(who) or who}", title_justify="left")
            for col in ("case", "round", "seat", "period", "ends", "vote", "to do"):
                t.add_column(col)
            for r in rows:
                t.add_row(
                    str(
                        r["case"]
                        or (
                            f"competition {r['competition']}"
                            if r["competition"]
                            else f"dispute {r['dispute']}"
                        )
                    ),
                    str(r["round"]),
                    str(r["seat"]),
                    r["period"],
                    when(r["deadline"] or 0),
                    r["vote"],
                    r["warning"] or "-",
                )
            return t if rows else f"{ws.name_of(who) or who} sits on no case (staked {_pwk(stake.weight)})"

        state.emit({"ok": True, **data}, table)


CompetitionOpt = Annotated[
    bool,
    typer.Option(
        "--competition",
        help="CASE is a competition id: its ranking challenge is before the court (votes: keep, challenger, "
        "refuse).",
    ),
]


def _vote(text: str, competition: bool) -> int:
    return C.parse_ranking_vote(text) if competition else C.parse_vote(text)


def _vote_label(choice: int, competition: bool) -> str:
    if competition:
        return {0: "refuse", 1: "keep the ranking", 2: "the challenger's ranking"}.get(choice, str(choice))
    return C.ruling_label(choice)


@juror_app.command("commit")
def juror_commit(
    ctx: typer.Context,
    case_id: CaseArg,
    sender: FromOpt,
    vote: Annotated[
        str,
        typer.Option(
            help="freelancer, client, refuse, 75, 50 or 25 (or a ruling 0-5); on a ranking challenge: keep, "
            "challenger or refuse."
        ),
    ],
    competition: CompetitionOpt = False,
) -> None:
    """Commit your vote (hidden until the reveal period); its salt is kept in the data directory."""
    from proofwork.services.jurors import Jurors

    state = cli_state(ctx)
    choice = _vote(vote, competition)
    with state.workspace() as ws:
        out = Jurors(ws).commit(ws.signer(sender), case_arg(case_id), choice, competition=competition)
        _emit_steps(
            state,
            {
                "case": out.case_id,
                "dispute": out.dispute,
                "round": out.round + 1,
                "seats": [s + 1 for s in out.seats],
                "vote": choice,
                "steps": _steps(out.steps),
            },
            f"vote committed on {'competition' if competition else 'case'} {out.case_id} "
            f"({_vote_label(choice, competition)}); reveal it in the reveal period",
        )


@juror_app.command("reveal")
def juror_reveal(
    ctx: typer.Context,
    case_id: CaseArg,
    sender: FromOpt,
    vote: Annotated[
        str | None, typer.Option(help="The vote to reveal (default: the one stored at commit).")
    ] = None,
    competition: CompetitionOpt = False,
) -> None:
    """Reveal your committed vote (from the vote kept at commit time)."""
    from proofwork.services.jurors import Jurors

    state = cli_state(ctx)
    choice = None if vote is None else _vote(vote, competition)
    with state.workspace() as ws:
        out = Jurors(ws).reveal(ws.signer(sender), case_arg(case_id), choice, competition=competition)
        _emit_steps(
            state,
            {
                "case": out.case_id,
                "dispute": out.dispute,
                "round": out.round + 1,
                "seats": [s + 1 for s in out.seats],
                "vote": out.choice,
                "steps": _steps(out.steps),
            },
            f"vote revealed on {'competition' if competition else 'case'} {out.case_id}: "
            f"{_vote_label(out.choice, competition)}",
        )


@juror_app.command("check")
def juror_check(ctx: typer.Context, case_id: CaseArg, competition: CompetitionOpt = False) -> None:
    """What proofwork can prove about a case: the deliverable's CID and the timeline of the milestone; for a
    challenged score, the oracles' signed reports and the score recomputed in the sandbox from public
    artifacts once the labels are revealed; for a challenged ranking, every revealed entry scored again
    and the ranking those scores give, next to the ranking in force and the challenger's."""
    from proofwork.network.peers import HttpPeers
    from proofwork.services.jurors import Jurors

    state = cli_state(ctx)
    if competition:
        _ranking_check(state, case_arg(case_id))
        return
    with state.workspace() as ws:
        jurors = Jurors(ws)
        case = jurors.disputes.case(case_arg(case_id))
        if jurors.disputes.jobs.judged_by_committee(jurors.disputes.jobs.get(case.job_id)):
            from proofwork.evaluation.runner import Evaluator
            from proofwork.evaluation.sandbox import Sandbox

            peers = HttpPeers()
            try:
                with Sandbox(debug=state.settings.sandbox_debug) as sandbox:
                    facts = jurors.check(case.case_id, Evaluator(sandbox), peers)
            finally:
                peers.close()
        else:
            facts = jurors.check(case.case_id)

        def human() -> Any:
            t = Table(
                title=f"Case {case_id}: job {facts['job']}, milestone {facts['milestone']}",
                title_justify="left",
            )
            t.add_column("when")
            t.add_column("what")
            for e in facts["timeline"]:
                what = e["event"]
                if "cid" in e:
                    what += f": deliverable {e['cid']}" + ("" if e["in_store"] else " (not in this store)")
                if "by" in e:
                    what += f" by {ws.name_of(e['by']) or e['by']}"
                t.add_row(when(e.get("time", 0)) if e.get("time") else f"block {e['block']}", what)
            for e in facts["evidence"]:
                t.add_row(
                    f"block {e['block']}", f"evidence {e['uri']} by {ws.name_of(e['party']) or e['party']}"
                )
            t.add_row("-", f"spec hash {facts['spec_hash']}; meta-evidence {facts['meta_evidence']}")
            score = facts["score_check"]
            if score is not None:
                bar = ("at least " if score["higher_is_better"] else "at most ") + str(score["threshold"])
                for r in score["reports"]:
                    t.add_row("-", f"oracle {ws.name_of(r['oracle']) or r['oracle']} reported {r['score']}")
                if score["reported_median"] is not None:
                    verdict = "pass" if score["reported_pass"] else "fail"
                    t.add_row("-", f"reported median {score['reported_median']} ({verdict}; pass is {bar})")
                if score["recomputed"] is not None:
                    verdict = "pass" if score["recomputed_pass"] else "fail"
                    t.add_row("-", f"recomputed from public artifacts: {score['recomputed']} ({verdict})")
                else:
                    t.add_row("-", f"not recomputed: {score['reason']}")
            return t

        state.emit({"ok": True, **facts}, human)


def _ranking_check(state: CliState, comp_id: int) -> None:
    from proofwork.evaluation.runner import Evaluator
    from proofwork.evaluation.sandbox import Sandbox
    from proofwork.services.ranking_challenges import RankingChallenges

    with state.workspace() as ws, Sandbox(debug=state.settings.sandbox_debug) as sandbox:
        facts = RankingChallenges(ws, Evaluator(sandbox)).check(comp_id)

    def show(ranking: list[list[int]] | None) -> str:
        if ranking is None:
            return "-"
        return ", ".join(f"entry {e} ({sc / 1e6:.6f})" for e, sc in ranking) or "no winner"

    human = (
        f"competition {comp_id}, dispute {facts['dispute']}\n"
        f"  ranking in force:     {show(facts['ranking_in_force'])}\n"
        f"  challenger's ranking: {show(facts['challenger_ranking'])}\n"
        f"  recomputed here:      {show(facts['recomputed'])}\n"
        + (
            f"  the recomputed ranking matches: {facts['matches']}"
            if facts["matches"]
            else f"  not recomputed: {facts['reason']}"
        )
    )
    state.emit({"ok": True, **facts}, Text(human))


@juror_app.command("withdraw")
def juror_withdraw(ctx: typer.Context, sender: FromOpt) -> None:
    """Pull your rewards: fees in the job token and PWK slashed from incoherent jurors."""
    from proofwork.services.jurors import Jurors

    state = cli_state(ctx)
    with state.workspace() as ws:
        owed, steps = Jurors(ws).withdraw(ws.signer(sender))
        dec = ws.token.decimals
        _emit_steps(
            state,
            {
                "token": format_amount(owed["token"], dec),
                "pwk": format_amount(owed["pwk"], 18),
                "steps": _steps(steps),
            },
            f"withdrew {money(owed['token'], dec, ws.token.symbol)} and {_pwk(owed['pwk'])}",
        )


# --------------------------------------------------------------------------------------------- court


@court_app.command("deploy")
def court_deploy(
    ctx: typer.Context,
    sender: FromOpt = "dev0",
    fee_bps: Annotated[
        int, typer.Option(help="Fee per juror, in bps of the amount in dispute (max 1000).")
    ] = 300,
    small_claim: Annotated[str, typer.Option(help="Claims below this many tokens get one juror.")] = "100",
    jurors: Annotated[
        int, typer.Option(help="First-round jurors (odd, up to 7; 0: 1 or 3 by the claim).")
    ] = 0,
    seat_lock: Annotated[
        str, typer.Option(help="PWK locked per seat (slashed if not voting the majority).")
    ] = "100",
    periods: Annotated[
        str, typer.Option(help="Evidence, commit, reveal and appeal periods.")
    ] = "2d,1d,1d,2d",
    fee_timeout: Annotated[
        str, typer.Option(help="Time a party has to pay its fee once the other has (at most 4d).")
    ] = "2d",
    treasury: Annotated[str | None, typer.Option(help="Receives fees of rounds nobody voted in.")] = None,
    force: Annotated[bool, typer.Option(help="Deploy a new court even if one exists.")] = False,
) -> None:
    """Deploy PWK, the court and the escrow's arbitrable adapter (jobs name it with `--arbiter court`)."""
    from proofwork.services.deployment import deploy_court

    state = cli_state(ctx)
    parts = [parse_duration(p) for p in periods.split(",")]
    if len(parts) != 4:
        from proofwork.domain.errors import InvalidInput

        raise InvalidInput("give four periods: evidence, commit, reveal, appeal (e.g. 2d,1d,1d,2d)")
    lock = parse_amount(seat_lock, C.PWK_DECIMALS)
    with state.workspace() as ws:
        params = C.CourtParams(
            seat_lock=lock,
            min_stake=lock,
            fee_bps=fee_bps,
            small_claim_limit=parse_amount(small_claim, ws.token.decimals),
            periods=(parts[0], parts[1], parts[2], parts[3]),
            jurors=jurors,
            fee_timeout=parse_duration(fee_timeout),
        )
        result = deploy_court(
            ws,
            ws.signer(sender),
            params,
            treasury=ws.address(treasury, "treasury") if treasury else None,
            force=force,
        )
        d = result.deployment
        verb = "deployed" if result.created else "already deployed (nothing sent)"
        human = (
            f"court {verb} on chain {d.chain_id}\n  PWK     {d.court_token}\n  court   {d.court}\n"
            f"  arbiter {d.arbitrable} (jobs: `job post --arbiter court`)"
        )
        if d.committee and not J.same_address(ws.committee.court, d.arbitrable):
            human += (
                f"\n  the oracle committee {d.committee} predates this court: its disputed scores end by its "
                "verdict; `committee deploy --force` deploys one that names the court"
            )
        state.emit(
            {
                "ok": True,
                "created": result.created,
                "court_token": d.court_token,
                "court": d.court,
                "arbitrable": d.arbitrable,
                "params": d.court_params,
                "gas": result.gas,
            },
            Text(human),
        )


@court_app.command("advance")
def court_advance(ctx: typer.Context, case_id: CaseArg, sender: FromOpt = "dev0") -> None:
    """Do what is due on a case (anyone may): a default for an unpaid fee, the next court period (after
    the evidence period: arms the jury draw, then draws in the next block), the ruling's execution on
    the escrow, the jurors' rewards. Armed draws of other cases, which freeze stakes, are made first."""
    from proofwork.services.disputes import Disputes

    state = cli_state(ctx)
    with state.workspace() as ws:
        out = Disputes(ws).advance(ws.signer(sender), case_arg(case_id))
        _outcome(state, ws, out)


@court_app.command("transfer")
def court_transfer(
    ctx: typer.Context,
    to: Annotated[str, typer.Argument(help="Receiver: a name or an address.")],
    sender: FromOpt,
    amount: Annotated[str, typer.Option(help="PWK to send, e.g. 500.")],
) -> None:
    """Send PWK (the deployer holds the whole fixed supply at first and hands it to jurors)."""
    state = cli_state(ctx)
    units = parse_amount(amount, C.PWK_DECIMALS)
    with state.workspace() as ws:
        signer, receiver = ws.signer(sender), ws.address(to, "receiver")
        held = ws.court_token.balance_of(signer.address)
        if held < units:
            from proofwork.domain.errors import NotAllowed

            raise NotAllowed(f"{signer.name} holds only {_pwk(held)}")
        receipt = ws.court_token.transfer(signer.key, receiver, units)
        _emit_steps(
            state,
            {
                "to": receiver,
                "amount": format_amount(units, 18),
                "steps": _steps([("transfer PWK", receipt)]),
            },
            f"sent {_pwk(units)} to {to}",
        )
