"""Fetching signed reports from other oracles' endpoints; a dead or garbled peer yields nothing."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger("proofwork.peers")


class HttpPeers:
    def __init__(self, timeout: float = 3.0) -> None:
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def reports(self, endpoint: str, contract: str, kind: str, subject: int) -> list[dict[str, Any]]:
        url = f"{endpoint.rstrip('/')}/v1/reports/{contract.lower()}/{kind}/{subject}"
        try:
            response = self._client.get(url)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.info("peer %s: %s", endpoint, exc.__class__.__name__)
            return []
        if not isinstance(data, list):
            return []
        return [item for item in data[:1000] if isinstance(item, dict)]

    def close(self) -> None:
        self._client.close()
