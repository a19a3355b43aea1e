"""Sign-In with Ethereum (EIP-4361): a nonce, the signed message, a session (cookie or bearer)."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request, Response

from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import SESSION_COOKIE, ContextDep, SessionDep, session_token
from proofwork.api.v1.errors import AUTH_RESPONSES, ApiError
from proofwork.api.v1.json_guard import JsonGuardRoute

router = APIRouter(prefix="/auth", tags=["auth"], responses=AUTH_RESPONSES, route_class=JsonGuardRoute)


def expected_domain(request: Request, configured: str | None) -> str:
    """The domain sign-in messages must name: the configured one (`PROOFWORK_API_DOMAIN`), else the
    Host the client used, only when it names a loopback address. Any other Host is the client's to
    choose: a phishing site's message (its own domain, a nonce fetched here) would be accepted by
    sending it with that site's name as the Host, and the domain binding of EIP-4361 would be void."""
    if configured:
        return configured
    host = request.headers.get("host", "")
    if not host or len(host) > 255:
        raise ApiError(400, "bad_host", "the request has no usable Host header")
    if not _loopback_host(host):
        raise ApiError(
            400,
            "bad_host",
            f"sign-in on {host!r} needs the server's domain configured (PROOFWORK_API_DOMAIN): only a "
            "loopback Host is trusted without it",
        )
    return host


def _loopback_host(header: str) -> bool:
    """Whether a Host header (`127.0.0.1:8000`, `[::1]:8000`, `localhost`) names a loopback address."""
    if header.startswith("["):
        name = header[1 : header.find("]")] if "]" in header else header
    else:
        name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


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
