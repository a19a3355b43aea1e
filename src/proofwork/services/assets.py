"""Models and datasets as assets: files stored by CID (encrypted with a key per asset when private),
a manifest, registration on the `AssetRegistry` (timestamps, lineage, a paid job's deliverable with the
job's IP terms), the lineage as W3C PROV-JSON, and licences bought on `Licensing` with the royalties
they pay up the lineage."""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofwork.domain import job as J
from proofwork.domain.addresses import parse_address
from proofwork.domain.assets import (
    AssetFile,
    AssetKind,
    AssetManifest,
    Flow,
    LineageNode,
    Parent,
    Share,
    build_manifest,
    check_terms,
    flow_through_lineage,
    parse_manifest,
)
from proofwork.domain.cards import card_format, card_text
from proofwork.domain.errors import InvalidInput, NotAllowed, NotFound
from proofwork.domain.provenance import LineageAsset, lineage_prov_json
from proofwork.keys.asset_keys import encrypt_stream, new_asset_key
from proofwork.services.asset_cards import CardChoice, CardContext, with_card
from proofwork.services.deployment import DeployResult, deploy_assets
from proofwork.services.workspace import Signer, Workspace
from proofwork.storage.files import save_json
from proofwork.storage.store import write_atomically
from proofwork.storage.unixfs import cid_of_bytes

if TYPE_CHECKING:
    from proofwork.chain.assets import AssetRecord, Licence, Offer

MAX_MANIFEST_BYTES = 1 << 20
DOWNLOAD, COMPUTE = 0, 1
KINDS_OF_LICENCE = {"download": DOWNLOAD, "compute": COMPUTE}


@dataclass(frozen=True)
class Registered:
    asset_id: int
    manifest_cid: str
    manifest: AssetManifest
    gas: int


def deploy(ws: Workspace, deployer: Signer, *, force: bool = False) -> DeployResult:
    return deploy_assets(ws, deployer, force=force)


# ---------------------------------------------------------------- files and manifests


def _keys_dir(ws: Workspace) -> Path:
    return ws.data_dir / "asset-keys"


def store_files(
    ws: Workspace, paths: Sequence[Path], *, encrypt: bool
) -> tuple[list[AssetFile], bytes | None]:
    """Stores each file by CID: as it is, or encrypted (AES-256-GCM) under one new key for the asset,
    returned with the files (the manifest names the ciphertext's CID and the plaintext's sha256)."""
    if not paths:
        raise InvalidInput("an asset has at least one file")
    key = new_asset_key() if encrypt else None
    files = []
    for path in paths:
        if not path.is_file():
            raise InvalidInput(f"no file {path}")
        if key is None:
            files.append(AssetFile(path.name, ws.store.add_file(path), _sha256(path), path.stat().st_size))
            continue
        with tempfile.TemporaryDirectory() as tmp, path.open("rb") as source:
            sealed = write_atomically(Path(tmp) / "sealed", encrypt_stream(key, source))
            files.append(
                AssetFile(path.name, ws.store.add_file(sealed), _sha256(path), path.stat().st_size, True)
            )
    return files, key


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def publish_manifest(ws: Workspace, manifest: AssetManifest) -> str:
    return ws.store.add_bytes(manifest.canonical_bytes())


def read_manifest(ws: Workspace, cid: str) -> AssetManifest:
    """A manifest from the store, checked as anything received from another party."""
    return parse_manifest(ws.store.read_bytes(cid, MAX_MANIFEST_BYTES))


def _keep_key(ws: Workspace, manifest_cid: str, key: bytes | None) -> None:
    """The owner's copy of an asset's file key (0600, beside the keystore), by manifest CID."""
    if key is not None:
        save_json(_keys_dir(ws) / f"{manifest_cid}.json", {"manifest": manifest_cid, "key": key.hex()})


def asset_key(ws: Workspace, manifest_cid: str) -> bytes:
    path = _keys_dir(ws) / f"{manifest_cid}.json"
    if not path.exists():
        raise NotFound(f"this data directory holds no key for the asset with manifest {manifest_cid}")
    return bytes.fromhex(json.loads(path.read_text())["key"])


# ---------------------------------------------------------------- registration


