"""`round deploy|create|apply|contribute|finalize|claim|refund|verify`: quadratic funding rounds."""

from __future__ import annotations

from typing import Annotated

import typer

from proofwork.cli.args import FromOpt, cli_state, hash32, uint_id
from proofwork.domain.units import format_amount, parse_amount

round_app = typer.Typer(
    help="Quadratic funding rounds: a matching pool, projects, contributions counted under a Sybil rule.",
    no_args_is_help=True,
)

RoundArg = Annotated[int, typer.Argument(help="Round id (from 1).")]
ProjectArg = Annotated[int, typer.Argument(help="Project id in the round (from 1).")]


def register(app: typer.Typer) -> None:
    app.add_typer(round_app, name="round")


def _credential(text: str) -> bytes:
    """A badge token id (decimal) or an attestation uid (0x + 64 hex), or empty for none."""
    if not text:
        return b"\x00" * 32
    if text.isdigit() and len(text) < 78:
        return int(uint_id(int(text), "badge id", 1)).to_bytes(32, "big")
    return hash32(text, "credential (a badge id, or an attestation uid)")


@round_app.command("deploy")
def round_deploy(ctx: typer.Context, sender: FromOpt = "dev0", force: bool = False) -> None:
    """Deploy the funding rounds contract (on the identity contracts)."""
    from proofwork.services import deployment

    state = cli_state(ctx)
    with state.workspace() as ws:
        result = deployment.deploy_funding_rounds(ws, ws.signer(sender), force=force)
        address = result.deployment.funding_rounds
        state.emit(
            {"ok": True, "funding_rounds": address, "created": result.created},
            f"funding rounds at {address}" + ("" if result.created else " (already deployed)"),
        )


@round_app.command("create")
def round_create(
    ctx: typer.Context,
    pool: Annotated[str, typer.Option(help="Matching pool escrowed now, in tokens (e.g. 1000).")],
    accept: Annotated[
        list[str], typer.Option(help="An accepted skill (badge rule) or schema uid (attestation rule).")
    ],
    rule: Annotated[str, typer.Option(help="Sybil rule: badge or attestation.")] = "badge",
    apply_days: Annotated[float, typer.Option(help="Days projects may apply.")] = 7,
    days: Annotated[float, typer.Option(help="Days contributions are open (from now).")] = 14,
    metadata: Annotated[str, typer.Option(help="CID of the round's description.")] = "",
    sender: FromOpt = "dev0",
) -> None:
    """Create a round, escrowing its matching pool."""
    from proofwork.services import funding_rounds

    state = cli_state(ctx)
    with state.workspace() as ws:
        amount = parse_amount(pool, ws.token.decimals)
        rid = funding_rounds.create_round(
            ws,
            ws.signer(sender),
            pool=amount,
            rule=rule,
            accepted=accept,
            apply_days=apply_days,
            contribute_days=days,
            metadata_cid=metadata,
        )
        state.emit({"ok": True, "round": rid}, f"round {rid} created")


@round_app.command("apply")
def round_apply(
    ctx: typer.Context,
    round_id: RoundArg,
    metadata: Annotated[str, typer.Option(help="CID of the project's description.")],
    recipient: Annotated[str, typer.Option(help="Who is paid (default: the sender).")] = "",
    sender: FromOpt = "dev0",
) -> None:
    """Apply a project to a round."""
    from proofwork.services import funding_rounds

    state = cli_state(ctx)
    with state.workspace() as ws:
        signer = ws.signer(sender)
        to = ws.address(recipient, "recipient") if recipient else signer.address
        pid = funding_rounds.apply(ws, signer, uint_id(round_id, "round id", 1), to, metadata)
        state.emit(
            {"ok": True, "round": round_id, "project": pid}, f"project {pid} applied to round {round_id}"
        )


