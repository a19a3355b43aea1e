"""Decentralized identifiers behind one resolver: did:key, did:pkh (wallets) and did:web (institutions).

Credential verification only ever asks one question: "which public key may sign for issuer X with
header H, for a credential issued at time T?" `DidResolver.issuer_key` answers it for all three
methods, so the verifier needs no per-method code and every refusal is a `CredentialRejected`
with a stable reason code:

- bad-did               the text is not a DID this module can parse (or a did:key/did:pkh is malformed)
- unknown-issuer        the DID method is not supported, or a did:web host says the DID does not exist
- bad-did-document      a fetched document is oversized, not JSON, too deep, or fails validation
- did-unavailable       a did:web document could not be fetched (network, TLS, status, insecure URL)
- bad-header            the JOSE header is not usable (no alg, kid not text)
- bad-iat               the issuance time passed in is not a finite number
- kid-required          no kid and the DID has more than one assertion key
- kid-not-issuer        the kid is a DID URL of another DID than the issuer
- unknown-key           the kid names no verification method of the document
- key-not-assertion     the key exists but is not listed in assertionMethod (it may not sign credentials)
- key-revoked           the key carries `revoked` and the credential was issued at or after that time
- alg-mismatch          the header's alg is not the algorithm of the key
- wallet-key-missing    a did:pkh issuer's header carries no `jwk` (its document holds no key)
- wallet-key-mismatch   the header's `jwk` is not the key of the DID's address

Key rotation: the security vocabulary's `revoked` time on a verification method keeps credentials
signed before it verifiable and refuses those dated after. It protects against keys retired in an
orderly way, not against a stolen key: whoever holds a key can backdate `iat`; a compromised key
must be removed from the document (and its credentials revoked through status lists).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_utils import keccak

from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import CredentialRejected, InvalidInput
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.keys.jwk import PrivateKey, PublicKey, alg_of_jwk, b64url_decode, jwk_of, public_key_from_jwk

# The overall-deadline transport the peer client already uses: a did:web host dripping its
# headers one byte at a time must not hold a credential verification for minutes.
from proofwork.network.peers import deadline_client

MAX_DID_LENGTH = 2048
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_DOCUMENT_DEPTH = 16
MAX_METHODS = 64
MAX_CACHE_ENTRIES = 1024
DEFAULT_CACHE_TTL = 300
FETCH_TIMEOUT = 5.0
FETCH_DEADLINE = 10.0
MAX_REDIRECTS = 3

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
PKH_VM_TYPE = "EcdsaSecp256k1RecoveryMethod2020"
INSECURE_HOSTS = frozenset({"127.0.0.1", "localhost"})

# DID Core ABNF: method-name = 1*method-char; method-specific-id = *( *idchar ":" ) 1*idchar
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_DID = re.compile(rf"did:([a-z0-9]+):((?:{_IDCHAR}|:)*{_IDCHAR})")
# RFC 3986 fragment characters, percent-escapes included
_FRAGMENT = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})+")
_KEY_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_WEB_HOST = re.compile(r"([A-Za-z0-9.-]{1,253})(?:%3[Aa]([0-9]{1,5}))?")
_WEB_SEGMENT = re.compile(r"[A-Za-z0-9._-]{1,255}")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CHAIN_ID = re.compile(r"[1-9][0-9]{0,31}")
_YEAR_10000 = 253402300800  # what RFC 3339 can write

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_MAX_B58_CHARS = 256  # base58 decoding is quadratic: keys are < 100 characters

# multicodec varint prefixes of the public keys did:key carries
_ED25519_PREFIX = b"\xed\x01"
_SECP256K1_PREFIX = b"\xe7\x01"
_P256_PREFIX = b"\x80\x24"
_EC_PREFIXES: dict[bytes, ec.EllipticCurve] = {
    _SECP256K1_PREFIX: ec.SECP256K1(),
    _P256_PREFIX: ec.SECP256R1(),
}


@dataclass(frozen=True)
class VerificationMethod:
    """One key of a DID document, already validated; `id` is always absolute (`did#fragment`).

    `jwk` is the normalised public JWK, or None for a wallet (`blockchain_account_id`, CAIP-10),
    whose key only the signature's header can supply. `revoked_at` (Unix seconds) ends the
    key's authority for credentials issued from that time on.
    """

    id: str
    type: str
    controller: str
    jwk: dict[str, str] | None
    blockchain_account_id: str | None
    revoked_at: int | None


@dataclass(frozen=True)
class DidDocument:
    id: str
    verification_methods: tuple[VerificationMethod, ...]
    assertion_method: tuple[str, ...]
    raw: dict[str, Any]

    def method(self, ref: str) -> VerificationMethod:
        """The verification method `ref` names ("#key-1" or the full DID URL)."""
        full = self.id + ref if isinstance(ref, str) and ref.startswith("#") else ref
        for vm in self.verification_methods:
            if vm.id == full:
                return vm
        raise CredentialRejected("unknown-key", f"{_show(self.id)} has no verification method {_show(ref)}")


# --- syntax ------------------------------------------------------------------------------------


def parse_did(text: str) -> tuple[str, str]:
    """(method, method-specific id) of a bare DID; a DID URL (with #, ? or /) is not a DID."""
    if not isinstance(text, str) or len(text) > MAX_DID_LENGTH:
        raise CredentialRejected("bad-did", "a DID must be text of at most 2048 characters")
    match = _DID.fullmatch(text)
    if match is None:
        raise CredentialRejected("bad-did", f"{_show(text)} is not a DID (did:<method>:<id>)")
    return match.group(1), match.group(2)


def split_did_url(text: str) -> tuple[str, str | None]:
    """(DID, fragment or None) of `did` or `did#fragment`; paths and queries are refused."""
    if not isinstance(text, str):
        raise CredentialRejected("bad-did", "a DID URL must be text")
    did, sep, fragment = text.partition("#")
    parse_did(did)
    if not sep:
        return did, None
    if _FRAGMENT.fullmatch(fragment) is None:
        raise CredentialRejected("bad-did", f"{_show(text)} has an invalid fragment")
    return did, fragment


# --- base58btc and multibase keys --------------------------------------------------------------


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (each leading zero byte is a '1')."""
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_B58_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Inverse of b58encode; InvalidInput on other characters or oversize input."""
    if not isinstance(text, str) or not text or len(text) > _MAX_B58_CHARS:
        raise InvalidInput(f"base58 text must be 1 to {_MAX_B58_CHARS} characters")
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise InvalidInput(f"{char!r} is not a base58btc character")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_of_key(key: PublicKey | PrivateKey) -> str:
    """`z` + base58btc(multicodec prefix + key): Ed25519 raw, secp256k1/P-256 compressed point."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey) else key
    if isinstance(public, Ed25519PublicKey):
        return "z" + b58encode(_ED25519_PREFIX + public.public_bytes(Encoding.Raw, PublicFormat.Raw))
    if isinstance(public, ec.EllipticCurvePublicKey):
        prefix = {"secp256k1": _SECP256K1_PREFIX, "secp256r1": _P256_PREFIX}.get(public.curve.name)
        if prefix is not None:
            return "z" + b58encode(prefix + public.public_bytes(Encoding.X962, PublicFormat.CompressedPoint))
    raise InvalidInput("did:key supports Ed25519, secp256k1 and P-256 keys")


def key_from_multibase(text: str) -> PublicKey:
    """The public key of a `z...` multibase multicodec string; InvalidInput on anything else."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise InvalidInput("a multibase key must be base58btc ('z' prefix)")
    raw = b58decode(text[1:])
    prefix, body = raw[:2], raw[2:]
    if prefix == _ED25519_PREFIX:
        if len(body) != 32:
            raise InvalidInput("an Ed25519 multibase key must hold 32 bytes")
        return Ed25519PublicKey.from_public_bytes(body)
    curve = _EC_PREFIXES.get(prefix)
    if curve is None:
        raise InvalidInput(f"unsupported multicodec 0x{prefix.hex()} (Ed25519, secp256k1 or P-256)")
    if len(body) != 33 or body[0] not in (2, 3):
        raise InvalidInput(f"a {curve.name} multibase key must be a 33-byte compressed point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, body)
    except ValueError as exc:
        raise InvalidInput(f"the multibase key is not a point on {curve.name}") from exc


def did_key_of(public_key: PublicKey | PrivateKey) -> str:
    return "did:key:" + multibase_of_key(public_key)


# --- did:pkh ------------------------------------------------------------------------------------


def did_pkh_of(chain_id: int, address: str) -> str:
    """The wallet's did:pkh on an EVM chain, address EIP-55 checksummed."""
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 1 <= chain_id < 10**32:
        raise InvalidInput("a chain id must be a whole number from 1 to 10^32 - 1")
    return f"did:pkh:eip155:{chain_id}:{parse_address(address)}"


def parse_eip155_account(text: str) -> tuple[int, str]:
    """(chain id, lowercase address) of a CAIP-10 `eip155:<chain>:<address>`; InvalidInput otherwise."""
    if not isinstance(text, str):
        raise InvalidInput("a blockchain account id must be text")
    parts = text.split(":")
    if len(parts) != 3:
        raise InvalidInput(f"{_show(text)} is not <namespace>:<chain id>:<address>")
    namespace, chain, address = parts
    if namespace != "eip155":
        raise InvalidInput(f"unsupported chain namespace {_show(namespace)} (eip155)")
    if _CHAIN_ID.fullmatch(chain) is None:
        raise InvalidInput(f"the chain id {_show(chain)} is not a positive decimal number")
    return int(chain), parse_address(address).lower()


def address_of_jwk(jwk: Mapping[str, Any]) -> str:
    """The lowercase Ethereum address of a secp256k1 public JWK (keccak of x || y, last 20 bytes)."""
    if alg_of_jwk(jwk) != "ES256K":
        raise InvalidInput("a wallet key must be a secp256k1 JWK")
    public_key_from_jwk(jwk)  # refuses points off the curve and private members
    point = b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])
    return "0x" + keccak(point)[12:].hex()


