"""Access to an asset's private files on the embedded chain: a download licence's holder gets the key
from the owner's node (in process and over the REST API) and the files, verified and decrypted; every
other case (an expired, revoked or surrendered licence, another account, a compute licence, a damaged
file, a replayed, expired or forged request) is refused with its code and writes nothing."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from eth_utils import to_checksum_address as to_checksum
from fastapi.testclient import TestClient

from proofwork.api.v1 import create_app
from proofwork.chain.asset_access import sign_key_request
from proofwork.domain.asset_access import KeyRequestRefused
from proofwork.domain.assets import build_manifest
from proofwork.domain.errors import ArtifactCorrupted, NotAllowed, NotFound
from proofwork.keys.asset_keys import encrypt_bytes, open_sealed_key
from proofwork.network.asset_keys import download_artifact
from proofwork.sdk import Signer
from proofwork.services import asset_access
from proofwork.services.assets import asset_key
from tests.conftest import chain_snapshot
from tests.integration.conftest import DAY, Market, _deployed

SECRET = b"id,diagnosis\n" + b"1,private row that must not leak\n" * 40_000  # ~1.3 MB: two 1 MiB chunks
NOTES = b"labelled by three annotators\n"


@pytest.fixture(scope="module")
def access_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with _deployed(None, "embedded", tmp_path_factory) as market:
        market.pw.assets.deploy("dev0")
        yield market


@pytest.fixture
def am(access_market: Market) -> Iterator[Market]:
    with chain_snapshot(access_market.pw.ws.chain.web3):
        yield access_market


@dataclass
class Sold:
    asset_id: int
    manifest: str
    licence_id: int
    owner: Signer
    holder: Signer


def _files(tmp_path: Path) -> list[Path]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "records.csv").write_bytes(SECRET)
    (src / "README.txt").write_bytes(NOTES)
    return [src / "records.csv", src / "README.txt"]


def _sell(
    am: Market, tmp_path: Path, *, kind: str = "download", encrypt: bool = True, days: int = 30
) -> Sold:
    assets = am.pw.assets
    owner, holder = am.freelancer, am.client
    manifest, key = assets.manifest(
        _files(tmp_path), kind="dataset", name="clinic", license="CC-BY-NC-4.0", encrypt=encrypt
    )
    done = assets.register(owner, manifest, key=key)
    offer_id = assets.offer(
        owner, done.asset_id, price=am.pw.amount("12"), term_seconds=days * DAY, kind=kind, revocable=True
    )
    return Sold(done.asset_id, done.manifest_cid, assets.buy(holder, offer_id), owner, holder)


def _out(tmp_path: Path, name: str = "out") -> Path:
    out = tmp_path / name
    out.mkdir()
    return out


def _refused(am: Market, sold: Sold, out: Path, code: str, holder: Signer | None = None) -> KeyRequestRefused:
    with pytest.raises(KeyRequestRefused) as refused:
        am.pw.assets.get(holder or sold.holder, sold.licence_id, out)
    assert refused.value.reason == code, refused.value
    assert "\n" not in str(refused.value)
    assert list(out.iterdir()) == []
    return refused.value


def test_the_holder_gets_the_key_and_the_files_decrypted_and_verified(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path)
    out = _out(tmp_path)
    done = am.pw.assets.get(sold.holder, sold.licence_id, out)
    assert done.encrypted and done.asset_id == sold.asset_id
    assert (out / "records.csv").read_bytes() == SECRET and (out / "README.txt").read_bytes() == NOTES
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "records.csv"]  # no staging left
    # what was stored is ciphertext only
    manifest = am.pw.assets.show(sold.asset_id)[1]
    assert manifest is not None
    stored = am.pw.ws.store.read_bytes(manifest.files[0].cid, 2 << 20)
    assert b"private row" not in stored and hashlib.sha256(SECRET).hexdigest() == manifest.files[0].sha256


def test_the_sealed_key_opens_only_with_the_holders_key(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path)
    ws = am.pw.ws
    request, signature = asset_access.key_request(ws, sold.holder, sold.licence_id)
    released = am.pw.assets.release_key(request, signature)
    assert released.holder == sold.holder.address and released.sealed_key is not None
    assert open_sealed_key(released.sealed_key, sold.holder.key) == asset_key(ws, sold.manifest)
    with pytest.raises(NotAllowed, match="not sealed to"):
        open_sealed_key(released.sealed_key, sold.owner.key)


def test_an_expired_licence_gets_no_key(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path, days=1)
    am.pw.advance_time(2 * DAY)
    assert "expired" in str(_refused(am, sold, _out(tmp_path), "licence_expired"))
    # the owner's node refuses too, whatever the holder's side says
    request, signature = asset_access.key_request(am.pw.ws, sold.holder, sold.licence_id)
    with pytest.raises(KeyRequestRefused, match="expired"):
        asset_access.release_key(am.pw.ws, request, signature)


def test_a_revoked_licence_gets_no_key(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path)
    am.pw.ws.licensing.revoke(sold.owner.key, sold.licence_id, "")
    _refused(am, sold, _out(tmp_path), "licence_revoked")


def test_a_surrendered_licence_gets_no_key(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path)
    am.pw.ws.licensing.surrender(sold.holder.key, sold.licence_id)
    _refused(am, sold, _out(tmp_path), "licence_surrendered")


def test_another_account_gets_no_key_even_with_the_licence_id(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path)
    _refused(am, sold, _out(tmp_path), "not_licence_holder", holder=am.other)
    # signed by the other account and sent straight to the owner's node: refused there as well
    request, signature = asset_access.key_request(am.pw.ws, am.other, sold.licence_id)
    with pytest.raises(KeyRequestRefused) as refused:
        asset_access.release_key(am.pw.ws, request, signature)
    assert refused.value.reason == "not_licence_holder"


def test_a_compute_licence_never_releases_the_data(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path, kind="compute")
    refusal = _refused(am, sold, _out(tmp_path), "compute_only")
    assert "a compute licence never releases the data" in str(refusal)
    request, signature = asset_access.key_request(am.pw.ws, sold.holder, sold.licence_id)
    with pytest.raises(KeyRequestRefused, match="compute licence never releases"):
        asset_access.release_key(am.pw.ws, request, signature)


def test_a_damaged_block_in_the_store_is_refused_and_nothing_is_written(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path)
    manifest = am.pw.assets.show(sold.asset_id)[1]
    assert manifest is not None
    block = am.pw.ws.store._block_path(manifest.files[1].cid)  # type: ignore[attr-defined]
    original = block.read_bytes()
    block.write_bytes(bytes([original[0] ^ 1]) + original[1:])
    try:
        out = _out(tmp_path)
        with pytest.raises(ArtifactCorrupted) as damaged:
            am.pw.assets.get(sold.holder, sold.licence_id, out)
        assert "\n" not in str(damaged.value)
        assert list(out.iterdir()) == []  # not even the first file, which was fine
    finally:
        block.write_bytes(original)


def test_a_tampered_encrypted_file_fails_its_tag_and_nothing_is_written(am: Market, tmp_path: Path) -> None:
    """The owner's own manifest names a changed ciphertext (its CID is right, its content is not what
    was encrypted): AES-GCM refuses the changed chunk."""
    pw = am.pw
    key = bytes(range(32))
    sealed = bytearray(encrypt_bytes(key, SECRET))
    sealed[-100] ^= 0x40
    cid = pw.ws.store.add_bytes(bytes(sealed))
    from proofwork.domain.assets import AssetFile

    manifest = build_manifest(
        "dataset",
        "tampered",
        [AssetFile("records.csv", cid, hashlib.sha256(SECRET).hexdigest(), len(SECRET), True)],
        license="MIT",
    )
    done = pw.assets.register(am.freelancer, manifest, key=key)
    offer_id = pw.assets.offer(am.freelancer, done.asset_id, price=1)
    licence_id = pw.assets.buy(am.client, offer_id)
    out = _out(tmp_path)
    with pytest.raises(ArtifactCorrupted, match="fails its check") as damaged:
        pw.assets.get(am.client, licence_id, out)
    assert "records.csv" in str(damaged.value) and "\n" not in str(damaged.value)
    assert list(out.iterdir()) == []


def test_replayed_expired_and_forged_requests_are_refused(am: Market, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path)
    ws = am.pw.ws
    request, signature = asset_access.key_request(ws, sold.holder, sold.licence_id)
    asset_access.release_key(ws, request, signature)
    with pytest.raises(KeyRequestRefused) as replayed:
        asset_access.release_key(ws, request, signature)
    assert replayed.value.reason == "key_request_replayed"

    def reason(request: object, signature: bytes, now: int | None = None) -> str:
        with pytest.raises(KeyRequestRefused) as refused:
            asset_access.release_key(ws, request, signature, now=now)  # type: ignore[arg-type]
        return refused.value.reason

    old, old_sig = asset_access.key_request(ws, sold.holder, sold.licence_id, now=1_000_000)
    assert reason(old, old_sig) == "key_request_expired"
    fresh, fresh_sig = asset_access.key_request(ws, sold.holder, sold.licence_id)
    assert reason(fresh, fresh_sig, now=fresh.expires_at + 1) == "key_request_expired"

    def variant(**changes: object) -> tuple[object, bytes]:
        changed = replace(fresh, nonce=os.urandom(32), **changes)  # type: ignore[arg-type]
        return changed, sign_key_request(changed, sold.holder.key)

    assert reason(*variant(expires_at=fresh.expires_at + 3600)) == "key_request_expired"
    assert reason(*variant(chain_id=fresh.chain_id + 1)) == "key_request_wrong_chain"
    assert reason(*variant(manifest=ws.store.add_bytes(b"not the manifest"))) == "wrong_asset"
    assert reason(*variant(asset_id=sold.asset_id + 1)) == "wrong_asset"
    assert reason(*variant(licence_id=99)) == "licence_not_found"
    assert reason(fresh, fresh_sig[:-1] + bytes([5])) == "bad_signature"  # v neither 27 nor 28
    # the signature of other fields recovers another address, which holds no licence
    assert reason(replace(fresh, nonce=os.urandom(32)), fresh_sig) == "not_licence_holder"
    # the fresh request itself, untouched, is answered once
    assert asset_access.release_key(ws, fresh, fresh_sig).sealed_key is not None
    assert reason(fresh, fresh_sig) == "key_request_replayed"


def test_a_node_that_no_longer_owns_the_asset_releases_nothing(am: Market, tmp_path: Path) -> None:
    """The asset token was sold to an account this node has no key for: its key is the new owner's to give."""
    sold = _sell(am, tmp_path)
    ws = am.pw.ws
    elsewhere = "0x" + "77" * 20
    registry = ws.asset_registry
    ws.chain.transact(
        sold.owner.key,
        registry.contract.functions.transferFrom(sold.owner.address, to_checksum(elsewhere), sold.asset_id),
    )
    assert registry.asset(sold.asset_id).owner.lower() == elsewhere
    request, signature = asset_access.key_request(ws, sold.holder, sold.licence_id)
    with pytest.raises(KeyRequestRefused) as refused:
        asset_access.release_key(ws, request, signature)
    assert refused.value.reason == "not_asset_owner" and "ask its owner's node" in str(refused.value)


