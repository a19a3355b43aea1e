"""Access to an asset's private files: the owner's node releases the asset key to a licence holder, and
`get` downloads, verifies and decrypts the files for the holder.

Release (`release_key`, on the owner's node: `POST /api/v1/asset-keys`, or in process when the owner's
data directory is the holder's): the holder signs a bounded `KeyRequest` (EIP-712: chain, `Licensing`
contract, licence, asset, manifest, expiry at most 10 minutes ahead, a random nonce used once). The node
checks the chain, never the requester's word: the licence exists and its token is held by the signer,
`is_valid` (not expired, not revoked), its offer is a download licence of that asset, the request names
the asset's registered manifest, and the asset's owner is an account of this node; then it seals the
asset key to the public key recovered from the signature, so the answer is useless to anyone else.
Anything else is a `KeyRequestRefused` with a stable code. Only the owner's node releases keys: the
oracle committee does not hold asset keys (not built).

Get (`get`): the same licence checks on the holder's side first (a plain asset needs a valid download
licence too: its files are in a public store, but `get` keeps to the licence), then the key when the
asset is encrypted, then each file from the store (or from the owner's node by CID), checked against its
CID, decrypted (AES-256-GCM: a changed chunk fails its tag) and checked against the manifest's sha256
and size. Files are staged in a hidden directory beside the output and moved into place only when every
one has passed: a refusal or a damaged file leaves nothing behind. The manifest names the files (its
owner chooses the names: `.bashrc` is a plain file name), so `get` never replaces what the output
directory holds: a file, link or directory of that name refuses the download, unless it is a file
holding exactly that content already (a repeated `get`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofwork.domain.asset_access import (
    DEFAULT_LIFETIME,
    MAX_LIFETIME,
    NONCE_SIZE,
    KeyRequest,
    KeyRequestRefused,
    check_fresh,
    check_same,
)
from proofwork.domain.assets import AssetFile, AssetManifest
from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotFound
from proofwork.keys.asset_keys import (
    MIN_CHUNK_SHIFT,
    decrypt_stream,
    encrypted_size,
    open_sealed_key,
    seal_key_for,
)
from proofwork.services.assets import COMPUTE, asset_key, read_manifest
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    import httpx

    from proofwork.chain.assets import AssetRecord, Licence


@dataclass(frozen=True)
class Released:
    """What the owner's node answers: the asset key sealed to the holder (None for a plain asset)."""

    licence_id: int
    asset_id: int
    manifest: str
    holder: str
    sealed_key: bytes | None


@dataclass(frozen=True)
class Downloaded:
    licence_id: int
    asset_id: int
    manifest: str
    encrypted: bool
    files: tuple[Path, ...]


def _used_requests_path(ws: Workspace) -> Path:
    return ws.data_dir / "asset-access" / "used-requests.sqlite3"


# ---------------------------------------------------------------- the licence, checked on chain


def check_licence(
    ws: Workspace, licence_id: int, holder: str, asset_id: int | None = None
) -> tuple[Licence, AssetRecord]:
    """The licence and its asset, if `holder` holds a valid download licence (of `asset_id` when given)."""
    try:
        lic = ws.licensing.licence(licence_id)
    except NotFound:
        raise KeyRequestRefused("licence_not_found", f"no licence {licence_id}") from None
    if not lic.holder:
        raise KeyRequestRefused(
            "licence_surrendered", f"licence {licence_id} was surrendered: it gives no access"
        )
    if lic.holder.lower() != holder.lower():
        raise KeyRequestRefused(
            "not_licence_holder", f"licence {licence_id} is held by {lic.holder}, not by {holder}"
        )
    if lic.revoked:
        raise KeyRequestRefused(
            "licence_revoked", f"licence {licence_id} was revoked by the asset's owner: no key is released"
        )
    if not lic.valid:
        raise KeyRequestRefused(
            "licence_expired",
            f"licence {licence_id} expired at {lic.expires_at} (chain time): no key is released",
        )
    offer = ws.licensing.get_offer(lic.offer_id)
    if offer.asset_id != lic.asset_id or (asset_id is not None and lic.asset_id != asset_id):
        raise KeyRequestRefused(
            "wrong_asset", f"licence {licence_id} is for asset {lic.asset_id}, not asset {asset_id}"
        )
    if lic.kind == COMPUTE or offer.kind == COMPUTE:
        raise KeyRequestRefused(
            "compute_only",
            f"licence {licence_id} is a compute licence: a compute licence never releases the data",
        )
    return lic, ws.asset_registry.asset(lic.asset_id)


