"""`issuer serve`: a read-only static server for an issuer's web root (did.json, status list tokens)."""

from __future__ import annotations

import errno
import http.server
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.services.credentials.profiles import load_issuer
from proofwork.services.credentials.status_lists import STATUS_TOKEN_TTL

# --- serving the web root ----------------------------------------------------------------------------------

_CONTENT_TYPES = {"did.json": "application/did+json"}


def _content_type(path: Path) -> str:
    if path.name in _CONTENT_TYPES:
        return _CONTENT_TYPES[path.name]
    if path.parent.name == "status":
        return "application/statuslist+jwt"
    if path.suffix == ".json":
        return "application/json"
    return "application/octet-stream"


class _WebRootHandler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD of regular files under the web root; no listings, no traversal, nothing else."""

    server_version = "proofwork-issuer"
    sys_version = ""
    root: Path  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI reports what it serves
        return

    def _resolve(self) -> Path | None:
        raw = self.path.split("?", 1)[0].split("#", 1)[0]
        if not raw.startswith("/") or len(raw) > 1024:
            return None
        path = unquote(raw)
        if "\x00" in path or "\\" in path:
            return None
        segments = [s for s in path.split("/") if s]
        if any(s in (".", "..") for s in segments) or not segments:
            return None
        target = self.root.joinpath(*segments)
        try:
            resolved = target.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None
        return resolved

    def _send(self, head_only: bool) -> None:
        path = self._resolve()
        if path is None:
            self.send_error(404, "Not Found")
            return
        try:
            body = path.read_bytes()
        except OSError:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", _content_type(path))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", f"max-age={min(STATUS_TOKEN_TTL, 60)}")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(head_only=False)

    def do_HEAD(self) -> None:
        self._send(head_only=True)

    def _refuse(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse


class WebRootServer(http.server.ThreadingHTTPServer):
    """A read-only static server for an issuer's web root, bound on construction (port 0: any free
    port), so that tests and the CLI know its URL before serving."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_WebRootHandler,), {"root": root.resolve()})
        try:
            super().__init__((host, port), handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InvalidInput(f"port {port} on {host} is already in use") from exc
            raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        except socket.gaierror as exc:
            raise InvalidInput(f"cannot listen on {host!r}: {exc.strerror}") from exc
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        return f"http://{host}:{self.port}"

    def start(self) -> WebRootServer:
        """Serves in a daemon thread; `close` stops it."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="issuer-web", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()


def serve_issuer(
    data_dir: Path, name: str, host: str = "127.0.0.1", port: int | None = None
) -> WebRootServer:
    """A server (bound, not yet serving) for issuer `name`'s web root; `port` defaults to the
    base URL's (behind a TLS proxy in production, give the port the proxy forwards to)."""
    profile = load_issuer(data_dir, name)
    if profile.kind != "web" or profile.base_url is None:
        raise NotAllowed(f"issuer {name!r} is a wallet issuer ({profile.did}): it has nothing to serve")
    if port is None:
        parts = urlsplit(profile.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    if not 0 <= port <= 65535:
        raise InvalidInput(f"invalid port {port}: expected 0 (any free port) to 65535")
    return WebRootServer(profile.web_root, host, port)
