"""The credential use cases end to end: issuer profiles, a real HTTP server on 127.0.0.1 serving the
issuer's did:web document and status list, issue -> present -> verify, revocation, the registry."""

from __future__ import annotations

import itertools
import json
import stat
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from proofwork.api import issuer_http
from proofwork.domain.errors import CredentialRejected, InvalidInput, NotAllowed
from proofwork.identity import status_list as sl
from proofwork.keys.jwk import b64url_decode
from proofwork.services.credentials import issuing, profiles, status_lists, verification, wallet
from proofwork.services.workspace import Settings, Signer, Workspace

ISSUER = "university"
CLAIMS = {"course": "Applied ML", "grade": "A", "hours": 120, "student_name": "Ada"}


class MemoryDirectory:
    """The on-chain issuer registry, in memory."""

    def __init__(self) -> None:
        self.accredited: dict[str, str] = {}  # did -> address
        self.keys: dict[tuple[str, bytes], tuple[int, int | None]] = {}  # (address, thumbprint) -> validity
        self.anchors: dict[tuple[str, str], bytes] = {}
        self.anchored_by: list[str] = []

    def accredit(self, did: str, address: str, thumbprints: list[tuple[bytes, int, int | None]]) -> None:
        self.accredited[did] = address
        for thumb, start, end in thumbprints:
            self.keys[(address.lower(), thumb)] = (start, end)

    def accredited_did(self, did: str) -> str | None:
        return self.accredited.get(did)

    def key_valid_at(self, issuer_address: str, thumbprint: bytes, at: int) -> bool:
        record = self.keys.get((issuer_address.lower(), thumbprint))
        return record is not None and record[0] <= at and (record[1] is None or at < record[1])

    def anchored_status_digest(self, issuer_address: str, uri: str) -> bytes | None:
        return self.anchors.get((issuer_address.lower(), uri))

    def anchor_status_list(self, signer: Signer, uri: str, digest: bytes) -> None:
        self.anchors[(signer.address.lower(), uri)] = digest
        self.anchored_by.append(signer.name)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(Settings(data_dir=tmp_path / "data", password=lambda name: "unused")) as workspace:
        yield workspace


@pytest.fixture
def server(ws: Workspace) -> Iterator[issuer_http.WebRootServer]:
    """The issuer's web root served on a free port, bound before the profile exists (the DID names the port)."""
    srv = issuer_http.WebRootServer(profiles.issuer_web_root(ws.data_dir, ISSUER), "127.0.0.1", 0).start()
    yield srv
    srv.close()


@pytest.fixture
def issuer(ws: Workspace, server: issuer_http.WebRootServer) -> profiles.IssuerProfile:
    return profiles.create_issuer(ws, ISSUER, account=ws.signer("dev3"), base_url=f"{server.url}/{ISSUER}")


def accredit(ws: Workspace, directory: MemoryDirectory, profile: profiles.IssuerProfile) -> None:
    keys = profiles.issuer_public_keys(ws, profile.name)
    directory.accredit(
        profile.did,
        profile.account,
        [(bytes.fromhex(k["thumbprint"][2:]), k.get("created", 0), k.get("revoked")) for k in keys],
    )
    if profile.kind == "web":  # as `issuer register` does: its status lists anchored
        status_lists.publish_status_lists(ws, profile.name, directory=directory)


def check(
    ws: Workspace, presentation: str, directory: MemoryDirectory | None = None, **kw: Any
) -> verification.Verification:
    """Verify as a stranger would: a fresh resolver (no cached did.json), http allowed to 127.0.0.1 only."""
    args: dict[str, Any] = {"audience": "https://client.example", "nonce": "n-123"} | kw
    return verification.verify(
        None,
        presentation,
        resolver=verification.make_resolver(allow_insecure_localhost=True),
        directory=directory,
        now=ws.chain.next_timestamp(),
        allow_insecure_localhost=True,
        **args,
    )


