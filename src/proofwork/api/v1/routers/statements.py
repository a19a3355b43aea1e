"""Statements: every payment in and out of an address, as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from proofwork.api.v1.deps import WorkspaceDep
from proofwork.services.statements import statement

AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="an account address")]

router = APIRouter(prefix="/statements", tags=["statements"])


@router.get(
    "/{address}",
    summary="Every payment proofwork's contracts made to or from an address (CSV)",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "date, block, tx_hash, direction, amount (token units), token, token_address, "
            "counterparty, counterparty_role",
        }
    },
)
def get_statement(ws: WorkspaceDep, address: AddressPath) -> Response:
    text = statement(ws, address).to_csv()
    filename = f"proofwork-statement-{address.lower()}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
