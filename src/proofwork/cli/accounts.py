"""`account new|import|list|fund`: dev accounts, encrypted keystores, test funds."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer

from proofwork.cli.args import cli_state
from proofwork.cli.output import money
from proofwork.domain.errors import ProofworkError
from proofwork.domain.units import format_amount, parse_amount

account_app = typer.Typer(
    help="Accounts: dev accounts, encrypted keystores, test funds.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(account_app, name="account")


@account_app.command("new")
def account_new(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Create a key and store it encrypted (keystore v3) in the data directory."""
    from proofwork.services import accounts as account_service

    state = cli_state(ctx)
    with state.workspace() as ws:
        stored = account_service.create_account(ws, name, state.new_password(name))
        state.emit(
            {"ok": True, "name": stored.name, "address": stored.address},
            f"created {stored.name}: {stored.address}",
        )


@account_app.command("import")
def account_import(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Import a private key read from standard input; it is stored encrypted and never printed."""
    from proofwork.services import accounts as account_service

    state = cli_state(ctx)
    key_text = getpass.getpass("Private key (hex): ") if sys.stdin.isatty() else sys.stdin.readline()
    with state.workspace() as ws:
        stored = account_service.import_account(ws, name, key_text, state.new_password(name))
        state.emit(
            {"ok": True, "name": stored.name, "address": stored.address},
            f"imported {stored.name}: {stored.address}",
        )


@account_app.command("list")
def account_list(ctx: typer.Context) -> None:
    """Accounts usable with --from, with their balances when proofwork is deployed."""
    from proofwork.services import accounts as account_service

    state = cli_state(ctx)
    with state.workspace() as ws:
        rows = []
        try:
            token = ws.token
            decimals, symbol = token.decimals, token.symbol
        except ProofworkError:
            token = None
            decimals, symbol = 0, ""
        for acc in account_service.list_accounts(ws):
            row: dict[str, Any] = {"name": acc.name, "address": acc.address, "kind": acc.kind}
            row["eth"] = format_amount(ws.chain.eth_balance(acc.address), 18)
            if token is not None:
                row["tokens"] = format_amount(token.balance_of(acc.address), decimals)
            rows.append(row)
        from rich.table import Table

        table = Table(title_justify="left")
        for col in ("name", "address", "kind", "ETH", symbol or "tokens"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["name"], r["address"], r["kind"], r["eth"], r.get("tokens", "-"))
        state.emit({"ok": True, "accounts": rows, "token": symbol or None}, table)


@account_app.command("fund")
def account_fund(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Name or address to fund.")],
    amount: Annotated[str, typer.Option(help="Test stablecoin to mint, in tokens (e.g. 1000.50).")] = "10000",
    eth: Annotated[str, typer.Option(help="Gas money to send, in ETH.")] = "1",
) -> None:
    """Mint test stablecoin and send gas money (local chains only)."""
    from proofwork.services import accounts as account_service

    state = cli_state(ctx)
    with state.workspace() as ws:
        to = ws.address(account)
        tokens = parse_amount(amount, ws.token.decimals)
        receipts = account_service.fund(ws, to, tokens, parse_amount(eth, 18))
        balance = ws.token.balance_of(to)
        state.emit(
            {
                "ok": True,
                "account": to,
                "tokens": format_amount(balance, ws.token.decimals),
                "steps": [{"name": n, "tx": r.tx_hash, "gas": r.gas_used} for n, r in receipts],
            },
            f"funded {to}: now {money(balance, ws.token.decimals, ws.token.symbol)}",
        )
