"""The cards proofwork writes at registration and the cards it accepts (`domain.cards`, and the pure
parts of `services.asset_cards`): a Croissant card's required fields, its CSV fields and types read
from the head of the plaintext file, the Hugging Face card's YAML front matter read back with PyYAML,
a settled score as its model-index; a given card checked (shape, bounds, hashes) with one-line refusals.
mlcroissant is not installed: the Croissant checks are structural (see `check_card`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from proofwork.domain.assets import AssetFile, AssetManifest, build_manifest
from proofwork.domain.cards import (
    CROISSANT_VERSION,
    HF_CARD_FORMAT,
    MAX_CARD_BYTES,
    card_summary,
    card_text,
    check_card,
    croissant_card,
    front_matter,
    load_card,
    model_card,
    model_card_document,
    model_card_from_fields,
)
from proofwork.domain.errors import InvalidInput
from proofwork.services.asset_cards import CSV_SAMPLE_BYTES, csv_samples, score_result
from proofwork.storage.unixfs import cid_of_bytes

CSV = b"id,label,score,day\n1,spam,0.5,2024-01-02\n2,ham,7,2024-02-29\n"


def _file(name: str, content: bytes, **kw: object) -> AssetFile:
    return AssetFile(name, cid_of_bytes(content), hashlib.sha256(content).hexdigest(), len(content), **kw)  # type: ignore[arg-type]


def _dataset(*files: AssetFile) -> AssetManifest:
    return build_manifest("dataset", "tickets", files or [_file("t.csv", CSV)], license="CC-BY-4.0")


def _model(**kw: object) -> AssetManifest:
    return build_manifest("model", "clf", [_file("m.onnx", b"onnx")], license="Apache-2.0", **kw)  # type: ignore[arg-type]


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# ---------------------------------------------------------------- generated


def test_a_generated_croissant_card_has_the_required_fields_and_the_csv_columns(tmp_path: Path) -> None:
    tsv = b"a\tb\nx\t1\n"
    manifest = _dataset(_file("t.csv", CSV), _file("u.tsv", tsv), _file("blob.bin", b"\x00"))
    sources = [
        _write(tmp_path, "t.csv", CSV),
        _write(tmp_path, "u.tsv", tsv),
        _write(tmp_path, "blob.bin", b"\0"),
    ]
    samples = csv_samples(manifest, sources)
    assert set(samples) == {"t.csv", "u.tsv"}  # a binary file has no columns to read
    card = croissant_card(manifest, csv_samples=samples, creators=["0x" + "ab" * 20])
    for required in ("@context", "@type", "conformsTo", "name", "description", "license", "distribution"):
        assert card[required]
    assert card["@type"] == "sc:Dataset" and card["conformsTo"] == CROISSANT_VERSION
    assert [d["sha256"] for d in card["distribution"]] == [f.sha256 for f in manifest.files]
    assert [d["contentUrl"] for d in card["distribution"]] == [f"ipfs://{f.cid}" for f in manifest.files]
    fields = {r["@id"]: {f["name"]: f["dataType"] for f in r["field"]} for r in card["recordSet"]}
    assert fields == {
        "t.csv_records": {"id": "sc:Integer", "label": "sc:Text", "score": "sc:Float", "day": "sc:Date"},
        "u.tsv_records": {"a": "sc:Text", "b": "sc:Integer"},
    }
    check_card(manifest, card)  # what proofwork writes, it accepts
    summary = card_summary(card)
    assert summary["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert summary["record_sets"][0]["fields"][0] == {"name": "id", "type": "sc:Integer"}


def test_only_the_head_of_a_large_csv_is_read_and_cut_at_a_line(tmp_path: Path) -> None:
    rows = b"n,t\n" + b"1,x\n" * (CSV_SAMPLE_BYTES // 4 + 10) + b"oops,y\n"  # past the sample
    manifest = _dataset(_file("big.csv", rows))
    (sample,) = csv_samples(manifest, [_write(tmp_path, "big.csv", rows)]).values()
    assert len(sample) <= CSV_SAMPLE_BYTES and sample.endswith("1,x\n")
    assert "oops" not in sample and sample.startswith("n,t\n")


def test_a_csv_that_cannot_be_described_or_is_not_the_manifests_file_is_refused(tmp_path: Path) -> None:
    bad = b"a,b,a\n1,2,3\n"
    with pytest.raises(InvalidInput, match=r"columns of d\.csv .*names column 'a' twice.*--no-card"):
        csv_samples(_dataset(_file("d.csv", bad)), [_write(tmp_path, "d.csv", bad)])
    wide = b"x" * (CSV_SAMPLE_BYTES + 10) + b"\n1\n"
    with pytest.raises(InvalidInput, match="first line is over"):
        csv_samples(_dataset(_file("w.csv", wide)), [_write(tmp_path, "w.csv", wide)])
    with pytest.raises(InvalidInput, match="size differs"):
        csv_samples(_dataset(), [_write(tmp_path, "t.csv", CSV + b"3,x,1,2024-01-01\n")])
    assert csv_samples(_dataset(), []) == {}  # no local file: a card without a record set


def test_a_generated_model_card_reads_back_as_yaml_front_matter() -> None:
    result = score_result(
        "macro_f1", 912_500, "tickets", "classification", "urn:proofwork:job:1", cid_of_bytes(b"s")
    )
    readme = model_card(
        _model(), datasets=["eip155:1/erc721:0xab/1"], base_model="eip155:1/erc721:0xab/2", results=[result]
    )
    meta = yaml.safe_load(readme[4 : readme.index("\n---\n", 4) + 1])
    assert meta == front_matter(readme)
    assert meta["license"] == "apache-2.0" and meta["datasets"] == ["eip155:1/erc721:0xab/1"]
    assert meta["base_model"] == "eip155:1/erc721:0xab/2" and meta["metrics"] == ["f1"]
    (entry,) = meta["model-index"][0]["results"]
    assert entry["task"] == {"type": "tabular-classification"}
    assert entry["metrics"] == [{"type": "f1", "value": 0.9125, "name": "f1"}]
    assert entry["dataset"]["type"] == "urn:proofwork:job:1" and "oracle committee" in entry["source"]["name"]
    card = model_card_document(readme)
    check_card(_model(), card)
    assert card_text(card) == readme == card_text(card, "hf-readme")
    summary = card_summary(card)
    assert summary["results"] == [{"metric": "f1", "value": "0.9125", "dataset": "tickets (hidden test set)"}]
    assert score_result("rmse", 1, "t", "regression", "j", "c").task_type == "tabular-regression"
    assert score_result("ndcg", 1, "t", "ranking", "j", "c").task_type == "other"


# ---------------------------------------------------------------- given


def test_a_model_card_given_as_hub_fields_becomes_its_readme() -> None:
    card = model_card_from_fields(_model(), {"license": "mit", "datasets": ["imdb"], "tags": ["nlp"]})
    assert card["format"] == HF_CARD_FORMAT
    assert front_matter(card["readme"]) == {"license": "mit", "datasets": ["imdb"], "tags": ["nlp"]}


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda c: c.pop("conformsTo"), "a dataset's card is Croissant 1.0"),
        (lambda c: c.pop("@context"), "'@context'"),
        (lambda c: c.update(name=""), "'name' must be text"),
        (lambda c: c.update(license=[]), "'license' must name"),
        (lambda c: c.update(distribution=[]), "must list the dataset's files"),
        (lambda c: c.update(distribution="x"), "must be a list of objects"),
        (lambda c: c["distribution"][0].update({"@type": "sc:Thing"}), "FileObject or a cr:FileSet"),
        (lambda c: c["distribution"][0].pop("sha256"), "needs its 'sha256'"),
        (lambda c: c["distribution"][0].update(sha256="00" * 32), "not the hash of any file"),
        (lambda c: c["distribution"][0].pop("contentUrl"), "contentUrl must be text"),
        (lambda c: c["recordSet"][0]["field"][0].update({"@type": "x"}), "must be a cr:Field"),
    ],
)
def test_a_bad_croissant_card_is_refused_in_one_line(mutate, needle: str) -> None:  # type: ignore[no-untyped-def]
    manifest = _dataset()
    card = json.loads(json.dumps(croissant_card(manifest, csv_samples={"t.csv": CSV.decode()})))
    mutate(card)
    with pytest.raises(InvalidInput, match=needle) as err:
        check_card(manifest, card)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("card", "needle"),
    [
        ({"license": "mit"}, "a model's card is a Hugging Face model card"),
        ({"format": HF_CARD_FORMAT, "readme": "# no front matter"}, "must open with YAML front matter"),
        ({"format": HF_CARD_FORMAT, "readme": "---\nlicense: mit\n"}, "not closed"),
        ({"format": HF_CARD_FORMAT, "readme": "---\ntags: [x\n---\n"}, "not YAML"),
        ({"format": HF_CARD_FORMAT, "readme": "---\n- a\n---\n"}, "must be a YAML mapping"),
        ({"format": HF_CARD_FORMAT, "readme": "---\ntags: [x]\n---\n"}, "no 'license'"),
        ({"format": HF_CARD_FORMAT, "readme": "---\na: &x [1]\nb: *x\nlicense: mit\n---\n"}, "YAML alias"),
        (
            {"format": HF_CARD_FORMAT, "readme": "---\nlicense: " + "[" * 20 + "]" * 20 + "\n---\n"},
            "too deep",
        ),
    ],
)
def test_a_bad_model_card_is_refused_in_one_line(card: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle) as err:
        check_card(_model(), card)
    assert "\n" not in str(err.value)


def test_a_card_file_is_bounded_before_it_is_parsed() -> None:
    assert load_card(b'{"a": 1}') == {"a": 1}
    with pytest.raises(InvalidInput, match="larger than"):
        load_card(b'{"a": "' + b"x" * MAX_CARD_BYTES + b'"}')
    with pytest.raises(InvalidInput, match="nested deeper than 15"):
        load_card("[" * 16 + "]" * 16)
    with pytest.raises(InvalidInput, match="a card is a JSON object"):
        load_card(b"[1]")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_card(b"{")


def test_a_card_prints_as_its_format_and_only_as_its_format() -> None:
    manifest = _dataset()
    card = croissant_card(manifest)
    printed = json.loads(card_text(card, url="ipfs://m"))
    assert printed == {**card, "url": "ipfs://m"} and json.loads(card_text(card, "croissant")) == card
    with pytest.raises(InvalidInput, match="not a Hugging Face model card"):
        card_text(card, "hf-readme")
    with pytest.raises(InvalidInput, match="unknown card format"):
        card_text(card, "yaml")
    assert json.loads(card_text({"x": 1})) == {"x": 1}  # a card proofwork does not read: as it is
    assert card_summary(None) == {"format": "none"} and card_summary({"x": 1}) == {"format": "other"}
    hostile = {"format": HF_CARD_FORMAT, "readme": "---\n[\n---\n"}
    assert "not YAML" in card_summary(hostile)["problem"]  # another party's card: shown as unreadable
