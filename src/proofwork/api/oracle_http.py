"""The oracle's report endpoint: serves the reports it signed, read from its database only.

Peers and any aggregator fetch signed score reports here and check each signature
themselves; nothing served is trusted on the server's word. Private competition scores
are served only once the final scores are signed (after the reveal period, in the final
report); before that only the public ones, and the confirmations of competitions' labels.

What is served is deliberately less than what is stored: never the failure `reason` (it may
quote class names from the hidden labels), and the `payload` only of final scores (a public
report's payload is the plaintext submission CID: serving it before the deadline would let
anyone copy an entry).
"""

from __future__ import annotations

import socket
import threading
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, HTTPException, Path

from proofwork.db.oracle_state import MAX_STORED_INT, OracleState, Report
from proofwork.domain.errors import InvalidInput, ProofworkError

SERVED_KINDS = ("job", "public", "final", "labels")


def served_json(r: Report) -> dict[str, Any]:
    """What a peer may see of a stored report."""
    data: dict[str, Any] = {
        "kind": r.kind,
        "subject": r.subject,
        "item": r.item,
        "round": r.round,
        "deliverable": r.deliverable,
        "ok": r.ok,
        "score": str(r.score),
        "signature": r.signature,
    }
    if r.kind == "final":
        data["payload"] = r.payload
    return data


def create_app(state: OracleState, oracle: str) -> FastAPI:
    app = FastAPI(title="proofwork oracle", version="1", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "oracle": oracle}

    @app.get("/v1/reports/{contract}/{kind}/{subject}")
    def reports(
        contract: Annotated[str, Path(min_length=42, max_length=42, pattern="^0x[0-9a-fA-F]{40}$")],
        kind: Annotated[str, Path(max_length=24)],
        subject: Annotated[int, Path(ge=0, le=MAX_STORED_INT)],
    ) -> list[dict[str, Any]]:
        if kind not in SERVED_KINDS:
            raise HTTPException(status_code=404, detail="no reports of this kind")
        try:
            return [served_json(r) for r in state.reports(contract, kind, subject)]
        except ProofworkError as exc:
            raise HTTPException(status_code=503, detail="the oracle database is unavailable") from exc

    return app


class ReportServer:
    """Runs the endpoint on a background thread (127.0.0.1 by default).

    Binds and listens in the constructor, so a port in use is a one-line InvalidInput here."""

    def __init__(self, state: OracleState, oracle: str, host: str = "127.0.0.1", port: int = 0) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidInput(f"invalid port {port!r}: expected 0 (any free port) to 65535")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
            self._sock.listen(128)
        except (OSError, OverflowError, UnicodeError) as exc:
            self._sock.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
            raise InvalidInput(f"cannot serve reports on {host}:{port}: {reason}") from exc
        self.host, self.port = self._sock.getsockname()[:2]
        # log_config=None: no dictConfig here, which would set uvicorn's loggers back to INFO for a moment
        # while another server on another thread (`proofwork serve` starts several) logs its start-up
        config = uvicorn.Config(
            create_app(state, oracle), log_level="warning", access_log=False, log_config=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ReportServer:
        self._thread.start()
        for _ in range(500):
            if self._server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self._server.started:
            self.stop()
            raise InvalidInput(f"the report endpoint on {self.url} did not start")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sock.close()