# --- did:web ------------------------------------------------------------------------------------


def did_web_url(did: str, *, allow_insecure_localhost: bool = False) -> str:
    """Where a did:web document lives (did:web spec: host, optional %3A port, ':'-separated path).

    Path segments are limited to letters, digits, '.', '-' and '_' ('.' and '..' refused) so a
    DID can never name another path than the one it spells. Plain http is used only for
    127.0.0.1/localhost, and only when `allow_insecure_localhost` (tests, the local demo).
    """
    method, msid = parse_did(did)
    if method != "web":
        raise CredentialRejected("bad-did", f"{_show(did)} is not a did:web")
    host_part, *segments = msid.split(":")
    match = _WEB_HOST.fullmatch(host_part)
    if match is None:
        raise CredentialRejected("bad-did", f"{_show(did)} does not start with a host name")
    host, port = match.group(1), match.group(2)
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise CredentialRejected("bad-did", f"{_show(host)} in {_show(did)} is not a valid host name")
    if port is not None and not 1 <= int(port) <= 65535:
        raise CredentialRejected("bad-did", f"the port in {_show(did)} is out of range")
    for segment in segments:
        if _WEB_SEGMENT.fullmatch(segment) is None or segment in (".", ".."):
            raise CredentialRejected(
                "bad-did", f"{_show(did)} has an unsupported path segment {_show(segment)}"
            )
    insecure = allow_insecure_localhost and host.lower() in INSECURE_HOSTS
    authority = f"{host}:{int(port)}" if port is not None else host
    path = "/".join(segments) + "/did.json" if segments else ".well-known/did.json"
    return f"{'http' if insecure else 'https'}://{authority}/{path}"


