"""Asking a dataset owner's node for a computation (`POST /api/v1/assets/compute`): one bounded call.

The answer is read as a stream, at most `MAX_BODY_BYTES`, within an overall deadline (a compute runs the
sandbox: minutes, not seconds); an error body `{"error": {"code", "message"}}` comes back as the node's
stable code and one-line message, anything else as a one-line ProofworkError.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from proofwork.domain.errors import ProofworkError
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.network.peers import deadline_client, endpoint_url, one_line

MAX_BODY_BYTES = 1 << 20
PATH = "/api/v1/assets/compute"


class NodeRefused(ProofworkError):
    """The node answered with an error: `code` is its stable code, `status` the HTTP status."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def post_compute(
    node_url: str, body: dict[str, Any], *, timeout: float = 30.0, deadline: float = 600.0
) -> Any:
    """The node's JSON answer to a compute request (NodeRefused for an error answer)."""
    base = endpoint_url(node_url)
    url = base.copy_with(path=base.path.rstrip("/") + PATH, query=None, fragment=None)
    clock, client = deadline_client(timeout)
    clock.at = time.monotonic() + deadline
    try:
        with client.stream("POST", url, json=body, headers={"Accept-Encoding": "identity"}) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise ProofworkError(f"the node at {url.host} answered more than {MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
            status = response.status_code
    except httpx.HTTPError as exc:
        raise ProofworkError(f"cannot reach the node at {node_url}: {exc.__class__.__name__}") from None
    finally:
        clock.at = None
        client.close()
    try:
        data = safe_json_loads(b"".join(chunks), max_bytes=MAX_BODY_BYTES, max_depth=8)
    except ProofworkError:
        raise ProofworkError(f"the node at {url.host} answered HTTP {status} without JSON") from None
    if status != 200:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            code, message = one_line(error["code"], 64), one_line(error.get("message", ""))
            raise NodeRefused(code, status, message or code)
        raise ProofworkError(f"the node at {url.host} answered HTTP {status}")
    return data


def get_artifact(
    node_url: str, cid: str, max_bytes: int, *, timeout: float = 30.0, deadline: float = 600.0
) -> bytes:
    """An artifact the node serves (`GET /api/v1/artifacts/CID`), at most `max_bytes`."""
    base = endpoint_url(node_url)
    url = base.copy_with(path=base.path.rstrip("/") + "/api/v1/artifacts/" + cid, query=None, fragment=None)
    clock, client = deadline_client(timeout)
    clock.at = time.monotonic() + deadline
    try:
        with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
            if response.status_code != 200:
                raise ProofworkError(
                    f"the node at {url.host} has no artifact {cid} (HTTP {response.status_code})"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > max_bytes:
                    raise ProofworkError(f"the artifact {cid} is larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise ProofworkError(f"cannot reach the node at {node_url}: {exc.__class__.__name__}") from None
    finally:
        clock.at = None
        client.close()
    return b"".join(chunks)
