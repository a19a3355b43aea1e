"""Verifying a presentation: the issuer's key from its DID, accreditation and key history from the
on-chain directory, the status list (anchored on chain), key binding, audience and nonce."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofwork.domain.errors import CredentialRejected, InvalidInput, ProofworkError
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.identity import did as did_mod
from proofwork.identity import sdjwt
from proofwork.identity import status_list as sl
from proofwork.keys.jwk import PublicKey, thumbprint
from proofwork.services.credentials.profiles import IssuerDirectory, key_thumbprint
from proofwork.services.credentials.wallet import address_of_jwk, credential_id
from proofwork.services.workspace import Workspace

MAX_FETCH_BYTES = 1024 * 1024  # a status list token for 131,072 entries is a few KiB
DID_CACHE_TTL = 300


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