def rejected(ws: Workspace, presentation: str, reason: str, **kw: Any) -> CredentialRejected:
    with pytest.raises(CredentialRejected) as info:
        check(ws, presentation, **kw)
    assert info.value.reason == reason, str(info.value)
    return info.value


def issue(ws: Workspace, **kw: Any) -> issuing.IssuedRecord:
    args: dict[str, Any] = {
        "holder": "dev2",
        "vct": "course",
        "claims": dict(CLAIMS),
        "valid_for": 86_400,
    } | kw
    return issuing.issue_credential_for(ws, ISSUER, **args)


def show(ws: Workspace, record: issuing.IssuedRecord, disclose: list[str], **kw: Any) -> str:
    args: dict[str, Any] = {"audience": "https://client.example", "nonce": "n-123"} | kw
    return wallet.present_credential(ws, "dev2", record.id, disclose=disclose, **args)


def test_did_web_paths() -> None:
    assert profiles.did_web_of("http://127.0.0.1:8765/university/") == (
        "did:web:127.0.0.1%3A8765:university",
        "http://127.0.0.1:8765/university",
    )
    assert profiles.did_web_of("https://Example.org") == ("did:web:example.org", "https://example.org")
    assert profiles.did_document_path("https://example.org") == [".well-known", "did.json"]
    assert profiles.did_document_path("https://example.org/a/b") == ["a", "b", "did.json"]
    assert profiles.base_url_of_did_web("did:web:example.org%3A8443:a:b") == "https://example.org:8443/a/b"
    for bad in ("http://example.org/x", "ftp://h/x", "https://h/a/../b", "https://h/x?y=1", "https://h/a//b"):
        with pytest.raises(InvalidInput):
            profiles.did_web_of(bad)


def test_round_trip_discloses_only_the_chosen_claims(ws: Workspace, issuer: profiles.IssuerProfile) -> None:
    assert issuer.did.startswith("did:web:127.0.0.1%3A") and issuer.did.endswith(":university")
    record = issue(ws)
    assert record.path == ws.data_dir / "wallet" / ws.address("dev2") / f"{record.id}.sdjwt"
    assert record.path.read_text() == record.sd_jwt and record.vct == issuing.VCT_COURSE_CERTIFICATE
    presentation = show(ws, record, ["course", "grade"])
    for hidden in ("Ada", "120", "student_name"):
        assert hidden not in presentation  # not even as a digest's input
    result = check(ws, presentation)
    assert result.claims == {"course": "Applied ML", "grade": "A"}
    assert result.issuer == issuer.did and result.vct == issuing.VCT_COURSE_CERTIFICATE
    assert result.status == "valid" and result.key_bound and result.accredited is None
    assert result.holder_address == ws.address("dev2") and result.id == record.id
    rejected(ws, presentation, "wrong-nonce", nonce="other")
    # https only unless told otherwise: the DID document is not fetched over plain http
    with pytest.raises(CredentialRejected) as info:
        verification.verify(
            ws, presentation, audience="https://client.example", nonce="n-123", resolver=None, directory=None
        )
    assert info.value.reason == "did-unavailable"
    rejected(ws, presentation, "wrong-audience", audience="https://evil.example")
    # a holder cannot show what the credential does not say, and nobody else can present it
    with pytest.raises(InvalidInput, match="no claim 'salary'"):
        show(ws, record, ["salary"])
    with pytest.raises(NotAllowed, match="bound to another key"):
        wallet.present_credential(ws, "dev4", str(record.path), disclose=["grade"], audience="a", nonce="n")


def test_revoke_suspend_reinstate(ws: Workspace, issuer: profiles.IssuerProfile) -> None:
    kept, record = issue(ws), issue(ws)
    presentation = show(ws, record, ["grade"])
    assert check(ws, presentation).status == "valid"
    assert status_lists.suspend(ws, ISSUER, record.id)["status"] == "suspended"
    rejected(ws, presentation, "suspended")
    status_lists.reinstate(ws, ISSUER, record.id)
    assert check(ws, presentation).status == "valid"
    status_lists.revoke(ws, ISSUER, record.id)
    rejected(ws, presentation, "revoked")
    with pytest.raises(NotAllowed, match="final"):
        status_lists.reinstate(ws, ISSUER, record.id)
    assert check(ws, show(ws, kept, ["grade"])).status == "valid"  # its neighbours are untouched
    statuses = {c["id"]: c["status"] for c in issuing.issued_credentials(ws, ISSUER)}
    assert statuses == {kept.id: "valid", record.id: "revoked"}


