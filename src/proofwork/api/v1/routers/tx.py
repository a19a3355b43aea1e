"""Signed transactions from users' wallets, checked and broadcast through the chain layer."""

from __future__ import annotations

from fastapi import APIRouter

from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import ContextDep, CurrentAddress, WorkspaceDep
from proofwork.api.v1.errors import AUTH_RESPONSES, ApiError
from proofwork.api.v1.json_guard import JsonGuardRoute
from proofwork.domain.errors import SignedTransactionRefused
from proofwork.services import wallet_writes

router = APIRouter(prefix="/tx", tags=["transactions"], responses=AUTH_RESPONSES, route_class=JsonGuardRoute)


@router.post("", summary="Broadcast a transaction the signed-in address signed")
def send(
    body: S.RawTransactionCreate, address: CurrentAddress, ws: WorkspaceDep, ctx: ContextDep
) -> S.TransactionPublic:
    """Refused before anything is sent (the error codes `tx_malformed`, `tx_too_large`,
    `tx_wrong_chain`, `not_your_address`, `tx_unexpected_call`, `tx_replayed`) unless it is a call this
    API prepared (`POST /jobs`, submissions, approvals, licence purchases), signed by the signed-in
    address for this chain with a nonce not yet used."""
    try:
        sent = wallet_writes.broadcast(ws, body.raw, address)
    except SignedTransactionRefused as exc:
        raise ApiError(exc.status, exc.reason, str(exc)) from exc
    return S.TransactionPublic(
        tx_hash=sent.receipt.tx_hash,
        block=sent.receipt.block_number,
        gas_used=sent.receipt.gas_used,
        sender=sent.sender,
        job_ids=sorted({e.job_id for e in sent.job_events}),
        licence_ids=sent.licence_ids,
        dev_mode=ctx.dev_mode,
    )
