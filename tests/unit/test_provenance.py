"""domain.provenance: a lineage as W3C PROV-JSON, read back with the `prov` package."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from prov.model import (
    PROV_LOCATION,
    PROV_TYPE,
    ProvActivity,
    ProvAgent,
    ProvAttribution,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
)

from proofwork.domain.assets import AssetKind, Parent, Share
from proofwork.domain.errors import InvalidInput
from proofwork.domain.provenance import (
    VOCAB,
    LineageAsset,
    collect_lineage,
    lineage_document,
    lineage_prov_json,
)
from proofwork.storage.unixfs import cid_of_bytes

CHAIN = 31337
REGISTRY = "0x" + "11" * 20
ESCROW = "0x" + "22" * 20
OWNER, LABELER1, LABELER2, BASE, FREELANCER, CLIENT = (
    Share("0x" + f"{i:02x}" * 20, 0).account for i in range(0xA1, 0xA7)
)
T0 = 1_780_000_000


def _assets() -> dict[int, LineageAsset]:
    # 1 a dataset with two labelers; 2 a base model; 3 a model trained on 1 in job 7 (rights passed to the
    # client, the freelancer creator at 5 %); 4 the client's fine-tune of 3 and 2
    return {
        1: LineageAsset(
            1,
            cid_of_bytes(b"m1"),
            AssetKind.DATASET,
            OWNER,
            T0,
            (Share(LABELER1, 1_000), Share(LABELER2, 1_000)),
            name="tickets",
            existed_since=T0 - 86_400,
        ),
        2: LineageAsset(2, cid_of_bytes(b"m2"), AssetKind.MODEL, BASE, T0 + 1, (Share(BASE, 10_000),)),
        3: LineageAsset(
            3,
            cid_of_bytes(b"m3"),
            AssetKind.MODEL,
            CLIENT,
            T0 + 2,
            (Share(FREELANCER, 500),),
            (Parent(1, 2_000),),
            job_id=7,
            milestone=1,
            deliverable=b"\xab" * 32,
            attestation=b"\xcd" * 32,
        ),
        4: LineageAsset(
            4, cid_of_bytes(b"m4"), AssetKind.MODEL, CLIENT, T0 + 3, (), (Parent(3, 1_500), Parent(2, 1_000))
        ),
        5: LineageAsset(5, cid_of_bytes(b"m5"), AssetKind.DATASET, OWNER, T0 + 4),  # not in 4's lineage
    }


def _read_back() -> tuple[ProvDocument, dict[str, object]]:
    text = lineage_prov_json(4, _assets(), chain_id=CHAIN, registry=REGISTRY, escrow=ESCROW)
    return ProvDocument.deserialize(content=text, format="json"), json.loads(text)


def _uri(record: object) -> str:
    return str(record.uri)  # type: ignore[attr-defined]


def test_the_prov_json_parses_back_to_the_same_document() -> None:
    doc = lineage_document(4, _assets(), chain_id=CHAIN, registry=REGISTRY, escrow=ESCROW)
    parsed, raw = _read_back()
    assert parsed == doc
    assert set(raw) == {
        "prefix",
        "entity",
        "agent",
        "activity",
        "wasDerivedFrom",
        "wasGeneratedBy",
        "wasAttributedTo",
    }


def test_entities_agents_and_the_job_activity() -> None:
    doc, _ = _read_back()
    entities = {_uri(r.identifier): r for r in doc.get_records(ProvEntity)}
    base = f"eip155:{CHAIN}/erc721:{Share(REGISTRY, 0).account}/"
    assert set(entities) == {base + str(i) for i in (1, 2, 3, 4)}  # 5 is not an ancestor of 4
    dataset = entities[base + "1"]
    attrs = {str(k.uri): v for k, v in dataset.attributes}
    assert attrs[VOCAB + "manifest"] == cid_of_bytes(b"m1") and attrs[VOCAB + "kind"] == "dataset"
    assert attrs[VOCAB + "registeredAt"] == dt.datetime.fromtimestamp(T0, tz=dt.UTC)
    assert attrs[VOCAB + "existedSince"] == dt.datetime.fromtimestamp(T0 - 86_400, tz=dt.UTC)
    assert str(attrs[PROV_LOCATION.uri]) == f"ipfs://{cid_of_bytes(b'm1')}"
    assert (
        str(attrs[PROV_TYPE.uri].uri) == VOCAB + "Dataset"
        and str(entities[base + "4"].get_attribute(PROV_TYPE).pop().uri) == VOCAB + "Model"
    )
    agents = {_uri(r.identifier) for r in doc.get_records(ProvAgent)}
    assert agents == {
        f"did:pkh:eip155:{CHAIN}:{a}" for a in (OWNER, LABELER1, LABELER2, BASE, FREELANCER, CLIENT)
    }
    (job,) = doc.get_records(ProvActivity)
    assert _uri(job.identifier) == f"urn:proofwork:eip155:{CHAIN}:{Share(ESCROW, 0).account}:job:7-1"
    job_attrs = {str(k.uri): v for k, v in job.attributes}
    assert job_attrs[VOCAB + "jobId"] == "7" and job_attrs[VOCAB + "milestone"] == 1
    assert job_attrs[VOCAB + "deliverable"] == "0x" + "ab" * 32
    assert job_attrs[VOCAB + "jobCompletedAttestation"] == "0x" + "cd" * 32


def _pairs(doc: ProvDocument, kind: type, first: str, second: str) -> set[tuple[str, str]]:
    out = set()
    for rel in doc.get_records(kind):
        args = dict(rel.formal_attributes)
        a, b = (v for k, v in args.items() if str(k) in (first, second))
        out.add(
            (_uri(a).rsplit("/", 1)[-1].rsplit(":", 1)[-1], _uri(b).rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        )
    return out


def test_the_relations_between_them() -> None:
    doc, _ = _read_back()
    assert _pairs(doc, ProvDerivation, "prov:generatedEntity", "prov:usedEntity") == {
        ("3", "1"),
        ("4", "3"),
        ("4", "2"),
    }
    assert _pairs(doc, ProvGeneration, "prov:entity", "prov:activity") == {("3", "7-1")}
    (generation,) = doc.get_records(ProvGeneration)
    assert generation.get_attribute("prov:time").pop() == dt.datetime.fromtimestamp(T0 + 2, tz=dt.UTC)
    attributed = _pairs(doc, ProvAttribution, "prov:entity", "prov:agent")
    assert attributed == {
        ("1", OWNER),
        ("1", LABELER1),
        ("1", LABELER2),
        ("2", BASE),  # creator and owner: two attributions, one pair
        ("3", FREELANCER),
        ("3", CLIENT),
        ("4", CLIENT),
    }
    roles = sorted(
        (next(iter(r.get_attribute(VOCAB + "role"))), sorted(r.get_attribute(VOCAB + "shareBps")))
        for r in doc.get_records(ProvAttribution)
    )
    assert roles.count(("owner", [])) == 4
    assert ("creator", [500]) in roles and roles.count(("creator", [1_000])) == 2
    shares = sorted(
        next(iter(r.get_attribute(VOCAB + "upstreamBps"))) for r in doc.get_records(ProvDerivation)
    )
    assert shares == [1_000, 1_500, 2_000]


def test_without_an_escrow_address_the_job_is_named_in_the_vocabulary() -> None:
    doc = lineage_document(3, _assets(), chain_id=CHAIN, registry=REGISTRY)
    (job,) = doc.get_records(ProvActivity)
    assert _uri(job.identifier) == VOCAB + "job/7-1"


def test_collect_lineage_walks_every_ancestor_once() -> None:
    assert [a.asset_id for a in collect_lineage(4, _assets())] == [4, 3, 2, 1]
    assert [a.asset_id for a in collect_lineage(1, _assets())] == [1]


def test_a_broken_lineage_is_refused_in_one_line() -> None:
    assets = _assets()
    del assets[1]
    with pytest.raises(InvalidInput, match="asset 1 of the lineage is missing"):
        lineage_prov_json(4, assets, chain_id=CHAIN, registry=REGISTRY)
    loop = {
        1: LineageAsset(1, cid_of_bytes(b"x"), AssetKind.MODEL, OWNER, T0, parents=(Parent(2, 1),)),
        2: LineageAsset(2, cid_of_bytes(b"y"), AssetKind.MODEL, OWNER, T0, parents=(Parent(1, 1),)),
    }
    with pytest.raises(InvalidInput, match="a parent is always older"):
        lineage_prov_json(2, loop, chain_id=CHAIN, registry=REGISTRY)
    with pytest.raises(InvalidInput, match="registry address"):
        lineage_prov_json(4, _assets(), chain_id=CHAIN, registry="0x12")
