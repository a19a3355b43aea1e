"""A bound on every request body the web app reads.

Form parsing (Starlette's multipart parser) reads the whole body before any route or the CSRF check
runs: without a bound, one POST of any size, from anyone, is spooled to temporary files (and up to a
thousand 1 MiB fields are held in memory). A declared Content-Length over the bound is refused at
once; a body without one (chunked) is counted as it arrives and refused when it passes the bound."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _too_large(limit: int) -> str:
    return f"the request body is larger than the {limit} bytes this site accepts"


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            status = 413 if declared.isdigit() else 400
            text = _too_large(self.limit) if status == 413 else "invalid Content-Length"
            await PlainTextResponse(text, status)(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, _too_large(self.limit))
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except HTTPException as exc:
            if started or exc.status_code != 413:
                raise
            await PlainTextResponse(str(exc.detail), 413)(scope, receive, send)
