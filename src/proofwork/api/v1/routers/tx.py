"""Signed transactions from users' wallets, broadcast through the chain layer."""

from __future__ import annotations

from fastapi import APIRouter

from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import ContextDep, CurrentAddress, WorkspaceDep
from proofwork.api.v1.errors import AUTH_RESPONSES, ApiError
from proofwork.domain import job as J
from proofwork.services import wallet_writes

router = APIRouter(prefix="/tx", tags=["transactions"], responses=AUTH_RESPONSES)


@router.post("", summary="Broadcast a transaction the signed-in address signed")
def send(
    body: S.RawTransactionCreate, address: CurrentAddress, ws: WorkspaceDep, ctx: ContextDep
) -> S.TransactionPublic:
    raw = bytes.fromhex(body.raw[2:])
    signer = wallet_writes.signed_by(ws, raw)
    if not J.same_address(signer, address):
        raise ApiError(
            403, "not_your_address", f"the transaction is signed by {signer}, not by you ({address})"
        )
    sent = wallet_writes.broadcast(ws, raw, address)
    return S.TransactionPublic(
        tx_hash=sent.receipt.tx_hash,
        block=sent.receipt.block_number,
        gas_used=sent.receipt.gas_used,
        sender=sent.sender,
        job_ids=sorted({e.job_id for e in sent.job_events}),
        dev_mode=ctx.dev_mode,
    )