def timestamp(ws: Workspace, signer: Signer, manifest_cid: str) -> tuple[bytes, int]:
    """Proves that `manifest_cid` existed now without publishing it: timestamps a salted commitment
    (the salt stays in this data directory until `register` uses it). Returns (salt, block time)."""
    from proofwork.chain.assets import commitment

    salt = secrets.token_bytes(32)
    registry = ws.asset_registry
    hashed = commitment(manifest_cid, salt, signer.address)
    registry.timestamp(signer.key, hashed)
    save_json(
        ws.data_dir / "asset-timestamps" / f"{manifest_cid}.json", {"salt": salt.hex(), "by": signer.address}
    )
    return salt, registry.timestamp_of(signer.address, hashed)


def _timestamped(ws: Workspace, manifest: AssetManifest, signer: Signer) -> bool:
    """Whether this data directory timestamped exactly `manifest` for `signer` (a card added now
    would change its CID and lose the proof)."""
    return _saved_salt(ws, cid_of_bytes(manifest.canonical_bytes()), signer) is not None


def _saved_salt(ws: Workspace, manifest_cid: str, signer: Signer) -> bytes | None:
    path = ws.data_dir / "asset-timestamps" / f"{manifest_cid}.json"
    if not path.exists():
        return None
    saved = json.loads(path.read_text())
    return bytes.fromhex(saved["salt"]) if saved.get("by", "").lower() == signer.address.lower() else None


def _check_parents_exist(ws: Workspace, parents: Sequence[Parent]) -> None:
    count = ws.asset_registry.count() if parents else 0
    for parent in parents:
        if parent.asset_id > count:
            raise NotFound(f"no asset {parent.asset_id} to derive from")


def register(
    ws: Workspace,
    owner: Signer,
    manifest: AssetManifest,
    *,
    creators: Sequence[Share] = (),
    parents: Sequence[Parent] = (),
    royalty_bps: int = 0,
    key: bytes | None = None,
    to: str | None = None,
    card: CardChoice = True,
    sources: Sequence[Path] = (),
    card_creators: Sequence[str] = (),
) -> Registered:
    """Publishes the manifest and registers the asset (minted to `to`, else the signer). A timestamp
    this data directory made for the same manifest is used as its proof of earlier existence.

    `card`: True generates the manifest's card unless it holds one (`asset_cards`: a dataset's CSV
    columns are read from `sources`, the plaintext files), a mapping is the card to use (checked),
    False leaves the manifest without one; `card_creators` names the creators a generated card lists
    (default: the owner and the creators registered)."""
    check_terms(creators, parents, royalty_bps)
    registry = ws.asset_registry
    _check_parents_exist(ws, parents)
    owner_address = parse_address(to, "owner") if to else owner.address
    manifest = with_card(
        ws,
        manifest,
        card,
        CardContext(card_creators or [owner_address, *(c.account for c in creators)], parents, sources),
        skip=_timestamped(ws, manifest, owner),
    )
    cid = publish_manifest(ws, manifest)
    _keep_key(ws, cid, key)
    salt = _saved_salt(ws, cid, owner)
    receipt = registry.register(
        owner.key,
        cid,
        int(manifest.kind),
        tuple(creators),
        tuple(parents),
        royalty_bps,
        owner_address,
        salt or bytes(32),
    )
    return Registered(registry.asset_id_of(receipt), cid, manifest, receipt.gas_used)


def show(ws: Workspace, asset_id: int) -> tuple[AssetRecord, AssetManifest | None]:
    """The asset's record and its manifest (None when the store does not have it)."""
    record = ws.asset_registry.asset(asset_id)
    manifest = read_manifest(ws, record.manifest) if ws.store.has(record.manifest) else None
    return record, manifest


def card(ws: Workspace, asset_id: int, output: str | None = None) -> str:
    """The asset's card as its readers take it: Croissant JSON-LD, or the model's README.md
    (`output`: "croissant" or "hf-readme"; by default, whichever the card is)."""
    record, manifest = show(ws, asset_id)
    if manifest is None:
        raise NotFound(f"the manifest of asset {asset_id} ({record.manifest}) is not in this store")
    if manifest.card is None:
        raise NotFound(f"asset {asset_id} has no card")
    return card_text(manifest.card, output, url=f"ipfs://{record.manifest}")


