"""Labeling campaigns (`services.labeling`): campaigns, a batch for the signed-in labeler, its signed
answers (no session: the EIP-712 signature is the labeler's), the rounds and their bundles by CID, a
labeler's claim proof and the claim as an unsigned transaction for the wallet (or a relayer's).

Refusals carry the stable codes of `LABEL_REFUSALS` (`item_not_in_batch`, `duplicate_answer`,
`wrong_signer`, `batch_expired`, `batch_answered`, `not_eligible`, `budget_spent`, ...)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from proofwork.api.v1.deps import ContextDep, CurrentAddress, WorkspaceDep
from proofwork.api.v1.errors import ApiError, Error
from proofwork.api.v1.json_guard import JsonGuardRoute
from proofwork.api.v1.routers.jobs import DevSign, dev_signer, prepared_answer
from proofwork.api.v1.schemas import WritePublic
from proofwork.domain.errors import LABEL_REFUSALS
from proofwork.services import wallet_writes
from proofwork.services.labeling import campaigns, claims, rounds, work


def _refusals(status: int) -> str:
    return ", ".join(f"`{code}`" for code, (s, _) in LABEL_REFUSALS.items() if s == status)


router = APIRouter(
    prefix="/labeling",
    tags=["labeling"],
    route_class=JsonGuardRoute,
    responses={
        status: {"model": Error, "description": f"Refused: {_refusals(status)}"}
        for status in sorted({s for s, _ in LABEL_REFUSALS.values()})
    },
)

CampaignId = Annotated[int, Path(ge=1, lt=2**63, description="campaign id")]
BatchId = Annotated[str, Path(pattern=r"^0x[0-9a-f]{64}$", description="batch id")]
Cid = Annotated[str, Path(pattern=r"^b[a-z2-7]{1,200}$", description="a round bundle's CID")]
AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$")]


class AnswersBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        max_length=500, description="[[item CID, label], ...]"
    )


class SignedBatchBody(AnswersBody):
    signature: str = Field(
        pattern=r"^0x[0-9a-fA-F]{130}$", description="the labeler's 65-byte EIP-712 signature"
    )


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labeler: str = Field(
        pattern=r"^0x[0-9a-fA-F]{40}$", description="the labeler paid (any: claims are relayed)"
    )


def _batch_id(text: str) -> bytes:
    return bytes.fromhex(text[2:])


@router.get("/campaigns", summary="The campaigns this labeling service serves")
def list_campaigns(ws: WorkspaceDep) -> dict[str, Any]:
    return {"campaigns": [c.to_json() for c in campaigns.list_campaigns(ws)]}


@router.get("/campaigns/{campaign_id}", summary="A campaign: budget, labels, rounds, and its spec's terms")
def campaign_detail(campaign_id: CampaignId, ws: WorkspaceDep) -> dict[str, Any]:
    status = campaigns.campaign_status(ws, campaign_id)
    with campaigns.open_store(ws) as store:
        campaign = campaigns.load_campaign(store, campaign_id)
    spec = campaign.spec
    return {
        **status.to_json(),
        "spec_cid": campaign.row.spec_cid,
        "labels": list(spec.labels),
        "labels_per_item": spec.labels_per_item,
        "batch_size": spec.batch_size,
        "price_per_label": spec.pay.price_per_label,
        "quality_bonus": spec.pay.quality_bonus,
        "eligibility": spec.eligibility.kind,
    }


@router.get("/campaigns/{campaign_id}/batch", summary="The signed-in labeler's open batch, or a new one")
def get_batch(
    campaign_id: CampaignId,
    address: CurrentAddress,
    ws: WorkspaceDep,
    presentation: Annotated[
        str | None, Query(max_length=16_384, description="an SD-JWT presentation")
    ] = None,
) -> dict[str, Any]:
    """Served to the session's address, which alone can sign its answers. Refused with `not_eligible`,
    `labeler_cap`, `budget_spent`, `no_work` or `campaign_closed`."""
    return work.next_batch(ws, campaign_id, address, presentation=presentation).to_json()


@router.post("/campaigns/{campaign_id}/batches/{batch_id}/typed-data", summary="The EIP-712 message to sign")
def batch_typed_data(
    campaign_id: CampaignId, batch_id: BatchId, body: AnswersBody, ws: WorkspaceDep
) -> dict[str, Any]:
    """What `eth_signTypedData_v4` takes for these answers to the batch (nothing is checked or stored)."""
    batch = work.get_batch(ws, campaign_id, _batch_id(batch_id))
    answers = work.parse_answers(body.answers)
    return {"typed_data": batch.typed_data(answers)}


@router.post("/campaigns/{campaign_id}/batches/{batch_id}", summary="Submit a batch's signed answers")
def submit_batch(
    campaign_id: CampaignId, batch_id: BatchId, body: SignedBatchBody, ws: WorkspaceDep
) -> dict[str, Any]:
    """No session: the signature must be the labeler's the batch was served to. All checks first,
    nothing stored when one fails."""
    accepted = work.submit_batch(
        ws,
        campaign_id,
        _batch_id(batch_id),
        work.parse_answers(body.answers),
        bytes.fromhex(body.signature[2:]),
    )
    return {
        "campaign": accepted.campaign_id,
        "batch": batch_id,
        "labeler": accepted.labeler,
        "answers": accepted.answers,
    }


@router.get("/campaigns/{campaign_id}/rounds", summary="The rounds this service published")
def list_rounds(campaign_id: CampaignId, ws: WorkspaceDep) -> dict[str, Any]:
    with campaigns.open_store(ws) as store:
        campaigns.load_campaign(store, campaign_id)
        published = store.rounds(campaign_id)
    return {
        "campaign": campaign_id,
        "rounds": [
            {
                "round": r.round,
                "bundle": r.bundle_cid,
                "root": "0x" + r.root.hex(),
                "total": r.total,
                "tx": r.tx_hash,
            }
            for r in published
        ],
    }


@router.get("/bundles/{cid}", summary="A round bundle by CID (answers, signatures, gold reveals, spec)")
def bundle(cid: Cid, ws: WorkspaceDep) -> Response:
    """Only the bundles of rounds this service published."""
    with campaigns.open_store(ws) as store:
        known = {r.bundle_cid for c in store.campaign_ids() for r in store.rounds(c)}
    if cid not in known:
        raise ApiError(404, "not_found", f"{cid} is not a round bundle published here")
    data = ws.store.read_bytes(cid, rounds.MAX_BUNDLE_BYTES)
    json.loads(data)  # what is served is the JSON that was published
    return Response(data, media_type="application/json")


@router.get("/campaigns/{campaign_id}/commitments", summary="The campaign's gold commitments file")
def commitments(campaign_id: CampaignId, ws: WorkspaceDep) -> Response:
    """Every item's sha256(salt || item || 0x00 || label), the label empty for an item that is not gold
    (it says nothing about which are): with the round bundles, all `label verify` needs."""
    with campaigns.open_store(ws) as store:
        campaign = campaigns.load_campaign(store, campaign_id)
    data = ws.store.read_bytes(campaign.row.commitments_cid, campaigns.MAX_COMMITMENTS_BYTES)
    return Response(data, media_type="application/json")


@router.get("/campaigns/{campaign_id}/claims/{labeler}", summary="A labeler's cumulative amount and proof")
def claim_proof(campaign_id: CampaignId, labeler: AddressPath, ws: WorkspaceDep) -> dict[str, Any]:
    return claims.claim_proof(ws, campaign_id, labeler).to_json()


@router.post(
    "/campaigns/{campaign_id}/claims",
    summary="Claim a labeler's due: the unsigned `claim` for the signed-in address's wallet (a relayer's or the labeler's)",
)
def claim(
    campaign_id: CampaignId,
    body: ClaimBody,
    address: CurrentAddress,
    ws: WorkspaceDep,
    ctx: ContextDep,
    dev_sign: DevSign = False,
) -> WritePublic:
    """The tokens always go to the labeler; whoever sends the claim pays its gas. Send the signed
    transaction to `POST /tx`."""
    if dev_sign:
        signer = dev_signer(ws, ctx.dev_mode, address)
        done = claims.claim(ws, signer, campaign_id, [body.labeler])
        return WritePublic(
            status="sent",
            dev_mode=ctx.dev_mode,
            tx_hash=done.receipts[0].tx_hash,
            note="signed with the dev account (dev mode: embedded chain only)",
        )
    tx = claims.prepare_claim(ws, address, campaign_id, body.labeler)
    return prepared_answer(wallet_writes.Prepared(tx), ctx.dev_mode)