# --- over the REST API: the owner's node serves `POST /api/v1/asset-keys` -----------------------------


@pytest.fixture
def node(am: Market) -> TestClient:
    settings = replace(am.pw.ws.settings, api_rate_limit=100_000, api_domain="testserver")
    return TestClient(create_app(settings, am.pw.ws))


def _post(node: TestClient, request: object, signature: bytes) -> tuple[int, dict]:  # type: ignore[type-arg]
    answer = node.post(
        "/api/v1/asset-keys",
        json={"request": request.to_json(), "signature": "0x" + signature.hex()},  # type: ignore[attr-defined]
    )
    return answer.status_code, answer.json()


def test_the_owners_node_serves_the_key_over_http(am: Market, node: TestClient, tmp_path: Path) -> None:
    sold = _sell(am, tmp_path)
    out = _out(tmp_path)
    done = am.pw.assets.get(sold.holder, sold.licence_id, out, node="http://testserver", http=node)
    assert done.encrypted and (out / "records.csv").read_bytes() == SECRET

    request, signature = asset_access.key_request(am.pw.ws, sold.holder, sold.licence_id)
    status, body = _post(node, request, signature)
    assert status == 200 and body["holder"] == sold.holder.address and body["encrypted"] is True
    key = open_sealed_key(base64.b64decode(body["sealed_key"]), sold.holder.key)
    assert key == asset_key(am.pw.ws, sold.manifest)
    status, body = _post(node, request, signature)
    assert (status, body["error"]["code"]) == (409, "key_request_replayed")

    typed = node.post("/api/v1/asset-keys/typed-data", json=request.to_json())
    assert typed.status_code == 200
    assert typed.json()["typed_data"]["primaryType"] == "AssetKeyRequest"