# ---------------------------------------------------------------- the holder's request


def key_request(
    ws: Workspace,
    holder: Signer,
    licence_id: int,
    *,
    lifetime: int = DEFAULT_LIFETIME,
    now: int | None = None,
) -> tuple[KeyRequest, bytes]:
    """A fresh request for the key of the licence's asset, signed by the holder: (request, signature)."""
    from proofwork.chain.asset_access import sign_key_request

    if not 0 < lifetime <= MAX_LIFETIME:
        raise InvalidInput(f"a key request is valid for 1 to {MAX_LIFETIME} seconds")
    lic = ws.licensing.licence(licence_id)
    record = ws.asset_registry.asset(lic.asset_id)
    request = KeyRequest(
        ws.chain_id,
        ws.licensing.address,
        licence_id,
        lic.asset_id,
        record.manifest,
        (int(time.time()) if now is None else now) + lifetime,
        secrets.token_bytes(NONCE_SIZE),
    )
    return request, sign_key_request(request, holder.key)


# ---------------------------------------------------------------- the owner's node


def release_key(ws: Workspace, request: KeyRequest, signature: bytes, *, now: int | None = None) -> Released:
    """The owner's node's answer to a signed key request (see the module doc); KeyRequestRefused else."""
    from proofwork.chain.asset_access import recover_key_request
    from proofwork.db.key_requests import UsedKeyRequests

    now = int(time.time()) if now is None else now
    check_same(request, ws.chain_id, ws.licensing.address)
    check_fresh(request, now)
    signer = recover_key_request(request, signature)
    if signer is None:
        raise KeyRequestRefused("bad_signature", "the key request's signature is not a valid signature")
    address, public_key = signer
    used = UsedKeyRequests(_used_requests_path(ws))
    try:
        if not used.use(address, request.nonce, request.expires_at, now):
            raise KeyRequestRefused(
                "key_request_replayed", "this signed key request was answered before: sign a new one"
            )
    finally:
        used.close()
    lic, record = check_licence(ws, request.licence_id, address, request.asset_id)
    if record.manifest != request.manifest:
        raise KeyRequestRefused(
            "wrong_asset", f"asset {record.asset_id}'s manifest is {record.manifest}, not {request.manifest}"
        )
    if ws.name_of(record.owner) is None:
        raise KeyRequestRefused(
            "not_asset_owner",
            f"asset {record.asset_id} belongs to {record.owner}, not to an account of this node: ask its owner's node",
        )
    manifest = read_manifest(ws, record.manifest)
    if not manifest.encrypted:
        return Released(lic.licence_id, record.asset_id, record.manifest, address, None)
    try:
        key = asset_key(ws, record.manifest)
    except NotFound:
        raise KeyRequestRefused(
            "asset_key_missing",
            f"this node holds no key for asset {record.asset_id} (manifest {record.manifest})",
        ) from None
    return Released(lic.licence_id, record.asset_id, record.manifest, address, seal_key_for(key, public_key))


# ---------------------------------------------------------------- the holder's download


