"""`proofwork demo [--ml|--identity|--dispute|--assets|--labeling]`: the main stories on a fresh embedded chain."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from proofwork.cli.args import cli_state
from proofwork.cli.output import CliState, money
from proofwork.domain.errors import InvalidInput
from proofwork.domain.units import format_amount


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)


def demo_cmd(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ml: Annotated[
        bool,
        typer.Option("--ml", help="Verified ML evaluation: hidden test set, 4 oracles (one lying), payment."),
    ] = False,
    identity: Annotated[
        bool,
        typer.Option(
            "--identity",
            help="Credentials, revocation, soulbound badges, attestations and a portable reputation.",
        ),
    ] = False,
    dispute: Annotated[
        bool,
        typer.Option(
            "--dispute",
            help="A client rejects good work; 7 staked jurors, an appeal, the ruling executes.",
        ),
    ] = False,
    assets: Annotated[
        bool,
        typer.Option(
            "--assets",
            help="Models and datasets as assets: lineage, a paid job's IP, licences, royalties, "
            "encrypted downloads and compute-to-data.",
        ),
    ] = False,
    labeling: Annotated[
        bool,
        typer.Option(
            "--labeling",
            help="A labeling campaign: 1,797 digit images, a simulated crowd, quality control, "
            "Merkle-root payouts, the labeled dataset as an asset.",
        ),
    ] = False,
) -> None:
    """The whole story on a fresh embedded chain: deploy, fund, post, deliver, approve, auto-release."""
    from proofwork.services.demo import run_demo
    from proofwork.services.workspace import Workspace

    state = cli_state(ctx)
    state.json = state.json or json_output
    if sum((ml, identity, dispute, assets, labeling)) > 1:
        raise InvalidInput("run --ml, --identity, --dispute, --assets and --labeling as separate demos")
    directory = Path(tempfile.mkdtemp(prefix="proofwork-demo-"))
    # the stories run on a fresh embedded chain in a new directory, whatever the options name
    settings = replace(state.settings, data_dir=directory, rpc_url=None, store=None)
    if ml:
        demo_ml(state, settings)
        return
    if identity:
        demo_identity(state, settings)
        return
    if dispute:
        demo_dispute(state, settings)
        return
    if assets:
        demo_assets(state, settings)
        return
    if labeling:
        demo_labeling(state, settings)
        return
    with Workspace.open(settings, password=state.password) as ws:
        if state.json:
            report = run_demo(ws)
        else:
            with state.console.status("running the demo...") as status:
                report = run_demo(ws, on_step=lambda name: status.update(name))
    dec, sym = report.decimals, report.symbol
    data = {
        "ok": report.ok,
        "job_id": report.job_id,
        "steps": [{"name": s["name"], "gas": s["gas"]} for s in report.steps],
        "balances": {
            role: {k: format_amount(v, dec) for k, v in b.items()} | {"units": b}
            for role, b in report.balances.items()
        },
        "token": sym,
        "data_dir": report.data_dir,
        "problems": report.problems,
    }
    if not state.json:
        steps = Table(title=f"proofwork demo: job {report.job_id}", title_justify="left")
        steps.add_column("step")
        steps.add_column("gas", justify="right")
        for s in report.steps:
            steps.add_row(str(s["name"]), f"{s['gas']:,}" if s["gas"] else "-")
        balances = Table(title=f"balances ({sym})", title_justify="left")
        for col in ("account", "before", "after", "change"):
            balances.add_column(col, justify="left" if col == "account" else "right")
        for role, b in report.balances.items():
            change = b["after"] - b["before"]
            balances.add_row(
                role,
                money(b["before"], dec),
                money(b["after"], dec),
                ("+" if change > 0 else "") + money(change, dec),
            )
        state.console.print(steps)
        state.console.print(balances)
        verdict = (
            "[green]ok[/green]: every balance is as the contract promised"
            if report.ok
            else "[red]FAILED[/red]: " + "; ".join(report.problems)
        )
        state.console.print(verdict)
        state.console.print(f"chain kept in {report.data_dir} (use --data-dir to look around)")
    else:
        state.emit(data)
    if not report.ok:
        raise typer.Exit(1)


def run_story(state: CliState, settings: Any, story: Any, **servers: Any) -> Any:
    """Runs a demo story `story(ws, serve, on_step=...)` with in-process oracle endpoints on a fresh
    workspace; its steps are printed as they happen unless the output is JSON."""
    from proofwork.api.oracle_http import ReportServer
    from proofwork.services.workspace import Workspace

    def serve(oracle_state: Any, oracle: str) -> ReportServer:
        return ReportServer(oracle_state, oracle).start()

    with Workspace.open(settings, password=state.password) as ws:
        if state.json:
            return story(ws, serve, **servers)
        return story(
            ws, serve, on_step=lambda text: state.console.print(f"• {text}", markup=False), **servers
        )


def verdict(state: CliState, report: Any, ok_text: str, prefix: str = "") -> None:
    """A story's last lines: ok and what it showed, or FAILED and why; where its chain is kept."""
    state.console.print(
        Text(f"ok: {ok_text}", style="green")
        if report.ok
        else Text("FAILED: " + "; ".join(report.problems), style="red")
    )
    state.console.print(Text(f"{prefix}chain kept in {report.data_dir} (use --data-dir to look around)"))


