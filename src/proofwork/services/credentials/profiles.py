"""An issuer's profile: its DID (did:web for an institution, the wallet's did:pkh otherwise), its
signing keys and their rotation, its did.json, and the on-chain directory it is accredited in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from proofwork.domain.errors import DataDirCorrupted, InvalidInput, NotAllowed, NotFound
from proofwork.identity import did as did_mod
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
from proofwork.storage.files import locked, read_json, save_json

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")  # what did:web resolution accepts
_HOST = re.compile(r"^[A-Za-z0-9.-]+$")
_LOOPBACK = did_mod.INSECURE_HOSTS  # hosts plain http is allowed for (tests, local demos)


class IssuerDirectory(Protocol):
    """The on-chain issuer registry as the credential services see it (the chain layer implements it)."""

    # the issuer's EVM address if the DID is accredited now, else None
    def accredited_did(self, did: str) -> str | None: ...
    def key_valid_at(self, issuer_address: str, thumbprint: bytes, at: int) -> bool: ...
    def anchored_status_digest(self, issuer_address: str, uri: str) -> bytes | None: ...
    def anchor_status_list(self, signer: Signer, uri: str, digest: bytes) -> None: ...


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


def issuer_dir(data_dir: Path, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid issuer name {name!r}: use 1-32 lowercase letters, digits, '-' or '_', starting with a letter"
        )
    return data_dir / "issuers" / name


def issuer_web_root(data_dir: Path, name: str) -> Path:
    """Where issuer `name`'s public files live (whether or not the profile exists yet)."""
    return issuer_dir(data_dir, name) / "web"


def load_issuer(ws_or_data_dir: Workspace | Path, name: str) -> IssuerProfile:
    data_dir = ws_or_data_dir if isinstance(ws_or_data_dir, Path) else ws_or_data_dir.data_dir
    directory = issuer_dir(data_dir, name)
    path = directory / "profile.json"
    if not path.exists():
        raise NotFound(f"no issuer profile {name!r}: create it with `proofwork issuer create {name}`")
    data = read_json(path, "issuer profile")
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


def save_profile(profile: IssuerProfile) -> None:
    save_json(profile.directory / "profile.json", profile.to_json())


def key_path(profile: IssuerProfile, key: IssuerKey) -> Path:
    return profile.directory / "keys" / f"{key.fragment}.jwk"


def save_private_key(path: Path, key: PrivateKey) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    assert isinstance(key, Ed25519PrivateKey)
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    save_json(path, {**jwk_of(key), "d": b64url_encode(raw)})


def load_private_key(path: Path) -> PrivateKey:
    data = read_json(path, "issuer signing key")
    try:
        key = private_key_from_bytes("EdDSA", b64url_decode(data["d"]))
    except (KeyError, TypeError, InvalidInput) as exc:
        raise DataDirCorrupted(f"the issuer signing key {path} is damaged") from exc
    if jwk_of(key) != {k: data.get(k) for k in ("crv", "kty", "x")}:
        raise DataDirCorrupted(f"the issuer signing key {path} does not match its public part")
    return key


def publish_did_document(profile: IssuerProfile) -> Path:
    assert profile.base_url is not None
    keys = [
        (k.fragment, public_key_from_jwk(jwk_of(load_private_key(key_path(profile, k)))), k.revoked)
        for k in profile.keys
    ]
    document = did_mod.did_web_document(profile.did, keys=keys)
    return save_json(profile.web_root.joinpath(*did_document_path(profile.base_url)), document, 0o644)


def create_issuer(
    ws: Workspace, name: str, *, account: Signer, did: str | None = None, base_url: str | None = None
) -> IssuerProfile:
    """A new local issuer profile.

    With `base_url` (or a did:web `did`): an institution with its own Ed25519 key `<did>#key-1`,
    a did.json and status lists under its web root. Without: the account's wallet itself issues
    as `did:pkh:eip155:<chain id>:<address>` (ES256K, no status list, so nothing it issues can be
    revoked).
    """
    directory = issuer_dir(ws.data_dir, name)
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
        with locked(directory):
            save_private_key(key_path(profile, issuer_key), key)
            save_profile(profile)
            publish_did_document(profile)
            # status_lists builds on this module: import it here, not at the top
            from proofwork.services.credentials import status_lists

            status_lists.new_status_list(profile, 1)
            status_lists.publish_status_list(ws, profile, 1, None)
        return profile
    pkh = did_mod.did_pkh_of(ws.chain_id, account.address)
    if did is not None and did != pkh:
        raise InvalidInput(
            f"without --base-url the issuer is the account's wallet, {pkh}; a did:web issuer needs a base URL"
        )
    profile = IssuerProfile(name, "wallet", pkh, account.address, account.name, None, (), now, directory)
    with locked(directory):
        save_profile(profile)
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
    with locked(profile.directory):
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
        save_private_key(key_path(rotated, new), generate_private_key("EdDSA"))
        save_profile(rotated)
        publish_did_document(rotated)
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
        return load_private_key(key_path(profile, current)), current.kid, False
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
        private = load_private_key(key_path(profile, k))
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


def issued_path(profile: IssuerProfile) -> Path:
    """Where an issuer records what it issued."""
    return profile.directory / "issued.json"


def load_issued(profile: IssuerProfile) -> dict[str, Any]:
    """What an issuer issued: credential id -> status list, index, type, holder, times."""
    path = issued_path(profile)
    if not path.exists():
        return {}
    data = read_json(path, "issued credentials")
    if not isinstance(data, dict):
        raise DataDirCorrupted(f"the issued credentials file {path} is damaged")
    return data
