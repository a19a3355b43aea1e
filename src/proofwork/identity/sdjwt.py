"""SD-JWT VC credentials (RFC 9901, draft-ietf-oauth-sd-jwt-vc): issue, present, verify.

A worker's badge must let them show one fact (say, "passed the ML evaluation at grade A") to a
client without handing over everything else the issuer vouched for, and the client must be able
to tell the presentation was made by the credential's holder, for them, just now. SD-JWT gives
exactly that: every claim sits in the signed JWT only as a salted digest, the holder reveals a
claim by sending its disclosure, and a key-binding JWT signed with the holder's key ties the
chosen disclosures to the verifier's audience and nonce.

This is our own lean implementation on top of `jwk.py` rather than the PyPI `sd-jwt` package:
verification sits on a hot path (>= 1,000 presentations per second per core), it must check what
that package leaves out (exp/nbf/iat, KB-JWT age, reserved names), and every failure must carry a
stable reason code instead of a ValueError or a traceback. The tests cross-check it both ways
against the PyPI package and the TypeScript `@sd-jwt/sd-jwt-vc`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from coincurve import PublicKey as Secp256k1PublicKey
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from proofwork.domain.errors import CredentialRejected, InvalidInput, ProofworkError
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.keys.jwk import (
    SUPPORTED_ALGS,
    PrivateKey,
    PublicKey,
    alg_of_jwk,
    alg_of_key,
    b64url_decode,
    b64url_encode,
    jwk_of,
    public_key_from_jwk,
    sign,
    verify,
)

SD_JWT_TYP = "dc+sd-jwt"
# the name before draft-ietf-oauth-sd-jwt-vc-06; other wallets still issue it
LEGACY_SD_JWT_TYP = "vc+sd-jwt"
KB_JWT_TYP = "kb+jwt"
SD_ALG = "sha-256"

# Bounds on untrusted input: a badge is a few KiB; these leave room without letting a peer make
# us hash, parse or hold megabytes.
MAX_PRESENTATION_BYTES = 64 * 1024
MAX_DISCLOSURES = 256
MAX_JSON_DEPTH = 16
# nesting across disclosures (a disclosed object holding further digests), counted in JSON levels
MAX_CLAIM_DEPTH = 32

# never selectively disclosable (SD-JWT VC section 3.2.2.2) and read only from the signed payload
_PLAIN_CLAIMS = frozenset({"iss", "iat", "exp", "nbf", "vct", "status", "cnf", "_sd_alg", "vct#integrity"})
_STRUCTURAL = frozenset({"_sd", "..."})


@dataclass(frozen=True)
class StatusReference:
    """Where the credential's revocation bit lives: entry `idx` of the status list token at `uri`."""

    idx: int
    uri: str

    def to_json(self) -> dict[str, Any]:
        return {"status_list": {"idx": self.idx, "uri": self.uri}}


KeyResolver = Callable[[str, Mapping[str, Any], int], PublicKey]
StatusChecker = Callable[[StatusReference], None]


@dataclass(frozen=True)
class VerifiedCredential:
    """What a verifier may rely on after `verify_presentation`.

    `claims` holds the disclosed claims and any plain claims other than the registered ones
    lifted into fields (iss, vct, iat, exp, nbf, status, cnf, _sd_alg).
    """

    issuer: str
    vct: str
    claims: dict[str, Any]
    holder_jwk: dict[str, Any] | None
    iat: int
    exp: int | None
    status: StatusReference | None
    key_bound: bool


# ---------------------------------------------------------------------------------------------- helpers


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _digest(disclosure: str) -> str:
    return b64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())


_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _verify_es256k(point: bytes, signing_input: bytes, signature: bytes) -> bool:
    """ES256K through libsecp256k1 (coincurve): ~10x faster than OpenSSL's generic curve code, which
    alone kept wallet-key presentations under 1,000 verifications/s. libsecp256k1 only accepts low-s
    signatures; a high-s one is the same signature mirrored, so it is folded (as OpenSSL accepts it)."""
    if len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < _SECP256K1_N and 0 < s < _SECP256K1_N):
        return False
    if s > _SECP256K1_N // 2:
        s = _SECP256K1_N - s
    try:
        return bool(Secp256k1PublicKey(point).verify(encode_dss_signature(r, s), signing_input))
    except Exception:  # a point off the curve or an unparsable signature
        return False