def did_web_document(did: str, keys: Sequence[tuple[str, PublicKey, int | None]]) -> dict[str, Any]:
    """An institution's did.json: every key in verificationMethod and in assertionMethod.

    A rotated-out key stays listed, with `revoked` set, so the credentials it signed before that
    time keep verifying; only keys without `revoked` are offered for authentication.
    """
    try:
        method, _ = parse_did(did)
    except CredentialRejected as exc:
        raise InvalidInput(str(exc)) from exc
    if method != "web":
        raise InvalidInput(f"{_show(did)} is not a did:web")
    if not keys:
        raise InvalidInput("a DID document needs at least one key")
    methods: list[dict[str, Any]] = []
    active: list[str] = []
    for name, key, revoked_at in keys:
        if not isinstance(name, str) or _KEY_NAME.fullmatch(name) is None:
            raise InvalidInput(f"key name {name!r} must be 1-64 letters, digits, '.', '-' or '_'")
        vm: dict[str, Any] = {
            "id": f"{did}#{name}",
            "type": "JsonWebKey2020",
            "controller": did,
            "publicKeyJwk": jwk_of(key),
        }
        if any(m["id"] == vm["id"] for m in methods):
            raise InvalidInput(f"key name {name!r} is used twice")
        if revoked_at is not None:
            if (
                isinstance(revoked_at, bool)
                or not isinstance(revoked_at, int)
                or not 0 <= revoked_at < _YEAR_10000
            ):
                raise InvalidInput("revoked_at must be Unix seconds before the year 10000")
            vm["revoked"] = format_time(revoked_at)
        else:
            active.append(vm["id"])
        methods.append(vm)
    raw: dict[str, Any] = {
        "@context": [DID_CONTEXT, JWS_2020_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
        "authentication": active,
    }
    parse_did_document(raw, did)  # what we publish must pass our own checks
    return raw


# --- documents ----------------------------------------------------------------------------------


def format_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> int:
    """Unix seconds (rounded down) of an RFC 3339 / ISO 8601 date-time with a time zone."""
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput("a time must be an RFC 3339 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{_show(value)} is not an RFC 3339 time") from exc
    if moment.tzinfo is None:
        raise InvalidInput(f"{_show(value)} has no time zone")
    return math.floor(moment.timestamp())


def parse_did_document(raw: Any, did: str) -> DidDocument:
    """A validated DidDocument for `did`; CredentialRejected("bad-did-document") on any defect.

    Strict on what verification relies on: the id is exactly the DID, every method has an id in
    this DID, a type, a controller DID and exactly one key form, and every assertionMethod entry
    names a method of this document. Relationships other than assertionMethod are not used.
    """
    try:
        return _parse_document(raw, did)
    except InvalidInput as exc:
        raise CredentialRejected("bad-did-document", f"the DID document of {_show(did)}: {exc}") from exc


def _parse_document(raw: Any, did: str) -> DidDocument:
    try:
        parse_did(did)
    except CredentialRejected as exc:
        raise InvalidInput("its id is not a DID") from exc
    if not isinstance(raw, dict):
        raise InvalidInput("it is not a JSON object")
    if raw.get("id") != did:
        raise InvalidInput(f"its id {_show(str(raw.get('id')))} is not the DID")
    entries = raw.get("verificationMethod", [])
    if not isinstance(entries, list):
        raise InvalidInput("verificationMethod is not a list")
    relation = raw.get("assertionMethod", [])
    if not isinstance(relation, list):
        raise InvalidInput("assertionMethod is not a list")
    if len(entries) + len(relation) > MAX_METHODS:
        raise InvalidInput(f"more than {MAX_METHODS} verification methods")
    methods = [_parse_method(entry, did) for entry in entries]
    assertion: list[str] = []
    for item in relation:
        if isinstance(item, dict):  # an embedded method (DID Core allows it)
            methods.append(_parse_method(item, did))
            ref = methods[-1].id
        elif isinstance(item, str):
            ref = _absolute_id(item, did)
        else:
            raise InvalidInput("an assertionMethod entry is neither a reference nor a method")
        if ref not in assertion:
            assertion.append(ref)
    ids = [vm.id for vm in methods]
    if len(set(ids)) != len(ids):
        raise InvalidInput("two verification methods share an id")
    missing = [ref for ref in assertion if ref not in ids]
    if missing:
        raise InvalidInput(f"assertionMethod names {_show(missing[0])}, which it does not define")
    return DidDocument(
        id=did, verification_methods=tuple(methods), assertion_method=tuple(assertion), raw=raw
    )


def _absolute_id(value: Any, did: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("a verification method id is not text")
    full = did + value if value.startswith("#") else value
    base, sep, fragment = full.partition("#")
    if base != did or not sep or _FRAGMENT.fullmatch(fragment) is None:
        raise InvalidInput(f"the method id {_show(value)} is not '#fragment' or '{_show(did)}#fragment'")
    return full


def _parse_method(entry: Any, did: str) -> VerificationMethod:
    if not isinstance(entry, dict):
        raise InvalidInput("a verification method is not an object")
    vm_id = _absolute_id(entry.get("id"), did)
    vm_type = entry.get("type")
    if not isinstance(vm_type, str) or not 0 < len(vm_type) <= 128:
        raise InvalidInput(f"method {_show(vm_id)} has no type")
    controller = entry.get("controller")
    if not isinstance(controller, str):
        raise InvalidInput(f"method {_show(vm_id)} has no controller")
    try:
        parse_did(controller)
    except CredentialRejected as exc:
        raise InvalidInput(f"method {_show(vm_id)} has a controller that is not a DID") from exc
    forms = [f for f in ("publicKeyJwk", "publicKeyMultibase", "blockchainAccountId") if f in entry]
    if len(forms) != 1:
        others = [f for f in ("publicKeyBase58", "publicKeyHex", "publicKeyPem") if f in entry]
        hint = f" ({others[0]} is not supported)" if others and not forms else ""
        raise InvalidInput(
            f"method {_show(vm_id)} needs exactly one of publicKeyJwk, publicKeyMultibase, "
            f"blockchainAccountId{hint}"
        )
    jwk: dict[str, str] | None = None
    account: str | None = None
    try:
        if forms[0] == "publicKeyJwk":
            given = entry["publicKeyJwk"]
            if not isinstance(given, dict):
                raise InvalidInput("publicKeyJwk is not an object")
            jwk = jwk_of(public_key_from_jwk(given))
            if "alg" in given and given["alg"] != alg_of_jwk(jwk):
                raise InvalidInput(f"its alg {_show(str(given['alg']))} does not fit its curve")
        elif forms[0] == "publicKeyMultibase":
            jwk = jwk_of(key_from_multibase(entry["publicKeyMultibase"]))
        else:
            parse_eip155_account(entry["blockchainAccountId"])
            account = entry["blockchainAccountId"]
    except InvalidInput as exc:
        raise InvalidInput(f"method {_show(vm_id)}: {exc}") from exc
    revoked_at = None
    if "revoked" in entry:
        try:
            revoked_at = parse_time(entry["revoked"])
        except InvalidInput as exc:
            raise InvalidInput(f"method {_show(vm_id)}: revoked: {exc}") from exc
    return VerificationMethod(
        id=vm_id,
        type=vm_type,
        controller=controller,
        jwk=jwk,
        blockchain_account_id=account,
        revoked_at=revoked_at,
    )


def _key_document(did: str, msid: str) -> DidDocument:
    try:
        key = key_from_multibase(msid)
    except InvalidInput as exc:
        raise CredentialRejected("bad-did", f"{_show(did)}: {exc}") from exc
    vm_id = f"{did}#{msid}"
    raw = {
        "@context": [DID_CONTEXT, JWS_2020_CONTEXT],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk_of(key)}
        ],
        "assertionMethod": [vm_id],
        "authentication": [vm_id],
    }
    return parse_did_document(raw, did)


