"""domain.cards: the Croissant 1.0 dataset card and the Hugging Face model card of an asset.

Checked once by hand with the reference readers, installed apart and run offline (too heavy for the
suite): mlcroissant 1.1.1 (pandas, scipy, rdflib: ~240 MB) validates the Croissant card with no error and
no warning and, pointed at a local copy of the CSV, loads its records with the guessed types;
huggingface_hub 2.4.0's `ModelCard` reads the model card's licence, tags, datasets, base_model and its
model-index as an `EvalResult`. The checks below hold the structure those readers rely on.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from proofwork.domain.assets import AssetFile, build_manifest, parse_manifest
from proofwork.domain.cards import (
    CROISSANT_CONTEXT,
    CROISSANT_VERSION,
    HF_CARD_FORMAT,
    EvalResult,
    card_format,
    croissant_card,
    csv_columns,
    guess_type,
    hf_license,
    model_card,
    model_card_document,
)
from proofwork.domain.errors import InvalidInput
from proofwork.storage.unixfs import cid_of_bytes

CSV = (
    b"id,text,label,score,reviewed,day,notes\n"
    b"1,hello,spam,0.5,true,2024-01-02,\n"
    b'2,"a, b",ham,1e-3,FALSE,2024-02-29,x\n'
    b'-3,"line\nbreak",ham,7,true,2024-12-31,\n'
)


def _file(name: str, content: bytes, **kw: object) -> AssetFile:
    return AssetFile(name, cid_of_bytes(content), hashlib.sha256(content).hexdigest(), len(content), **kw)  # type: ignore[arg-type]


def _dataset(**kw: object):  # type: ignore[no-untyped-def]
    files = [_file("tickets.csv", CSV), _file("images.tar", b"tar", encrypted=True)]
    return build_manifest("dataset", "support tickets", files, description="Tickets, labelled.", **kw)  # type: ignore[arg-type]


def _model(**kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("license", "Apache-2.0")
    return build_manifest(
        "model", "ticket-classifier", [_file("model.onnx", b"onnx")], description="Classifies tickets.", **kw
    )  # type: ignore[arg-type]


def _front_matter(readme: str) -> dict[str, object]:
    assert readme.startswith("---\n")
    end = readme.index("\n---\n", 4)
    meta = yaml.safe_load(readme[4 : end + 1])
    assert isinstance(meta, dict)
    return meta


# ---------------------------------------------------------------- Croissant


def test_the_croissant_card_has_the_required_dataset_properties() -> None:
    manifest = _dataset(license="cc-by-4.0")
    card = croissant_card(
        manifest,
        csv_samples={"tickets.csv": CSV.decode()},
        creators=["0x" + "ab" * 20, "Ana"],
        url="ipfs://" + cid_of_bytes(b"manifest"),
        date_published="2026-12-06",
        version="1.0.0",
        keywords=["support", "nlp"],
        cite_as="@misc{tickets}",
    )
    assert card["@context"] == CROISSANT_CONTEXT
    ctx = card["@context"]
    assert ctx["@vocab"] == "https://schema.org/" and ctx["cr"] == "http://mlcommons.org/croissant/"
    assert ctx["conformsTo"] == "dct:conformsTo" and ctx["dct"] == "http://purl.org/dc/terms/"
    for term in ("recordSet", "field", "source", "extract", "column", "fileObject", "key", "citeAs"):
        assert ctx[term] == f"cr:{term}"
    assert ctx["dataType"] == {"@id": "cr:dataType", "@type": "@vocab"}
    assert (
        card["@type"] == "sc:Dataset"
        and card["conformsTo"] == CROISSANT_VERSION == "http://mlcommons.org/croissant/1.0"
    )
    assert card["name"] == "support tickets" and card["description"] == "Tickets, labelled."
    assert card["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert card["creator"] == [
        {"@type": "sc:Person", "name": "0x" + "ab" * 20},
        {"@type": "sc:Person", "name": "Ana"},
    ]
    assert (
        card["datePublished"] == "2026-12-06"
        and card["version"] == "1.0.0"
        and card["citeAs"] == "@misc{tickets}"
    )
    assert card["keywords"] == ["support", "nlp"] and card["url"].startswith("ipfs://b")


def test_every_file_is_a_file_object_at_its_ipfs_url_with_its_sha256() -> None:
    manifest = _dataset(license="MIT")
    card = croissant_card(manifest)
    assert "recordSet" not in card
    csv_entry, tar_entry = card["distribution"]
    assert csv_entry == {
        "@type": "cr:FileObject",
        "@id": "tickets.csv",
        "name": "tickets.csv",
        "contentUrl": f"ipfs://{cid_of_bytes(CSV)}",
        "contentSize": f"{len(CSV)} B",
        "encodingFormat": "text/csv",
        "sha256": hashlib.sha256(CSV).hexdigest(),
    }
    assert tar_entry["encodingFormat"] == "application/x-tar" and "encrypted" in tar_entry["description"]


def test_a_csv_becomes_a_record_set_with_a_typed_field_per_column() -> None:
    card = croissant_card(_dataset(license="MIT"), csv_samples={"tickets.csv": CSV.decode()})
    (record_set,) = card["recordSet"]
    assert record_set["@type"] == "cr:RecordSet" and record_set["@id"] == "tickets.csv_records"
    types = {f["name"]: f["dataType"] for f in record_set["field"]}
    assert types == {
        "id": "sc:Integer",
        "text": "sc:Text",
        "label": "sc:Text",
        "score": "sc:Float",
        "reviewed": "sc:Boolean",
        "day": "sc:Date",
        "notes": "sc:Text",
    }
    file_ids = {d["@id"] for d in card["distribution"]}
    ids = [f["@id"] for f in record_set["field"]]
    assert len(set(ids)) == len(ids) and all(i.startswith("tickets.csv_records/") for i in ids)
    for f in record_set["field"]:
        assert f["@type"] == "cr:Field"
        assert f["source"]["fileObject"]["@id"] in file_ids and f["source"]["extract"] == {
            "column": f["name"]
        }


def test_custom_terms_and_expressions_as_the_croissant_licence() -> None:
    terms = cid_of_bytes(b"research only")
    assert croissant_card(_dataset(terms_cid=terms))["license"] == f"ipfs://{terms}"
    assert croissant_card(_dataset(license="MIT OR Apache-2.0"))["license"] == "MIT OR Apache-2.0"


def test_a_card_fits_in_its_manifest_and_round_trips() -> None:
    manifest = _dataset(license="MIT")
    card = croissant_card(manifest, csv_samples={"tickets.csv": CSV.decode()}, creators=["Ana"])
    with_card = build_manifest(manifest.kind, manifest.name, manifest.files, license="MIT", card=card)
    assert parse_manifest(with_card.canonical_bytes()).card == json.loads(json.dumps(card))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+3", ""], "sc:Integer"),
        (["1", "2.5", "1e-3", ".5", "NaN"], "sc:Float"),
        (["true", "False", "TRUE"], "sc:Boolean"),
        (["2024-01-02", "1999-12-31"], "sc:Date"),
        (["2024-13-01"], "sc:Text"),
        (["1", "x"], "sc:Text"),
        (["", " "], "sc:Text"),
        ([], "sc:Text"),
    ],
)
def test_column_types_are_guessed_from_values(values: list[str], expected: str) -> None:
    assert guess_type(values) == expected


@pytest.mark.parametrize(
    ("sample", "needle"),
    [
        ("", "no header row"),
        ("\n1,2\n", "no header row"),
        ("a,,c\n", "empty column name"),
        ("a,b,a\n", "names column 'a' twice"),
        (",".join(f"c{i}" for i in range(2_001)) + "\n", "more than 2000"),
        ("a\n" + "x" * (1 << 20), "over 1,048,576 bytes"),
    ],
)
def test_a_bad_csv_sample_is_refused_in_one_line(sample: str, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle) as err:
        csv_columns(sample)
    assert "\n" not in str(err.value)


def test_only_rows_after_the_header_are_sampled_and_tsv_is_read_by_tabs() -> None:
    assert [c.data_type for c in csv_columns("a\tb\n1\tx\n", delimiter="\t")] == ["sc:Integer", "sc:Text"]
    rows = "n\n" + "1\n" * 1_000 + "oops\n"  # the 1001st row is past the sample
    assert csv_columns(rows)[0].data_type == "sc:Integer"


def test_croissant_refuses_a_model_or_an_unknown_csv() -> None:
    with pytest.raises(InvalidInput, match="describes a dataset"):
        croissant_card(_model())
    with pytest.raises(InvalidInput, match=r"no file named 'other\.csv'"):
        croissant_card(_dataset(license="MIT"), csv_samples={"other.csv": "a\n"})


# ---------------------------------------------------------------- Hugging Face


def test_the_model_card_front_matter_holds_the_hub_fields() -> None:
    readme = model_card(
        _model(),
        tags=["tabular", "proofwork"],
        datasets=["proofwork/asset-1"],
        base_model="proofwork/asset-2",
        results=[
            EvalResult(
                "accuracy",
                0.9125,
                "support tickets",
                "proofwork/asset-1",
                source_name="proofwork oracle committee",
                source_url="ipfs://" + cid_of_bytes(b"report"),
            )
        ],
    )
    meta = _front_matter(readme)
    assert meta["license"] == "apache-2.0" and meta["library_name"] == "onnx"
    assert meta["tags"] == ["proofwork", "tabular"]
    assert meta["datasets"] == ["proofwork/asset-1"] and meta["base_model"] == "proofwork/asset-2"
    assert meta["metrics"] == ["accuracy"]
    assert meta["model-index"] == [
        {
            "name": "ticket-classifier",
            "results": [
                {
                    "task": {"type": "tabular-classification"},
                    "dataset": {"name": "support tickets", "type": "proofwork/asset-1", "split": "test"},
                    "metrics": [{"type": "accuracy", "value": 0.9125, "name": "accuracy"}],
                    "source": {
                        "name": "proofwork oracle committee",
                        "url": "ipfs://" + cid_of_bytes(b"report"),
                    },
                }
            ],
        }
    ]
    body = readme[readme.index("\n---\n") + 5 :]
    assert body.startswith("\n# ticket-classifier\n\nClassifies tickets.\n")
    assert f"ipfs://{cid_of_bytes(b'onnx')}" in body and hashlib.sha256(b"onnx").hexdigest() in body


def test_a_merge_lists_its_base_models_and_a_bare_card_has_no_index() -> None:
    meta = _front_matter(model_card(_model(), base_model=["a/one", "b/two"]))
    assert meta["base_model"] == ["a/one", "b/two"]
    assert "model-index" not in meta and "metrics" not in meta and "datasets" not in meta


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"license": "MIT"}, {"license": "mit"}),
        ({"license": "GPL-3.0-only"}, {"license": "gpl-3.0"}),
        ({"license": "ODbL-1.0"}, {"license": "odbl"}),
        (
            {"license": "Apache-2.0 WITH LLVM-exception"},
            {
                "license": "other",
                "license_name": "apache-2.0-with-llvm-exception",
                "license_link": "Apache-2.0 WITH LLVM-exception",
            },
        ),
        (
            {"license": "BUSL-1.1"},
            {
                "license": "other",
                "license_name": "busl-1.1",
                "license_link": "https://spdx.org/licenses/BUSL-1.1.html",
            },
        ),
    ],
)
def test_licences_map_to_the_hub_ids(kw: dict[str, str], expected: dict[str, str]) -> None:
    assert hf_license(_model(**kw)) == expected


def test_custom_terms_are_an_other_licence_linked_by_cid() -> None:
    terms = cid_of_bytes(b"terms")
    meta = _front_matter(model_card(_model(license=None, terms_cid=terms)))
    assert meta["license"] == "other" and meta["license_link"] == f"ipfs://{terms}" and meta["license_name"]


def test_the_model_card_refuses_a_dataset_and_a_non_finite_score() -> None:
    with pytest.raises(InvalidInput, match="describes a model"):
        model_card(_dataset(license="MIT"))
    with pytest.raises(InvalidInput, match="finite number"):
        model_card(_model(), results=[EvalResult("rmse", float("nan"), "d", "d")])
    with pytest.raises(InvalidInput, match="unknown task type"):
        model_card(_model(), results=[EvalResult("rmse", 1.0, "d", "d", task_type="dance")])


def test_yaml_special_text_stays_text_in_the_front_matter() -> None:
    meta = _front_matter(model_card(_model(), tags=["yes", "null", "1.0", "a: b", "- x"], datasets=["---"]))
    assert meta["tags"] == ["proofwork", "yes", "null", "1.0", "a: b", "- x"] and meta["datasets"] == ["---"]


def test_cards_travel_inside_their_manifest_and_are_recognised() -> None:
    dataset = _dataset(license="MIT")
    croissant = croissant_card(dataset)
    readme = model_card(_model(), tags=["t"])
    model = build_manifest("model", "m", _model().files, license="MIT", card=model_card_document(readme))
    read = parse_manifest(model.canonical_bytes())
    assert read.card == {"format": HF_CARD_FORMAT, "readme": readme}
    assert card_format(read.card) == "huggingface" and card_format(croissant) == "croissant"
    assert card_format(None) == "none" and card_format({"format": HF_CARD_FORMAT, "readme": 3}) == "other"