def _verify_sig(key: PublicKey, alg: str, signing_input: bytes, signature: bytes) -> bool:
    if alg == "ES256K" and isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256k1":
        numbers = key.public_numbers()
        point = b"\x04" + numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
        return _verify_es256k(point, signing_input, signature)
    return verify(key, alg, signing_input, signature)


def _verify_by_jwk(public_jwk: Mapping[str, Any], alg: str, signing_input: bytes, signature: bytes) -> bool:
    """Like `verify(public_key_from_jwk(jwk), ...)`, without building an OpenSSL key for secp256k1."""
    if alg_of_jwk(public_jwk) == "ES256K":
        if alg != "ES256K" or "d" in public_jwk:
            public_key_from_jwk(public_jwk)  # raises the same refusal as the generic path
            return False
        x, y = public_jwk.get("x"), public_jwk.get("y")
        if not isinstance(x, str) or not isinstance(y, str):
            raise InvalidInput("the JWK has no 'x' or 'y'")
        point = b64url_decode(x), b64url_decode(y)
        if len(point[0]) != 32 or len(point[1]) != 32:
            raise InvalidInput("the JWK's coordinates must be 32 bytes")
        return _verify_es256k(b"\x04" + point[0] + point[1], signing_input, signature)
    return verify(public_key_from_jwk(public_jwk), alg, signing_input, signature)