# ---------------------------------------------------------------- IP terms and deliverables


def _job(ws: Workspace, job_id: int) -> J.Job:
    from proofwork.services.jobs import Jobs

    return Jobs(ws).get(job_id)


def propose_ip_terms(
    ws: Workspace, client: Signer, job_id: int, *, transfer: bool, creator_bps: int, max_upstream_bps: int
) -> None:
    """The client states that the job's deliverables pass to them on payment (or not), with the
    freelancer's creator share and the cap on what a deliverable may pass upstream."""
    from proofwork.chain.encoding import job_tuple

    if creator_bps and not transfer:
        raise InvalidInput(
            "a creator share is for rights that pass to the client: the freelancer keeps them all"
        )
    job = _job(ws, job_id)
    if client.address.lower() != job.client.lower():
        raise NotAllowed(f"only the job's client ({job.client}) proposes its IP terms")
    # without a transfer the freelancer owns the deliverable outright: no shares, no cap
    ws.asset_registry.propose_ip_terms(
        client.key, job_id, job_tuple(job), transfer, creator_bps, max_upstream_bps if transfer else 0
    )


def accept_ip_terms(ws: Workspace, freelancer: Signer, job_id: int) -> None:
    """The freelancer accepts exactly the terms on chain now (their hash is signed into the call)."""
    from eth_abi import encode

    from proofwork.chain.encoding import job_tuple, keccak

    job = _job(ws, job_id)
    terms = ws.asset_registry.ip_terms(job_id)
    if not terms.proposed:
        raise NotFound(f"job {job_id} has no IP terms proposed")
    terms_hash = keccak(
        encode(["bool", "uint16", "uint16"], [terms.transfer, terms.creator_bps, terms.max_upstream_bps])
    )
    ws.asset_registry.accept_ip_terms(freelancer.key, job_id, job_tuple(job), terms_hash)


def register_deliverable(
    ws: Workspace,
    party: Signer,
    job_id: int,
    milestone: int,
    manifest: AssetManifest,
    *,
    parents: Sequence[Parent] = (),
    royalty_bps: int = 0,
    key: bytes | None = None,
    card: CardChoice = True,
    sources: Sequence[Path] = (),
) -> Registered:
    """Registers a paid milestone's deliverable as an asset: owned by the client when the job's
    accepted IP terms transfer it, else by the freelancer. The manifest must hold the delivered file.
    `card` and `sources` as in `register`; a generated card names the freelancer as its author and,
    for a job the oracle committee judged, the score it settled."""
    from proofwork.chain.encoding import job_tuple

    job = _job(ws, job_id)
    if not 0 <= milestone < len(job.milestones):
        raise NotFound(f"job {job_id} has no milestone {milestone}")
    settled = job.milestones[milestone]
    paid = settled.status == J.MilestoneStatus.PAID or (
        settled.status == J.MilestoneStatus.RESOLVED and settled.paid > 0
    )
    if not paid:
        raise NotAllowed(
            f"milestone {milestone + 1} of job {job_id} is not paid: only a paid milestone's deliverable "
            "(approved, or resolved with a payment to the freelancer) becomes an asset"
        )
    delivered = job.milestones[milestone].deliverable
    if manifest.file_for_deliverable(delivered) is None:
        raise InvalidInput(
            f"the manifest holds no file with the milestone's deliverable hash 0x{bytes(delivered).hex()}"
        )
    check_terms((), parents, royalty_bps)
    _check_parents_exist(ws, parents)
    manifest = with_card(
        ws, manifest, card, CardContext([job.freelancer], parents, sources, job_id, milestone)
    )
    cid = publish_manifest(ws, manifest)
    _keep_key(ws, cid, key)
    registry = ws.asset_registry
    # a resolution passes the rights only when it paid the full price recorded at acceptance
    totals = registry.accepted_totals(job_id) if settled.status == J.MilestoneStatus.RESOLVED else ()
    receipt = registry.register_deliverable(
        party.key,
        job_id,
        job_tuple(job),
        milestone,
        cid,
        int(manifest.kind),
        tuple(parents),
        royalty_bps,
        totals,
    )
    return Registered(registry.asset_id_of(receipt), cid, manifest, receipt.gas_used)


