"""`fees show|set|withdraw`: the platform fee, its treasury, the fees owed."""

from __future__ import annotations

from typing import Annotated

import typer

from proofwork.cli.args import FromOpt, cli_state
from proofwork.cli.output import money
from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.domain.units import format_amount

fees_app = typer.Typer(help="The platform fee: rate, treasury, fees owed.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(fees_app, name="fees")


@fees_app.command("show")
def fees_show(ctx: typer.Context) -> None:
    """The fee rate for new jobs, the treasury, and the fees accrued but not yet sent."""
    state = cli_state(ctx)
    with state.workspace() as ws:
        escrow, token = ws.escrow, ws.token
        owed, fee_bps = escrow.fees_owed(token.address), escrow.fee_bps()
        data = {
            "ok": True,
            "fee_bps": fee_bps,
            "treasury": escrow.treasury(),
            "owner": escrow.owner(),
            "owed": format_amount(owed, token.decimals),
        }
        human = (
            f"fee for new jobs: {fee_bps / 100:g} %\ntreasury: {data['treasury']}\n"
            f"accrued, not yet sent: {money(owed, token.decimals, token.symbol)}"
        )
        state.emit(data, human)


@fees_app.command("withdraw")
def fees_withdraw(ctx: typer.Context, sender: FromOpt) -> None:
    """Send the accrued fees to the treasury (anyone may trigger it)."""
    state = cli_state(ctx)
    with state.workspace() as ws:
        token = ws.token
        owed = ws.escrow.fees_owed(token.address)
        if owed == 0:
            raise NotAllowed("no fees to send")
        receipt = ws.escrow.withdraw_fees(ws.signer(sender).key, token.address)
        state.emit(
            {
                "ok": True,
                "sent": format_amount(owed, token.decimals),
                "tx": receipt.tx_hash,
                "gas": receipt.gas_used,
            },
            f"sent {money(owed, token.decimals, token.symbol)} to the treasury (tx {receipt.tx_hash})",
        )


@fees_app.command("set")
def fees_set(
    ctx: typer.Context,
    bps: Annotated[int, typer.Argument(help="Fee for new jobs in basis points (0 to 1000).")],
    sender: FromOpt,
) -> None:
    """As the escrow's owner, set the fee for jobs created from now on (capped at 10 %)."""
    state = cli_state(ctx)
    if not 0 <= bps <= 1_000:
        raise InvalidInput(f"fee {bps} bps is outside 0 to 1000 bps (the cap is 10 %)")
    with state.workspace() as ws:
        owner = ws.signer(sender)
        if owner.address != ws.escrow.owner():
            raise NotAllowed(f"only the escrow's owner ({ws.escrow.owner()}) may set the fee")
        receipt = ws.escrow.set_fee(owner.key, bps)
        state.emit(
            {"ok": True, "fee_bps": bps, "tx": receipt.tx_hash}, f"fee for new jobs is now {bps / 100:g} %"
        )