def demo_ml(state: CliState, settings: Any) -> None:
    """`proofwork demo --ml` on a fresh embedded chain."""
    from proofwork.services.demo_ml import run_ml_demo

    report = run_story(state, settings, run_ml_demo)
    data = {
        "ok": report.ok,
        "scores": report.scores,
        "payouts": report.payouts,
        "verified": report.verified,
        "outliers": report.outliers,
        "isolation": report.isolation,
        "data_dir": report.data_dir,
        "problems": report.problems,
    }
    if state.json:
        state.emit(data)
    else:
        table = Table(title="proofwork demo --ml", title_justify="left")
        for col in ("freelancer", "job", "median accuracy", "passed", "paid", "verify-score"):
            table.add_column(col)
        for name, s in report.scores.items():
            table.add_row(
                name,
                str(s["job"]),
                "-" if s["median"] is None else f"{s['median'] / 1e6:.6f}",
                str(s["passed"]),
                money(report.payouts.get(name, 0), report.decimals, "pwUSD"),
                "match" if report.verified.get(name) else "MISMATCH",
            )
        state.console.print(table)
        state.console.print(f"outlier reports recorded on chain: {report.outliers}")
        state.console.print(
            "[green]ok[/green]: the good model was paid, the weak one was not, every score re-checked"
            if report.ok
            else "[red]FAILED[/red]: " + "; ".join(report.problems)
        )
        state.console.print(f"chain kept in {report.data_dir}")
    if not report.ok:
        raise typer.Exit(1)


def demo_identity(state: CliState, settings: Any) -> None:
    """`proofwork demo --identity` on a fresh embedded chain."""
    from proofwork.api.issuer_http import WebRootServer
    from proofwork.services.demo_identity import run_identity_demo

    report = run_story(state, settings, run_identity_demo, serve_web_root=WebRootServer)
    data = {
        "ok": report.ok,
        "disclosed": report.disclosed,
        "revoked_rejection": report.revoked_rejection,
        "attestations": report.attestations,
        "badges": report.badges,
        "reputation": report.reputation,
        "reputation_credential": report.reputation_credential,
        "data_dir": report.data_dir,
        "problems": report.problems,
    }
    if state.json:
        state.emit(data)
    else:
        verdict(state, report, "every check of the story passed")
    if not report.ok:
        raise typer.Exit(1)


def demo_dispute(state: CliState, settings: Any) -> None:
    """`proofwork demo --dispute` on a fresh embedded chain."""
    from proofwork.services.demo_court import run_dispute_demo

    report = run_story(state, settings, run_dispute_demo)
    dec, sym = report.decimals, report.symbol
    balances = {
        role: {
            "token_change": format_amount(b["token_change"], dec),
            "pwk_change": format_amount(b["pwk_change"], 18),
            "units": b,
        }
        for role, b in report.balances.items()
    }
    data = {
        "ok": report.ok,
        "job_id": report.job_id,
        "case_id": report.case_id,
        "rounds": report.rounds,
        "final_ruling": report.final_ruling,
        "score_case": report.score_case,
        "balances": balances,
        "token": sym,
        "data_dir": report.data_dir,
        "problems": report.problems,
    }
    if state.json:
        state.emit(data)
    else:
        rounds = Table(
            title=f"proofwork demo --dispute: case {report.case_id} (job {report.job_id})",
            title_justify="left",
        )
        for col in ("round", "seats (juror: vote)", "for the freelancer", "against", "ruling"):
            rounds.add_column(col)
        for r in report.rounds:
            seats = ", ".join(f"{s['juror']}:{'F' if s['vote'] == 1 else 'C'}" for s in r["seats"])
            rounds.add_row(
                str(r["round"]),
                seats,
                str(r["votes"]["freelancer"]),
                str(r["votes"]["client"]),
                r["ruling_label"],
            )
        table = Table(title=f"balance changes ({sym} and PWK)", title_justify="left")
        for col in ("account", sym, "PWK"):
            table.add_column(col, justify="left" if col == "account" else "right")
        for role, b in report.balances.items():
            table.add_row(
                role,
                ("+" if b["token_change"] > 0 else "") + money(b["token_change"], dec),
                ("+" if b["pwk_change"] > 0 else "") + format_amount(b["pwk_change"], 18),
            )
        state.console.print(rounds)
        score = report.score_case
        if score:
            state.console.print(
                Text(
                    f"case {score['case_id']} (job {score['job_id']}, a challenged score): the oracles reported "
                    f"{score['reported_median']}, {len(score['checked_by'])} juror(s) recomputed "
                    f"{score['recomputed']} in the sandbox (pass at {score['threshold']}); "
                    f"ruling: {score['ruling_label']}"
                )
            )
        state.console.print(table)
        verdict(
            state,
            report,
            "the client lost on appeal, the challenged score stood, both rulings executed, every token accounted for",
        )
    if not report.ok:
        raise typer.Exit(1)