# ---------------------------------------------------------------- lineage


def lineage(ws: Workspace, asset_id: int) -> dict[int, LineageAsset]:
    """The asset and every ancestor, as the registry records them (names from the manifests held)."""
    out: dict[int, LineageAsset] = {}
    todo = [asset_id]
    while todo:
        current = todo.pop()
        if current in out:
            continue
        record, manifest = show(ws, current)
        out[current] = LineageAsset(
            record.asset_id,
            record.manifest,
            AssetKind(record.kind),
            record.owner,
            record.registered_at,
            record.creators,
            record.parents,
            record.existed_since,
            record.job_id,
            record.milestone,
            record.deliverable if record.job_id else None,
            manifest.name if manifest else None,
            job_completed(ws, record.job_id, record.milestone) if record.job_id else None,
        )
        todo.extend(p.asset_id for p in record.parents)
    return out


def job_completed(ws: Workspace, job_id: int, milestone: int) -> bytes | None:
    """The UID of the JobCompleted attestation of a job's milestone (`wasGeneratedBy`'s evidence): None
    when the identity contracts are not deployed or the milestone was not attested."""
    if not ws.has_identity:
        return None
    uid = ws.job_attester.attestation_of(job_id, milestone)
    return uid if any(uid) else None


def lineage_prov(ws: Workspace, asset_id: int) -> str:
    """The lineage as W3C PROV-JSON."""
    return lineage_prov_json(
        asset_id,
        lineage(ws, asset_id),
        chain_id=ws.chain_id,
        registry=ws.asset_registry.address,
        escrow=ws.deployment.escrow,
    )


def explain_sale(ws: Workspace, asset_id: int, amount: int) -> Flow:
    """Who receives what of `amount` paid for `asset_id`, once every level is distributed."""
    nodes = {
        i: LineageNode(a.owner, tuple(a.creators), tuple(a.parents)) for i, a in lineage(ws, asset_id).items()
    }
    return flow_through_lineage(asset_id, amount, nodes)


# ---------------------------------------------------------------- licences


def offer(
    ws: Workspace,
    owner: Signer,
    asset_id: int,
    *,
    price: int,
    term_seconds: int = 0,
    commercial: bool = False,
    kind: str = "download",
    transferable: bool = False,
    revocable: bool = False,
    terms_cid: str = "",
    max_licences: int = 0,
    token: str | None = None,
) -> int:
    """Offers licences on an asset the signer owns; returns the offer id."""
    if kind not in KINDS_OF_LICENCE:
        raise InvalidInput(f"a licence is of kind {' or '.join(KINDS_OF_LICENCE)}, not {kind!r}")
    if price < 0 or term_seconds < 0 or max_licences < 0:
        raise InvalidInput("price, term and the number of licences cannot be negative")
    record = ws.asset_registry.asset(asset_id)
    if record.owner.lower() != owner.address.lower():
        raise NotAllowed(f"asset {asset_id} belongs to {record.owner}: only its owner offers licences")
    if kind == "compute":
        _check_private(ws, asset_id, record.manifest)
    licensing = ws.licensing
    receipt = licensing.offer(
        owner.key,
        asset_id,
        token or ws.token.address,
        price,
        term_seconds,
        commercial,
        KINDS_OF_LICENCE[kind],
        transferable,
        revocable,
        terms_cid,
        max_licences,
    )
    return licensing.offer_id_of(receipt)


def _check_private(ws: Workspace, asset_id: int, manifest_cid: str) -> None:
    """A compute licence promises the rows never leave the owner's node: true only of encrypted files
    (a file stored in the clear is served by CID to anyone, `GET /api/v1/artifacts/{cid}`)."""
    if not ws.store.has(manifest_cid):
        raise NotFound(f"asset {asset_id}'s manifest {manifest_cid} is not in this node's store")
    clear = [f.name for f in read_manifest(ws, manifest_cid).files if not f.encrypted]
    if clear:
        raise InvalidInput(
            f"asset {asset_id} has files stored in the clear ({', '.join(clear[:3])}): anyone can fetch them "
            "by CID, so a compute licence would protect nothing; register the dataset with --encrypt"
        )


