"""`license list|show`: the licences bought on assets, who holds them and whether they are valid."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from proofwork.cli.args import cli_state, uint_id
from proofwork.domain.units import format_amount

license_app = typer.Typer(help="Licences on models and datasets: list and show.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(license_app, name="license")


def _status(valid: bool, revoked: bool, surrendered: bool) -> str:
    if valid:
        return "valid"
    if revoked:
        return "revoked"
    return "surrendered" if surrendered else "expired"


@license_app.command("list")
def license_list(
    ctx: typer.Context,
    holder: Annotated[
        str | None, typer.Option("--holder", help="Only the licences this account holds now.")
    ] = None,
    asset: Annotated[int | None, typer.Option("--asset", help="Only the licences on this asset.")] = None,
) -> None:
    """List licences, newest first (from the chain index when it is caught up, else from the logs)."""
    from proofwork.services.asset_listing import LicenceFilter, licence_json, list_licences

    state = cli_state(ctx)
    asset_id = uint_id(asset, "asset id", 1) if asset is not None else None
    with state.workspace() as ws:
        who = ws.address(holder, "holder") if holder else None
        page = list_licences(ws, LicenceFilter(holder=who, asset_id=asset_id), limit=None)
        decimals: dict[str, int] = {}

        def shown(units: int, token: str) -> str:
            if token not in decimals:
                decimals[token] = ws.token_at(token).decimals
            return format_amount(units, decimals[token])

        rows = [
            {**licence_json(lic), "price": shown(lic.price, lic.token), "price_units": str(lic.price)}
            for lic in page.items
        ]

        def human() -> Any:
            if not page.items:
                return "no licences match"
            from rich.table import Table

            table = Table(title_justify="left")
            for col in ("id", "asset", "kind", "holder", "price", "expires", "status"):
                table.add_column(col)
            for lic, row in zip(page.items, rows, strict=True):
                table.add_row(
                    str(lic.licence_id),
                    str(lic.asset_id),
                    lic.kind + (", commercial" if lic.commercial else ""),
                    (ws.name_of(lic.holder) or lic.holder) if lic.holder else "-",
                    row["price"],
                    str(lic.expires_at) if lic.expires_at else "never",
                    _status(lic.valid, lic.revoked, lic.surrendered),
                )
            return table

        state.emit(
            {"ok": True, "licences": rows, "count": page.total, "indexed_block": page.indexed_block}, human
        )


@license_app.command("show")
def license_show(ctx: typer.Context, licence_id: Annotated[int, typer.Argument(help="Licence id.")]) -> None:
    """A licence: holder, asset, the offer's terms, expiry, and whether it is valid now (from the chain)."""
    from proofwork.services.asset_listing import licence_detail

    state = cli_state(ctx)
    with state.workspace() as ws:
        detail = licence_detail(ws, uint_id(licence_id, "licence id", 1))
        lic, offer = detail.licence, detail.offer
        decimals = ws.token_at(lic.token).decimals
        status = _status(lic.valid, lic.revoked, not lic.holder)
        data = {
            "ok": True,
            "licence_id": lic.licence_id,
            "holder": lic.holder or None,
            "asset_id": lic.asset_id,
            "offer_id": lic.offer_id,
            "kind": detail.kind,
            "commercial": lic.commercial,
            "transferable": offer.transferable,
            "revocable": offer.revocable,
            "terms_cid": offer.terms_cid or None,
            "price": format_amount(lic.price, decimals),
            "price_units": str(lic.price),
            "token": lic.token,
            "expires_at": lic.expires_at,
            "revoked": lic.revoked,
            "valid": lic.valid,
            "status": status,
        }
        lines = [
            f"licence {lic.licence_id} ({detail.kind}{', commercial' if lic.commercial else ''}) on asset "
            f"{lic.asset_id}, offer {lic.offer_id}: {status}",
            f"held by {lic.holder or 'nobody (surrendered)'}; paid {data['price']}",
            f"expires {lic.expires_at}" if lic.expires_at else "perpetual",
            ("transferable" if offer.transferable else "not transferable")
            + (", revocable" if offer.revocable else ""),
        ]
        if offer.terms_cid:
            lines.append(f"terms {offer.terms_cid}")
        state.emit(data, "\n".join(lines))
