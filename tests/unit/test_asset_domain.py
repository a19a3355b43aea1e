"""domain.assets: the manifest read from anyone, the registry's share rules and the royalty split."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofwork.domain.assets import (
    BPS,
    MAX_MANIFEST_BYTES,
    AssetFile,
    AssetKind,
    AssetManifest,
    LineageNode,
    Parent,
    Share,
    build_manifest,
    check_terms,
    cid_digest,
    flow_through_lineage,
    is_cid,
    normalize_license,
    parse_manifest,
    split_revenue,
)
from proofwork.domain.errors import InvalidInput, ProofworkError
from proofwork.storage.unixfs import DAG_PB, RAW, cid_from_digest, cid_of_bytes, parse_cid

A = "0x" + "a1" * 20
B = "0x" + "b2" * 20
C = "0x" + "c3" * 20
D = "0x" + "d4" * 20
ADDRS = [f"0x{i:040x}" for i in range(1, 40)]


def _addr(text: str) -> str:
    return Share(text, 0).account


def _file(name: str = "train.csv", content: bytes = b"a,b\n1,2\n", **kw: object) -> AssetFile:
    return AssetFile(name, cid_of_bytes(content), hashlib.sha256(content).hexdigest(), len(content), **kw)  # type: ignore[arg-type]


def _doc(**over: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "version": 1,
        "kind": "dataset",
        "name": "labelled tickets",
        "files": [_file().to_dict()],
        "license": "CC-BY-4.0",
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not None}


def _refused(doc: object, needle: str) -> str:
    data = doc if isinstance(doc, bytes | str) else json.dumps(doc)
    with pytest.raises(InvalidInput) as err:
        parse_manifest(data)
    message = str(err.value)
    assert needle in message, message
    assert "\n" not in message and message.startswith("invalid manifest")
    return message


# ---------------------------------------------------------------- the split, by hand


def test_split_matches_the_contract_arithmetic_by_hand() -> None:
    # 1_000_001 units; parents 20 % and 7.77 %; creators 30 % and 33.33 % of the rest
    split = split_revenue(1_000_001, [Parent(1, 2_000), Parent(2, 777)], [Share(A, 3_000), Share(B, 3_333)])
    assert split.to_parents == [200_000, 77_700]  # floor(1_000_001 * 0.2) = 200_000, floor(.. * 0.0777)
    rest = 1_000_001 - 277_700
    assert rest == 722_301
    assert split.to_creators == [216_690, 240_742]  # floor(722_301 * 0.3), floor(722_301 * 0.3333)
    assert split.to_owner == 722_301 - 216_690 - 240_742 == 264_869  # the dust goes to the owner


def test_split_of_small_amounts_leaves_everything_to_the_owner() -> None:
    split = split_revenue(3, [Parent(1, 3_000)], [Share(A, 3_000)])
    assert split.to_parents == [0] and split.to_creators == [0] and split.to_owner == 3


def test_split_at_the_bounds_leaves_the_owner_only_the_dust() -> None:
    parents = [Parent(i + 1, 625) for i in range(8)]  # 50 % upstream
    creators = [Share(ADDRS[i], 1_250) for i in range(8)]  # 100 % of the rest
    split = split_revenue(999_999, parents, creators)
    assert split.to_parents == [62_499] * 8 and sum(split.to_parents) == 499_992
    assert split.to_creators == [62_500] * 8  # 500_007 * 0.125 = 62_500.875
    assert split.to_owner == 7
    with pytest.raises(InvalidInput, match="more than the amount"):
        split_revenue(10_000, [], [Share(A, 6_000), Share(B, 6_000)])  # shares the registry refuses


def test_split_refuses_a_negative_or_fractional_amount() -> None:
    for bad in (-1, 1.5, True, "10"):
        with pytest.raises(InvalidInput, match="non-negative integer"):
            split_revenue(bad, [], [])  # type: ignore[arg-type]


def _capped(cap: int, size: int | None = None) -> st.SearchStrategy[list[int]]:
    """Up to 8 (or `size`) shares summing to at most `cap` (scaled down when over; can land on the cap)."""

    def scale(xs: list[int]) -> list[int]:
        total = sum(xs)
        return xs if total <= cap else [x * cap // total for x in xs]

    sizes = {"min_size": size, "max_size": size} if size is not None else {"max_size": 8}
    return st.lists(st.integers(0, BPS), **sizes).map(scale)


@settings(max_examples=60, deadline=None)
@given(
    amount=st.integers(0, 2**128),
    parent_bps=_capped(5_000),
    creator_bps=_capped(BPS),
)
def test_every_unit_of_a_split_is_accounted_for(
    amount: int, parent_bps: list[int], creator_bps: list[int]
) -> None:
    parents = [Parent(i + 1, b) for i, b in enumerate(parent_bps)]
    creators = [Share(ADDRS[i], b) for i, b in enumerate(creator_bps)]
    split = split_revenue(amount, parents, creators)
    assert sum(split.to_parents) + sum(split.to_creators) + split.to_owner == amount
    assert all(part >= 0 for part in [*split.to_parents, *split.to_creators, split.to_owner])
    assert split.to_parents == [amount * b // BPS for b in parent_bps]
    rest = amount - sum(split.to_parents)
    assert rest >= amount // 2  # at most 50 % goes upstream
    assert split.to_creators == [rest * b // BPS for b in creator_bps]
    # rounding never costs the owner more than one unit per share
    assert split.to_owner >= rest - rest * sum(creator_bps) // BPS - len(creators)


# ---------------------------------------------------------------- the lineage


def _demo_lineage() -> dict[int, LineageNode]:
    # 1: a dataset owned by A with labelers B and C (10 % each); 2: a base model owned by D, creator D;
    # 3: a fine-tuned model owned by A derived from the dataset (20 %) and the base model (10 %)
    return {
        1: LineageNode(A, (Share(B, 1_000), Share(C, 1_000))),
        2: LineageNode(D, (Share(D, 10_000),)),
        3: LineageNode(A, (), (Parent(1, 2_000), Parent(2, 1_000))),
    }


def test_a_sale_flows_up_the_lineage_to_every_account() -> None:
    flow = flow_through_lineage(3, 1_000_000, _demo_lineage())
    # 3 splits 1_000_000: 200_000 pending to 1, 100_000 to 2, 700_000 to its owner A
    # 1 splits 200_000: B and C 20_000 each, A (owner) 160_000; 2 splits 100_000: all to D (creator)
    assert flow.to_accounts == {_addr(A): 860_000, _addr(B): 20_000, _addr(C): 20_000, _addr(D): 100_000}
    assert flow.total == 1_000_000
    assert flow.splits[3][0] == 1_000_000 and flow.splits[1][0] == 200_000 and flow.splits[2][0] == 100_000


def test_a_diamond_lineage_splits_a_shared_ancestor_once_with_everything_pending() -> None:
    # 4 derives from 2 and 3, both derive from 1: 1 gets shares through two paths, split once
    lineage = {
        1: LineageNode(A, (Share(B, 5_000),)),
        2: LineageNode(C, (), (Parent(1, 5_000),)),
        3: LineageNode(C, (), (Parent(1, 5_000),)),
        4: LineageNode(D, (), (Parent(2, 2_500), Parent(3, 2_500))),
    }
    flow = flow_through_lineage(4, 10_000, lineage)
    assert flow.splits[1][0] == 2_500  # 1_250 + 1_250
    assert flow.to_accounts == {_addr(D): 5_000, _addr(C): 2_500, _addr(A): 1_250, _addr(B): 1_250}


def test_a_lineage_that_is_not_the_registrys_is_refused() -> None:
    with pytest.raises(InvalidInput, match="parent is always older"):
        flow_through_lineage(
            2, 100, {1: LineageNode(A, (), (Parent(2, 1_000),)), 2: LineageNode(B, (), (Parent(1, 1_000),))}
        )
    with pytest.raises(InvalidInput, match="asset 1 is not in the lineage"):
        flow_through_lineage(2, 100, {2: LineageNode(B, (), (Parent(1, 1_000),))})
    with pytest.raises(InvalidInput, match="asset 9 is not in the lineage"):
        flow_through_lineage(9, 100, {})


@st.composite
def _lineages(draw: st.DrawFn) -> tuple[int, dict[int, LineageNode]]:
    n = draw(st.integers(1, 12))
    lineage: dict[int, LineageNode] = {}
    for asset in range(1, n + 1):
        older = list(range(1, asset))
        parent_ids = (
            draw(st.lists(st.sampled_from(older), unique=True, max_size=min(8, len(older)))) if older else []
        )
        parent_bps = draw(_capped(5_000, len(parent_ids)))
        accounts = draw(st.lists(st.sampled_from(ADDRS[:10]), unique=True, max_size=8))
        creator_bps = draw(_capped(BPS, len(accounts)))
        owner = draw(st.sampled_from(ADDRS[:10]))
        lineage[asset] = LineageNode(
            owner,
            tuple(Share(a, b) for a, b in zip(accounts, creator_bps, strict=True)),
            tuple(Parent(p, b) for p, b in zip(parent_ids, parent_bps, strict=True)),
        )
    return n, lineage


@settings(max_examples=60, deadline=None)
@given(lineage=_lineages(), amount=st.integers(0, 10**30))
def test_every_unit_of_a_sale_reaches_an_account_through_any_lineage(
    lineage: tuple[int, dict[int, LineageNode]], amount: int
) -> None:
    top, nodes = lineage
    flow = flow_through_lineage(top, amount, nodes)
    assert flow.total == amount
    assert all(v > 0 for v in flow.to_accounts.values())
    # each asset's split is conserved, and what an asset split is what its children passed to it
    received: dict[int, int] = {top: amount}
    for asset, (value, split) in flow.splits.items():
        assert sum(split.to_parents) + sum(split.to_creators) + split.to_owner == value
        for parent, part in zip(nodes[asset].parents, split.to_parents, strict=True):
            received[parent.asset_id] = received.get(parent.asset_id, 0) + part
    assert {a: v for a, v in received.items() if v} == {a: v for a, (v, _) in flow.splits.items() if v}


# ---------------------------------------------------------------- the registry's share rules


def test_terms_within_the_bounds_pass() -> None:
    check_terms([Share(ADDRS[i], 1_250) for i in range(8)], [Parent(i + 1, 625) for i in range(8)], 1_000)


@pytest.mark.parametrize(
    ("creators", "parents", "royalty", "needle"),
    [
        ([Share(ADDRS[i], 1) for i in range(9)], [], 0, "at most 8 creators"),
        ([], [Parent(i + 1, 1) for i in range(9)], 0, "at most 8 parents"),
        ([Share(A, 6_000), Share(B, 4_001)], [], 0, "100.01 %, over 100 %"),
        ([], [Parent(1, 2_500), Parent(2, 2_501)], 0, "50.01 %, over the 50 %"),
        ([Share(A, 1), Share(A.upper().replace("0X", "0x"), 1)], [], 0, "listed twice"),
        ([], [Parent(3, 1), Parent(3, 1)], 0, "parent asset is listed twice"),
        ([], [], 1_001, "from 0 to 1000"),
        ([], [], -1, "from 0 to 1000"),
    ],
)
def test_terms_beyond_the_bounds_are_refused(
    creators: list[Share], parents: list[Parent], royalty: int, needle: str
) -> None:
    with pytest.raises(InvalidInput, match=needle.replace("(", r"\(").replace(".", r"\.")):
        check_terms(creators, parents, royalty)


def test_shares_and_parents_check_their_own_fields() -> None:
    with pytest.raises(InvalidInput, match="creator address"):
        Share("0x123", 1)
    with pytest.raises(InvalidInput, match="basis points"):
        Share(A, 10_001)
    with pytest.raises(InvalidInput, match="positive integer"):
        Parent(0, 1)
    with pytest.raises(InvalidInput, match="basis points"):
        Parent(1, -5)
    assert Share(A.lower(), 5).account == _addr(A)


def test_kinds_parse_from_names_and_numbers() -> None:
    assert AssetKind.parse("Dataset") is AssetKind.DATASET and AssetKind.parse(0) is AssetKind.MODEL
    for bad in ("weights", 2, True, None):
        with pytest.raises(InvalidInput, match="unknown asset kind"):
            AssetKind.parse(bad)


# ---------------------------------------------------------------- the manifest


def test_a_manifest_round_trips_through_its_canonical_bytes() -> None:
    card = {"@type": "sc:Dataset", "name": "tickets", "score": 0.91, "nested": {"a": [1, 2, {"b": None}]}}
    manifest = build_manifest(
        "dataset",
        "labelled tickets",
        [_file(), _file("labels.parquet", b"PAR1", encrypted=True, media_type="application/x-parquet")],
        license="cc-by-4.0",
        description="Support tickets.\nLabelled by two people.",
        card=card,
    )
    assert manifest.license == "CC-BY-4.0"  # normalised
    assert manifest.encrypted and manifest.kind is AssetKind.DATASET
    data = manifest.canonical_bytes()
    assert parse_manifest(data) == manifest
    assert parse_manifest(data).canonical_bytes() == data
    # key order and spacing do not change the canonical form (one manifest, one CID)
    shuffled = json.dumps(dict(reversed(list(json.loads(data).items()))), indent=2)
    assert parse_manifest(shuffled).canonical_bytes() == data
    assert (
        data
        == json.dumps(json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_a_manifest_finds_a_deliverable_by_its_content_hash() -> None:
    manifest = parse_manifest(json.dumps(_doc()))
    digest = hashlib.sha256(b"a,b\n1,2\n").digest()
    assert manifest.file_with_sha256(digest) == manifest.files[0]
    assert manifest.file_with_sha256("0x" + digest.hex()) == manifest.files[0]
    assert manifest.file_with_sha256(b"\x00" * 32) is None
    assert manifest.file_for_deliverable(digest) == manifest.files[0]


def test_a_deliverable_submitted_as_a_cid_digest_is_found_too() -> None:
    big = b"x" * (2 << 20)  # two chunks: the CID is a dag-pb root, its digest is not the file's sha256
    plain = AssetFile("model.onnx", cid_of_bytes(big), hashlib.sha256(big).hexdigest(), len(big))
    sealed = AssetFile(
        "data.bin", cid_of_bytes(b"ciphertext"), hashlib.sha256(b"plaintext").hexdigest(), 9, encrypted=True
    )
    manifest = build_manifest("model", "m", [plain, sealed], license="MIT")
    assert cid_digest(plain.cid) == parse_cid(plain.cid).digest != hashlib.sha256(big).digest()
    assert manifest.file_for_deliverable(cid_digest(plain.cid)) == plain
    assert manifest.file_for_deliverable(hashlib.sha256(big).digest()) == plain
    assert manifest.file_for_deliverable(hashlib.sha256(b"plaintext").digest()) == sealed
    assert (
        manifest.file_for_deliverable(cid_digest(sealed.cid)) is None
    )  # the stored ciphertext is not the work
    with pytest.raises(InvalidInput, match="not a CIDv1"):
        cid_digest("Qm123")


def test_custom_terms_instead_of_an_spdx_licence() -> None:
    terms = cid_of_bytes(b"you may use this model for research only")
    manifest = parse_manifest(json.dumps(_doc(license=None, terms_cid=terms, kind="model")))
    assert manifest.license is None and manifest.terms_cid == terms and manifest.kind is AssetKind.MODEL


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("MIT", "MIT"),
        ("apache-2.0", "Apache-2.0"),
        ("mit or apache-2.0", "MIT OR Apache-2.0"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception"),
        ("CC-BY-NC-4.0 AND (MIT OR BSD-3-Clause)", "CC-BY-NC-4.0 AND (MIT OR BSD-3-Clause)"),
    ],
)
def test_spdx_licences_are_normalised(text: str, normal: str) -> None:
    assert normalize_license(text) == normal


@pytest.mark.parametrize(
    "text", ["Foo-1.0", "other", "MIT AND", "(MIT", "MIT WITH MIT", "", "MIT; rm -rf", "x" * 300]
)
def test_unknown_or_malformed_licences_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalize_license(text)
    assert "licence" in str(err.value) and "\n" not in str(err.value)


def _deep(depth: int) -> str:
    return '{"version": 1, "card": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        (b"\xff\xfe", "not UTF-8"),
        ("[1, 2", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"version": 1, "version": 1}', "appears twice"),
        ('{"version": NaN}', "NaN is not a number"),
        (_deep(40), "nested deeper than 16"),
        ("[" * 200_000, "nested deeper"),
        (_doc(version=2), "'version' must be 1"),
        (_doc(kind="weights"), "unknown asset kind"),
        (_doc(name=""), "'name' must be non-empty"),
        (_doc(name="a\x00b"), "control character"),
        (_doc(files=[]), "non-empty list"),
        (_doc(files=[_file().to_dict()] * 2), "two files are named"),
        (_doc(files=[{**_file().to_dict(), "name": "../etc/passwd"}]), "plain file name"),
        (
            _doc(files=[{**_file().to_dict(), "cid": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"}]),
            "must be a CIDv1",
        ),
        (_doc(files=[{**_file().to_dict(), "sha256": "AB" * 32}]), "lower-case hex"),
        (_doc(files=[{**_file().to_dict(), "size": -1}]), "byte count"),
        (_doc(files=[{**_file().to_dict(), "size": 1.0}]), "byte count"),
        (_doc(files=[{**_file().to_dict(), "encrypted": "yes"}]), "true or false"),
        (_doc(files=[{**_file().to_dict(), "media_type": "csv"}]), "media type"),
        (_doc(files=[{**_file().to_dict(), "url": "http://x"}]), "unknown field 'files[0].url'"),
        (_doc(license=None), "give a 'license'"),
        (_doc(license="Proprietary-1.0"), "not a known SPDX"),
        (_doc(terms_cid="bafkreinotacid"), "'terms_cid' must be a CIDv1"),
        (_doc(card=[1]), "'card' must be a JSON object"),
        (_doc(owner=A), "unknown field 'owner'"),
        ("1" * 5_000, "not valid JSON"),  # past int_max_str_digits
        (json.dumps(_doc(description="\ud800")), "not valid Unicode"),  # a lone surrogate escape
    ],
)
def test_a_hostile_manifest_is_refused_in_one_line(doc: object, needle: str) -> None:
    _refused(doc, needle)


def test_an_oversized_manifest_is_refused_before_it_is_parsed() -> None:
    big = json.dumps(_doc(description="x" * MAX_MANIFEST_BYTES))
    _refused(big, "larger than")
    _refused(big.encode(), "larger than")


def test_every_manifest_error_is_a_proofwork_error() -> None:
    for bad in (b"", b"null", b"{", "\ud800", 12):
        with pytest.raises(ProofworkError):
            parse_manifest(bad)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    digest=st.binary(min_size=32, max_size=32),
    codec=st.sampled_from([RAW, DAG_PB]),
    noise=st.text(max_size=70),
)
def test_the_domain_cid_check_agrees_with_the_store_parser(digest: bytes, codec: int, noise: str) -> None:
    cid = cid_from_digest(digest, codec)
    assert is_cid(cid)
    for candidate in (noise, "b" + noise, cid[:-1] + noise[:1], cid.upper(), cid + "a"):
        try:
            parse_cid(candidate)
            accepted = candidate.strip() == candidate
        except InvalidInput:
            accepted = False
        assert is_cid(candidate) == accepted, candidate


def test_the_manifest_type_is_frozen_data() -> None:
    manifest = parse_manifest(json.dumps(_doc()))
    assert isinstance(manifest, AssetManifest)
    with pytest.raises(AttributeError):
        manifest.name = "other"  # type: ignore[misc]