def _sign_jwt(key: PrivateKey, header: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    signing_input = b64url_encode(_json_bytes(header)) + "." + b64url_encode(_json_bytes(payload))
    return signing_input + "." + b64url_encode(sign(key, signing_input.encode("ascii")))


def _reject(reason: str, message: str) -> NoReturn:
    raise CredentialRejected(reason, message)


def _malformed(message: str) -> NoReturn:
    raise CredentialRejected("malformed", message)


def _json_part(text: str, what: str) -> Any:
    try:
        return safe_json_loads(
            b64url_decode(text), max_bytes=MAX_PRESENTATION_BYTES, max_depth=MAX_JSON_DEPTH
        )
    except InvalidInput as exc:
        _malformed(f"the {what} is not valid base64url JSON: {exc}")


@dataclass(frozen=True)
class _Jwt:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _parse_jwt(token: str, what: str) -> _Jwt:
    parts = token.split(".")
    if len(parts) != 3:
        _malformed(f"the {what} is not a compact JWS (three dot-separated parts)")
    header = _json_part(parts[0], f"{what} header")
    payload = _json_part(parts[1], f"{what} payload")
    if not isinstance(header, dict) or not isinstance(payload, dict):
        _malformed(f"the {what} header and payload must be JSON objects")
    try:
        signature = b64url_decode(parts[2])
    except InvalidInput:
        _malformed(f"the {what} signature is not base64url")
    return _Jwt(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


@dataclass(frozen=True)
class _Split:
    jwt: str
    disclosures: list[str]
    kb_jwt: str
    # "<jwt>~<d1>~...~<dN>~": what the KB-JWT's sd_hash covers
    presented: str


def _split(text: Any) -> _Split:
    if not isinstance(text, str):
        _malformed("an SD-JWT must be text")
    if len(text) > MAX_PRESENTATION_BYTES:
        _malformed(f"the presentation is larger than {MAX_PRESENTATION_BYTES} bytes")
    if not text.isascii():
        _malformed("an SD-JWT is ASCII text")
    parts = text.split("~")
    if len(parts) < 2 or not parts[0]:
        _malformed("not an SD-JWT (<jwt>~<disclosures>~<kb-jwt>)")
    disclosures = parts[1:-1]
    if len(disclosures) > MAX_DISCLOSURES:
        _malformed(f"more than {MAX_DISCLOSURES} disclosures")
    if any(not d for d in disclosures):
        _malformed("an empty disclosure (two '~' in a row)")
    kb = parts[-1]
    return _Split(parts[0], disclosures, kb, text[: len(text) - len(kb)])


def _decode_disclosure(disclosure: str) -> list[Any]:
    decoded = _json_part(disclosure, "disclosure")
    if (
        not isinstance(decoded, list)
        or len(decoded) not in (2, 3)
        or not isinstance(decoded[0], str)
        or (len(decoded) == 3 and not isinstance(decoded[1], str))
    ):
        _malformed("a disclosure must be [salt, name, value] or [salt, value]")
    return decoded


# ---------------------------------------------------------------------------------------------- issue


def _salt() -> str:
    return b64url_encode(secrets.token_bytes(16))


def _check_claim_names(claims: Mapping[str, Any], top: bool) -> None:
    for name in claims:
        if not isinstance(name, str):
            raise InvalidInput("claim names must be strings")
        if name in _STRUCTURAL or (top and name in _PLAIN_CLAIMS):
            raise InvalidInput(f"'{name}' is a reserved claim name and cannot be a credential claim")


def _make_sd_object(
    claims: Mapping[str, Any], decoys: int | None, out: list[str], top: bool = False
) -> dict[str, Any]:
    """The object of digests standing for `claims`, appending each claim's disclosure to `out`."""
    _check_claim_names(claims, top)
    digests = []
    for name, value in claims.items():
        if isinstance(value, Mapping) and value:
            value = _make_sd_object(value, decoys, out)
        disclosure = b64url_encode(_json_bytes([_salt(), name, value]))
        out.append(disclosure)
        digests.append(_digest(disclosure))
    count = secrets.randbelow(3) + 1 if decoys is None else decoys
    if count < 0:
        raise InvalidInput("the number of decoy digests cannot be negative")
    digests.extend(b64url_encode(hashlib.sha256(secrets.token_bytes(32)).digest()) for _ in range(count))
    digests.sort()
    return {"_sd": digests}


def issue_credential(
    *,
    issuer: str,
    key: PrivateKey,
    kid: str | None,
    vct: str,
    claims: Mapping[str, Any],
    holder_jwk: Mapping[str, str] | None,
    iat: int,
    exp: int | None = None,
    nbf: int | None = None,
    status: StatusReference | None = None,
    decoys: int | None = None,
    header_jwk: bool = False,
) -> str:
    """An SD-JWT VC "<jwt>~<disc1>~...~<discN>~" with every claim (recursively) disclosable.

    Decoy digests hide how many claims the credential holds; `decoys=None` adds 1..3 per object.
    `header_jwk` carries the issuer's public JWK in the header for issuers (did:pkh) whose DID
    document cannot hold a key; the verifier's resolver must still tie that key to `iss`.
    """
    if not isinstance(issuer, str) or not issuer:
        raise InvalidInput("a credential needs an issuer")
    if not isinstance(vct, str) or not vct:
        raise InvalidInput("a credential needs a type (vct)")
    for name, value in (("iat", iat), ("exp", exp), ("nbf", nbf)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidInput(f"'{name}' must be an integer number of seconds")
    alg = alg_of_key(key)
    disclosures: list[str] = []
    try:
        body = _make_sd_object(claims, decoys, disclosures, top=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the claims are not JSON: {exc}") from exc
    payload: dict[str, Any] = {"iss": issuer, "iat": iat}
    if nbf is not None:
        payload["nbf"] = nbf
    if exp is not None:
        payload["exp"] = exp
    payload["vct"] = vct
    if status is not None:
        payload["status"] = status.to_json()
    if holder_jwk is not None:
        public_key_from_jwk(holder_jwk)  # refuses private or unsupported keys before signing
        payload["cnf"] = {"jwk": dict(holder_jwk)}
    payload["_sd"] = body["_sd"]
    payload["_sd_alg"] = SD_ALG
    header: dict[str, Any] = {"alg": alg, "typ": SD_JWT_TYP}
    if kid is not None:
        header["kid"] = kid
    if header_jwk:
        header["jwk"] = jwk_of(key)
    return "~".join([_sign_jwt(key, header, payload), *disclosures, ""])


# ---------------------------------------------------------------------------------------------- holder


def _disclosure_paths(sd_jwt: str) -> tuple[_Split, dict[str, str]]:
    """The issued SD-JWT split up, and each disclosable claim's path ("a", "a.b") -> its disclosure."""
    try:
        split = _split(sd_jwt)
        jwt = _parse_jwt(split.jwt, "SD-JWT")
        by_digest = {_digest(d): (d, _decode_disclosure(d)) for d in split.disclosures}
    except CredentialRejected as exc:
        raise InvalidInput(f"not a usable SD-JWT: {exc}") from exc
    paths: dict[str, str] = {}

    def walk(obj: Any, prefix: str, depth: int) -> None:
        if depth > MAX_CLAIM_DEPTH:
            raise InvalidInput("the SD-JWT nests too deeply")
        if isinstance(obj, dict):
            for digest in obj.get("_sd", []) if isinstance(obj.get("_sd"), list) else []:
                found = by_digest.get(digest) if isinstance(digest, str) else None
                if found is not None and len(found[1]) == 3:
                    path = prefix + found[1][1]
                    paths.setdefault(path, found[0])
                    walk(found[1][2], path + ".", depth + 1)
            for name, value in obj.items():
                if name != "_sd":
                    walk(value, prefix + name + ".", depth + 1)

    walk(jwt.payload, "", 0)
    return split, paths


def disclosed_claim_names(sd_jwt: str) -> list[str]:
    """The claims a holder can choose to reveal: top-level names, nested ones as "parent.child"."""
    return sorted(_disclosure_paths(sd_jwt)[1])


def present(
    sd_jwt: str,
    *,
    disclose: Iterable[str],
    holder_key: PrivateKey | None,
    aud: str,
    nonce: str,
    iat: int,
) -> str:
    """A presentation revealing only `disclose` (a nested claim brings its parents along), bound to
    `aud` and `nonce` by a KB-JWT signed with `holder_key` (none when `holder_key` is None)."""
    if isinstance(disclose, str):
        raise InvalidInput("disclose takes a collection of claim names, not one string")
    split, paths = _disclosure_paths(sd_jwt)
    chosen: set[str] = set()
    for name in disclose:
        if name not in paths:
            raise InvalidInput(f"the credential has no disclosable claim '{name}'")
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            parent = ".".join(parts[:i])
            if parent in paths:
                chosen.add(paths[parent])
    kept = [d for d in split.disclosures if d in chosen]
    presented = "~".join([split.jwt, *kept, ""])
    if holder_key is None:
        return presented
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidInput("'iat' must be an integer number of seconds")
    sd_hash = b64url_encode(hashlib.sha256(presented.encode("ascii")).digest())
    kb = _sign_jwt(
        holder_key,
        {"alg": alg_of_key(holder_key), "typ": KB_JWT_TYP},
        {"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sd_hash},
    )
    return presented + kb


# ---------------------------------------------------------------------------------------------- verify


class _Expander:
    """Replaces digests by their disclosed claims, checking each digest and disclosure is used once."""

    def __init__(self, disclosures: list[str]) -> None:
        self.by_digest: dict[str, list[Any]] = {}
        for d in disclosures:
            digest = _digest(d)
            if digest in self.by_digest:
                _reject("duplicate-digest", "the same disclosure is presented twice")
            self.by_digest[digest] = _decode_disclosure(d)
        self.seen: set[str] = set()
        self.used = 0

    def _take(self, digest: Any) -> list[Any] | None:
        if not isinstance(digest, str):
            _malformed("a digest must be a string")
        if digest in self.seen:
            _reject("duplicate-digest", "the same digest appears twice in the credential")
        self.seen.add(digest)
        found = self.by_digest.get(digest)
        if found is not None:
            self.used += 1
        return found

    def expand(self, obj: Any, depth: int, top: bool = False) -> Any:
        if depth > MAX_CLAIM_DEPTH:
            _malformed(f"claims nested deeper than {MAX_CLAIM_DEPTH} levels")
        if isinstance(obj, dict):
            out = {k: self.expand(v, depth + 1) for k, v in obj.items() if k != "_sd"}
            if "_sd" in obj:
                digests = obj["_sd"]
                if not isinstance(digests, list):
                    _malformed("'_sd' must be an array of digests")
                for digest in digests:
                    found = self._take(digest)
                    if found is None:
                        continue  # a decoy, or a claim the holder kept back
                    if len(found) != 3:
                        _malformed("an array-element disclosure is referenced from an object")
                    name = found[1]
                    if name in _STRUCTURAL or (top and name in _PLAIN_CLAIMS):
                        _reject("reserved-claim", f"a disclosure may not name the claim '{name}'")
                    if name in out:
                        _reject("reserved-claim", f"the claim '{name}' is disclosed but already present")
                    out[name] = self.expand(found[2], depth + 1)
            return out
        if isinstance(obj, list):
            items = []
            for element in obj:
                if isinstance(element, dict) and "..." in element:
                    if len(element) != 1:
                        _malformed("an array-element digest object must hold only '...'")
                    found = self._take(element["..."])
                    if found is None:
                        continue
                    if len(found) != 2:
                        _malformed("an object-property disclosure is referenced from an array")
                    items.append(self.expand(found[1], depth + 1))
                else:
                    items.append(self.expand(element, depth + 1))
            return items
        return obj


def _status_of(value: Any) -> StatusReference | None:
    if value is None:
        return None
    entry = value.get("status_list") if isinstance(value, dict) else None
    if not isinstance(entry, dict):
        _malformed("'status' must hold a 'status_list' object")
    idx, uri = entry.get("idx"), entry.get("uri")
    if (not isinstance(idx, int) or isinstance(idx, bool)) or idx < 0 or not isinstance(uri, str) or not uri:
        _malformed("'status.status_list' needs a non-negative integer 'idx' and a 'uri'")
    return StatusReference(idx, uri)


def _check_key_binding(
    split: _Split,
    holder_jwk: dict[str, Any] | None,
    *,
    now: int,
    audience: str | None,
    nonce: str | None,
    leeway: int,
    max_kb_age: int,
) -> None:
    kb = _parse_jwt(split.kb_jwt, "key-binding JWT")
    if kb.header.get("typ") != KB_JWT_TYP:
        _reject("bad-key-binding", f"the key-binding JWT's typ must be '{KB_JWT_TYP}'")
    alg = kb.header.get("alg")
    if not isinstance(alg, str) or alg not in SUPPORTED_ALGS:
        _reject("bad-key-binding", f"the key-binding JWT's algorithm {alg!r} is not supported")
    if holder_jwk is None:
        _reject("bad-key-binding", "the credential names no holder key (cnf.jwk) to check the key binding")
    try:
        signed = _verify_by_jwk(holder_jwk, alg, kb.signing_input, kb.signature)
    except InvalidInput as exc:
        _malformed(f"the credential's holder key is unusable: {exc}")
    if not signed:
        _reject("bad-key-binding", "the key-binding JWT is not signed by the credential's holder key")
    payload = kb.payload
    expected = b64url_encode(hashlib.sha256(split.presented.encode("ascii")).digest())
    if payload.get("sd_hash") != expected:
        _reject("sd-hash-mismatch", "the key binding covers other disclosures than the ones presented")
    if audience is not None and payload.get("aud") != audience:
        _reject("wrong-audience", "the presentation was made for another verifier")
    if nonce is not None and payload.get("nonce") != nonce:
        _reject("wrong-nonce", "the presentation answers another request (nonce differs)")
    kb_iat = payload.get("iat")
    if not isinstance(kb_iat, int) or isinstance(kb_iat, bool):
        _reject("bad-key-binding", "the key-binding JWT has no integer 'iat'")
    if kb_iat > now + leeway:
        _reject("stale-key-binding", "the key binding is dated in the future")
    if kb_iat < now - max_kb_age - leeway:
        _reject("stale-key-binding", f"the key binding is older than {max_kb_age} s")


def _verify(
    presentation: Any,
    *,
    resolve_key: KeyResolver,
    now: int,
    audience: str | None,
    nonce: str | None,
    check_status: StatusChecker | None,
    require_key_binding: bool,
    leeway: int,
    max_kb_age: int,
    expected_vct: str | None,
) -> VerifiedCredential:
    split = _split(presentation)
    jwt = _parse_jwt(split.jwt, "SD-JWT")
    header, payload = jwt.header, jwt.payload
    if header.get("typ") not in (SD_JWT_TYP, LEGACY_SD_JWT_TYP):
        _reject("wrong-type", f"the JWT's typ is {header.get('typ')!r}, not '{SD_JWT_TYP}'")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in SUPPORTED_ALGS:
        _reject("unsupported-alg", f"the signature algorithm {alg!r} is not accepted (EdDSA, ES256K, ES256)")
    if "crit" in header:
        _malformed("the JWT has critical header parameters this verifier does not understand")
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        _reject("unsupported-alg", f"the digest algorithm {payload.get('_sd_alg')!r} is not sha-256")
    iss, iat, vct = payload.get("iss"), payload.get("iat"), payload.get("vct")
    if not isinstance(iss, str) or not iss:
        _malformed("the credential has no issuer ('iss')")
    if not isinstance(iat, int) or isinstance(iat, bool):
        _malformed("the credential has no integer issuance time ('iat')")
    if not isinstance(vct, str) or not vct:
        _malformed("the credential has no type ('vct')")
    exp, nbf = payload.get("exp"), payload.get("nbf")
    if (exp is not None and (not isinstance(exp, int) or isinstance(exp, bool))) or (
        nbf is not None and (not isinstance(nbf, int) or isinstance(nbf, bool))
    ):
        _malformed("'exp' and 'nbf' must be integer seconds")

    try:
        issuer_key = resolve_key(iss, header, iat)
    except CredentialRejected:
        raise
    except Exception as exc:  # a resolver's own failure is still "we cannot trust this issuer"
        _reject("unknown-issuer", f"the issuer's key could not be resolved: {str(exc)[:120]}")
    if not _verify_sig(issuer_key, alg, jwt.signing_input, jwt.signature):
        _reject("bad-signature", "the issuer's signature does not verify")

    if exp is not None and now > exp + leeway:
        _reject("expired", "the credential has expired")
    if nbf is not None and nbf > now + leeway:
        _reject("not-yet-valid", "the credential is not valid yet (nbf)")
    if iat > now + leeway:
        _reject("not-yet-valid", "the credential is dated in the future (iat)")
    if expected_vct is not None and vct != expected_vct:
        _reject("wrong-vct", f"the credential is a {vct!r}, not a {expected_vct!r}")

    expander = _Expander(split.disclosures)
    claims = expander.expand(payload, 0, top=True)
    if expander.used != len(expander.by_digest):
        _reject("tampered-disclosure", "a disclosure does not belong to this credential")

    cnf = payload.get("cnf")
    if cnf is not None and not isinstance(cnf, dict):
        _malformed("'cnf' must be an object")
    holder_jwk = cnf.get("jwk") if cnf is not None else None
    if holder_jwk is not None and not isinstance(holder_jwk, dict):
        _malformed("'cnf.jwk' must be an object")
    status = _status_of(payload.get("status"))

    key_bound = bool(split.kb_jwt)
    if key_bound:
        _check_key_binding(
            split, holder_jwk, now=now, audience=audience, nonce=nonce, leeway=leeway, max_kb_age=max_kb_age
        )
    elif require_key_binding:
        _reject("missing-key-binding", "the presentation is not bound to its holder's key (no KB-JWT)")

    if status is not None and check_status is not None:
        try:
            check_status(status)
        except CredentialRejected:
            raise
        except Exception as exc:  # a checker that fails its own way still leaves the status unknown
            _reject("status-unavailable", f"the credential's status could not be checked: {str(exc)[:120]}")
    for name in _PLAIN_CLAIMS:
        claims.pop(name, None)
    return VerifiedCredential(
        issuer=iss,
        vct=vct,
        claims=claims,
        holder_jwk=holder_jwk,
        iat=iat,
        exp=exp,
        status=status,
        key_bound=key_bound,
    )


def verify_presentation(
    presentation: str,
    *,
    resolve_key: KeyResolver,
    now: int,
    audience: str | None,
    nonce: str | None,
    check_status: StatusChecker | None,
    require_key_binding: bool = True,
    leeway: int = 60,
    max_kb_age: int = 300,
    expected_vct: str | None = None,
) -> VerifiedCredential:
    """The verified claims of an SD-JWT VC presentation, or CredentialRejected with a reason code.

    Checks, in order: shape and size, typ, alg, issuer key (via `resolve_key`), signature,
    validity period, vct, every disclosure referenced exactly once, key binding (holder
    signature, sd_hash, audience, nonce, age), and last the status list (it may fetch).
    `audience`/`nonce` None skip those comparisons; a KB-JWT, when present, is always checked.
    """
    try:
        return _verify(
            presentation,
            resolve_key=resolve_key,
            now=now,
            audience=audience,
            nonce=nonce,
            check_status=check_status,
            require_key_binding=require_key_binding,
            leeway=leeway,
            max_kb_age=max_kb_age,
            expected_vct=expected_vct,
        )
    except CredentialRejected:
        raise
    except ProofworkError as exc:
        raise CredentialRejected("malformed", f"the presentation cannot be read: {exc}") from exc
    except Exception as exc:  # hostile input must never surface as a traceback
        raise CredentialRejected(
            "malformed", f"the presentation cannot be read ({type(exc).__name__})"
        ) from exc
