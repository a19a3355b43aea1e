"""Asking an asset owner's node for a licence's key (`POST /api/v1/asset-keys`), and fetching an asset's
files from it by CID (`GET /api/v1/artifacts/{cid}`) when the local store does not have them.

Whatever the node answers is bounded (`MAX_ANSWER_BYTES`, the file's expected size) and only a claim:
the sealed key opens only with the holder's key, and every file is checked against its CID and the
manifest's sha256 before anything is written where the user asked.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx

from proofwork.domain.asset_access import KEY_REFUSALS, KeyRequestRefused
from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotAllowed, NotFound, ProofworkError
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.network.peers import endpoint_url
from proofwork.storage.files import write_atomic
from proofwork.storage.unixfs import cid_of_file, parse_cid

MAX_ANSWER_BYTES = 64 * 1024
TIMEOUT = 30.0
KEYS_PATH = "/api/v1/asset-keys"
ARTIFACTS_PATH = "/api/v1/artifacts/"


class NodeUnavailable(ProofworkError):
    """The asset owner's node cannot be reached, or answers something that is not proofwork's API."""


def _client(client: httpx.Client | None) -> httpx.Client:
    return client or httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False)


def _url(node: str, path: str) -> str:
    base = endpoint_url(node)
    return str(base).rstrip("/") + path


def request_sealed_key(
    node: str, request: dict[str, Any], signature: bytes, *, client: httpx.Client | None = None
) -> bytes | None:
    """The key sealed to the holder (None for an asset stored in the clear); a refusal as
    `KeyRequestRefused` with the node's code and message."""
    http = _client(client)
    try:
        with http.stream(
            "POST", _url(node, KEYS_PATH), json={"request": request, "signature": "0x" + signature.hex()}
        ) as answer:
            body = _read(answer, MAX_ANSWER_BYTES)
            status = answer.status_code
    except httpx.HTTPError as exc:
        raise NodeUnavailable(
            f"the owner's node at {node} cannot be reached: {exc.__class__.__name__}"
        ) from None
    finally:
        if client is None:
            http.close()
    try:
        data = safe_json_loads(body, max_bytes=MAX_ANSWER_BYTES, max_depth=4)
    except InvalidInput:
        raise NodeUnavailable(f"{node} answered {status} without a proofwork JSON body") from None
    if status != 200:
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = str(error.get("message", ""))[:300] if isinstance(error, dict) else ""
        if code in KEY_REFUSALS:
            raise KeyRequestRefused(code, message or code)
        raise NotAllowed(f"the owner's node refused the key request ({status} {code}): {message}")
    sealed = data.get("sealed_key") if isinstance(data, dict) else None
    if sealed is None:
        return None
    try:
        return base64.b64decode(str(sealed), validate=True)
    except ValueError:
        raise NodeUnavailable(f"{node} answered a sealed key that is not base64") from None


def _read(answer: httpx.Response, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in answer.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise NodeUnavailable(f"the node's answer is over {limit} bytes: refused")
        chunks.append(chunk)
    return b"".join(chunks)


def download_artifact(
    node: str, cid: str, out: Path, max_bytes: int, *, client: httpx.Client | None = None
) -> Path:
    """The bytes of `cid` from the node into `out` (at most `max_bytes`), checked against the CID."""
    parse_cid(cid)
    http = _client(client)

    def chunks() -> Any:
        with http.stream("GET", _url(node, ARTIFACTS_PATH + cid)) as answer:
            if answer.status_code == 404:
                raise NotFound(f"neither this store nor the owner's node has {cid}")
            if answer.status_code != 200:
                raise NodeUnavailable(f"the owner's node answered {answer.status_code} for {cid}")
            size = 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ArtifactCorrupted(f"{cid} from the owner's node is larger than its manifest says")
                yield chunk

    try:
        write_atomic(out, chunks(), durable=False)
    except httpx.HTTPError as exc:
        raise NodeUnavailable(
            f"the owner's node at {node} cannot be reached: {exc.__class__.__name__}"
        ) from None
    finally:
        if client is None:
            http.close()
    if cid_of_file(out) != cid:
        out.unlink(missing_ok=True)
        raise ArtifactCorrupted(f"the bytes the owner's node sent for {cid} do not hash to it: refused")
    return out