def buy(ws: Workspace, buyer: Signer, offer_id: int, *, max_price: int | None = None) -> int:
    """Buys a licence in one transaction (EIP-2612 permit for the price); returns the licence id."""
    licensing = ws.licensing
    current, limit = checked_offer(ws, offer_id, max_price)
    token = ws.token_at(current.token)
    permit = None
    if current.price and token.allowance(buyer.address, licensing.address) < current.price:
        deadline = ws.chain.next_timestamp() + 3600
        v, r, s = token.sign_permit(buyer.key, licensing.address, current.price, deadline)
        permit = (deadline, v, r, s)
    return licensing.licence_id_of(licensing.buy(buyer.key, offer_id, limit, permit))


def checked_offer(ws: Workspace, offer_id: int, max_price: int | None = None) -> tuple[Offer, int]:
    """The offer, once it can be bought at a price up to `max_price` (its price when None); with the
    price limit to pass to `buy`."""
    current = ws.licensing.get_offer(offer_id)
    if not current.active:
        raise NotAllowed(f"licence offer {offer_id} is withdrawn or sold out")
    limit = current.price if max_price is None else max_price
    if current.price > limit:
        raise NotAllowed(f"offer {offer_id} costs {current.price}, more than the {limit} you accept")
    return current, limit


def get_offer(ws: Workspace, offer_id: int) -> Offer:
    return ws.licensing.get_offer(offer_id)


def licence(ws: Workspace, licence_id: int) -> Licence:
    return ws.licensing.licence(licence_id)


def distribute(ws: Workspace, caller: Signer, asset_id: int, token: str | None = None) -> int:
    """Splits what is pending for an asset one level up (anyone may); returns the amount split."""
    licensing = ws.licensing
    token = token or ws.token.address
    amount = licensing.pending(asset_id, token)
    if amount:
        licensing.distribute(caller.key, asset_id, token)
    return amount


def distribute_all(ws: Workspace, caller: Signer, asset_id: int, token: str | None = None) -> int:
    """Distributes up the whole lineage of `asset_id`, children before parents (what a sale sent up
    reaches the top); returns the total split."""
    return sum(distribute(ws, caller, i, token) for i in sorted(lineage(ws, asset_id), reverse=True))


def claim(ws: Workspace, caller: Signer, account: str | None = None, token: str | None = None) -> int:
    """Pays `account` (the caller by default: anyone may relay) what its royalties and sales hold."""
    licensing = ws.licensing
    token = token or ws.token.address
    who = parse_address(account, "account") if account else caller.address
    amount = licensing.claimable(who, token)
    if amount:
        licensing.claim_for(caller.key, who, token)
    return amount


def describe(record: AssetRecord, manifest: AssetManifest | None) -> dict[str, Any]:
    """An asset as JSON for the CLI and the API."""
    return {
        "asset_id": record.asset_id,
        "owner": record.owner,
        "kind": AssetKind(record.kind).label,
        "manifest": record.manifest,
        "name": manifest.name if manifest else None,
        "license": manifest.license if manifest else None,
        "terms_cid": manifest.terms_cid if manifest else None,
        "encrypted": manifest.encrypted if manifest else None,
        "files": [f.to_dict() for f in manifest.files] if manifest else None,
        "card_format": card_format(manifest.card) if manifest else None,
        "card": manifest.card if manifest else None,
        "creators": [{"account": c.account, "bps": c.bps} for c in record.creators],
        "parents": [{"asset_id": p.asset_id, "bps": p.bps} for p in record.parents],
        "royalty_bps": record.royalty_bps,
        "registered_at": record.registered_at,
        "existed_since": record.existed_since,
        "job": {
            "job_id": record.job_id,
            "milestone": record.milestone,
            "deliverable": "0x" + record.deliverable.hex(),
        }
        if record.job_id
        else None,
    }


__all__ = [
    "AssetFile",
    "Registered",
    "accept_ip_terms",
    "build_manifest",
    "buy",
    "card",
    "claim",
    "deploy",
    "describe",
    "distribute",
    "distribute_all",
    "explain_sale",
    "lineage",
    "lineage_prov",
    "offer",
    "propose_ip_terms",
    "register",
    "register_deliverable",
    "show",
    "store_files",
    "timestamp",
]
