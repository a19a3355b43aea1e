"""Cards people already read: an MLCommons Croissant 1.0 dataset card, a Hugging Face model card.

`croissant_card` describes a dataset asset in Croissant 1.0 JSON-LD (the `@context` mlcroissant
writes for 1.0, `@type` sc:Dataset, `conformsTo` http://mlcommons.org/croissant/1.0): each manifest
file is a `cr:FileObject` whose `contentUrl` is `ipfs://CID`, with its sha256 and media type; a CSV file
given with its first lines gets a `cr:RecordSet` with one `cr:Field` per column, the data type guessed
from the values seen (sc:Integer, sc:Float, sc:Boolean, sc:Date, else sc:Text).

`model_card` writes a model asset's README.md as the Hugging Face Hub reads it: YAML front matter
(license, library_name, tags, datasets, base_model, metrics, and a `model-index` with the evaluated
score) and a Markdown body.

Pure: the CSV sample is text the caller read; nothing here touches files or the network.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from proofwork.domain.assets import MAX_MANIFEST_DEPTH, AssetFile, AssetKind, AssetManifest
from proofwork.domain.errors import InvalidInput
from proofwork.domain.jsonsafe import safe_json_loads

CROISSANT_VERSION = "http://mlcommons.org/croissant/1.0"
# The JSON-LD context of Croissant 1.0 as mlcroissant writes it (the one its validator calls standard):
# it expands `recordSet`, `field`, `source`... through it, so it is given whole.
CROISSANT_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

MAX_COLUMNS = 2_000
MAX_SAMPLE_ROWS = 1_000
MAX_SAMPLE_BYTES = 1 << 20

# file extension -> media type (Croissant's encodingFormat), for files whose manifest gives none
_MEDIA_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".jsonl": "application/jsonlines",
    ".parquet": "application/x-parquet",
    ".txt": "text/plain",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".gz": "application/gzip",
    ".onnx": "application/octet-stream",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
_INTEGER = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_BOOLEAN = frozenset({"true", "false"})
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def media_type_of(file: AssetFile) -> str:
    """The file's media type: the manifest's, else one from its extension, else application/octet-stream."""
    if file.media_type:
        return file.media_type
    name = file.name.lower()
    for ext, media in _MEDIA_TYPES.items():
        if name.endswith(ext):
            return media
    return "application/octet-stream"


def license_url(manifest: AssetManifest) -> str:
    """The licence as Croissant recommends it: the SPDX page of a single id, else the expression or terms."""
    if manifest.license is not None:
        if re.fullmatch(r"[A-Za-z0-9.+-]+", manifest.license):
            return f"https://spdx.org/licenses/{manifest.license}.html"
        return manifest.license
    return f"ipfs://{manifest.terms_cid}"


# ---------------------------------------------------------------- CSV columns


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # a schema.org type: sc:Integer, sc:Float, sc:Boolean, sc:Date or sc:Text


def guess_type(values: Sequence[str]) -> str:
    """The narrowest schema.org type every non-empty value fits: Boolean, Integer, Float, Date, else Text."""
    seen = [v.strip() for v in values if v.strip()]
    if not seen:
        return "sc:Text"
    if all(v.lower() in _BOOLEAN for v in seen):
        return "sc:Boolean"
    if all(_INTEGER.match(v) for v in seen):
        return "sc:Integer"
    if all(_FLOAT.match(v) or v.lower() in ("nan", "inf", "-inf") for v in seen):
        return "sc:Float"
    if all(_DATE.match(v) for v in seen):
        return "sc:Date"
    return "sc:Text"


def csv_columns(sample: str, *, delimiter: str = ",") -> list[Column]:
    """The columns of a CSV from its first lines (the header, then rows to guess types from)."""
    if len(sample.encode("utf-8", "surrogatepass")) > MAX_SAMPLE_BYTES:
        raise InvalidInput(f"the CSV sample is over {MAX_SAMPLE_BYTES:,} bytes: give its first lines only")
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter, strict=False)
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise InvalidInput("the CSV has no header row")
        if len(header) > MAX_COLUMNS:
            raise InvalidInput(f"the CSV has {len(header)} columns, more than {MAX_COLUMNS}")
        names = [h.strip() for h in header]
        if any(not n for n in names):
            raise InvalidInput("the CSV header has an empty column name")
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise InvalidInput(f"the CSV header names column {dup[:60]!r} twice")
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) >= MAX_SAMPLE_ROWS:
                break
            rows.append(row)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV sample cannot be read: {exc}") from None
    return [
        Column(name, guess_type([row[i] for row in rows if i < len(row)])) for i, name in enumerate(names)
    ]


# ---------------------------------------------------------------- Croissant


def _file_id(name: str) -> str:
    return _ID_UNSAFE.sub("_", name) or "file"


def croissant_card(
    manifest: AssetManifest,
    *,
    csv_samples: Mapping[str, str] | None = None,
    creators: Sequence[str] = (),
    url: str | None = None,
    date_published: str | None = None,
    version: str | None = None,
    keywords: Sequence[str] = (),
    cite_as: str | None = None,
) -> dict[str, Any]:
    """The Croissant 1.0 JSON-LD card of a dataset asset.

    `csv_samples` maps a CSV file's name in the manifest to its first lines: each gets a RecordSet.
    `creators` are names or addresses (sc:Person); `url` the dataset's page (e.g. its manifest's
    `ipfs://` URL or an explorer link); `date_published` an ISO date; `cite_as` a citation (BibTeX).
    """
    if manifest.kind is not AssetKind.DATASET:
        raise InvalidInput("a Croissant card describes a dataset: this asset is a model")
    files_by_name = {f.name: f for f in manifest.files}
    distribution = []
    for f in manifest.files:
        entry: dict[str, Any] = {
            "@type": "cr:FileObject",
            "@id": _file_id(f.name),
            "name": f.name,
            "contentUrl": f"ipfs://{f.cid}",
            "contentSize": f"{f.size} B",
            "encodingFormat": media_type_of(f),
            "sha256": f.sha256,
        }
        if f.encrypted:
            entry["description"] = (
                "Stored encrypted (AES-256-GCM, proofwork asset file v1); sha256 and size are the "
                "plaintext's. The key is released to licence holders."
            )
        distribution.append(entry)
    record_sets = []
    for name, sample in (csv_samples or {}).items():
        if name not in files_by_name:
            raise InvalidInput(f"the manifest has no file named {name[:60]!r} to describe")
        file_id = _file_id(name)
        record_id = f"{file_id}_records"
        fields = [
            {
                "@type": "cr:Field",
                "@id": f"{record_id}/{_file_id(col.name)}",
                "name": col.name,
                "dataType": col.data_type,
                "source": {"fileObject": {"@id": file_id}, "extract": {"column": col.name}},
            }
            for col in csv_columns(sample, delimiter="\t" if name.lower().endswith(".tsv") else ",")
        ]
        ids = [f["@id"] for f in fields]
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"two columns of {name[:60]!r} map to the same field id: rename one")
        record_sets.append({"@type": "cr:RecordSet", "@id": record_id, "name": record_id, "field": fields})
    card: dict[str, Any] = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CROISSANT_VERSION,
        "name": manifest.name,
        "description": manifest.description or manifest.name,
        "license": license_url(manifest),
        "creator": [{"@type": "sc:Person", "name": c} for c in creators],
        "distribution": distribution,
    }
    if url is not None:
        card["url"] = url
    if date_published is not None:
        card["datePublished"] = date_published
    if version is not None:
        card["version"] = version
    if keywords:
        card["keywords"] = list(keywords)
    if cite_as is not None:
        card["citeAs"] = cite_as
    if record_sets:
        card["recordSet"] = record_sets
    return card


# ---------------------------------------------------------------- Hugging Face model card

# Hugging Face Hub licence ids that are an SPDX id in lower case (the Hub's list, as far as it overlaps)
_HF_LICENSES = frozenset(
    [
        "apache-2.0",
        "mit",
        "afl-3.0",
        "artistic-2.0",
        "bsl-1.0",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-2.0",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
        "cdla-sharing-1.0",
        "cdla-permissive-1.0",
        "cdla-permissive-2.0",
        "wtfpl",
        "ecl-2.0",
        "epl-1.0",
        "epl-2.0",
        "etalab-2.0",
        "eupl-1.1",
        "eupl-1.2",
        "isc",
        "lppl-1.3c",
        "ms-pl",
        "mpl-2.0",
        "osl-3.0",
        "postgresql",
        "ofl-1.1",
        "ncsa",
        "unlicense",
        "zlib",
    ]
)
_HF_RENAMED = {
    "gpl-2.0-only": "gpl-2.0",
    "gpl-2.0-or-later": "gpl-2.0",
    "gpl-3.0-only": "gpl-3.0",
    "gpl-3.0-or-later": "gpl-3.0",
    "lgpl-2.1-only": "lgpl-2.1",
    "lgpl-2.1-or-later": "lgpl-2.1",
    "lgpl-3.0-only": "lgpl-3.0",
    "lgpl-3.0-or-later": "lgpl-3.0",
    "agpl-3.0-only": "agpl-3.0",
    "agpl-3.0-or-later": "agpl-3.0",
    "odbl-1.0": "odbl",
    "pddl-1.0": "pddl",
    "odc-by-1.0": "odc-by",
}


def hf_license(manifest: AssetManifest) -> dict[str, str]:
    """The Hub's licence fields: `license` alone when the Hub knows the id, else `other` with a name and link."""
    if manifest.license is not None:
        lower = manifest.license.lower()
        if lower in _HF_LICENSES:
            return {"license": lower}
        if lower in _HF_RENAMED:
            return {"license": _HF_RENAMED[lower]}
        name = re.sub(r"[^a-z0-9.-]+", "-", lower).strip("-")
        return {"license": "other", "license_name": name, "license_link": license_url(manifest)}
    return {
        "license": "other",
        "license_name": "proofwork-terms",
        "license_link": f"ipfs://{manifest.terms_cid}",
    }


