"""The oracle's report endpoint: serves the reports it signed, read from its database only.

Peers and any aggregator fetch signed score reports here and check each signature
themselves; nothing served is trusted on the server's word. Private competition scores
are never served: only the public ones, and the final ranking once it is signed.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException

from proofwork.db.oracle_state import OracleState
from proofwork.services.oracle import report_json

SERVED_KINDS = ("job", "public", "final")


def create_app(state: OracleState, oracle: str) -> FastAPI:
    app = FastAPI(title="proofwork oracle", version="1")

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "oracle": oracle}

    @app.get("/v1/reports/{contract}/{kind}/{subject}")
    def reports(contract: str, kind: str, subject: int) -> list[dict[str, Any]]:
        if kind not in SERVED_KINDS:
            raise HTTPException(status_code=404, detail=f"no reports of kind {kind!r}")
        if not (contract.startswith("0x") and len(contract) == 42):
            raise HTTPException(status_code=422, detail="contract must be a 0x address")
        return [report_json(r) for r in state.reports(contract, kind, subject)]

    return app


class ReportServer:
    """Runs the endpoint on a background thread (127.0.0.1 by default)."""

    def __init__(self, state: OracleState, oracle: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(create_app(state, oracle), log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ReportServer:
        self._thread.start()
        for _ in range(200):
            if self._server.started:
                break
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()
