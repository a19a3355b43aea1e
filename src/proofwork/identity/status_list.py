"""Token Status List (draft-ietf-oauth-status-list): revoking and suspending issued credentials.

An issuer cannot recall a credential it handed out, so each credential names an index in a list
the issuer publishes and signs; flipping that index's bits revokes or suspends it. One list
covers at least 131,072 credentials so that fetching it does not reveal which one a verifier
is checking (herd privacy), and it compresses to a few hundred bytes while nearly all are valid.

The issuer may also anchor the SHA-256 of its current list token on chain (`token_digest`);
a verifier then refuses an older token replayed by whoever serves the list.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from proofwork.domain.errors import CredentialRejected, InvalidInput, ProofworkError
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.identity.sdjwt import KeyResolver, StatusChecker, StatusReference
from proofwork.keys.jwk import (
    SUPPORTED_ALGS,
    PrivateKey,
    alg_of_key,
    b64url_decode,
    b64url_encode,
    sign,
    verify,
)

VALID = 0
INVALID = 1
SUSPENDED = 2

STATUS_LIST_TYP = "statuslist+jwt"
MIN_ISSUED_SIZE = 131_072
ALLOWED_BITS = (1, 2, 4, 8)
# A DEFLATE stream can expand ~1000x: a small token could otherwise make us allocate gigabytes.
MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024
# a status list token for 16 MiB of mostly-zero statuses compresses far below this
MAX_TOKEN_BYTES = 4 * 1024 * 1024


class StatusList:
    """`size` statuses of `bits` bits each; status i lives in the least-significant bits first."""

    def __init__(self, size: int = MIN_ISSUED_SIZE, bits: int = 1) -> None:
        if bits not in ALLOWED_BITS:
            raise InvalidInput(f"a status list uses 1, 2, 4 or 8 bits per status, not {bits!r}")
        if not isinstance(size, int) or size < MIN_ISSUED_SIZE:
            raise InvalidInput(
                f"an issued status list needs at least {MIN_ISSUED_SIZE:,} entries so that fetching it "
                "does not reveal which credential is checked"
            )
        self.bits = bits
        self.size = size
        self._bytes = bytearray((size * bits + 7) // 8)

    @classmethod
    def _from_bytes(cls, raw: bytes, bits: int) -> StatusList:
        lst = cls.__new__(cls)
        lst.bits = bits
        lst.size = len(raw) * 8 // bits
        lst._bytes = bytearray(raw)
        return lst

    def _locate(self, index: int) -> tuple[int, int]:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < self.size:
            raise InvalidInput(f"status index {index!r} is outside the list (0..{self.size - 1})")
        bit = index * self.bits
        return bit >> 3, bit & 7

    def get(self, index: int) -> int:
        byte, shift = self._locate(index)
        return (self._bytes[byte] >> shift) & ((1 << self.bits) - 1)

    def set(self, index: int, value: int) -> None:
        mask = (1 << self.bits) - 1
        if not isinstance(value, int) or not 0 <= value <= mask:
            raise InvalidInput(f"a {self.bits}-bit status is 0..{mask}, not {value!r}")
        byte, shift = self._locate(index)
        self._bytes[byte] = (self._bytes[byte] & ~(mask << shift) & 0xFF) | (value << shift)

    def __getitem__(self, index: int) -> int:
        return self.get(index)

    def __setitem__(self, index: int, value: int) -> None:
        self.set(index, value)

    def __len__(self) -> int:
        return self.size

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self) -> str:
        """The `lst` member: base64url of the ZLIB/DEFLATE-compressed bytes (highest compression)."""
        return b64url_encode(zlib.compress(bytes(self._bytes), 9))

    @classmethod
    def decode(cls, lst: str, bits: int) -> StatusList:
        """A list from its `lst` member, of any size; refuses streams that inflate past 16 MiB."""
        if bits not in ALLOWED_BITS:
            raise InvalidInput(f"a status list uses 1, 2, 4 or 8 bits per status, not {bits!r}")
        compressed = b64url_decode(lst)
        inflater = zlib.decompressobj()
        try:
            # one byte beyond the cap tells "exactly the cap" from "more": never inflate further
            raw = inflater.decompress(compressed, MAX_DECOMPRESSED_BYTES + 1)
            if len(raw) <= MAX_DECOMPRESSED_BYTES and not inflater.unconsumed_tail:
                raw += inflater.flush(MAX_DECOMPRESSED_BYTES + 1 - len(raw))
        except zlib.error as exc:
            raise InvalidInput(f"the status list is not ZLIB-compressed data ({exc})") from exc
        if len(raw) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
            raise InvalidInput(f"the status list inflates past {MAX_DECOMPRESSED_BYTES} bytes")
        if not inflater.eof or inflater.unused_data:
            raise InvalidInput("the status list's compressed data is truncated or followed by garbage")
        return cls._from_bytes(raw, bits)

    def to_json(self) -> dict[str, Any]:
        return {"bits": self.bits, "lst": self.encode()}


def _json_b64(value: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def sign_status_list_token(
    status_list: StatusList,
    *,
    key: PrivateKey,
    kid: str | None,
    issuer: str,
    uri: str,
    iat: int,
    exp: int,
    ttl: int,
) -> str:
    """The issuer-signed JWT a verifier fetches from `uri`; `ttl` says how long it may be cached."""
    header: dict[str, Any] = {"alg": alg_of_key(key), "typ": STATUS_LIST_TYP}
    if kid is not None:
        header["kid"] = kid
    payload = {
        "sub": uri,
        "iss": issuer,
        "iat": iat,
        "exp": exp,
        "ttl": ttl,
        "status_list": status_list.to_json(),
    }
    signing_input = _json_b64(header) + "." + _json_b64(payload)
    return signing_input + "." + b64url_encode(sign(key, signing_input.encode("ascii")))


def token_digest(token: str) -> bytes:
    """SHA-256 of the token's ASCII text: the value an issuer anchors on chain."""
    return hashlib.sha256(token.encode("ascii")).digest()


