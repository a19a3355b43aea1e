"""The proofwork REST API (`/api/v1`): the app factory.

    create_app(settings, workspace=None) -> FastAPI

`settings`: the one `Settings` object (data directory, chain, store and the `api_*` settings: the
SIWE domain, the upload limit, the rate limit, the session lifetime). `workspace`: an open
`Workspace` to serve (its chain, deployment and store); when None, the app opens one from
`settings` on first use and closes it at shutdown. `proofwork serve` mounts the returned app; the
OpenAPI schema is at `/api/v1/openapi.json`, the docs at `/api/v1/docs`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proofwork.api.v1 import errors
from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import ApiContext, ContextDep, WorkspaceDep
from proofwork.api.v1.routers import (
    artifacts,
    asset_compute,
    asset_keys,
    assets,
    auth,
    competitions,
    credentials,
    jobs,
    labeling,
    profiles,
    statements,
    tx,
)
from proofwork.services.workspace import Workspace
from proofwork.settings import Settings

PREFIX = "/api/v1"
API_VERSION = "1.0.0"
MAX_JSON_BODY = 256 * 1024  # every request body but an artifact upload
UPLOAD_PATH = PREFIX + "/artifacts"

DESCRIPTION = """
Escrowed ML gig work on an EVM chain, as a REST API.

**Errors** have one body, `{"error": {"code": "...", "message": "..."}}`: `code` is stable (the table
below), `message` one line for a person.

**Sign-in** is Sign-In with Ethereum (EIP-4361): `GET /auth/nonce`, sign the message in the wallet,
`POST /auth/sign-in`; the session is an HttpOnly SameSite=Strict cookie and a bearer token.

**Writes** return the unsigned transaction (or the EIP-712 permit to sign first) for the user's
wallet; `POST /tx` broadcasts what it signed. The server holds no user's key. On the embedded chain
(dev mode, `dev_mode: true` in responses and the `X-Proofwork-Dev-Mode` header), `?dev_sign=true`
signs with the dev account of the session's address.

Amounts are strings of token base units; milestones are numbered from 0.

"""


class Guard:
    """Rate limit per client address, body size limit, and the dev-mode header on every response."""

    def __init__(self, app: ASGIApp, ctx: ApiContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dev_mode = self.ctx.dev_mode

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and dev_mode:
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-proofwork-dev-mode", b"true")],
                }
            await send(message)

        client = scope.get("client")
        wait = self.ctx.buckets.take(client[0] if client else "unknown")
        if wait is not None:
            retry = str(max(1, int(wait + 0.999)))
            await _reply(
                send_marked,
                429,
                "rate_limited",
                f"too many requests: retry in {retry} s",
                {"retry-after": retry},
            )
            return
        if scope["path"] != UPLOAD_PATH:
            headers = dict(scope.get("headers", []))
            declared = headers.get(b"content-length")
            if declared is not None:
                if not declared.isdigit():
                    await _reply(send_marked, 400, "bad_request", "invalid Content-Length")
                    return
                if int(declared) > MAX_JSON_BODY:
                    await _reply(
                        send_marked,
                        413,
                        "payload_too_large",
                        f"the request body is over {MAX_JSON_BODY} bytes",
                    )
                    return
            elif scope.get("method") in ("POST", "PUT", "PATCH"):
                body, more = b"", True
                while more:
                    message = await receive()
                    if message["type"] != "http.request":
                        break
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(body) > MAX_JSON_BODY:
                        await _reply(
                            send_marked,
                            413,
                            "payload_too_large",
                            f"the request body is over {MAX_JSON_BODY} bytes",
                        )
                        return
                replayed = False

                async def replay() -> Message:
                    nonlocal replayed
                    if replayed:
                        return await receive()
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}

                await self.app(scope, replay, send_marked)
                return
        await self.app(scope, receive, send_marked)


async def _reply(
    send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(errors.body(code, message)).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def create_app(settings: Settings | None = None, workspace: Workspace | None = None) -> FastAPI:
    """The API over `workspace` (or one opened from `settings` on first use); see the module doc."""
    if settings is None:
        settings = workspace.settings if workspace is not None else Settings.from_env()
    ctx = ApiContext(settings, workspace)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.close()

    app = FastAPI(
        title="proofwork API",
        version=API_VERSION,
        description=DESCRIPTION + errors.error_codes_table(),
        openapi_url=PREFIX + "/openapi.json",
        docs_url=PREFIX + "/docs",
        redoc_url=None,
        lifespan=lifespan,
        responses=errors.COMMON_RESPONSES,
    )
    app.state.proofwork = ctx
    errors.install(app)

    root = APIRouter(prefix=PREFIX)

    @root.get("/info", tags=["info"], summary="The chain, the deployment and the limits this API serves")
    def info(ws: WorkspaceDep, ctx: ContextDep) -> S.InfoPublic:
        deployed: dict[str, Any] = {
            "escrow": None,
            "token": None,
            "token_symbol": None,
            "token_decimals": None,
        }
        from proofwork.domain.errors import NotFound

        try:
            token = ws.token
            deployed = {
                "escrow": ws.escrow.address,
                "token": token.address,
                "token_symbol": token.symbol,
                "token_decimals": token.decimals,
            }
        except NotFound:
            pass
        return S.InfoPublic(
            api_version=API_VERSION,
            chain_id=ws.chain_id,
            dev_mode=ctx.dev_mode,
            upload_limit=ctx.settings.api_upload_limit,
            **deployed,
        )

    routers = (
        auth,
        jobs,
        competitions,
        profiles,
        credentials,
        artifacts,
        statements,
        tx,
        asset_keys,
        asset_compute,
        assets,
        labeling,
    )
    for module in routers:
        root.include_router(module.router)
    app.include_router(root)
    app.add_middleware(Guard, ctx=ctx)
    return app
