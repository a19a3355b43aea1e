"""Off-chain credentials: issuer profiles, status lists, issuing, presenting, verifying, revoking.

An issuer profile lives in `DATA_DIR/issuers/<name>/` (directories 0700, private files 0600):

- `profile.json`: the DID, its kind (`web` for an institution, `wallet` for an account's did:pkh),
  the account that speaks for it on chain, its base URL and its signing keys (current one last);
- `keys/key-<n>.jwk`: a did:web issuer's Ed25519 signing keys, as private JWKs;
- `status/<n>.json`: status list n (131,072 two-bit entries), kept sparse: which credential
  holds which (randomly drawn) index, and every entry that is not VALID;
- `issued.json`: every credential issued (id -> status index, vct, holder, times);
- `web/`: what `issuer serve` publishes, laid out as did:web resolves it (`.well-known/did.json`
  for a bare host, `<path>/did.json` otherwise) plus the signed status list tokens at
  `<base_url>/status/<n>`.

A holder's credentials sit in `DATA_DIR/wallet/<address>/<id>.sdjwt`; a credential's id is the
first 128 bits of the SHA-256 of its issuer-signed JWT, so holder and issuer name it alike.

The on-chain issuer registry comes in through `IssuerDirectory`; this module never touches web3.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import http.server
import json
import os
import re
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import (
    CredentialRejected,
    DataDirCorrupted,
    InvalidInput,
    NotAllowed,
    NotFound,
    ProofworkError,
)
from proofwork.domain.jsonsafe import check_nesting
from proofwork.identity import did as did_mod
from proofwork.identity import sdjwt
from proofwork.identity import status_list as sl
from proofwork.keys.jwk import (
    PrivateKey,
    PublicKey,
    b64url_decode,
    b64url_encode,
    generate_private_key,
    jwk_of,
    private_key_from_bytes,
    public_key_from_jwk,
    thumbprint,
)
from proofwork.services.workspace import Signer, Workspace

# --- credential types ----------------------------------------------------------------------------

VCT_COURSE_CERTIFICATE = "https://proofwork.dev/vct/course-certificate/v1"
VCT_SKILL = "https://proofwork.dev/vct/skill/v1"
VCT_CLIENT_REFERENCE = "https://proofwork.dev/vct/client-reference/v1"
VCT_REPUTATION_SUMMARY = "https://proofwork.dev/vct/reputation-summary/v1"
CREDENTIAL_TYPES: dict[str, str] = {
    "course": VCT_COURSE_CERTIFICATE,
    "skill": VCT_SKILL,
    "reference": VCT_CLIENT_REFERENCE,
    "reputation": VCT_REPUTATION_SUMMARY,
}

STATUS_LIST_SIZE = sl.MIN_ISSUED_SIZE  # 131,072 entries: fetching the list does not reveal which is checked
STATUS_BITS = 2  # VALID, INVALID (revoked, final), SUSPENDED (reversible)
STATUS_TOKEN_LIFETIME = 86_400  # a status list token expires a day after it is signed
STATUS_TOKEN_TTL = 3_600  # verifiers may cache it for an hour
STATUS_TOKEN_REFRESH = 43_200  # issuing re-signs a token with less than this left
MAX_FETCH_BYTES = 1024 * 1024  # a status list token for 131,072 entries is a few KiB
MAX_CREDENTIAL_BYTES = sdjwt.MAX_PRESENTATION_BYTES
DID_CACHE_TTL = 300

STATUS_NAMES = {sl.VALID: "valid", sl.INVALID: "revoked", sl.SUSPENDED: "suspended"}

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")  # what did:web resolution accepts
_HOST = re.compile(r"^[A-Za-z0-9.-]+$")
_ID = re.compile(r"^[0-9a-f]{32}$")
_LOOPBACK = did_mod.INSECURE_HOSTS  # hosts plain http is allowed for (tests, local demos)


class IssuerDirectory(Protocol):
    """The on-chain issuer registry as the credential services see it (the chain layer implements it)."""

    # the issuer's EVM address if the DID is accredited now, else None
    def accredited_did(self, did: str) -> str | None: ...
    def key_valid_at(self, issuer_address: str, thumbprint: bytes, at: int) -> bool: ...
    def anchored_status_digest(self, issuer_address: str, uri: str) -> bytes | None: ...
    def anchor_status_list(self, signer: Signer, uri: str, digest: bytes) -> None: ...


# --- files -----------------------------------------------------------------------------------------


def _mkdir(path: Path, mode: int = 0o700) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=mode)
        os.chmod(path, mode)
    except OSError as exc:
        raise DataDirCorrupted(f"cannot create directory {path}: {exc.strerror}") from exc
    return path


def _write(path: Path, data: bytes, mode: int = 0o600) -> Path:
    """Writes `data` to `path` atomically and durably: a temporary file, fsync, rename, fsync the directory."""
    _mkdir(path.parent, 0o700 if mode == 0o600 else 0o755)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise DataDirCorrupted(f"cannot write {path}: {exc.strerror}") from exc
    return path


def _write_json(path: Path, value: Any, mode: int = 0o600) -> Path:
    return _write(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode(), mode)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise NotFound(f"no {what} at {path}") from None
    except (OSError, ValueError) as exc:
        raise DataDirCorrupted(f"the {what} file {path} is damaged or unreadable") from exc


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on an issuer's directory: two `cred issue` never draw the same index."""
    _mkdir(directory)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --- DIDs and URLs -----------------------------------------------------------------------------------


