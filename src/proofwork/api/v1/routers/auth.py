"""Sign-In with Ethereum (EIP-4361): a nonce, the signed message, a session (cookie or bearer)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import SESSION_COOKIE, ContextDep, SessionDep, session_token
from proofwork.api.v1.errors import AUTH_RESPONSES, ApiError

router = APIRouter(prefix="/auth", tags=["auth"], responses=AUTH_RESPONSES)


def expected_domain(request: Request, configured: str | None) -> str:
    """The domain sign-in messages must name: the configured one, else the Host the client used."""
    if configured:
        return configured
    host = request.headers.get("host", "")
    if not host or len(host) > 255:
        raise ApiError(400, "bad_host", "the request has no usable Host header")
    return host


@router.get("/nonce", summary="A single-use nonce for a sign-in message")
def nonce(request: Request, ctx: ContextDep) -> S.NoncePublic:
    value, expires = ctx.sign_in.nonce()
    return S.NoncePublic(
        nonce=value,
        expires_at=expires,
        domain=expected_domain(request, ctx.settings.api_domain),
        chain_id=ctx.chain_id(),
    )


@router.post("/sign-in", summary="Exchange a signed EIP-4361 message for a session")
def sign_in(body: S.SignInCreate, request: Request, response: Response, ctx: ContextDep) -> S.SessionPublic:
    domain = expected_domain(request, ctx.settings.api_domain)
    signed = ctx.sign_in.verify(body.message, body.signature, domain=domain, chain_id=ctx.chain_id())
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        max_age=ctx.settings.api_session_ttl,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return S.SessionPublic(
        address=signed.address, expires_at=signed.expires, token=signed.token, dev_mode=ctx.dev_mode
    )


@router.get("/session", summary="The signed-in address")
def session(current: SessionDep, ctx: ContextDep) -> S.SessionPublic:
    address, expires = current
    return S.SessionPublic(address=address, expires_at=expires, token=None, dev_mode=ctx.dev_mode)


@router.post("/sign-out", status_code=204, summary="End the session")
def sign_out(request: Request, ctx: ContextDep) -> Response:
    token = session_token(request)
    if token is not None and len(token) <= 256:
        ctx.sign_in.sign_out(token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