@dataclass(frozen=True)
class EvalResult:
    """One evaluated score for the model-index: the metric (an HF metric id), its value, on what data."""

    metric: str
    value: float
    dataset_name: str
    dataset_type: str
    task_type: str = "tabular-classification"
    split: str = "test"
    # where the score comes from (e.g. "proofwork oracle committee" and the job's signed report): the
    # model-index `source`. Not `verified`, which on the Hub means "evaluated by Hugging Face".
    source_name: str | None = None
    source_url: str | None = None


_HF_TASKS = frozenset(
    {"tabular-classification", "tabular-regression", "text-classification", "image-classification", "other"}
)


def model_card(
    manifest: AssetManifest,
    *,
    library_name: str = "onnx",
    tags: Sequence[str] = (),
    datasets: Sequence[str] = (),
    base_model: str | Sequence[str] | None = None,
    results: Sequence[EvalResult] = (),
    body: str = "",
) -> str:
    """A model asset's README.md with Hugging Face model card metadata in its YAML front matter."""
    if manifest.kind is not AssetKind.MODEL:
        raise InvalidInput("a model card describes a model: this asset is a dataset")
    meta: dict[str, Any] = dict(hf_license(manifest))
    meta["library_name"] = library_name
    meta["tags"] = list(dict.fromkeys(["proofwork", *tags]))
    if datasets:
        meta["datasets"] = list(datasets)
    if base_model is not None:
        meta["base_model"] = base_model if isinstance(base_model, str) else list(base_model)
    if results:
        meta["metrics"] = list(dict.fromkeys(r.metric for r in results))
        entries = []
        for r in results:
            if (
                isinstance(r.value, bool)
                or not isinstance(r.value, int | float)
                or not math.isfinite(r.value)
            ):
                raise InvalidInput(f"the {r.metric} score must be a finite number, got {r.value!r}")
            if r.task_type not in _HF_TASKS:
                raise InvalidInput(
                    f"unknown task type {r.task_type!r}: expected one of {', '.join(sorted(_HF_TASKS))}"
                )
            entry: dict[str, Any] = {
                "task": {"type": r.task_type},
                "dataset": {"name": r.dataset_name, "type": r.dataset_type, "split": r.split},
                "metrics": [{"type": r.metric, "value": float(r.value), "name": r.metric}],
            }
            if r.source_name is not None or r.source_url is not None:
                entry["source"] = {
                    k: v for k, v in (("name", r.source_name), ("url", r.source_url)) if v is not None
                }
            entries.append(entry)
        meta["model-index"] = [{"name": manifest.name, "results": entries}]
    return _readme(manifest, meta, body)