def did_web_of(base_url: str) -> tuple[str, str]:
    """(did:web DID, normalized base URL) for an issuer's base URL.

    `http://127.0.0.1:8765/university` -> `did:web:127.0.0.1%3A8765:university`. Plain http only
    for loopback hosts (did:web means https; local tests and demos use http on 127.0.0.1).
    """
    text = str(base_url).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"invalid base URL {base_url!r}: expected https://host[:port][/path]")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise InvalidInput(f"invalid base URL {base_url!r}: no query, fragment or user name")
    host = parts.hostname
    if not _HOST.fullmatch(host):
        raise InvalidInput(f"invalid base URL {base_url!r}: the host must be a DNS name or IPv4 address")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise InvalidInput(f"invalid base URL {base_url!r}: did:web needs https (http only on 127.0.0.1)")
    try:
        port = parts.port
    except ValueError:
        raise InvalidInput(f"invalid base URL {base_url!r}: bad port") from None
    segments = [s for s in parts.path.split("/") if s]
    if parts.path and parts.path != "/" + "/".join(segments):
        raise InvalidInput(f"invalid base URL {base_url!r}: empty path segments")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment) or segment in (".", "..", ".well-known"):
            raise InvalidInput(f"invalid base URL {base_url!r}: path segment {segment!r} is not allowed")
    authority = host.lower() + (f"%3A{port}" if port is not None else "")
    did = ":".join(["did:web", authority, *segments])
    netloc = host.lower() + (f":{port}" if port is not None else "")
    normalized = f"{parts.scheme}://{netloc}" + ("/" + "/".join(segments) if segments else "")
    return did, normalized


def base_url_of_did_web(did: str) -> str:
    """The https base URL a did:web DID resolves under (the inverse of `did_web_of`)."""
    if not did.startswith("did:web:"):
        raise InvalidInput(f"{did!r} is not a did:web DID")
    authority, *segments = did.removeprefix("did:web:").split(":")
    host = unquote(authority)
    return "https://" + host + ("/" + "/".join(segments) if segments else "")


def web_path_of(base_url: str) -> list[str]:
    """The base URL's path segments: where its files go under the web root."""
    return [s for s in urlsplit(base_url).path.split("/") if s]


def did_document_path(base_url: str) -> list[str]:
    """Path segments of did.json as did:web resolves it: `.well-known/did.json` for a bare host."""
    segments = web_path_of(base_url)
    return [*segments, "did.json"] if segments else [".well-known", "did.json"]


# --- issuer profiles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuerKey:
    kid: str
    fragment: str
    created: int
    revoked: int | None = None


@dataclass(frozen=True)
class IssuerProfile:
    name: str
    kind: str  # "web" (did:web, own Ed25519 keys, status lists) or "wallet" (did:pkh, the account's key)
    did: str
    account: str  # the account's address: it registers the DID and anchors status lists on chain
    account_name: str
    base_url: str | None
    keys: tuple[IssuerKey, ...] = ()
    created: int = 0
    directory: Path = field(default=Path("."), compare=False)

    @property
    def current_key(self) -> IssuerKey | None:
        return self.keys[-1] if self.keys else None

    @property
    def revocable(self) -> bool:
        return self.kind == "web"

    @property
    def web_root(self) -> Path:
        return self.directory / "web"

    def status_uri(self, number: int) -> str:
        if self.base_url is None:
            raise NotAllowed(f"issuer {self.name!r} publishes no status lists")
        return f"{self.base_url}/status/{number}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "did": self.did,
            "account": self.account,
            "account_name": self.account_name,
            "base_url": self.base_url,
            "created": self.created,
            "keys": [k.__dict__ for k in self.keys],
        }


def issuers_dir(ws_or_data_dir: Workspace | Path) -> Path:
    data_dir = ws_or_data_dir if isinstance(ws_or_data_dir, Path) else ws_or_data_dir.data_dir
    return data_dir / "issuers"


def _issuer_dir(data_dir: Path, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid issuer name {name!r}: use 1-32 lowercase letters, digits, '-' or '_', starting with a letter"
        )
    return data_dir / "issuers" / name