def _pkh_document(did: str, msid: str) -> DidDocument:
    namespace = msid.split(":", 1)[0]
    if namespace != "eip155":
        raise CredentialRejected("unknown-issuer", f"did:pkh namespace {_show(namespace)} is not supported")
    try:
        parse_eip155_account(msid)
    except InvalidInput as exc:
        raise CredentialRejected("bad-did", f"{_show(did)}: {exc}") from exc
    vm_id = f"{did}#blockchainAccountId"
    raw = {
        "@context": [DID_CONTEXT],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": PKH_VM_TYPE, "controller": did, "blockchainAccountId": msid}
        ],
        "assertionMethod": [vm_id],
        "authentication": [vm_id],
    }
    return parse_did_document(raw, did)


# --- fetching -----------------------------------------------------------------------------------


class HttpFetcher:
    """Fetches did:web documents: https only, bounded in size and time, never off the DID's host.

    A did.json is published by whoever controls the host; a redirect to another host would let
    that other host speak for the DID, so only same-host, same-scheme redirects are followed.
    Every failure is a CredentialRejected: "did-unavailable", "unknown-issuer" (404/410) or
    "bad-did-document" (a body over `max_bytes`).
    """

    def __init__(
        self,
        *,
        timeout: float = FETCH_TIMEOUT,
        deadline: float = FETCH_DEADLINE,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        allow_insecure_localhost: bool = False,
        accept: str = "application/did+json, application/json",
    ) -> None:
        """`accept`: the media types asked for (status lists reuse this fetcher)."""
        self._clock, self._client = deadline_client(timeout)
        self._deadline = deadline
        self._max_bytes = max_bytes
        self._insecure = allow_insecure_localhost
        self._accept = accept

    def __call__(self, url: str) -> bytes:
        target = self._checked(url)
        self._clock.at = time.monotonic() + self._deadline
        try:
            for _ in range(MAX_REDIRECTS + 1):
                next_url = self._get(target)
                if isinstance(next_url, bytes):
                    return next_url
                if next_url.host != target.host or next_url.port != target.port:
                    raise CredentialRejected("did-unavailable", f"{target.host} redirects to another host")
                if next_url.scheme != target.scheme:
                    raise CredentialRejected("did-unavailable", f"{target.host} redirects to another scheme")
                target = next_url
            raise CredentialRejected(
                "did-unavailable", f"{target.host} redirects more than {MAX_REDIRECTS} times"
            )
        except (httpx.HTTPError, httpx.InvalidURL, httpcore.TimeoutException, OSError) as exc:
            raise CredentialRejected(
                "did-unavailable", f"could not fetch {_show(str(url))}: {exc.__class__.__name__}"
            ) from exc
        finally:
            self._clock.at = None

    def _checked(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise CredentialRejected("did-unavailable", f"{_show(str(url))} is not a URL") from exc
        if parsed.scheme == "https" and parsed.host:
            return parsed
        if parsed.scheme == "http" and self._insecure and parsed.host in INSECURE_HOSTS:
            return parsed
        raise CredentialRejected(
            "did-unavailable", f"refusing {_show(str(url))}: DID documents are fetched over https only"
        )

    def _get(self, url: httpx.URL) -> bytes | httpx.URL:
        """The body of a 200 answer, or where a redirect points."""
        headers = {"Accept": self._accept, "Accept-Encoding": "identity"}
        with self._client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("location", "")
                return self._checked(str(url.join(location)))
            if status in (404, 410):
                raise CredentialRejected("unknown-issuer", f"{url.host} has no DID document at {url.path}")
            if status != 200:
                raise CredentialRejected("did-unavailable", f"{url.host} answered HTTP {status}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise CredentialRejected(
                    "bad-did-document", f"the DID document is larger than {self._max_bytes} bytes"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > self._max_bytes:
                    raise CredentialRejected(
                        "bad-did-document", f"the DID document is larger than {self._max_bytes} bytes"
                    )
                chunks.append(chunk)
            return b"".join(chunks)

    def close(self) -> None:
        self._client.close()


# --- the resolver -------------------------------------------------------------------------------


class DidResolver:
    """Resolves DIDs to validated documents and picks the key that may sign a credential.

    `fetch(url) -> bytes` is injected so tests and offline tools never touch the network; the
    default is an HttpFetcher. did:web documents are cached for `cache_ttl` seconds of `clock`
    (failures are not cached). `extra` pins documents for DIDs resolved without any fetching.
    """

    def __init__(
        self,
        fetch: Callable[[str], bytes] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        cache_ttl: int = DEFAULT_CACHE_TTL,
        allow_insecure_localhost: bool = False,
        extra: Mapping[str, DidDocument] | None = None,
    ) -> None:
        self._fetch = (
            fetch if fetch is not None else HttpFetcher(allow_insecure_localhost=allow_insecure_localhost)
        )
        self._clock = clock
        self._ttl = cache_ttl
        self._insecure = allow_insecure_localhost
        self._extra = dict(extra or {})
        for did, document in self._extra.items():
            if not isinstance(document, DidDocument) or document.id != did:
                raise InvalidInput(f"the pinned document for {_show(str(did))} is not that DID's document")
        self._cache: dict[str, tuple[float, DidDocument]] = {}
        self._lock = threading.Lock()

    def resolve(self, did: str) -> DidDocument:
        method, msid = parse_did(did)
        pinned = self._extra.get(did)
        if pinned is not None:
            return pinned
        if method == "key":
            return _key_document(did, msid)
        if method == "pkh":
            return _pkh_document(did, msid)
        if method == "web":
            return self._resolve_web(did)
        raise CredentialRejected("unknown-issuer", f"DID method '{method}' is not supported (key, pkh, web)")

    def _resolve_web(self, did: str) -> DidDocument:
        url = did_web_url(did, allow_insecure_localhost=self._insecure)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(did)
        if hit is not None and 0 <= now - hit[0] < self._ttl:
            return hit[1]
        try:
            body = self._fetch(url)
        except CredentialRejected:
            raise
        except Exception as exc:  # an injected fetcher's own failure: still a clean refusal
            raise CredentialRejected(
                "did-unavailable", f"could not fetch {_show(url)}: {exc.__class__.__name__}"
            ) from exc
        if not isinstance(body, bytes | bytearray):
            raise CredentialRejected("did-unavailable", f"fetching {_show(url)} returned no bytes")
        try:
            raw = safe_json_loads(body, max_bytes=MAX_DOCUMENT_BYTES, max_depth=MAX_DOCUMENT_DEPTH)
        except InvalidInput as exc:
            raise CredentialRejected("bad-did-document", f"the DID document at {_show(url)}: {exc}") from exc
        document = parse_did_document(raw, did)
        if self._ttl > 0:
            with self._lock:
                self._cache.pop(did, None)
                self._cache[did] = (now, document)
                while len(self._cache) > MAX_CACHE_ENTRIES:
                    self._cache.pop(next(iter(self._cache)))
        return document

    def issuer_key(self, issuer: str, header: Mapping[str, Any], at: int) -> PublicKey:
        """The public key that may have signed a credential of `issuer` issued at `at`.

        `header` is the JOSE header: `alg`, `kid` (a DID URL or '#fragment'; optional when the
        issuer has exactly one assertion key) and, for did:pkh, `jwk`. Never raises anything
        but CredentialRejected.
        """
        if not isinstance(header, Mapping):
            raise CredentialRejected("bad-header", "the JOSE header is not an object")
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg:
            raise CredentialRejected("bad-header", "the JOSE header has no alg")
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
            raise CredentialRejected("bad-iat", "the credential's issuance time is not a number")
        document = self.resolve(issuer)
        vm = document.method(self._kid_ref(document, header.get("kid")))
        if vm.id not in document.assertion_method:
            raise CredentialRejected(
                "key-not-assertion",
                f"{_show(vm.id)} is not an assertion key of its DID: it cannot sign credentials",
            )
        if vm.revoked_at is not None and at >= vm.revoked_at:
            raise CredentialRejected(
                "key-revoked",
                f"{_show(vm.id)} was revoked at {format_time(vm.revoked_at)}, before this credential was issued",
            )
        jwk = vm.jwk if vm.jwk is not None else self._wallet_jwk(vm, header.get("jwk"))
        key_alg = alg_of_jwk(jwk)
        if alg != key_alg:
            raise CredentialRejected(
                "alg-mismatch", f"the header says {_show(alg)} but {_show(vm.id)} is {key_alg}"
            )
        return public_key_from_jwk(jwk)

    @staticmethod
    def _kid_ref(document: DidDocument, kid: Any) -> str:
        if kid is None:
            if len(document.assertion_method) != 1:
                raise CredentialRejected(
                    "kid-required", f"{_show(document.id)} has several assertion keys: the header needs a kid"
                )
            return document.assertion_method[0]
        if not isinstance(kid, str) or not kid:
            raise CredentialRejected("bad-header", "the header's kid is not text")
        if kid.startswith("#"):
            return kid
        try:
            did, fragment = split_did_url(kid)
        except CredentialRejected as exc:
            raise CredentialRejected(
                "unknown-key", f"the kid {_show(kid)} is neither '#fragment' nor a DID URL"
            ) from exc
        if did != document.id:
            raise CredentialRejected(
                "kid-not-issuer", f"the kid {_show(kid)} is a key of another DID than the issuer"
            )
        if fragment is None:
            raise CredentialRejected("unknown-key", f"the kid {_show(kid)} names no key (no #fragment)")
        return kid

    @staticmethod
    def _wallet_jwk(vm: VerificationMethod, given: Any) -> dict[str, str]:
        """The header's key, accepted only when it hashes to the wallet address the DID names."""
        if given is None:
            raise CredentialRejected(
                "wallet-key-missing", f"{_show(vm.id)} is a wallet: the header must carry its jwk"
            )
        assert vm.blockchain_account_id is not None
        try:
            if not isinstance(given, Mapping):
                raise InvalidInput("the header's jwk is not an object")
            address = address_of_jwk(given)
            _, expected = parse_eip155_account(vm.blockchain_account_id)
            jwk = jwk_of(public_key_from_jwk(given))
        except InvalidInput as exc:
            raise CredentialRejected(
                "wallet-key-mismatch", f"the header's jwk is not a wallet key: {exc}"
            ) from exc
        if address != expected:
            raise CredentialRejected(
                "wallet-key-mismatch", f"the header's jwk belongs to {address}, not to {_show(vm.id)}"
            )
        return jwk


def _show(text: Any) -> str:
    text = text if isinstance(text, str) else repr(text)
    return text if len(text) <= 100 else text[:97] + "..."
