"""The platform's one HTTP server for `proofwork serve`: the web app at `/` and the REST API at
`/api/v1` (its OpenAPI schema at `/api/v1/openapi.json`, its docs at `/api/v1/docs`), in one ASGI
app served by uvicorn on a thread, on the serve options' host and port."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from proofwork.api.v1 import errors
from proofwork.api.v1.app import PREFIX
from proofwork.domain.errors import InvalidInput
from proofwork.domain.loopback import loopback_host_header

if TYPE_CHECKING:
    from proofwork.services.serve import Component, Platform
    from proofwork.services.workspace import Workspace

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


class PlatformApp:
    """Routes `/api/v1` and below to the API, everything else to the web app. Both keep their own
    paths (no prefix is stripped), so the API's schema and docs and the pages' links are unchanged."""

    def __init__(self, api: ASGIApp, web: ASGIApp) -> None:
        self.api = api
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not loopback_host_header(_header(scope, b"host")):
            # served on loopback only: another Host is a page whose name was rebound to 127.0.0.1
            body = json.dumps(
                errors.body("bad_host", "refused: the Host header must name a loopback address")
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"%d" % len(body)),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.api(scope, receive, send)
        else:
            await self.web(scope, receive, send)


class PlatformHttp:
    """The web app and the API on one port. Binds in the constructor, so a port in use is a one-line
    error before anything else starts; `url` is the web app's."""

    name = "web app and API"

    def __init__(self, platform: Platform) -> None:
        from proofwork.api.v1 import create_app
        from proofwork.web import create_web_app

        self.platform = platform
        opts = platform.options
        family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((opts.host, opts.port))
            self._sock.listen(128)
        except (OSError, OverflowError) as exc:
            self._sock.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
            raise InvalidInput(
                f"cannot serve the web app and API on {opts.host}:{opts.port}: {reason}"
            ) from exc
        self.host, self.port = self._sock.getsockname()[:2]
        self._web_ws: Workspace | None = None
        self._web_lock = threading.Lock()
        self.api = create_app(platform.settings)  # opens its own workspace on first use
        self.web = create_web_app(self._web_workspace, platform.settings)
        config = uvicorn.Config(
            PlatformApp(self.api, self.web),
            log_level="warning",
            log_config=None,  # as the oracles' report servers: no logging reconfigured on a thread's start
            proxy_headers=False,  # no client address from X-Forwarded-For: the rate limit's key is the peer
            access_log=False,
            lifespan="off",  # nothing to start; `stop` closes what the apps opened
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="http", daemon=True
        )

    @contextlib.contextmanager
    def _web_workspace(self) -> Iterator[Workspace]:
        """The web app's workspace, opened on first use and kept (the web app takes turns on it)."""
        with self._web_lock:
            if self._web_ws is None:
                self._web_ws = self.platform.open_workspace()
            ws = self._web_ws
        yield ws

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def api_url(self) -> str:
        return self.url.rstrip("/") + PREFIX

    def start(self) -> None:
        self._thread.start()
        done = threading.Event()
        for _ in range(int(START_TIMEOUT / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            done.wait(0.01)
        if not self._server.started:
            self.stop()
            raise InvalidInput(f"the web app and API on {self.url} did not start")
        self.platform.url = self.url

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_TIMEOUT + 2)
        self._sock.close()
        problems: list[str] = []
        try:
            self.api.state.proofwork.close()
        except Exception as exc:
            problems.append(f"the API: {exc.__class__.__name__}: {exc}")
        with self._web_lock:
            if self._web_ws is not None:
                try:
                    self._web_ws.close()
                except Exception as exc:
                    problems.append(f"the web app: {exc.__class__.__name__}: {exc}")
                self._web_ws = None
        if self._thread.is_alive():
            problems.append(f"the HTTP server is still running after {STOP_TIMEOUT + 2:g}s")
        if problems:
            raise RuntimeError("; ".join(problems))


def platform_http(platform: Platform) -> Component | None:
    """The factory of the web app and API server."""
    return PlatformHttp(platform)
