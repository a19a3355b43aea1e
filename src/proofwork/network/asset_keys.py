"""Asking an asset owner's node for a licence's key (`POST /api/v1/asset-keys`), and fetching an asset's
files from it by CID (`GET /api/v1/artifacts/{cid}`) when the local store does not have them.

Whatever the node answers is bounded (`MAX_ANSWER_BYTES`, the file's expected size) and only a claim:
the sealed key opens only with the holder's key, and every file is checked against its CID and the
manifest's sha256 before anything is written where the user asked. Bounded in time as well: every socket
wait ends at an overall deadline (`KEY_DEADLINE`; a file gets `FILE_DEADLINE` plus its size at
`MIN_BYTES_PER_SECOND`), so a node dripping one byte at a time cannot hold the holder; bytes are read as
sent (`Accept-Encoding: identity`, never inflated), so a compressed bomb is the few bytes it is.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from proofwork.domain.asset_access import KEY_REFUSALS, KeyRequestRefused
from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotAllowed, NotFound, ProofworkError
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.network.peers import deadline_client, endpoint_url, one_line
from proofwork.storage.files import write_atomic
from proofwork.storage.unixfs import cid_of_file, parse_cid

MAX_ANSWER_BYTES = 64 * 1024
TIMEOUT = 30.0  # per connect or read
KEY_DEADLINE = 60.0  # a key request in all
FILE_DEADLINE = 120.0  # a file in all: this, plus its size at the rate below
MIN_BYTES_PER_SECOND = 64 * 1024
IDENTITY = {"Accept-Encoding": "identity"}  # a compressed body could expand far beyond what was read
KEYS_PATH = "/api/v1/asset-keys"
ARTIFACTS_PATH = "/api/v1/artifacts/"


class NodeUnavailable(ProofworkError):
    """The asset owner's node cannot be reached, or answers something that is not proofwork's API."""


@contextmanager
def _client(client: httpx.Client | None, seconds: float) -> Iterator[tuple[httpx.Client, float]]:
    """(the client, the monotonic deadline): a client of ours has its every socket wait end there; a
    client handed in (tests, an ASGI app) is held to it between chunks by `_check_time`."""
    until = time.monotonic() + seconds
    if client is not None:
        yield client, until
        return
    clock, http = deadline_client(TIMEOUT)
    clock.at = until
    try:
        yield http, until
    finally:
        clock.at = None
        http.close()


def _raw(answer: httpx.Response) -> Iterator[bytes]:
    """The body's bytes as sent, never inflated (a response built in memory, as a mock transport's, is
    already read: its content is all there is)."""
    if answer.is_stream_consumed:
        return iter((answer.content,))
    return answer.iter_raw()


def _check_time(until: float, node: str) -> None:
    if time.monotonic() > until:
        raise NodeUnavailable(f"the owner's node at {node} did not answer in time: refused")


def _url(node: str, path: str) -> str:
    base = endpoint_url(node)
    return str(base).rstrip("/") + path


def request_sealed_key(
    node: str, request: dict[str, Any], signature: bytes, *, client: httpx.Client | None = None
) -> bytes | None:
    """The key sealed to the holder (None for an asset stored in the clear); a refusal as
    `KeyRequestRefused` with the node's code and message."""
    url = _url(node, KEYS_PATH)
    try:
        with (
            _client(client, KEY_DEADLINE) as (http, until),
            http.stream(
                "POST", url, json={"request": request, "signature": "0x" + signature.hex()}, headers=IDENTITY
            ) as answer,
        ):
            body = _read(answer, MAX_ANSWER_BYTES, until, node)
            status = answer.status_code
    except httpx.HTTPError as exc:
        raise NodeUnavailable(
            f"the owner's node at {node} cannot be reached: {exc.__class__.__name__}"
        ) from None
    try:
        data = safe_json_loads(body, max_bytes=MAX_ANSWER_BYTES, max_depth=4)
    except InvalidInput:
        raise NodeUnavailable(f"{node} answered {status} without a proofwork JSON body") from None
    if status != 200:
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = one_line(error.get("message", "")) if isinstance(error, dict) else ""
        if code in KEY_REFUSALS:
            raise KeyRequestRefused(code, message or code)
        raise NotAllowed(
            f"the owner's node refused the key request ({status} {one_line(code, 64)}): {message}"
        )
    sealed = data.get("sealed_key") if isinstance(data, dict) else None
    if sealed is None:
        return None
    try:
        return base64.b64decode(str(sealed), validate=True)
    except ValueError:
        raise NodeUnavailable(f"{node} answered a sealed key that is not base64") from None


def _read(answer: httpx.Response, limit: int, until: float, node: str) -> bytes:
    chunks, size = [], 0
    for chunk in _raw(answer):
        _check_time(until, node)
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
    url = _url(node, ARTIFACTS_PATH + cid)

    def chunks(http: httpx.Client, until: float) -> Any:
        with http.stream("GET", url, headers=IDENTITY) as answer:
            if answer.status_code == 404:
                raise NotFound(f"neither this store nor the owner's node has {cid}")
            if answer.status_code != 200:
                raise NodeUnavailable(f"the owner's node answered {answer.status_code} for {cid}")
            size = 0
            for chunk in _raw(answer):
                _check_time(until, node)
                size += len(chunk)
                if size > max_bytes:
                    raise ArtifactCorrupted(f"{cid} from the owner's node is larger than its manifest says")
                yield chunk

    try:
        with _client(client, FILE_DEADLINE + max_bytes / MIN_BYTES_PER_SECOND) as (http, until):
            write_atomic(out, chunks(http, until), durable=False)
    except httpx.HTTPError as exc:
        raise NodeUnavailable(
            f"the owner's node at {node} cannot be reached: {exc.__class__.__name__}"
        ) from None
    if cid_of_file(out) != cid:
        out.unlink(missing_ok=True)
        raise ArtifactCorrupted(f"the bytes the owner's node sent for {cid} do not hash to it: refused")
    return out
