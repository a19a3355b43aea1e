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
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from proofwork.domain.assets import AssetFile, AssetKind, AssetManifest
from proofwork.domain.errors import InvalidInput

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
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
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