def _bad(message: str) -> NoReturn:
    raise CredentialRejected("bad-status-list", message)


def _part(text: str, what: str) -> dict[str, Any]:
    try:
        value = safe_json_loads(b64url_decode(text), max_bytes=MAX_TOKEN_BYTES, max_depth=8)
    except InvalidInput as exc:
        _bad(f"the status list token's {what} is not base64url JSON: {exc}")
    if not isinstance(value, dict):
        _bad(f"the status list token's {what} is not a JSON object")
    return value


def _verify_token(token: Any, resolve_key: KeyResolver, uri: str, now: int, leeway: int) -> StatusList:
    if not isinstance(token, str) or not token.isascii():
        _bad("a status list token is ASCII text")
    if len(token) > MAX_TOKEN_BYTES:
        _bad(f"the status list token is larger than {MAX_TOKEN_BYTES} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        _bad("the status list token is not a compact JWS")
    header, payload = _part(parts[0], "header"), _part(parts[1], "payload")
    if header.get("typ") != STATUS_LIST_TYP:
        _bad(f"the token's typ is {header.get('typ')!r}, not '{STATUS_LIST_TYP}'")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in SUPPORTED_ALGS:
        _bad(f"the status list token's algorithm {alg!r} is not accepted")
    if "crit" in header:
        _bad("the status list token has critical header parameters this verifier does not understand")
    iss, iat, exp = payload.get("iss"), payload.get("iat"), payload.get("exp")
    if not isinstance(iss, str) or not iss or (not isinstance(iat, int) or isinstance(iat, bool)):
        _bad("the status list token needs 'iss' and an integer 'iat'")
    try:
        key = resolve_key(iss, header, iat)
    except CredentialRejected:
        raise
    except Exception as exc:
        raise CredentialRejected(
            "unknown-issuer", f"the status list issuer's key could not be resolved: {str(exc)[:120]}"
        ) from exc
    try:
        signature = b64url_decode(parts[2])
    except InvalidInput:
        _bad("the status list token's signature is not base64url")
    if not verify(key, alg, f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        _bad("the status list token's signature does not verify")
    if payload.get("sub") != uri:
        _bad(f"the token served at {uri} is the status list of {payload.get('sub')!r}")
    if exp is not None:
        if not isinstance(exp, int) or isinstance(exp, bool):
            _bad("the status list token's 'exp' must be integer seconds")
        if now > exp + leeway:
            raise CredentialRejected("stale-status-list", "the status list token has expired")
    if iat > now + leeway:
        _bad("the status list token is dated in the future")
    body = payload.get("status_list")
    if not isinstance(body, dict) or not isinstance(body.get("lst"), str):
        _bad("the token holds no 'status_list' with 'bits' and 'lst'")
    bits = body.get("bits")
    if bits not in ALLOWED_BITS or (not isinstance(bits, int) or isinstance(bits, bool)):
        _bad(f"a status list uses 1, 2, 4 or 8 bits per status, not {bits!r}")
    try:
        return StatusList.decode(body["lst"], bits)
    except InvalidInput as exc:
        _bad(f"the status list cannot be decoded: {exc}")


def verify_status_list_token(
    token: str, *, resolve_key: KeyResolver, uri: str, now: int, leeway: int = 60
) -> StatusList:
    """The list inside a status list token fetched from `uri`, after checking typ, issuer
    signature, that it is the list for `uri` (sub) and not expired; else CredentialRejected."""
    try:
        return _verify_token(token, resolve_key, uri, now, leeway)
    except CredentialRejected:
        raise
    except ProofworkError as exc:
        raise CredentialRejected("bad-status-list", f"the status list token cannot be read: {exc}") from exc
    except Exception as exc:  # hostile input must never surface as a traceback
        raise CredentialRejected(
            "bad-status-list", f"the status list token cannot be read ({type(exc).__name__})"
        ) from exc


def make_status_checker(
    fetch: Callable[[str], str],
    resolve_key: KeyResolver,
    now: int,
    anchored_digest: Callable[[str], bytes | None] | None = None,
) -> StatusChecker:
    """A StatusChecker for `verify_presentation` that fetches, verifies and caches (per uri, for
    this checker's life) each status list token, refusing one older than the digest anchored for it."""
    cache: dict[str, StatusList] = {}

    def load(uri: str) -> StatusList:
        if uri in cache:
            return cache[uri]
        try:
            token = fetch(uri)
        except Exception as exc:
            raise CredentialRejected(
                "status-unavailable", f"the status list at {uri} could not be fetched: {str(exc)[:120]}"
            ) from exc
        if not isinstance(token, str):
            raise CredentialRejected("status-unavailable", f"the status list at {uri} is not a token")
        token = token.strip()
        lst = verify_status_list_token(token, resolve_key=resolve_key, uri=uri, now=now)
        if anchored_digest is not None:
            try:
                anchored = anchored_digest(uri)
            except CredentialRejected:
                raise
            except Exception as exc:
                raise CredentialRejected(
                    "status-unavailable", f"the anchored digest of {uri} could not be read: {str(exc)[:120]}"
                ) from exc
            if anchored is not None and bytes(anchored) != token_digest(token):
                raise CredentialRejected(
                    "stale-status-list", f"the status list served at {uri} is not the one its issuer anchored"
                )
        cache[uri] = lst
        return lst

    def check(ref: StatusReference) -> None:
        lst = load(ref.uri)
        if not 0 <= ref.idx < lst.size:
            raise CredentialRejected(
                "bad-status-list", f"status index {ref.idx} is outside the list at {ref.uri} ({lst.size})"
            )
        value = lst.get(ref.idx)
        if value == INVALID:
            raise CredentialRejected("revoked", "the issuer has revoked this credential")
        if value == SUSPENDED:
            raise CredentialRejected("suspended", "the issuer has suspended this credential")
        if value != VALID:
            raise CredentialRejected(
                "bad-status-list", f"the credential's status {value:#x} is not one this verifier knows"
            )

    return check
