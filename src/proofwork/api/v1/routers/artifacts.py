"""Artifacts by CID: upload (size-limited) and download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from proofwork.api.v1 import schemas as S
from proofwork.api.v1.deps import ContextDep, CurrentAddress, WorkspaceDep
from proofwork.api.v1.errors import AUTH_RESPONSES, ApiError, Error
from proofwork.domain.errors import NotFound
from proofwork.storage.unixfs import parse_cid

router = APIRouter(prefix="/artifacts", tags=["artifacts"])

MAX_DOWNLOAD = 1 << 30
Cid = Annotated[str, Path(pattern=r"^b[a-z2-7]{1,200}$", description="a CIDv1, base32")]


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "payload_too_large", f"the upload is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"the upload is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "",
    status_code=201,
    summary="Upload an artifact (the raw bytes as the body); returns its CID",
    responses={**AUTH_RESPONSES, 413: {"model": Error, "description": "Larger than the upload limit"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(request: Request, address: CurrentAddress, ctx: ContextDep) -> S.ArtifactPublic:
    data = await read_limited(request, ctx.settings.api_upload_limit)
    if not data:
        raise ApiError(400, "empty_upload", "the upload is empty")

    def store() -> str:
        with ctx.lock:  # in a worker thread: the event loop never waits for the workspace
            return ctx.workspace().store.add_bytes(data)

    cid = await run_in_threadpool(store)
    return S.ArtifactPublic(cid=cid, size=len(data))


@router.get(
    "/{cid}",
    summary="Download an artifact",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the artifact's bytes"}},
)
def download(cid: Cid, ws: WorkspaceDep) -> Response:
    parse_cid(cid)  # before the store sees it: a CID is also a file name there
    try:
        data = ws.store.read_bytes(cid, MAX_DOWNLOAD)
    except NotFound as exc:
        raise ApiError(404, "artifact_not_found", f"no artifact {cid} in this store") from exc
    return Response(data, media_type="application/octet-stream")
