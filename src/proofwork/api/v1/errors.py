"""One error body for every failure: `{"error": {"code": "...", "message": "..."}}`.

Codes are stable (clients branch on them); messages are one line for a person. Domain errors map
to codes here; routes raise `ApiError` for the cases that need a more precise code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from proofwork.domain.asset_access import KEY_REFUSALS
from proofwork.domain.errors import (
    LABEL_REFUSALS,
    ArtifactCorrupted,
    ChainBusy,
    ChainUnavailable,
    CredentialRejected,
    DataDirCorrupted,
    InvalidInput,
    LabelRefused,
    NotAllowed,
    NotFound,
    ProofworkError,
    TransactionRejected,
)
from proofwork.services.sign_in import SignInRejected, SignInUnavailable
from proofwork.storage.store import StoreUnavailable

logger = logging.getLogger("proofwork.api")


class ErrorDetail(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


# (domain error, HTTP status, code): the first match wins, so subclasses come first
DOMAIN_ERRORS: list[tuple[type[ProofworkError], int, str]] = [
    (SignInRejected, 401, "siwe_rejected"),
    (SignInUnavailable, 503, "siwe_unavailable"),
    (CredentialRejected, 422, "credential_rejected"),
    (InvalidInput, 400, "invalid_input"),
    (NotFound, 404, "not_found"),
    (NotAllowed, 409, "not_allowed"),
    (TransactionRejected, 409, "transaction_rejected"),
    (ArtifactCorrupted, 502, "artifact_corrupted"),
    (StoreUnavailable, 503, "store_unavailable"),
    (ChainBusy, 503, "chain_busy"),
    (ChainUnavailable, 503, "chain_unavailable"),
    (DataDirCorrupted, 500, "data_corrupted"),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

# every code a response may carry: (status, when); the OpenAPI description lists them
ERROR_CODES: dict[str, tuple[int, str]] = {
    "bad_request": (400, "a malformed request (e.g. an invalid Content-Length)"),
    "malformed_json": (400, "the body is not valid JSON"),
    "invalid_input": (400, "a value the domain refuses (an amount, a deadline, a CID, a transaction)"),
    "empty_upload": (400, "an artifact upload without bytes"),
    "bad_host": (
        400,
        "no usable Host header to check sign-in messages against (not loopback, no domain set)",
    ),
    "dev_mode_off": (400, "`dev_sign` away from the embedded chain"),
    "unauthenticated": (401, "no session: sign in first"),
    "session_expired": (401, "the session expired or was ended"),
    "session_invalid": (401, "a session token of the wrong form"),
    "siwe_malformed": (401, "not an EIP-4361 message"),
    "siwe_wrong_domain": (401, "the message names another domain"),
    "siwe_wrong_uri": (401, "the message's URI is on another host"),
    "siwe_wrong_chain": (401, "the message names another chain"),
    "siwe_no_expiry": (401, "the message has no Expiration Time"),
    "siwe_too_long": (401, "the message claims validity for more than a day"),
    "siwe_expired": (401, "the message has expired"),
    "siwe_not_yet_valid": (401, "the message's Not Before is in the future"),
    "siwe_bad_signature": (401, "the signature is not the message's address's"),
    "siwe_bad_nonce": (401, "the nonce is unknown, expired or already used (a replay)"),
    "tx_malformed": (400, "`POST /tx`: not 0x-hex of a raw signed transaction"),
    "tx_wrong_chain": (400, "`POST /tx`: signed for another chain id, or for none"),
    "tx_unexpected_call": (400, "`POST /tx`: not a call this API prepares (another contract or function)"),
    "not_your_address": (403, "acting for, or sending a transaction signed by, another address"),
    "cross_site": (403, "a write with the session cookie from a page of another origin"),
    "not_a_dev_account": (403, "`dev_sign` for an address that is not a dev account"),
    "not_found": (404, "no such path, or an unknown id"),
    "job_not_found": (404, "no such job"),
    "competition_not_found": (404, "no such competition"),
    "artifact_not_found": (404, "no artifact with this CID in the store"),
    "asset_not_found": (404, "no such asset"),
    "licence_not_found": (404, "no such licence"),
    "offer_not_found": (404, "no such licence offer"),
    "assets_not_deployed": (404, "the asset contracts are not deployed on this chain"),
    "method_not_allowed": (405, "the path does not take this method"),
    "not_allowed": (409, "the job's rules refuse the action now or for this caller"),
    "transaction_rejected": (409, "the chain refused the transaction (it would revert, a used nonce)"),
    "tx_replayed": (409, "`POST /tx`: the transaction's nonce is already used on chain (sent before)"),
    "payload_too_large": (413, "a body over the limit (uploads: the upload limit)"),
    "tx_too_large": (413, "`POST /tx`: a signed transaction over 64 KiB"),
    "validation_error": (422, "the request does not match the schema"),
    "credential_rejected": (422, "a credential check failed"),
    "rate_limited": (429, "too many requests from this client: see Retry-After"),
    "internal_error": (500, "a bug: nothing of it is shown"),
    "data_corrupted": (500, "the chain's logs do not rebuild the stored state"),
    "artifact_corrupted": (502, "stored bytes do not hash to their CID"),
    "chain_unavailable": (503, "the node cannot be reached"),
    "chain_busy": (503, "another process holds the embedded chain"),
    "store_unavailable": (503, "the artifact store cannot be reached"),
    "siwe_unavailable": (503, "the sign-in library is not installed"),
}
ERROR_CODES.update(KEY_REFUSALS)  # `POST /asset-keys`: why a key is not released
ERROR_CODES.update(LABEL_REFUSALS)  # `/labeling`: why a batch is not served or not taken


def error_codes_table() -> str:
    rows = [f"| `{code}` | {status} | {when} |" for code, (status, when) in ERROR_CODES.items()]
    return "\n".join(["| code | status | when |", "|---|---|---|", *rows])


# documented on every operation (Schemathesis checks responses against them)
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "Malformed input (bad JSON, an invalid value)"},
    404: {"model": Error, "description": "Unknown id or path"},
    413: {"model": Error, "description": "The request body is larger than the limit"},
    422: {"model": Error, "description": "The request does not match the schema"},
    429: {"model": Error, "description": "Too many requests from this client"},
    503: {"model": Error, "description": "The chain or the store cannot be reached"},
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "Not signed in, or the session expired"},
    403: {"model": Error, "description": "Acting for another address"},
    409: {"model": Error, "description": "Not allowed in the job's state, or the chain refused it"},
}


def body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body(code, message), status_code=status, headers=headers)


def domain_error(exc: ProofworkError) -> tuple[int, str]:
    if isinstance(exc, SignInRejected):
        return 401, exc.code
    if isinstance(exc, LabelRefused):
        return exc.status, exc.reason
    for kind, status, code in DOMAIN_ERRORS:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal_error"


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "json_invalid":
            return 400, "malformed_json", "the request body is not valid JSON"
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
    message = str(first.get("msg", "invalid request"))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return 422, "validation_error", f"{where}: {message}{more}"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(ProofworkError)
    async def proofwork_error(request: Request, exc: ProofworkError) -> JSONResponse:
        status, code = domain_error(exc)
        message = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        return error_response(status, code, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_message(exc)
        return error_response(status, code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # a bug, not bad input: the same body, nothing of the internals (the server log has the traceback)
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error: the request could not be completed")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such path: {request.url.path}"
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))