def test_registry_accreditation_keys_and_anchored_status(
    ws: Workspace, issuer: profiles.IssuerProfile
) -> None:
    directory = MemoryDirectory()
    record = issue(ws, directory=directory)
    presentation = show(ws, record, ["grade"])
    # not accredited: refused, whatever the signature
    rejected(ws, presentation, "unknown-issuer", directory=directory)
    accredit(ws, directory, issuer)
    result = check(ws, presentation, directory)
    assert result.accredited is True and result.issuer_address == issuer.account
    # a list the issuer never anchored could be an old one replayed: refused
    directory.anchors.clear()
    rejected(ws, presentation, "stale-status-list", directory=directory)
    # the registry does not know this key
    directory.keys.clear()
    rejected(ws, presentation, "key-not-registered", directory=directory)
    accredit(ws, directory, issuer)
    # a status change is anchored by the issuer's account...
    anchored_before = len(directory.anchored_by)
    status_lists.suspend(ws, ISSUER, record.id, directory=directory)
    assert directory.anchored_by[anchored_before:] == ["dev3"]
    rejected(ws, presentation, "suspended", directory=directory)
    # ...one that is not anchored leaves the served list stale in the registry's eyes
    status_lists.reinstate(ws, ISSUER, record.id)
    rejected(ws, presentation, "stale-status-list", directory=directory)
    assert check(ws, presentation).status == "valid"  # without the registry, the list is fresh
    status_lists.publish_status_lists(ws, ISSUER, directory=directory)
    assert check(ws, presentation, directory).status == "valid"


def test_key_rotation(ws: Workspace, issuer: profiles.IssuerProfile) -> None:
    old = issue(ws)
    rotated = profiles.rotate_key(ws, ISSUER)
    assert [k.fragment for k in rotated.keys] == ["key-1", "key-2"]
    assert rotated.keys[0].revoked is not None and rotated.keys[1].revoked is None
    new = issue(ws)
    header = json.loads(b64url_decode(new.sd_jwt.split(".", 1)[0]))
    assert header["kid"] == f"{issuer.did}#key-2"
    document = json.loads(httpx.get(f"{issuer.base_url}/did.json").text)
    assert [m["id"].split("#")[1] for m in document["verificationMethod"]] == ["key-1", "key-2"]
    assert "revoked" in document["verificationMethod"][0] and document["authentication"] == [
        f"{issuer.did}#key-2"
    ]
    directory = MemoryDirectory()
    accredit(ws, directory, rotated)
    for record in (old, new):
        assert check(ws, show(ws, record, ["course"]), directory).claims == {"course": "Applied ML"}
    # the registry retired key-1 before the old credential was issued: refused
    directory.keys = {k: (v[0], v[0]) if v[1] is not None else v for k, v in directory.keys.items()}
    rejected(ws, show(ws, old, ["course"]), "key-not-registered", directory=directory)


def test_random_status_indexes_and_private_files(ws: Workspace, issuer: profiles.IssuerProfile) -> None:
    records = [issue(ws) for _ in range(4)]
    indexes = [r.status.idx for r in records if r.status is not None]
    assert len(set(indexes)) == 4
    assert sorted(indexes) != list(range(min(indexes), min(indexes) + 4))  # not handed out in sequence
    record: dict[str, Any] = {"size": status_lists.STATUS_LIST_SIZE, "allocated": {}}
    drawn = [status_lists.allocate_index(record, f"c{i}") for i in range(300)]
    assert len(set(drawn)) == 300 and max(drawn) - min(drawn) > status_lists.STATUS_LIST_SIZE // 2
    assert sum(1 for a, b in itertools.pairwise(drawn) if b == a + 1) < 3

    base = ws.data_dir / "issuers" / ISSUER
    for private in [
        base / "profile.json",
        base / "keys" / "key-1.jwk",
        base / "status" / "1.json",
        base / "issued.json",
        records[0].path,
    ]:
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    for directory in [base, base / "keys", base / "status", records[0].path.parent]:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert "d" in json.loads((base / "keys" / "key-1.jwk").read_text())
    assert not list(base.rglob("*.tmp"))


