"""An asset's key for its licence holder, released by the owner's node (`services.asset_access`).

No session: the request is signed by the holder's wallet (EIP-712 `AssetKeyRequest`, valid 10 minutes at
most, used once) and the answer is the key sealed to that wallet's public key."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from proofwork.api.v1.deps import WorkspaceDep
from proofwork.api.v1.errors import ApiError, Error
from proofwork.api.v1.json_guard import JsonGuardRoute
from proofwork.domain.asset_access import KEY_REFUSALS, KeyRequest, KeyRequestRefused
from proofwork.services import asset_access

UINT256 = 2**256
Uint = Annotated[int, Field(strict=True, ge=0, lt=UINT256)]


def _refusals(status: int) -> str:
    return ", ".join(f"`{code}`" for code, (s, _) in KEY_REFUSALS.items() if s == status)


router = APIRouter(
    prefix="/asset-keys",
    tags=["assets"],
    route_class=JsonGuardRoute,
    responses={
        status: {"model": Error, "description": f"Refused: {_refusals(status)}"}
        for status in sorted({s for s, _ in KEY_REFUSALS.values()})
    },
)


class KeyRequestBody(BaseModel):
    """The EIP-712 `AssetKeyRequest` the holder signed, with its domain's chain and contract."""

    model_config = {"extra": "forbid"}
    chain_id: Uint
    licensing: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="the Licensing contract")
    licence_id: Uint
    asset_id: Uint
    manifest: str = Field(pattern=r"^b[a-z2-7]{1,200}$", description="the asset's manifest CID")
    expires_at: Uint = Field(description="unix seconds; at most 10 minutes ahead")
    nonce: str = Field(pattern=r"^0x[0-9a-f]{64}$", description="32 random bytes, used once")


class AssetKeyCreate(BaseModel):
    model_config = {"extra": "forbid"}
    request: KeyRequestBody
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="the holder's 65-byte signature")


class AssetKeyPublic(BaseModel):
    licence_id: int
    asset_id: int
    manifest: str
    holder: str
    encrypted: bool
    sealed_key: str | None = Field(
        description="base64 of the ECIES envelope holding the asset key, sealed to the holder's public key "
        "(null for an asset stored in the clear)"
    )


class TypedDataPublic(BaseModel):
    typed_data: dict[str, Any]


@router.post("", summary="Release an asset's key, sealed to the holder of a valid download licence")
def release(body: AssetKeyCreate, ws: WorkspaceDep) -> AssetKeyPublic:
    """Checked on chain before anything is released: the licence exists, the signer holds it, it is
    valid (not expired, not revoked), it is a download licence of the asset named, and the asset is
    owned by an account of this node. Refusals carry the codes of the table above (`licence_expired`,
    `licence_revoked`, `not_licence_holder`, `compute_only`, `bad_signature`, ...)."""
    try:
        request = KeyRequest.from_json(body.request.model_dump())
        done = asset_access.release_key(ws, request, bytes.fromhex(body.signature[2:]))
    except KeyRequestRefused as exc:
        raise ApiError(exc.status, exc.reason, str(exc)) from exc
    return AssetKeyPublic(
        licence_id=done.licence_id,
        asset_id=done.asset_id,
        manifest=done.manifest,
        holder=done.holder,
        encrypted=done.sealed_key is not None,
        sealed_key=base64.b64encode(done.sealed_key).decode() if done.sealed_key is not None else None,
    )


@router.post("/typed-data", summary="The EIP-712 message a wallet signs for a key request")
def typed_data(body: KeyRequestBody) -> TypedDataPublic:
    """What `eth_signTypedData_v4` takes for this request (nothing is checked or stored)."""
    from proofwork.chain.asset_access import typed_data_json

    try:
        request = KeyRequest.from_json(body.model_dump())
    except KeyRequestRefused as exc:
        raise ApiError(exc.status, exc.reason, str(exc)) from exc
    return TypedDataPublic(typed_data=typed_data_json(request))
