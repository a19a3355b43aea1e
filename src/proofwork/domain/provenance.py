"""An asset's lineage as W3C PROV (PROV-JSON through the `prov` package): what `asset lineage ID --prov` prints.

- each asset is a `prov:Entity` named by its CAIP-19 id (`eip155:<chain>/erc721:<registry>/<id>`), with
  its manifest CID (and `ipfs://` location), kind, name, registration time and the time it is proven
  to have existed since;
- each account is a `prov:Agent` named by its did:pkh (`did:pkh:eip155:<chain>:<address>`);
- a job milestone that produced an asset is a `prov:Activity` (`wasGeneratedBy`, at registration time);
- `wasDerivedFrom` links an asset to each parent (with the share it passes upstream);
  `wasAttributedTo` links it to each creator (with their share) and to its owner.

Pure: the caller (the assets service) reads the lineage from the chain and hands it in as `LineageAsset`s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proofwork.domain.addresses import parse_address
from proofwork.domain.assets import AssetKind, Parent, Share
from proofwork.domain.errors import InvalidInput

if TYPE_CHECKING:
    from prov.model import ProvDocument

VOCAB = "urn:proofwork:vocab:"


@dataclass(frozen=True)
class LineageAsset:
    """One registered asset as the registry records it (what its `AssetRegistered` event carries)."""

    asset_id: int
    manifest_cid: str
    kind: AssetKind
    owner: str
    registered_at: int  # unix seconds (block time)
    creators: tuple[Share, ...] = ()
    parents: tuple[Parent, ...] = ()
    existed_since: int | None = None  # an earlier timestamp commitment, else registered_at
    job_id: int = 0  # 0: not produced by a job
    milestone: int = 0
    deliverable: bytes | None = None  # the milestone's deliverable hash
    name: str | None = None  # from the manifest, when it was read
    attestation: bytes | None = None  # the job milestone's JobCompleted attestation UID, when attested


def _time(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def collect_lineage(asset_id: int, assets: Mapping[int, LineageAsset]) -> list[LineageAsset]:
    """`asset_id` and every ancestor, each once, the asset first then by decreasing id."""
    seen: set[int] = set()
    todo = [asset_id]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        node = assets.get(current)
        if node is None:
            raise InvalidInput(f"asset {current} of the lineage is missing")
        seen.add(current)
        for parent in node.parents:
            if parent.asset_id >= current:
                raise InvalidInput(
                    f"asset {current} names asset {parent.asset_id} as a parent: a parent is always older"
                )
            todo.append(parent.asset_id)
    return [assets[i] for i in sorted(seen, reverse=True)]


def lineage_document(
    asset_id: int,
    assets: Mapping[int, LineageAsset],
    *,
    chain_id: int,
    registry: str,
    escrow: str | None = None,
) -> ProvDocument:
    """The PROV document of `asset_id`'s lineage (the asset and all its ancestors)."""
    from prov.model import PROV_LABEL, PROV_LOCATION, PROV_TYPE, ProvDocument  # ~0.1 s: only when asked

    registry = parse_address(registry, "registry address")
    doc = ProvDocument()
    pw = doc.add_namespace("pw", VOCAB)
    asset_ns = doc.add_namespace("asset", f"eip155:{chain_id}/erc721:{registry}/")
    account_ns = doc.add_namespace("account", f"did:pkh:eip155:{chain_id}:")
    job_ns = None
    if escrow is not None:
        job_ns = doc.add_namespace(
            "job", f"urn:proofwork:eip155:{chain_id}:{parse_address(escrow, 'escrow address')}:job:"
        )
    agents: dict[str, Any] = {}

    def agent(address: str) -> Any:
        checked = parse_address(address, "account address")
        if checked not in agents:
            agents[checked] = doc.agent(account_ns[checked], {PROV_TYPE: pw["Account"]})
        return agents[checked]

    lineage = collect_lineage(asset_id, assets)
    entities = {}
    for node in reversed(lineage):  # ancestors first: a derivation names entities already in the document
        attributes: dict[Any, Any] = {
            PROV_TYPE: pw[node.kind.label.capitalize()],
            PROV_LOCATION: f"ipfs://{node.manifest_cid}",
            pw["manifest"]: node.manifest_cid,
            pw["kind"]: node.kind.label,
            pw["registeredAt"]: _time(node.registered_at),
            pw["existedSince"]: _time(
                node.existed_since if node.existed_since is not None else node.registered_at
            ),
        }
        if node.name:
            attributes[PROV_LABEL] = node.name
        entity = doc.entity(asset_ns[str(node.asset_id)], attributes)
        entities[node.asset_id] = entity
        for parent in node.parents:
            doc.wasDerivedFrom(
                entity, entities[parent.asset_id], other_attributes={pw["upstreamBps"]: parent.bps}
            )
        for creator in node.creators:
            doc.wasAttributedTo(
                entity,
                agent(creator.account),
                other_attributes={pw["role"]: "creator", pw["shareBps"]: creator.bps},
            )
        doc.wasAttributedTo(entity, agent(node.owner), other_attributes={pw["role"]: "owner"})
        if node.job_id:
            local = f"{node.job_id}-{node.milestone}"
            job_attributes: dict[Any, Any] = {pw["jobId"]: str(node.job_id), pw["milestone"]: node.milestone}
            if node.deliverable is not None:
                job_attributes[pw["deliverable"]] = "0x" + node.deliverable.hex()
            if node.attestation is not None:
                job_attributes[pw["jobCompletedAttestation"]] = "0x" + node.attestation.hex()
            activity = doc.activity(
                job_ns[local] if job_ns is not None else pw[f"job/{local}"], other_attributes=job_attributes
            )
            doc.wasGeneratedBy(entity, activity, _time(node.registered_at))
    return doc


def lineage_prov_json(
    asset_id: int,
    assets: Mapping[int, LineageAsset],
    *,
    chain_id: int,
    registry: str,
    escrow: str | None = None,
) -> str:
    """The lineage as PROV-JSON text (W3C Member Submission format, what `prov` reads back)."""
    doc = lineage_document(asset_id, assets, chain_id=chain_id, registry=registry, escrow=escrow)
    return str(doc.serialize(format="json", indent=2))