def load_issuer(ws_or_data_dir: Workspace | Path, name: str) -> IssuerProfile:
    data_dir = ws_or_data_dir if isinstance(ws_or_data_dir, Path) else ws_or_data_dir.data_dir
    directory = _issuer_dir(data_dir, name)
    path = directory / "profile.json"
    if not path.exists():
        raise NotFound(f"no issuer profile {name!r}: create it with `proofwork issuer create {name}`")
    data = _read_json(path, "issuer profile")
    try:
        return IssuerProfile(
            name=str(data["name"]),
            kind=str(data["kind"]),
            did=str(data["did"]),
            account=str(data["account"]),
            account_name=str(data["account_name"]),
            base_url=data["base_url"],
            keys=tuple(IssuerKey(**k) for k in data["keys"]),
            created=int(data["created"]),
            directory=directory,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataDirCorrupted(f"the issuer profile {path} is damaged") from exc


def _save_profile(profile: IssuerProfile) -> None:
    _write_json(profile.directory / "profile.json", profile.to_json())


def _key_path(profile: IssuerProfile, key: IssuerKey) -> Path:
    return profile.directory / "keys" / f"{key.fragment}.jwk"


def _save_private_key(path: Path, key: PrivateKey) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    assert isinstance(key, Ed25519PrivateKey)
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    _write_json(path, {**jwk_of(key), "d": b64url_encode(raw)})


def _load_private_key(path: Path) -> PrivateKey:
    data = _read_json(path, "issuer signing key")
    try:
        key = private_key_from_bytes("EdDSA", b64url_decode(data["d"]))
    except (KeyError, TypeError, InvalidInput) as exc:
        raise DataDirCorrupted(f"the issuer signing key {path} is damaged") from exc
    if jwk_of(key) != {k: data.get(k) for k in ("crv", "kty", "x")}:
        raise DataDirCorrupted(f"the issuer signing key {path} does not match its public part")
    return key


def _publish_did_document(profile: IssuerProfile) -> Path:
    assert profile.base_url is not None
    keys = [
        (k.fragment, public_key_from_jwk(jwk_of(_load_private_key(_key_path(profile, k)))), k.revoked)
        for k in profile.keys
    ]
    document = did_mod.did_web_document(profile.did, keys=keys)
    return _write_json(profile.web_root.joinpath(*did_document_path(profile.base_url)), document, 0o644)


def create_issuer(
    ws: Workspace, name: str, *, account: Signer, did: str | None = None, base_url: str | None = None
) -> IssuerProfile:
    """A new local issuer profile.

    With `base_url` (or a did:web `did`): an institution with its own Ed25519 key `<did>#key-1`,
    a did.json and status lists under its web root. Without: the account's wallet itself issues
    as `did:pkh:eip155:<chain id>:<address>` (ES256K, no status list, so nothing it issues can be
    revoked).
    """
    directory = _issuer_dir(ws.data_dir, name)
    if (directory / "profile.json").exists():
        raise InvalidInput(f"an issuer profile named {name!r} already exists")
    now = ws.chain.next_timestamp()
    if base_url is None and did is not None and did.startswith("did:web:"):
        base_url = base_url_of_did_web(did)
    if base_url is not None:
        derived, base = did_web_of(base_url)
        if did is not None and did != derived:
            raise InvalidInput(f"the DID {did!r} does not match the base URL (it would be {derived!r})")
        key = generate_private_key("EdDSA")
        issuer_key = IssuerKey(kid=f"{derived}#key-1", fragment="key-1", created=now)
        profile = IssuerProfile(
            name, "web", derived, account.address, account.name, base, (issuer_key,), now, directory
        )
        with _locked(directory):
            _save_private_key(_key_path(profile, issuer_key), key)
            _save_profile(profile)
            _publish_did_document(profile)
            _new_status_list(profile, 1)
            _publish_status_list(ws, profile, 1, None)
        return profile
    pkh = did_mod.did_pkh_of(ws.chain.chain_id, account.address)
    if did is not None and did != pkh:
        raise InvalidInput(
            f"without --base-url the issuer is the account's wallet, {pkh}; a did:web issuer needs a base URL"
        )
    profile = IssuerProfile(name, "wallet", pkh, account.address, account.name, None, (), now, directory)
    with _locked(directory):
        _save_profile(profile)
    return profile


def rotate_key(ws: Workspace, name: str) -> IssuerProfile:
    """A did:web issuer's new signing key `key-<n+1>`; the old one stays in did.json, marked revoked
    from now, so credentials it signed before stay valid. Register the new key's thumbprint on
    chain before issuing with it, or registry-checking verifiers will refuse those credentials."""
    profile = load_issuer(ws, name)
    if profile.kind != "web":
        raise NotAllowed(
            f"issuer {name!r} signs with its account's wallet key ({profile.did}): it has no separate key to rotate"
        )
    now = ws.chain.next_timestamp()
    with _locked(profile.directory):
        profile = load_issuer(ws, name)
        number = len(profile.keys) + 1
        new = IssuerKey(kid=f"{profile.did}#key-{number}", fragment=f"key-{number}", created=now)
        # revoked from the next second: everything the old key signed (iat <= now) stays valid
        old = tuple(
            k if k.revoked is not None else IssuerKey(k.kid, k.fragment, k.created, now + 1)
            for k in profile.keys
        )
        rotated = IssuerProfile(
            profile.name,
            profile.kind,
            profile.did,
            profile.account,
            profile.account_name,
            profile.base_url,
            (*old, new),
            profile.created,
            profile.directory,
        )
        _save_private_key(_key_path(rotated, new), generate_private_key("EdDSA"))
        _save_profile(rotated)
        _publish_did_document(rotated)
    return rotated


def key_thumbprint(key: PublicKey | PrivateKey) -> bytes:
    """The RFC 7638 thumbprint as the registry stores it: 32 raw bytes."""
    return b64url_decode(thumbprint(jwk_of(key)))


def issuer_signing_key(ws: Workspace, profile: IssuerProfile) -> tuple[PrivateKey, str | None, bool]:
    """(private key, kid, whether the header carries the JWK) the profile signs with now."""
    if profile.kind == "web":
        current = profile.current_key
        if current is None:
            raise DataDirCorrupted(f"issuer {profile.name!r} has no signing key")
        return _load_private_key(_key_path(profile, current)), current.kid, False
    signer = ws.signer(profile.account)
    return private_key_from_bytes("ES256K", signer.key), None, True


def issuer_public_keys(ws: Workspace, name: str) -> list[dict[str, Any]]:
    """Each signing key's kid, JWK, thumbprint (hex, as the registry takes it) and validity."""
    profile = load_issuer(ws, name)
    if profile.kind != "web":
        key, _, _ = issuer_signing_key(ws, profile)
        return [{"kid": None, "jwk": jwk_of(key), "thumbprint": "0x" + key_thumbprint(key).hex()}]
    out = []
    for k in profile.keys:
        private = _load_private_key(_key_path(profile, k))
        out.append(
            {
                "kid": k.kid,
                "jwk": jwk_of(private),
                "thumbprint": "0x" + key_thumbprint(private).hex(),
                "created": k.created,
                "revoked": k.revoked,
            }
        )
    return out


# --- status lists --------------------------------------------------------------------------------------


def _status_path(profile: IssuerProfile, number: int) -> Path:
    return profile.directory / "status" / f"{number}.json"


def _status_file_path(profile: IssuerProfile, number: int) -> Path:
    assert profile.base_url is not None
    return profile.web_root.joinpath(*web_path_of(profile.base_url), "status", str(number))


def _new_status_list(profile: IssuerProfile, number: int) -> dict[str, Any]:
    record = {
        "number": number,
        "uri": profile.status_uri(number),
        "size": STATUS_LIST_SIZE,
        "bits": STATUS_BITS,
        "allocated": {},  # credential id -> index
        "statuses": {},  # index (decimal string) -> status other than VALID
        "token_iat": None,
    }
    _write_json(_status_path(profile, number), record)
    return record


def _load_status_list(profile: IssuerProfile, number: int) -> dict[str, Any]:
    record = _read_json(_status_path(profile, number), "status list")
    if not isinstance(record, dict) or not {"allocated", "statuses", "size", "bits"} <= set(record):
        raise DataDirCorrupted(f"the status list file {_status_path(profile, number)} is damaged")
    return record


def _current_list_number(profile: IssuerProfile) -> int:
    numbers = [int(p.stem) for p in (profile.directory / "status").glob("*.json") if p.stem.isdigit()]
    return max(numbers, default=1)


def _status_list_of(record: Mapping[str, Any]) -> sl.StatusList:
    lst = sl.StatusList(int(record["size"]), int(record["bits"]))
    for index, value in record["statuses"].items():
        lst.set(int(index), int(value))
    return lst


def _allocate_index(record: dict[str, Any], credential_id: str) -> int:
    """A random unused index: consecutive credentials get unrelated indexes (herd privacy)."""
    size = int(record["size"])
    used = set(record["allocated"].values())
    if len(used) >= size:
        raise NotAllowed("the status list is full")
    if len(used) < size // 2:
        while (index := secrets.randbelow(size)) in used:
            pass
    else:
        free = [i for i in range(size) if i not in used]
        index = free[secrets.randbelow(len(free))]
    record["allocated"][credential_id] = index
    return index


def _publish_status_list(
    ws: Workspace, profile: IssuerProfile, number: int, directory: IssuerDirectory | None
) -> str:
    """Signs status list `number` afresh, writes it to the web root and anchors its digest."""
    record = _load_status_list(profile, number)
    key, kid, _ = issuer_signing_key(ws, profile)
    now = ws.chain.next_timestamp()
    token = sl.sign_status_list_token(
        _status_list_of(record),
        key=key,
        kid=kid,
        issuer=profile.did,
        uri=profile.status_uri(number),
        iat=now,
        exp=now + STATUS_TOKEN_LIFETIME,
        ttl=STATUS_TOKEN_TTL,
    )
    _write(_status_file_path(profile, number), token.encode("ascii"), 0o644)
    record["token_iat"] = now
    _write_json(_status_path(profile, number), record)
    if directory is not None:
        directory.anchor_status_list(
            ws.signer(profile.account), profile.status_uri(number), sl.token_digest(token)
        )
    return token


def publish_status_lists(ws: Workspace, name: str, *, directory: IssuerDirectory | None = None) -> list[str]:
    """Re-signs (and anchors) every status list of a did:web issuer: run at least daily, as each token
    expires a day after it is signed. Returns the lists' URIs."""
    profile = load_issuer(ws, name)
    _require_revocable(profile, "publishes no status list")
    uris = []
    with _locked(profile.directory):
        for number in range(1, _current_list_number(profile) + 1):
            _publish_status_list(ws, profile, number, directory)
            uris.append(profile.status_uri(number))
        _publish_did_document(profile)
    return uris


def _require_revocable(profile: IssuerProfile, what: str) -> None:
    if not profile.revocable:
        raise NotAllowed(
            f"issuer {profile.name!r} is a wallet issuer ({profile.did}) and {what}: its credentials cannot "
            "be revoked or suspended; create a did:web issuer (--base-url) for revocable credentials"
        )


# --- issuing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedRecord:
    id: str
    path: Path
    sd_jwt: str
    issuer: str = ""
    vct: str = ""
    holder: str = ""
    iat: int = 0
    exp: int | None = None
    status: sdjwt.StatusReference | None = None


def credential_id(sd_jwt_text: str) -> str:
    """The id of an SD-JWT (or any presentation of it): hex of the first 16 bytes of SHA-256 of its JWT."""
    jwt = sd_jwt_text.strip().split("~", 1)[0]
    return hashlib.sha256(jwt.encode("ascii", "replace")).digest()[:16].hex()


def address_of_jwk(jwk: Mapping[str, Any]) -> str | None:
    """The (checksummed) Ethereum address of a secp256k1 JWK; None for other key types."""
    if jwk.get("crv") != "secp256k1":
        return None
    return parse_address(did_mod.address_of_jwk(jwk))


def holder_jwk_of(signer: Signer) -> dict[str, str]:
    """A holder's key-binding JWK: the public key of their wallet (secp256k1) account."""
    return jwk_of(private_key_from_bytes("ES256K", signer.key))


def wallet_dir(ws_or_data_dir: Workspace | Path, address: str) -> Path:
    data_dir = ws_or_data_dir if isinstance(ws_or_data_dir, Path) else ws_or_data_dir.data_dir
    return data_dir / "wallet" / address


def _issued_path(profile: IssuerProfile) -> Path:
    return profile.directory / "issued.json"


def _load_issued(profile: IssuerProfile) -> dict[str, Any]:
    path = _issued_path(profile)
    if not path.exists():
        return {}
    data = _read_json(path, "issued credentials")
    if not isinstance(data, dict):
        raise DataDirCorrupted(f"the issued credentials file {path} is damaged")
    return data


MAX_CLAIM_NESTING = 12


def _check_claims(claims: Any) -> dict[str, Any]:
    if not isinstance(claims, dict) or not claims:
        raise InvalidInput("a credential needs at least one claim, given as a JSON object")
    try:
        text = json.dumps(claims, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"the claims are not plain JSON: {str(exc)[:120]}") from exc
    size = len(text)
    # what is issued must also be presentable: a disclosure wraps each value one level deeper, and
    # verifiers refuse JSON deeper than sdjwt.MAX_JSON_DEPTH
    check_nesting(text, MAX_CLAIM_NESTING)
    if size > MAX_CREDENTIAL_BYTES // 2:
        raise InvalidInput(
            f"the claims take {size} bytes; a credential holds at most {MAX_CREDENTIAL_BYTES // 2}"
        )
    return claims


def issue_credential_for(
    ws: Workspace,
    issuer_name: str,
    *,
    holder: str,
    vct: str,
    claims: dict[str, Any],
    valid_for: int | None = None,
    directory: IssuerDirectory | None = None,
    holder_jwk: Mapping[str, Any] | None = None,
) -> IssuedRecord:
    """Signs an SD-JWT VC for `holder` (an account on this machine, or any holder with `holder_jwk`),
    every claim selectively disclosable, bound to the holder's wallet key (`cnf.jwk`). A did:web
    issuer gives it a random index in its status list. The credential is written to the holder's
    wallet directory (or the issuer's `outbox/` for a holder elsewhere)."""
    profile = load_issuer(ws, issuer_name)
    if vct in CREDENTIAL_TYPES:
        vct = CREDENTIAL_TYPES[vct]
    if not isinstance(vct, str) or not vct:
        raise InvalidInput("a credential needs a type")
    claims = _check_claims(claims)
    if valid_for is not None and valid_for <= 0:
        raise InvalidInput("a credential's validity must be longer than zero")
    if holder_jwk is None:
        try:
            holder_signer = ws.signer(holder)
        except NotFound as exc:
            raise NotFound(f"{exc}; for a holder elsewhere, give their public key (--holder-jwk)") from exc
        cnf = holder_jwk_of(holder_signer)
        holder_address: str | None = holder_signer.address
    else:
        try:
            public_key_from_jwk(holder_jwk)
        except InvalidInput as exc:
            raise InvalidInput(f"invalid holder key: {exc}") from exc
        cnf = {k: str(v) for k, v in holder_jwk.items() if k in ("crv", "kty", "x", "y")}
        holder_address = address_of_jwk(cnf)
        if holder.strip().startswith("0x"):
            given = ws.address(holder, "holder")
            if holder_address is not None and given != holder_address:
                raise InvalidInput(f"the holder key belongs to {holder_address}, not {given}")
            holder_address = holder_address or given
    key, kid, header_jwk = issuer_signing_key(ws, profile)
    with _locked(profile.directory):
        now = ws.chain.next_timestamp()
        exp = now + valid_for if valid_for is not None else None
        status: sdjwt.StatusReference | None = None
        record: dict[str, Any] | None = None
        number = 0
        placeholder = "pending-" + secrets.token_hex(8)
        if profile.revocable:
            number = _current_list_number(profile)
            record = _load_status_list(profile, number)
            if len(record["allocated"]) >= int(record["size"]):
                number += 1
                record = _new_status_list(profile, number)
            index = _allocate_index(record, placeholder)
            status = sdjwt.StatusReference(index, profile.status_uri(number))
        token = sdjwt.issue_credential(
            issuer=profile.did,
            key=key,
            kid=kid,
            vct=vct,
            claims=claims,
            holder_jwk=cnf,
            iat=now,
            exp=exp,
            status=status,
            header_jwk=header_jwk,
        )
        cred_id = credential_id(token)
        if holder_jwk is None:  # the holder's wallet is on this machine
            assert holder_address is not None
            path = wallet_dir(ws, holder_address) / f"{cred_id}.sdjwt"
        else:  # to be handed over
            path = profile.directory / "outbox" / f"{cred_id}.sdjwt"
        _write(path, token.encode("ascii"))
        if record is not None:
            record["allocated"][cred_id] = record["allocated"].pop(placeholder)
            _write_json(_status_path(profile, number), record)
        issued = _load_issued(profile)
        issued[cred_id] = {
            "vct": vct,
            "holder": holder_address or holder,
            "holder_thumbprint": thumbprint(cnf),
            "iat": now,
            "exp": exp,
            "status_list": number or None,
            "index": status.idx if status else None,
        }
        _write_json(_issued_path(profile), issued)
        if record is not None:
            token_iat = record.get("token_iat")
            if (
                not isinstance(token_iat, int)
                or now - token_iat > STATUS_TOKEN_LIFETIME - STATUS_TOKEN_REFRESH
            ):
                _publish_status_list(ws, profile, number, directory)
    return IssuedRecord(cred_id, path, token, profile.did, vct, holder_address or holder, now, exp, status)


def set_status(
    ws: Workspace, issuer_name: str, cred_id: str, status: int, *, directory: IssuerDirectory | None = None
) -> dict[str, Any]:
    """Revokes (INVALID, final), suspends (SUSPENDED) or reinstates (VALID) an issued credential,
    then re-signs, publishes and anchors its status list."""
    profile = load_issuer(ws, issuer_name)
    _require_revocable(profile, "has no status list")
    cred_id = cred_id.strip().lower()
    if not _ID.fullmatch(cred_id):
        raise InvalidInput(f"invalid credential id {cred_id!r}: expected 32 hexadecimal digits")
    with _locked(profile.directory):
        entry = _load_issued(profile).get(cred_id)
        if entry is None or entry.get("status_list") is None:
            raise NotFound(f"issuer {issuer_name!r} issued no credential {cred_id}")
        number = int(entry["status_list"])
        record = _load_status_list(profile, number)
        index = record["allocated"].get(cred_id)
        if index is None:
            raise DataDirCorrupted(f"credential {cred_id} has no index in status list {number}")
        current = int(record["statuses"].get(str(index), sl.VALID))
        if current == sl.INVALID:
            raise NotAllowed(f"credential {cred_id} is revoked, and revocation is final")
        if current != status:  # no change: nothing to re-sign, no transaction to anchor
            if status == sl.VALID:
                record["statuses"].pop(str(index), None)
            else:
                record["statuses"][str(index)] = status
            _write_json(_status_path(profile, number), record)
            _publish_status_list(ws, profile, number, directory)
    return {
        "id": cred_id,
        "status": STATUS_NAMES[status],
        "previous": STATUS_NAMES.get(current, str(current)),
        "index": index,
        "uri": profile.status_uri(number),
    }


def revoke(
    ws: Workspace, issuer_name: str, cred_id: str, *, directory: IssuerDirectory | None = None
) -> dict[str, Any]:
    return set_status(ws, issuer_name, cred_id, sl.INVALID, directory=directory)


def suspend(
    ws: Workspace, issuer_name: str, cred_id: str, *, directory: IssuerDirectory | None = None
) -> dict[str, Any]:
    return set_status(ws, issuer_name, cred_id, sl.SUSPENDED, directory=directory)


def reinstate(
    ws: Workspace, issuer_name: str, cred_id: str, *, directory: IssuerDirectory | None = None
) -> dict[str, Any]:
    return set_status(ws, issuer_name, cred_id, sl.VALID, directory=directory)


def issued_credentials(ws: Workspace, issuer_name: str) -> list[dict[str, Any]]:
    """What an issuer issued, with each credential's current status."""
    profile = load_issuer(ws, issuer_name)
    lists: dict[int, dict[str, Any]] = {}
    out = []
    for cred_id, entry in sorted(_load_issued(profile).items(), key=lambda kv: kv[1].get("iat", 0)):
        state = "valid"
        number = entry.get("status_list")
        if number is not None:
            if number not in lists:
                lists[number] = _load_status_list(profile, int(number))
            value = int(lists[number]["statuses"].get(str(entry.get("index")), sl.VALID))
            state = STATUS_NAMES.get(value, str(value))
        elif not profile.revocable:
            state = "valid (not revocable)"
        out.append({"id": cred_id, **entry, "status": state})
    return out


# --- the holder ---------------------------------------------------------------------------------------------


def _peek(sd_jwt_text: str) -> dict[str, Any]:
    """The issuer-signed payload of an SD-JWT, unverified (for listing what one holds)."""
    try:
        payload = json.loads(b64url_decode(sd_jwt_text.split("~", 1)[0].split(".")[1]))
    except (IndexError, ValueError, InvalidInput) as exc:
        raise InvalidInput("not an SD-JWT credential") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("not an SD-JWT credential")
    return payload


def read_credential_file(path: Path) -> str:
    """An SD-JWT or presentation from a file: bounded, ASCII, one line."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CREDENTIAL_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a credential file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_CREDENTIAL_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_CREDENTIAL_BYTES} bytes: not a credential")
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not an SD-JWT (it holds non-ASCII bytes)") from None
    if not text or "~" not in text or any(c.isspace() for c in text):
        raise InvalidInput(f"{path} is not an SD-JWT (expected <jwt>~<disclosure>~...)")
    return text


def held_credentials(ws_or_data_dir: Workspace | Path, address: str | None = None) -> list[dict[str, Any]]:
    """Credentials in the wallet directories on this machine (one address, or all)."""
    data_dir = ws_or_data_dir if isinstance(ws_or_data_dir, Path) else ws_or_data_dir.data_dir
    root = data_dir / "wallet"
    dirs = [root / address] if address else sorted(p for p in root.glob("*") if p.is_dir())
    out: list[dict[str, Any]] = []
    for directory in dirs:
        for path in sorted(directory.glob("*.sdjwt")):
            try:
                text = read_credential_file(path)
                payload = _peek(text)
                names = sdjwt.disclosed_claim_names(text)
            except ProofworkError:
                out.append(
                    {"id": path.stem, "holder": directory.name, "path": str(path), "error": "unreadable"}
                )
                continue
            out.append(
                {
                    "id": path.stem,
                    "holder": directory.name,
                    "issuer": payload.get("iss"),
                    "vct": payload.get("vct"),
                    "iat": payload.get("iat"),
                    "exp": payload.get("exp"),
                    "revocable": "status" in payload,
                    "claims": names,
                    "path": str(path),
                }
            )
    return sorted(out, key=lambda c: (c["holder"], c.get("iat") or 0))


def find_credential(ws: Workspace, holder_address: str, id_or_path: str) -> str:
    """A held credential by id (in the holder's wallet directory) or by file path."""
    text = id_or_path.strip()
    if _ID.fullmatch(text.lower()):
        path = wallet_dir(ws, holder_address) / f"{text.lower()}.sdjwt"
        if not path.exists():
            raise NotFound(f"{holder_address} holds no credential {text}: see `proofwork cred list`")
        return read_credential_file(path)
    return read_credential_file(Path(text).expanduser())


def present_credential(
    ws: Workspace,
    holder: str,
    credential: str,
    *,
    disclose: list[str],
    audience: str,
    nonce: str,
) -> str:
    """A presentation of a held credential (id or file) revealing only `disclose`, bound by a KB-JWT
    signed with the holder's wallet key to `audience` and `nonce`."""
    signer = ws.signer(holder)
    sd_jwt_text = find_credential(ws, signer.address, credential)
    if not audience.strip() or not nonce.strip():
        raise InvalidInput("a presentation needs the verifier's audience and nonce")
    key = private_key_from_bytes("ES256K", signer.key)
    try:
        payload = _peek(sd_jwt_text)
        cnf = payload.get("cnf", {}).get("jwk")
    except AttributeError:
        cnf = None
    if cnf is not None and thumbprint(cnf) != thumbprint(jwk_of(key)):
        raise NotAllowed(f"the credential is bound to another key than {signer.name}'s ({signer.address})")
    names = sdjwt.disclosed_claim_names(sd_jwt_text)
    unknown = [n for n in disclose if n not in names]
    if unknown:
        raise InvalidInput(
            f"the credential has no claim {', '.join(map(repr, unknown))}: it has {', '.join(names) or 'none'}"
        )
    # the chain's clock, as for issuing: a dev chain moved forward stays consistent
    return sdjwt.present(
        sd_jwt_text,
        disclose=disclose,
        holder_key=key,
        aud=audience,
        nonce=nonce,
        iat=ws.chain.next_timestamp(),
    )


# --- the verifier -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    claims: dict[str, Any]
    issuer: str
    vct: str
    accredited: bool | None  # None: no registry consulted (offline, or none configured)
    issuer_address: str | None
    holder_jwk: dict[str, Any] | None
    holder_address: str | None
    iat: int
    exp: int | None
    status: str  # "valid", "not-revocable" (no status list) or "unchecked" (offline)
    key_bound: bool
    offline: bool
    id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "issuer": self.issuer,
            "vct": self.vct,
            "claims": self.claims,
            "accredited": self.accredited,
            "issuer_address": self.issuer_address,
            "holder": self.holder_address,
            "holder_thumbprint": thumbprint(self.holder_jwk) if self.holder_jwk else None,
            "iat": self.iat,
            "exp": self.exp,
            "status": self.status,
            "key_bound": self.key_bound,
            "offline": self.offline,
        }


def status_list_fetcher(*, allow_insecure_localhost: bool = False) -> Callable[[str], str]:
    """GET a status list token: the did:web fetcher's rules (https only, plain http for loopback when
    allowed, same-host redirects, bounded size and overall time), asking for a status list token."""
    fetcher = did_mod.HttpFetcher(
        max_bytes=MAX_FETCH_BYTES,
        allow_insecure_localhost=allow_insecure_localhost,
        accept="application/statuslist+jwt",
    )

    def fetch(url: str) -> str:
        try:
            return fetcher(url).decode("ascii")
        except UnicodeDecodeError:
            raise InvalidInput(f"{url} sent something that is not a token") from None

    return fetch


def make_resolver(
    *,
    allow_insecure_localhost: bool = False,
    documents: Mapping[str, Mapping[str, Any]] | None = None,
    offline: bool = False,
) -> did_mod.DidResolver:
    """The DID resolver a verifier uses: did:key and did:pkh locally, did:web over https (or http to
    127.0.0.1 with `allow_insecure_localhost`). `documents` pins did:web documents (DID -> did.json
    content) given in advance; `offline` fetches nothing."""

    def no_network(url: str) -> bytes:
        raise CredentialRejected(
            "offline-unresolvable",
            f"offline: the issuer's DID document ({url}) is not fetched; supply it (--did-document FILE)",
        )

    pinned: dict[str, did_mod.DidDocument] = {}
    for did, raw in (documents or {}).items():
        pinned[did] = did_mod.parse_did_document(dict(raw), did)
    return did_mod.DidResolver(
        no_network if offline else None,
        clock=time.time,
        cache_ttl=DID_CACHE_TTL,
        allow_insecure_localhost=allow_insecure_localhost,
        extra=pinned or None,
    )


def load_did_document(path: Path) -> tuple[str, dict[str, Any]]:
    """(DID, document) from a did.json file, for offline verification."""
    from proofwork.domain.jsonsafe import safe_json_loads

    try:
        raw = safe_json_loads(path.read_bytes(), max_bytes=did_mod.MAX_DOCUMENT_BYTES, max_depth=16)
    except OSError as exc:
        raise InvalidInput(f"cannot read DID document {path}: {exc.strerror}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise InvalidInput(f"{path} is not a DID document (no 'id')")
    did_mod.parse_did_document(raw, raw["id"])
    return raw["id"], raw


def verify(
    ws: Workspace | None,
    presentation: str,
    *,
    audience: str,
    nonce: str,
    resolver: did_mod.DidResolver | None,
    directory: IssuerDirectory | None,
    now: int | None = None,
    offline: bool = False,
    documents: Mapping[str, Mapping[str, Any]] | None = None,
    allow_insecure_localhost: bool = False,
    fetch: Callable[[str], str] | None = None,
    expected_vct: str | None = None,
) -> Verification:
    """Verifies a presentation for `audience` and `nonce`; CredentialRejected(reason, message) on failure.

    The issuer's key comes from its DID (`resolver`). With a `directory` (the on-chain registry),
    the DID must be accredited now and the signing key registered for the issuer at the
    credential's `iat`, and the status list served must be the one the issuer anchored. `offline`
    consults neither network nor registry: `resolver` is replaced by one that fetches nothing,
    so did:key/did:pkh issuers still verify, a did:web issuer only with its document in
    `documents`; the status is left unchecked and `accredited` is None.
    """
    if now is None:
        now = ws.chain.next_timestamp() if ws is not None else int(time.time())
    if offline:
        directory = None
        resolver = make_resolver(offline=True, documents=documents)
    elif resolver is None:
        resolver = make_resolver(allow_insecure_localhost=allow_insecure_localhost, documents=documents)
    did_resolver = resolver
    issuer_address: dict[str, str] = {}

    def resolve_key(iss: str, header: Mapping[str, Any], at: int) -> PublicKey:
        key = did_resolver.issuer_key(iss, header, at)
        if directory is None:
            return key
        # the status list token usually has the credential's issuer: one registry lookup for both
        address = issuer_address.get(iss) or directory.accredited_did(iss)
        if address is None:
            raise CredentialRejected("unknown-issuer", f"{iss} is not an accredited issuer in the registry")
        issuer_address[iss] = address
        if iss.startswith("did:pkh:"):
            # a wallet issuer signs with its account's own key, which the resolver tied to the DID
            if iss.rsplit(":", 1)[-1].lower() != address.lower():
                raise CredentialRejected(
                    "unknown-issuer", f"{iss} is registered to another account, {address}"
                )
            return key
        if not directory.key_valid_at(address, key_thumbprint(key), at):
            raise CredentialRejected(
                "key-not-registered",
                f"the key {header.get('kid') or 'in the header'} was not a registered key of {iss} at {at}",
            )
        return key

    check_status: sdjwt.StatusChecker | None = None
    if not offline:
        get = fetch or status_list_fetcher(allow_insecure_localhost=allow_insecure_localhost)
        anchored: Callable[[str], bytes | None] | None = None
        if directory is not None:
            dir_ = directory

            def anchored_digest(uri: str) -> bytes | None:
                # the first key resolved is the credential issuer's (sdjwt resolves it before the status)
                address = next(iter(issuer_address.values()), None)
                if address is None:
                    return None
                digest = dir_.anchored_status_digest(address, uri)
                if digest is None:
                    # without an anchor any older (unexpired) list could be replayed unnoticed
                    raise CredentialRejected(
                        "stale-status-list", f"the issuer never anchored the status list at {uri} on chain"
                    )
                return digest

            anchored = anchored_digest
        check_status = sl.make_status_checker(get, resolve_key, now, anchored)
    if not isinstance(presentation, str) or not presentation.strip():
        raise CredentialRejected("malformed", "the presentation is empty")
    presentation = presentation.strip()
    verified = sdjwt.verify_presentation(
        presentation,
        resolve_key=resolve_key,
        now=now,
        audience=audience,
        nonce=nonce,
        check_status=check_status,
        expected_vct=expected_vct,
    )
    status = "not-revocable" if verified.status is None else ("unchecked" if offline else "valid")
    holder_address = None
    if verified.holder_jwk is not None:
        with contextlib.suppress(ProofworkError):
            holder_address = address_of_jwk(verified.holder_jwk)
    return Verification(
        claims=verified.claims,
        issuer=verified.issuer,
        vct=verified.vct,
        accredited=None if directory is None else True,
        issuer_address=issuer_address.get(verified.issuer),
        holder_jwk=verified.holder_jwk,
        holder_address=holder_address,
        iat=verified.iat,
        exp=verified.exp,
        status=status,
        key_bound=verified.key_bound,
        offline=offline,
        id=credential_id(presentation),
    )


# --- serving the web root ----------------------------------------------------------------------------------

_CONTENT_TYPES = {"did.json": "application/did+json"}


def _content_type(path: Path) -> str:
    if path.name in _CONTENT_TYPES:
        return _CONTENT_TYPES[path.name]
    if path.parent.name == "status":
        return "application/statuslist+jwt"
    if path.suffix == ".json":
        return "application/json"
    return "application/octet-stream"


class _WebRootHandler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD of regular files under the web root; no listings, no traversal, nothing else."""

    server_version = "proofwork-issuer"
    sys_version = ""
    root: Path  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI reports what it serves
        return

    def _resolve(self) -> Path | None:
        raw = self.path.split("?", 1)[0].split("#", 1)[0]
        if not raw.startswith("/") or len(raw) > 1024:
            return None
        path = unquote(raw)
        if "\x00" in path or "\\" in path:
            return None
        segments = [s for s in path.split("/") if s]
        if any(s in (".", "..") for s in segments) or not segments:
            return None
        target = self.root.joinpath(*segments)
        try:
            resolved = target.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None
        return resolved

    def _send(self, head_only: bool) -> None:
        path = self._resolve()
        if path is None:
            self.send_error(404, "Not Found")
            return
        try:
            body = path.read_bytes()
        except OSError:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", _content_type(path))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", f"max-age={min(STATUS_TOKEN_TTL, 60)}")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(head_only=False)

    def do_HEAD(self) -> None:
        self._send(head_only=True)

    def _refuse(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse


class WebRootServer(http.server.ThreadingHTTPServer):
    """A read-only static server for an issuer's web root, bound on construction (port 0: any free
    port), so that tests and the CLI know its URL before serving."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_WebRootHandler,), {"root": root.resolve()})
        try:
            super().__init__((host, port), handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InvalidInput(f"port {port} on {host} is already in use") from exc
            raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        except socket.gaierror as exc:
            raise InvalidInput(f"cannot listen on {host!r}: {exc.strerror}") from exc
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        return f"http://{host}:{self.port}"

    def start(self) -> WebRootServer:
        """Serves in a daemon thread; `close` stops it."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="issuer-web", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()


def issuer_web_root(data_dir: Path, name: str) -> Path:
    """Where issuer `name`'s public files live (whether or not the profile exists yet)."""
    return _issuer_dir(data_dir, name) / "web"


def serve_issuer(
    data_dir: Path, name: str, host: str = "127.0.0.1", port: int | None = None
) -> WebRootServer:
    """A server (bound, not yet serving) for issuer `name`'s web root; `port` defaults to the
    base URL's (behind a TLS proxy in production, give the port the proxy forwards to)."""
    profile = load_issuer(data_dir, name)
    if profile.kind != "web" or profile.base_url is None:
        raise NotAllowed(f"issuer {name!r} is a wallet issuer ({profile.did}): it has nothing to serve")
    if port is None:
        parts = urlsplit(profile.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    if not 0 <= port <= 65535:
        raise InvalidInput(f"invalid port {port}: expected 0 (any free port) to 65535")
    return WebRootServer(profile.web_root, host, port)