def get(
    ws: Workspace,
    holder: Signer,
    licence_id: int,
    out_dir: Path,
    *,
    node: str | None = None,
    http: httpx.Client | None = None,
) -> Downloaded:
    """Downloads, verifies and decrypts the licence's asset into `out_dir` (see the module doc). Without
    `node`, this workspace is the owner's node (the key is released in process)."""
    out_dir = Path(out_dir).expanduser()
    if not out_dir.is_dir():
        raise InvalidInput(f"cannot write into {out_dir}: no such directory")
    lic, record = check_licence(ws, licence_id, holder.address)
    manifest = _manifest(ws, record.manifest, node, http)
    key = None
    if manifest.encrypted:
        request, signature = key_request(ws, holder, licence_id)
        if node is None:
            sealed = release_key(ws, request, signature).sealed_key
        else:
            from proofwork.network.asset_keys import request_sealed_key

            sealed = request_sealed_key(node, request.to_json(), signature, client=http)
        if sealed is None:
            raise ArtifactCorrupted("the owner's node sent no key for an encrypted asset")
        key = open_sealed_key(sealed, holder.key)
    written: list[Path] = []
    try:
        with tempfile.TemporaryDirectory(prefix=".proofwork-get-", dir=out_dir) as staging:
            staged = [
                _fetch_file(ws, f, key, Path(staging) / str(i), node, http)
                for i, f in enumerate(manifest.files)
            ]
            for f in manifest.files:
                _check_free(out_dir / f.name, f)
            for path, f in zip(staged, manifest.files, strict=True):
                target = out_dir / f.name
                os.replace(path, target)
                written.append(target)
            _fsync_dir(out_dir)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write into {out_dir}: {exc.strerror or exc.__class__.__name__}"
            + (f" ({len(written)} of {len(manifest.files)} files were written)" if written else "")
        ) from None
    return Downloaded(licence_id, lic.asset_id, record.manifest, manifest.encrypted, tuple(written))


def _check_free(target: Path, f: AssetFile) -> None:
    """`target` does not exist, or is a plain file holding exactly `f`'s content; InvalidInput otherwise."""
    if not os.path.lexists(target):
        return
    if not target.is_symlink() and target.is_file() and target.stat().st_size == f.size:
        with target.open("rb") as existing:
            if hashlib.file_digest(existing, "sha256").hexdigest() == f.sha256:
                return
    if target.is_symlink():
        what = "a link"
    elif target.is_dir():
        what = "a directory"
    else:
        what = "a file of other content"
    raise InvalidInput(
        f"cannot write {target}: it is {what}; nothing was written "
        "(move it away or choose another --out directory)"
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _manifest(ws: Workspace, cid: str, node: str | None, http: httpx.Client | None) -> AssetManifest:
    if node is not None and not ws.store.has(cid):
        from proofwork.network.asset_keys import download_artifact
        from proofwork.services.assets import MAX_MANIFEST_BYTES

        with tempfile.TemporaryDirectory() as tmp:
            path = download_artifact(node, cid, Path(tmp) / "manifest.json", MAX_MANIFEST_BYTES, client=http)
            ws.store.add_file(path)
    return read_manifest(ws, cid)


def _fetch_file(
    ws: Workspace, f: AssetFile, key: bytes | None, stem: Path, node: str | None, http: httpx.Client | None
) -> Path:
    """One file of the asset, checked and decrypted beside `stem` (one stem per file: two files of one
    manifest may have the same CID)."""
    stored_size = encrypted_size(f.size, chunk_shift=MIN_CHUNK_SHIFT) if f.encrypted else f.size
    source = stem.with_suffix(".stored")
    if node is not None and not ws.store.has(f.cid):
        from proofwork.network.asset_keys import download_artifact

        download_artifact(node, f.cid, source, stored_size, client=http)
    else:
        ws.store.get(f.cid, source, max_bytes=stored_size)  # every block checked against its CID
    plain = stem.with_suffix(".plain")
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as stream, plain.open("wb") as out:
        chunks: Iterator[bytes]
        if f.encrypted:
            if key is None:
                raise ArtifactCorrupted(f"{f.name} is encrypted but the asset has no key")
            chunks = decrypt_stream(key, stream)
        else:
            chunks = iter(lambda: stream.read(1 << 20), b"")
        try:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        except ArtifactCorrupted as exc:
            raise ArtifactCorrupted(f"{f.name}: {exc}; nothing was written") from None
        out.flush()
        os.fsync(out.fileno())  # on disk before it is renamed into place
    source.unlink()
    if size != f.size or digest.hexdigest() != f.sha256:
        raise ArtifactCorrupted(
            f"{f.name} does not match the manifest's sha256 and size: refused, nothing was written"
        )
    return plain


def describe(done: Downloaded) -> dict[str, Any]:
    return {
        "licence_id": done.licence_id,
        "asset_id": done.asset_id,
        "manifest": done.manifest,
        "encrypted": done.encrypted,
        "files": [str(p) for p in done.files],
    }