def _readme(manifest: AssetManifest, meta: Mapping[str, Any], body: str) -> str:
    """README.md: the metadata as YAML front matter, the name, the text, the files by CID."""
    front = yaml.safe_dump(dict(meta), sort_keys=False, allow_unicode=True, default_flow_style=False)
    files = "\n".join(
        f"- `{f.name}`: `ipfs://{f.cid}` (sha256 `{f.sha256}`, {f.size} bytes"
        + (", encrypted" if f.encrypted else "")
        + ")"
        for f in manifest.files
    )
    text = body.strip() or manifest.description.strip()
    parts = [f"---\n{front}---", f"# {manifest.name}"]
    if text:
        parts.append(text)
    parts.append(f"## Files\n\n{files}")
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- a card inside a manifest

HF_CARD_FORMAT = "huggingface-model-card"


def model_card_document(readme: str) -> dict[str, Any]:
    """A model card as the manifest's `card` object: the README text under a format tag."""
    return {"format": HF_CARD_FORMAT, "readme": readme}


def card_format(card: Mapping[str, Any] | None) -> str:
    """What a manifest's card is: "croissant", "huggingface", "other" or "none" (for display and checks)."""
    if card is None:
        return "none"
    if card.get("conformsTo") == CROISSANT_VERSION and card.get("@type") in ("sc:Dataset", "Dataset"):
        return "croissant"
    if card.get("format") == HF_CARD_FORMAT and isinstance(card.get("readme"), str):
        return "huggingface"
    return "other"


