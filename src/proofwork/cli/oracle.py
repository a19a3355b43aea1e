"""The oracle committee and its members: `committee deploy|show`, `oracle register|run`."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer

from proofwork.cli.args import FromOpt, cli_state, plain
from proofwork.domain.units import parse_duration
from proofwork.services.oracle.daemon import check_endpoint

committee_app = typer.Typer(help="The evaluation-oracle committee.", no_args_is_help=True)
oracle_app = typer.Typer(help="Run an evaluation oracle.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(committee_app, name="committee")
    app.add_typer(oracle_app, name="oracle")


@committee_app.command("deploy")
def committee_deploy(
    ctx: typer.Context,
    oracle: Annotated[list[str], typer.Option(help="Oracle account (repeat for each member).")],
    sender: FromOpt = "dev0",
    f: Annotated[int, typer.Option("--f", help="Faulty oracles tolerated (n > 3f).")] = 1,
    challenge_window: Annotated[str, typer.Option(help="Delay before a score is final, e.g. 1h.")] = "1h",
    force: Annotated[bool, typer.Option(help="Deploy a new committee even if one exists.")] = False,
) -> None:
    """Deploy an oracle committee (the arbiter of evaluated jobs) and a competition contract on it."""
    from proofwork.services.deployment import deploy_committee

    state = cli_state(ctx)
    with state.workspace() as ws:
        result = deploy_committee(
            ws,
            ws.signer(sender),
            [ws.address(o, "oracle") for o in oracle],
            f=f,
            challenge_window=parse_duration(challenge_window),
            force=force,
        )
        d = result.deployment
        court = ws.committee.court
        disputes = (
            f"disputed scores go to the court ({court})"
            if int(court, 16)
            else "no court: disputed scores end by the committee's verdict (`court deploy` first to have one)"
        )
        state.emit(
            {
                "ok": True,
                "committee": d.committee,
                "competition": d.competition,
                "court": court,
                "gas": result.gas,
            },
            f"committee {d.committee} ({len(oracle)} oracles, threshold {ws.committee.threshold}); "
            f"competitions {d.competition}; {disputes}",
        )


@committee_app.command("show")
def committee_show(ctx: typer.Context) -> None:
    """Members, threshold, keys and endpoints, outlier counts."""
    state = cli_state(ctx)
    with state.workspace() as ws:
        c = ws.committee
        members = [
            {
                "address": o,
                "name": ws.name_of(o),
                "endpoint": c.endpoint(o),
                "key_published": len(c.public_key(o)) == 64,
                "outlier_reports": c.outlier_reports(o),
            }
            for o in c.oracles
        ]
        data = {
            "ok": True,
            "address": c.address,
            "threshold": c.threshold,
            "f": c.f,
            "challenge_window": c.challenge_window,
            "oracles": members,
        }
    human = (
        f"committee {data['address']}: threshold {data['threshold']} of {len(members)} (f={data['f']}), challenge window {data['challenge_window']} s\n"
        + "\n".join(
            f"  {m['name'] or m['address']}: {m['endpoint'] or '(no endpoint)'}; outliers {m['outlier_reports']}"
            for m in members
        )
    )
    state.emit(data, plain(human))


@oracle_app.command("register")
def oracle_register(
    ctx: typer.Context,
    sender: FromOpt,
    url: Annotated[str, typer.Option(help="Public URL of this oracle's report endpoint.")],
) -> None:
    """Publish this oracle's public key (for sealed labels) and report endpoint on the committee."""
    from proofwork.keys.sealing import public_key_of

    state = cli_state(ctx)
    url = check_endpoint(url, "--url")
    with state.workspace() as ws:
        signer = ws.signer(sender)
        receipt = ws.committee.register_oracle(signer.key, public_key_of(signer.key), url)
        state.emit({"ok": True, "tx": receipt.tx_hash}, plain(f"{signer.name} registered at {url}"))


@oracle_app.command("run")
def oracle_run(
    ctx: typer.Context,
    sender: FromOpt,
    port: Annotated[int, typer.Option(help="Port of the report endpoint (0: any free port).")] = 0,
    host: Annotated[str, typer.Option(help="Interface of the report endpoint.")] = "127.0.0.1",
    interval: Annotated[
        float, typer.Option(help="Seconds between passes over the chain (0.05 to 3600).")
    ] = 2.0,
    once: Annotated[bool, typer.Option(help="One pass, then exit (no endpoint).")] = False,
    passes: Annotated[int, typer.Option(help="Stop after this many passes (0: run until stopped).")] = 0,
    db: Annotated[str | None, typer.Option(help="Oracle database: SQLite path or SQLAlchemy URL.")] = None,
    announce: Annotated[bool, typer.Option(help="Publish the endpoint URL on chain at start.")] = False,
    public_url: Annotated[
        str | None,
        typer.Option(help="The URL --announce publishes, as peers reach it (default: the bound URL)."),
    ] = None,
    attest: Annotated[
        bool,
        typer.Option(help="Right after settling, attest JobCompleted (when the identity contracts exist)."),
    ] = True,
) -> None:
    """Watch the chain, score submissions in the sandbox, sign, share and settle. Restart-safe.

    A failed pass (chain busy or unreachable, a broken artifact...) is reported in one line and
    the next pass runs as usual: the endpoint keeps serving."""

    from proofwork.api.oracle_http import ReportServer
    from proofwork.services.oracle.daemon import DaemonOptions, OracleDaemon
    from proofwork.services.workspace import Workspace

    state = cli_state(ctx)
    options = DaemonOptions(
        interval=interval,
        once=once,
        passes=passes,
        host=host,
        port=port,
        db=db,
        announce=announce,
        public_url=public_url,
        attest=attest,
    ).checked()
    log = logging.getLogger("proofwork.oracle")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    def say(text: str) -> None:
        # with --json, stdout holds only the final JSON line: progress goes to the log (stderr)
        if state.json:
            log.info("%s", text)
        else:
            state.console.print(text, markup=False)

    daemon = OracleDaemon(
        lambda: Workspace.open(state.settings, password=state.password),
        sender,
        ReportServer,
        options,
        say=say,
    )
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop())
    signal.signal(signal.SIGINT, lambda *_: daemon.stop())
    count = daemon.run()
    if state.json:
        state.emit({"ok": True, "passes": count})