def demo_assets(state: CliState, settings: Any) -> None:
    """`proofwork demo --assets` on a fresh embedded chain."""
    from proofwork.services.demo_assets import run_assets_demo

    report = run_story(state, settings, run_assets_demo)
    dec, sym = report.decimals, report.symbol

    def units(values: dict[str, int]) -> dict[str, Any]:
        return {role: format_amount(v, dec) for role, v in values.items()} | {"units": values}

    data = {
        "ok": report.ok,
        "accounts": report.accounts,
        "asset_ids": report.asset_ids,
        "lineage": {str(k): v for k, v in report.lineage.items()},
        "job_id": report.job_id,
        "licences": report.licences,
        "prices": units(report.prices),
        "dataset_sale": units(report.dataset_sale),
        "royalties": units(report.royalties),
        "balances": report.balances,
        "sum_check": report.sum_check,
        "download": report.download,
        "compute": report.compute,
        "token": sym,
        "seconds": report.seconds,
        "data_dir": report.data_dir,
        "problems": report.problems,
    }
    if state.json:
        state.emit(data)
    else:
        table = Table(
            title=f"royalties of the commercial licence on asset {report.asset_ids.get('fine_tuned')} ({sym})",
            title_justify="left",
        )
        for col in ("role", "account", "received", "balance before", "balance after"):
            table.add_column(col, justify="left" if col in ("role", "account") else "right")
        for role, b in report.balances.items():
            table.add_row(
                role,
                report.accounts[role],
                money(report.royalties.get(role, 0), dec),
                money(b["before"], dec),
                money(b["after"], dec),
            )
        state.console.print(table)
        check = report.sum_check
        state.console.print(
            Text(
                f"sum check: paid {money(check['paid'], dec)}, received {money(check['received'], dec)}, "
                f"left in Licensing {money(check['left_in_licensing'], dec)}"
            )
        )
        verdict(
            state,
            report,
            "every upstream account was paid to the unit, the buyer decrypted the model, "
            "the compute buyer got a signed score and no row",
            f"{report.seconds:g} s; ",
        )
    if not report.ok:
        raise typer.Exit(1)


def demo_labeling(state: CliState, settings: Any) -> None:
    """`proofwork demo --labeling` on a fresh embedded chain."""
    from proofwork.services.demo_labeling import run_labeling_demo

    report = run_story(state, settings, run_labeling_demo)
    dec, sym = report.decimals, report.symbol
    data = {
        "ok": report.ok,
        "campaign": report.campaign_id,
        "items": report.items,
        "gold_items": report.gold_items,
        "labelers": report.labelers,
        "ds_accuracy": report.ds_accuracy,
        "mv_accuracy": report.mv_accuracy,
        "labels_per_item": report.labels_per_item,
        "excluded": report.excluded,
        "rounds": report.rounds,
        "claims": {k: format_amount(v, dec) for k, v in report.claims.items()} | {"units": report.claims},
        "balances": report.balances,
        "verified": report.verified,
        "dataset": report.dataset,
        "token": sym,
        "seconds": report.seconds,
        "data_dir": report.data_dir,
        "problems": report.problems,
    }
    if state.json:
        state.emit(data)
        return
    excluded = Table(title="excluded labelers (the spec's gold rule)", title_justify="left")
    excluded.add_column("labeler")
    excluded.add_column("kind: reason")
    for who, why in sorted(report.excluded.items(), key=lambda kv: kv[1]):
        excluded.add_row(who, why)
    state.console.print(excluded)
    paid = Table(title=f"paid to labelers by kind ({sym})", title_justify="left")
    paid.add_column("kind")
    paid.add_column("labelers", justify="right")
    paid.add_column("paid", justify="right")
    for kind, count in report.labelers.items():
        paid.add_row(kind, str(count), money(report.claims.get(kind, 0), dec))
    state.console.print(paid)
    balances = Table(title=f"balances ({sym})", title_justify="left")
    for col in ("account", "before", "after"):
        balances.add_column(col, justify="left" if col == "account" else "right")
    for role, b in report.balances.items():
        balances.add_row(role, money(b["before"], dec), money(b["after"], dec))
    state.console.print(balances)
    verdict(
        state,
        report,
        f"Dawid-Skene {report.ds_accuracy:.4f} (majority vote {report.mv_accuracy:.4f}) at "
        f"{report.labels_per_item} labels per item; every labeler paid what the signed roots owe, "
        "every round recomputed by anyone",
        f"{report.seconds:g} s; ",
    )
