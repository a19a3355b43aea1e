"""Commands about the chain and the deployment: `deploy`, `chain status|advance`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from proofwork.cli.args import FromOpt, cli_state
from proofwork.cli.output import when
from proofwork.domain.errors import ProofworkError
from proofwork.domain.job import DEFAULT_FEE_BPS
from proofwork.domain.units import parse_duration

chain_app = typer.Typer(help="The chain proofwork talks to.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy_cmd)
    app.add_typer(chain_app, name="chain")


def deploy_cmd(
    ctx: typer.Context,
    sender: FromOpt = "dev0",
    treasury: Annotated[str | None, typer.Option(help="Account that receives platform fees.")] = None,
    fee_bps: Annotated[int, typer.Option(help="Platform fee in basis points (max 1000).")] = DEFAULT_FEE_BPS,
    token: Annotated[
        str | None, typer.Option(help="Use this existing ERC-20 instead of deploying StableToken.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Deploy new contracts even if older ones exist.")] = False,
) -> None:
    """Deploy the contracts once and write the deployment manifest (idempotent)."""
    from proofwork.services.deployment import deploy

    state = cli_state(ctx)
    with state.workspace() as ws:
        signer = ws.signer(sender)
        result = deploy(
            ws,
            signer,
            treasury=ws.address(treasury, "treasury") if treasury else None,
            fee_bps=fee_bps,
            token=ws.address(token, "token") if token else None,
            force=force,
        )
        d = result.deployment
        verb = "deployed" if result.created else "already deployed (nothing sent)"
        human = (
            f"proofwork {verb} on chain {d.chain_id}\n  escrow {d.escrow}\n  token  {d.token}\n"
            f"  manifest {ws.manifest_path}"
        )
        state.emit(
            {"ok": True, "created": result.created, "deployment": d.summary(), "gas": result.gas}, human
        )


@chain_app.command("status")
def chain_status(ctx: typer.Context) -> None:
    """Which chain, its height and time, and the deployment on it."""
    state = cli_state(ctx)
    with state.workspace() as ws:
        chain = ws.chain
        data: dict[str, Any] = {
            "ok": True,
            "chain": chain.description,
            "chain_id": chain.chain_id,
            "block": chain.block_number(),
            "time": chain.now(),
            "local": chain.is_local,
        }
        try:
            data["deployment"] = ws.deployment.summary()
        except ProofworkError as exc:
            data["deployment"] = None
            data["note"] = str(exc)
        human = (
            f"{chain.description}: chain id {data['chain_id']}, block {data['block']}, time {when(data['time'])}\n"
            + (f"escrow {data['deployment']['escrow']}" if data["deployment"] else str(data.get("note")))
        )
        state.emit(data, human)


@chain_app.command("advance")
def chain_advance(
    ctx: typer.Context, duration: Annotated[str, typer.Argument(help="e.g. 3d, 36h, 90m")]
) -> None:
    """Move a local chain's clock forward (embedded chain or anvil only)."""
    state = cli_state(ctx)
    seconds = parse_duration(duration)
    with state.workspace() as ws:
        now = ws.chain.advance_time(seconds)
        state.emit({"ok": True, "time": now}, f"chain time is now {when(now)}")
