"""JSON bodies checked for nesting before FastAPI parses them.

`json.loads` recurses in C once per nesting level, and web3 and py-evm raise the interpreter's
recursion limit on import: a 200 kB body of `[` (under the JSON body limit) overflows the C stack and
kills the server process, embedded chain included, with no session needed. Every router that takes a
JSON body uses `JsonGuardRoute`: its body is read once (Starlette keeps it for FastAPI's parser) and
refused as `malformed_json` when it nests deeper than `MAX_JSON_DEPTH`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from proofwork.api.v1.errors import error_response
from proofwork.domain.errors import InvalidInput
from proofwork.domain.jsonsafe import check_nesting

MAX_JSON_DEPTH = 32  # the API's bodies are flat objects


class JsonGuardRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH"):
                body = await request.body()  # kept on the request: FastAPI's parser reads it from there
                try:
                    check_nesting(body.decode("utf-8", "replace"), MAX_JSON_DEPTH)
                except InvalidInput as exc:
                    return error_response(400, "malformed_json", f"the request body is not accepted: {exc}")
            return await handler(request)

        return guarded