# ---------------------------------------------------------------- a card someone gives

MAX_CARD_BYTES = 256 * 1024
MAX_CARD_DEPTH = MAX_MANIFEST_DEPTH - 1  # the card sits one level down in its manifest
MAX_FRONT_MATTER_DEPTH = 12
_FILE_TYPES = frozenset({"cr:FileObject", "FileObject", "cr:FileSet", "FileSet"})
# the model card metadata fields the Hub documents (a card given as fields uses these only)
HF_FIELDS = frozenset(
    {
        "language",
        "license",
        "license_name",
        "license_link",
        "library_name",
        "tags",
        "datasets",
        "metrics",
        "base_model",
        "base_model_relation",
        "pipeline_tag",
        "model-index",
        "inference",
        "widget",
        "thumbnail",
        "co2_eq_emissions",
        "new_version",
        "model_name",
    }
)


def load_card(data: bytes | str) -> dict[str, Any]:
    """A card file's JSON, bounded before it is parsed (size, nesting); InvalidInput in one line."""
    try:
        card = safe_json_loads(data, max_bytes=MAX_CARD_BYTES, max_depth=MAX_CARD_DEPTH)
    except InvalidInput as exc:
        raise InvalidInput(f"invalid card: {exc} (at most {MAX_CARD_BYTES:,} bytes)") from None
    if not isinstance(card, dict):
        raise InvalidInput("invalid card: a card is a JSON object")
    return card


def is_hf_fields(card: Mapping[str, Any]) -> bool:
    """Whether `card` is Hugging Face model card metadata as JSON (to be written as front matter)."""
    return bool(card) and "license" in card and set(card) <= HF_FIELDS


