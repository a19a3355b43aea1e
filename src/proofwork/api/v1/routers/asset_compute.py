"""Compute-to-data on the dataset owner's node: a compute licence's holder posts a signed request (and
the model's bytes, unless this node's store has them) and gets back the owner's signed result only.

No session: the request is signed by the licence holder's wallet (EIP-712, chain id, expiry, nonce) and
checked on chain. The body is bounded by the API's JSON limit (256 KiB: a model of about 190 KB inline;
a larger one is uploaded first with `POST /artifacts`, or shared through the IPFS store)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from proofwork.api.v1 import errors
from proofwork.api.v1.deps import ApiContext, ContextDep
from proofwork.api.v1.errors import ApiError, Error
from proofwork.api.v1.json_guard import JsonGuardRoute
from proofwork.domain.compute import REFUSALS, ComputeRefused
from proofwork.services.compute_to_data import ComputeNode, ComputeRequest, decode_model

router = APIRouter(prefix="/assets", tags=["assets"], route_class=JsonGuardRoute)  # nesting checked first

MAX_INLINE_MODEL = 256 * 1024

errors.ERROR_CODES.update(
    {
        code: (status, f"`POST /assets/compute`: {text}")
        for code, status, text in (
            (
                "request_malformed",
                400,
                "a field of the wrong type or out of bounds, an unknown task or parameter",
            ),
            ("wrong_chain", 400, "signed for another chain or Licensing contract"),
            ("request_expired", 400, "past its expiry, or valid for more than an hour"),
            ("bad_signature", 401, "the signature does not recover"),
            ("not_licence_holder", 403, "the signer does not hold the licence"),
            ("download_only", 403, "a download licence: no computation on it"),
            ("licence_expired", 403, "the licence's term is over"),
            ("licence_revoked", 403, "the licence was revoked"),
            ("licence_not_found", 404, "no such licence"),
            ("model_missing", 404, "the model is not in this node's store and was not sent"),
            ("not_a_dataset", 409, "the licensed asset is a model"),
            ("not_asset_owner", 409, "this node holds no key of the asset's owner"),
            ("dataset_key_missing", 409, "this node does not hold the dataset's file key"),
            ("request_replayed", 409, "this signed request was served before"),
            ("dataset_mismatch", 422, "the dataset has no such file or column"),
            (
                "model_refused",
                422,
                "a hostile or broken model (the evaluation's rules), or one failing on the data",
            ),
            ("model_mismatch", 422, "the model's bytes do not hash to the request's model CID"),
            ("training_failed", 422, "a training recipe over its limits, or failing on the data"),
            ("compute_unavailable", 503, "the sandbox failed, not the model: try again"),
        )
    }
)


class ComputeBody(BaseModel):
    request: dict[str, Any] = Field(description="the licence holder's signed ComputeRequest")
    model: str | None = Field(
        default=None,
        max_length=(MAX_INLINE_MODEL * 4) // 3 + 4,
        description="the model's bytes, base64 (when this node's store lacks its CID)",
    )


class ComputeAnswer(BaseModel):
    result: dict[str, Any] = Field(description="the owner's signed ComputeResult (no row of the data)")


def _node(request: Request, ctx: ApiContext) -> ComputeNode:
    """One node (one warm sandbox) per app, made on first use; it takes the workspace's lock for its
    checks on chain only, never for the sandbox's run (see `ComputeNode`)."""
    with ctx.lock:
        ws = ctx.workspace()
        node = getattr(request.app.state, "compute_node", None)
        if node is None or node.ws is not ws:
            node = ComputeNode(ws, turn=ctx.lock)
            request.app.state.compute_node = node
    return node  # type: ignore[no-any-return]


@router.post(
    "/compute",
    summary="Score a licence holder's ONNX model on a private dataset; only the signed result leaves",
    responses={
        status: {"model": Error, "description": "A refused request (see the error codes)"}
        for status in sorted(set(REFUSALS.values()))
    },
)
def compute(body: ComputeBody, request: Request, ctx: ContextDep) -> ComputeAnswer:
    try:
        signed = ComputeRequest.from_json(body.request)
        model = decode_model(body.model, MAX_INLINE_MODEL) if body.model is not None else None
        result = _node(request, ctx).serve(signed, model)
    except ComputeRefused as exc:
        raise ApiError(exc.status, exc.reason, str(exc)) from None
    return ComputeAnswer(result=result.to_json())