@round_app.command("contribute")
def round_contribute(
    ctx: typer.Context,
    round_id: RoundArg,
    project_id: ProjectArg,
    amount: Annotated[str, typer.Argument(help="Amount in tokens (e.g. 5).")],
    credential: Annotated[str, typer.Option(help="Badge id or attestation uid (empty: no matching).")] = "",
    sender: FromOpt = "dev0",
) -> None:
    """Contribute to a project; with a credential passing the round's rule it counts toward matching."""
    from proofwork.services import funding_rounds

    state = cli_state(ctx)
    cred = _credential(credential)
    with state.workspace() as ws:
        units = parse_amount(amount, ws.token.decimals)
        funding_rounds.contribute(
            ws,
            ws.signer(sender),
            uint_id(round_id, "round id", 1),
            uint_id(project_id, "project id", 1),
            units,
            cred,
        )
        state.emit(
            {
                "ok": True,
                "round": round_id,
                "project": project_id,
                "amount": amount,
                "matched": bool(credential),
            },
            f"contributed {amount} to project {project_id} of round {round_id}"
            + (" (counts toward matching)" if credential else " (no credential: no matching)"),
        )


@round_app.command("finalize")
def round_finalize(ctx: typer.Context, round_id: RoundArg, sender: FromOpt = "dev0") -> None:
    """Finalize a round whose contributions have closed (anyone)."""
    from proofwork.services import funding_rounds

    state = cli_state(ctx)
    with state.workspace() as ws:
        funding_rounds.finalize(ws, ws.signer(sender), uint_id(round_id, "round id", 1))
        state.emit({"ok": True, "round": round_id}, f"round {round_id} finalized")


@round_app.command("claim")
def round_claim(
    ctx: typer.Context, round_id: RoundArg, project_id: ProjectArg, sender: FromOpt = "dev0"
) -> None:
    """Pay a project of a finalized round its contributions and matching (anyone; paid to its recipient)."""
    from proofwork.services import funding_rounds

    state = cli_state(ctx)
    with state.workspace() as ws:
        paid = funding_rounds.claim(
            ws, ws.signer(sender), uint_id(round_id, "round id", 1), uint_id(project_id, "project id", 1)
        )
        shown = format_amount(paid, ws.token.decimals)
        state.emit({"ok": True, "paid": shown}, f"project {project_id} paid {shown}")


@round_app.command("refund")
def round_refund(
    ctx: typer.Context,
    round_id: RoundArg,
    funder: Annotated[str, typer.Option(help="The funder paid (default: the sender).")] = "",
    sender: FromOpt = "dev0",
) -> None:
    """Return to a funder what a finalized round owes it (anyone)."""
    from proofwork.services import funding_rounds

    state = cli_state(ctx)
    with state.workspace() as ws:
        signer = ws.signer(sender)
        who = ws.address(funder, "funder") if funder else signer.address
        paid = funding_rounds.refund(ws, signer, uint_id(round_id, "round id", 1), who)
        shown = format_amount(paid, ws.token.decimals)
        state.emit({"ok": True, "refunded": shown}, f"refunded {shown} to {who}")


@round_app.command("verify")
def round_verify(ctx: typer.Context, round_id: RoundArg) -> None:
    """Recompute a round's quadratic split from the chain's events and compare it with the contract's."""
    from proofwork.services import funding_rounds

    state = cli_state(ctx)
    with state.workspace() as ws:
        v = funding_rounds.verify(ws, uint_id(round_id, "round id", 1))
        decimals = ws.token.decimals
        rows = [
            {
                "project": p.project,
                "contributions": format_amount(p.contributions, decimals),
                "weight": str(p.weight),
                "matching": format_amount(p.matching, decimals),
            }
            for p in v.split.projects
        ]
        data = {
            "ok": v.ok,
            "round": round_id,
            "finalized": v.finalized,
            "pool": format_amount(v.split.pool, decimals),
            "total_weight": str(v.split.total_weight),
            "returned": format_amount(v.split.returned, decimals),
            "projects": rows,
            "mismatches": v.mismatches,
        }
        lines = [
            f"project {r['project']}: contributions {r['contributions']}, weight {r['weight']}, matching {r['matching']}"
            for r in rows
        ]
        lines.append(f"returned to funders: {data['returned']} of a pool of {data['pool']}")
        lines.append(
            "the contract's split matches the recomputed one"
            if v.ok
            else "MISMATCH: " + "; ".join(v.mismatches)
        )
        state.emit(data, "\n".join(lines))
        if not v.ok:
            raise typer.Exit(1)