def model_card_from_fields(manifest: AssetManifest, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's `card` for a model whose card was given as Hub metadata fields."""
    if manifest.kind is not AssetKind.MODEL:
        raise InvalidInput("a model card describes a model: this asset is a dataset")
    doc = model_card_document(_readme(manifest, fields, ""))
    check_card(manifest, doc)
    return doc


def check_card(manifest: AssetManifest, card: Mapping[str, Any]) -> None:
    """A card given for `manifest` has the shape its readers rely on, or InvalidInput (one line).

    A dataset's: Croissant 1.0 (`@context`, `@type` sc:Dataset, `conformsTo`, a name, a description,
    a licence, a `distribution` of FileObject/FileSet entries, each FileObject with a `contentUrl`,
    an `encodingFormat` and a sha256 or md5, a FileObject's sha256 one of the manifest's files; record
    sets with named fields). Structural only: mlcroissant is not a dependency. A model's: a Hugging Face
    model card (`{"format": "huggingface-model-card", "readme": ...}`) whose README opens with YAML front
    matter holding a `license`.
    """
    fmt = card_format(card)
    if manifest.kind is AssetKind.DATASET:
        if fmt != "croissant":
            raise InvalidInput(
                f'invalid card: a dataset\'s card is Croissant 1.0 JSON-LD ("@type": "sc:Dataset", '
                f'"conformsTo": "{CROISSANT_VERSION}")'
            )
        _check_croissant(manifest, card)
        return
    if fmt != "huggingface":
        raise InvalidInput(
            f'invalid card: a model\'s card is a Hugging Face model card: {{"format": "{HF_CARD_FORMAT}", '
            '"readme": "---\\nlicense: ...\\n---\\n..."}, or its metadata fields (license, datasets, ...)'
        )
    meta = front_matter(card["readme"])
    if not isinstance(meta.get("license"), str) or not meta["license"].strip():
        raise InvalidInput("invalid card: the model card's front matter has no 'license'")


def _text(value: Any, what: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise InvalidInput(f"invalid card: {what} must be text, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _entries(value: Any, what: str) -> list[Any]:
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise InvalidInput(f"invalid card: {what} must be a list of objects")
    for entry in value:
        if not isinstance(entry, dict):
            raise InvalidInput(f"invalid card: every entry of {what} must be an object")
    return value


def _check_croissant(manifest: AssetManifest, card: Mapping[str, Any]) -> None:
    if not isinstance(card.get("@context"), dict | str):
        raise InvalidInput("invalid card: a Croissant card needs its JSON-LD '@context'")
    _text(card.get("name"), "'name'")
    _text(card.get("description"), "'description'", empty=True)
    licence = card.get("license")
    licences = licence if isinstance(licence, list) else [licence]
    if not licences or not all(isinstance(x, str | dict) and x for x in licences):
        raise InvalidInput("invalid card: 'license' must name the licence (a URL or an SPDX id)")
    hashes = {f.sha256 for f in manifest.files}
    distribution = _entries(card.get("distribution"), "'distribution'")
    if not distribution:
        raise InvalidInput("invalid card: 'distribution' must list the dataset's files")
    for i, entry in enumerate(distribution):
        where = f"distribution[{i}]"
        kind = entry.get("@type")
        if kind not in _FILE_TYPES:
            raise InvalidInput(f"invalid card: {where} must be a cr:FileObject or a cr:FileSet")
        _text(entry.get("@id", entry.get("name")), f"{where}'s '@id' or 'name'")
        _text(entry.get("encodingFormat"), f"{where}.encodingFormat")
        if kind.endswith("FileSet"):
            if not isinstance(entry.get("includes"), str | list):
                raise InvalidInput(f"invalid card: {where} (a FileSet) needs 'includes'")
            continue
        _text(entry.get("contentUrl"), f"{where}.contentUrl")
        sha256, md5 = entry.get("sha256"), entry.get("md5")
        if sha256 is None and md5 is None:
            raise InvalidInput(f"invalid card: {where} needs its 'sha256' (or 'md5')")
        if sha256 is not None and _text(sha256, f"{where}.sha256").lower() not in hashes:
            raise InvalidInput(f"invalid card: {where}'s sha256 is not the hash of any file of the asset")
    for i, record_set in enumerate(_entries(card.get("recordSet", []), "'recordSet'")):
        where = f"recordSet[{i}]"
        if record_set.get("@type") not in ("cr:RecordSet", "RecordSet"):
            raise InvalidInput(f"invalid card: {where} must be a cr:RecordSet")
        for j, fld in enumerate(_entries(record_set.get("field", []), f"{where}.field")):
            if fld.get("@type") not in ("cr:Field", "Field"):
                raise InvalidInput(f"invalid card: {where}.field[{j}] must be a cr:Field")
            _text(fld.get("name", fld.get("@id")), f"{where}.field[{j}]'s 'name'")


def front_matter(readme: str) -> dict[str, Any]:
    """The YAML front matter of a model card's README, read safely (no aliases, bounded nesting)."""
    if not isinstance(readme, str) or not readme.startswith("---\n"):
        raise InvalidInput("invalid card: the model card's README must open with YAML front matter (---)")
    end = readme.find("\n---\n", 3)
    if end < 0 and readme.endswith("\n---"):
        end = len(readme) - 4
    if end < 0:
        raise InvalidInput("invalid card: the model card's YAML front matter is not closed by ---")
    text = readme[4 : end + 1]
    try:
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise InvalidInput("invalid card: the front matter uses a YAML alias")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_FRONT_MATTER_DEPTH:
                    raise InvalidInput("invalid card: the front matter nests too deep")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        meta = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0][:80] if str(exc) else "unreadable"
        raise InvalidInput(f"invalid card: the front matter is not YAML ({reason})") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise InvalidInput("invalid card: the front matter must be a YAML mapping")
    return meta


# ---------------------------------------------------------------- a card shown

MAX_SHOWN = 50  # entries of a list shown on a page


def _names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    out = []
    for item in items[:MAX_SHOWN]:
        if isinstance(item, dict):
            item = item.get("name") or item.get("@id") or item.get("url")
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            out.append(str(item))
    return out


def _list(value: Any) -> list[Any]:
    return value[:MAX_SHOWN] if isinstance(value, list) else []


def card_summary(card: Mapping[str, Any] | None) -> dict[str, Any]:
    """The main fields of a card, as plain text and lists, for a page or a terminal (to be escaped)."""
    fmt = card_format(card)
    if card is None or fmt in ("none", "other"):
        return {"format": fmt}
    if fmt == "croissant":
        files = [
            {
                "name": str(d.get("name") or d.get("@id") or ""),
                "encoding": str(d.get("encodingFormat") or ""),
                "url": str(d.get("contentUrl") or ""),
            }
            for d in _list(card.get("distribution"))
            if isinstance(d, dict)
        ]
        record_sets = []
        for r in _list(card.get("recordSet")):
            if not isinstance(r, dict):
                continue
            fields = [
                {"name": str(f.get("name") or f.get("@id") or ""), "type": str(f.get("dataType") or "")}
                for f in _list(r.get("field"))
                if isinstance(f, dict)
            ]
            record_sets.append({"name": str(r.get("name") or r.get("@id") or ""), "fields": fields})
        return {
            "format": fmt,
            "conforms_to": CROISSANT_VERSION,
            "name": str(card.get("name") or ""),
            "description": str(card.get("description") or ""),
            "license": ", ".join(_names(card.get("license"))),
            "creators": _names(card.get("creator")),
            "date_published": str(card.get("datePublished") or ""),
            "based_on": _names(card.get("isBasedOn")),
            "files": files,
            "record_sets": record_sets,
        }
    try:
        meta = front_matter(str(card["readme"]))
    except InvalidInput as exc:  # a card from another party's manifest: shown as unreadable
        return {"format": fmt, "problem": str(exc)}
    results = []
    for model in _list(meta.get("model-index")):
        for r in _list(model.get("results")) if isinstance(model, dict) else []:
            if not isinstance(r, dict):
                continue
            dataset = r["dataset"] if isinstance(r.get("dataset"), dict) else {}
            for m in _list(r.get("metrics")):
                if isinstance(m, dict):
                    results.append(
                        {
                            "metric": str(m.get("name") or m.get("type") or ""),
                            "value": str(m.get("value")),
                            "dataset": str(dataset.get("name") or dataset.get("type") or ""),
                        }
                    )
    return {
        "format": fmt,
        "license": str(meta.get("license_name") or meta.get("license") or ""),
        "library_name": str(meta.get("library_name") or ""),
        "tags": _names(meta.get("tags")),
        "datasets": _names(meta.get("datasets")),
        "base_model": _names(meta.get("base_model")),
        "results": results[:MAX_SHOWN],
    }


CARD_OUTPUTS = ("croissant", "hf-readme")


def card_text(card: Mapping[str, Any] | None, output: str | None = None, *, url: str | None = None) -> str:
    """A card as its readers take it: Croissant JSON-LD (`croissant`), or the model's README.md with its
    YAML front matter (`hf-readme`); by default, whichever the card is. `url` (where the dataset is
    described, e.g. its manifest's ipfs:// URL) is added to a Croissant card that names none: a card
    stored inside its manifest cannot name the manifest's own CID."""
    fmt = card_format(card)
    if card is None:
        raise InvalidInput("this asset has no card")
    if output is None:
        if fmt == "other":
            return json.dumps(card, indent=2, ensure_ascii=False) + "\n"
        output = "hf-readme" if fmt == "huggingface" else "croissant"
    if output not in CARD_OUTPUTS:
        raise InvalidInput(f"unknown card format {output!r}: expected {' or '.join(CARD_OUTPUTS)}")
    if output == "hf-readme":
        if fmt != "huggingface":
            raise InvalidInput(
                f"this asset's card is {fmt}, not a Hugging Face model card: ask for the croissant format"
            )
        return str(card["readme"])
    if fmt != "croissant":
        raise InvalidInput(f"this asset's card is {fmt}, not a Croissant card: ask for the hf-readme format")
    doc = dict(card)
    if url is not None and "url" not in doc:
        doc["url"] = url
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