def test_status_list_published_as_issued(ws: Workspace, issuer: profiles.IssuerProfile) -> None:
    record = issue(ws)
    assert record.status is not None
    status_lists.revoke(ws, ISSUER, record.id)
    token = httpx.get(record.status.uri).text
    assert httpx.get(record.status.uri).headers["content-type"] == "application/statuslist+jwt"
    resolver = verification.make_resolver(allow_insecure_localhost=True)
    lst = sl.verify_status_list_token(
        token, resolve_key=resolver.issuer_key, uri=record.status.uri, now=ws.chain.next_timestamp()
    )
    assert lst.size == 131_072 and lst.bits == 2 and lst.get(record.status.idx) == sl.INVALID


def test_server_is_read_only_and_confined(
    ws: Workspace, issuer: profiles.IssuerProfile, server: issuer_http.WebRootServer
) -> None:
    (ws.data_dir / "secret.txt").write_text("top secret")
    assert httpx.get(f"{server.url}/university/did.json").status_code == 200
    for path in [
        "/",
        "/university/",
        "/university/status",
        "/../../secret.txt",
        "/%2e%2e/%2e%2e/secret.txt",
        "/university/..%2f..%2f..%2fsecret.txt",
        "/nothing",
    ]:
        # urllib sends the path as written (httpx would normalise the dots away)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{server.url}{path}")
        assert info.value.code == 404, path
    assert httpx.post(f"{server.url}/university/did.json").status_code == 405
    (issuer.web_root / "leak").symlink_to(ws.data_dir / "secret.txt")
    assert httpx.get(f"{server.url}/leak").status_code == 404


def test_wallet_issuer_and_offline(ws: Workspace) -> None:
    profile = profiles.create_issuer(ws, "acme", account=ws.signer("dev1"))
    assert profile.did == f"did:pkh:eip155:{ws.chain_id}:{ws.address('dev1')}"
    record = issuing.issue_credential_for(
        ws, "acme", holder="dev2", vct="reference", claims={"rating": 5, "job": 7}, valid_for=None
    )
    with pytest.raises(NotAllowed, match="cannot be revoked"):
        status_lists.revoke(ws, "acme", record.id)
    presentation = wallet.present_credential(
        ws, "dev2", record.id, disclose=["rating"], audience="a", nonce="n"
    )
    result = verification.verify(
        ws, presentation, audience="a", nonce="n", resolver=None, directory=None, offline=True
    )
    assert result.claims == {"rating": 5} and result.status == "not-revocable" and result.accredited is None
    directory = MemoryDirectory()
    directory.accredit(profile.did, profile.account, [])
    online = verification.verify(
        ws, presentation, audience="a", nonce="n", resolver=None, directory=directory
    )
    assert online.accredited is True and online.vct == issuing.VCT_CLIENT_REFERENCE


def test_offline_did_web_needs_its_document(ws: Workspace, issuer: profiles.IssuerProfile) -> None:
    presentation = show(ws, issue(ws), ["grade"], audience="a", nonce="n")
    with pytest.raises(CredentialRejected) as info:
        verification.verify(
            ws, presentation, audience="a", nonce="n", resolver=None, directory=None, offline=True
        )
    assert info.value.reason == "offline-unresolvable"
    did, document = verification.load_did_document(issuer.web_root / "university" / "did.json")
    result = verification.verify(
        ws,
        presentation,
        audience="a",
        nonce="n",
        resolver=None,
        directory=None,
        offline=True,
        documents={did: document},
    )
    assert result.status == "unchecked" and result.claims == {"grade": "A"}