def test_the_owners_node_refuses_with_stable_codes(am: Market, node: TestClient, tmp_path: Path) -> None:
    ws = am.pw.ws
    compute = _sell(am, tmp_path, kind="compute")
    request, signature = asset_access.key_request(ws, compute.holder, compute.licence_id)
    status, body = _post(node, request, signature)
    assert (status, body["error"]["code"]) == (403, "compute_only")
    assert "a compute licence never releases the data" in body["error"]["message"]
    status, body = _post(node, request, signature)
    assert (status, body["error"]["code"]) == (409, "key_request_replayed")

    sold = _sell(am, tmp_path)
    request, signature = asset_access.key_request(ws, am.other, sold.licence_id)
    assert _post(node, request, signature) == (
        403,
        {"error": {"code": "not_licence_holder", "message": _post_message(ws, sold, am.other)}},
    )
    ws.licensing.revoke(sold.owner.key, sold.licence_id, "")
    request, signature = asset_access.key_request(ws, sold.holder, sold.licence_id)
    status, body = _post(node, request, signature)
    assert (status, body["error"]["code"]) == (403, "licence_revoked")

    request, signature = asset_access.key_request(ws, sold.holder, sold.licence_id)
    status, body = _post(node, request, bytes(65))
    assert (status, body["error"]["code"]) == (401, "bad_signature")
    # the schema's bounds: unknown fields, strings for numbers, a short signature, a huge body
    good = {"request": request.to_json(), "signature": "0x" + signature.hex()}
    for bad in (
        {**good, "extra": 1},
        {**good, "signature": "0x1234"},
        {**good, "request": {**request.to_json(), "licence_id": str(request.licence_id)}},
        {**good, "request": {**request.to_json(), "nonce": "0x" + "AB" * 32}},
    ):
        answer = node.post("/api/v1/asset-keys", json=bad)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "validation_error", bad
    huge = node.post(
        "/api/v1/asset-keys",
        content=b'{"x": "' + b"a" * 300_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413


def _post_message(ws: object, sold: Sold, other: Signer) -> str:
    return f"licence {sold.licence_id} is held by {sold.holder.address}, not by {other.address}"


def test_files_missing_from_the_local_store_come_from_the_owners_node_checked(
    am: Market, node: TestClient, tmp_path: Path
) -> None:
    cid = am.pw.ws.store.add_bytes(SECRET)
    got = download_artifact("http://testserver", cid, tmp_path / "a", len(SECRET), client=node)
    assert got.read_bytes() == SECRET
    with pytest.raises(ArtifactCorrupted, match="larger than its manifest"):
        download_artifact("http://testserver", cid, tmp_path / "b", len(SECRET) - 1, client=node)
    unknown = am.pw.ws.store.add_bytes(b"x")
    am.pw.ws.store._block_path(unknown).unlink()  # type: ignore[attr-defined]
    with pytest.raises(NotFound, match="neither this store nor the owner's node"):
        download_artifact("http://testserver", unknown, tmp_path / "c", 10, client=node)
    # a node that answers other bytes for the CID
    lying = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200, content=b"other bytes")))
    with pytest.raises(ArtifactCorrupted, match="do not hash to it"):
        download_artifact("http://node.example", cid, tmp_path / "d", len(SECRET), client=lying)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
