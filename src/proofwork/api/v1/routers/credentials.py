"""Credential verification: an SD-JWT VC presentation checked against DIDs, the issuer registry and
status lists."""

from __future__ import annotations

from fastapi import APIRouter

from proofwork.api.v1 import convert
from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import WorkspaceDep
from proofwork.api.v1.json_guard import JsonGuardRoute
from proofwork.domain.errors import CredentialRejected

router = APIRouter(prefix="/credentials", tags=["credentials"], route_class=JsonGuardRoute)


@router.post("/verify", summary="Verify a credential presentation")
def verify(body: S.CredentialVerify, ws: WorkspaceDep) -> S.VerificationPublic:
    from proofwork.services import issuers
    from proofwork.services.credentials import verification

    try:
        result = verification.verify(
            ws,
            body.presentation,
            audience=body.audience,
            nonce=body.nonce,
            resolver=None,
            directory=issuers.directory_for(ws),
        )
    except CredentialRejected as exc:
        return S.VerificationPublic(valid=False, reason=exc.reason, message=str(exc))
    return S.VerificationPublic(
        valid=True, reason=None, message=None, credential=convert.jsonable(result.to_json())
    )
