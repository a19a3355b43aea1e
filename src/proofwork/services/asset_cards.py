"""The card of an asset at registration: given (checked), generated, or none.

A dataset gets a Croissant 1.0 card: its files with their CIDs, sha256 and media types; a record set
per CSV/TSV file with the columns and types read from the first lines of the plaintext the owner has
locally (`sources`, at most `CSV_SAMPLE_BYTES` of each); the licence; its creators (the owner and the
creators registered, by address); the assets it derives from (`isBasedOn`). A model gets a Hugging Face
model card: the licence, its parent datasets (`datasets`) and parent models (`base_model`), named by
their CAIP-19 ids as the PROV lineage names them, and, for a paid deliverable of a job the oracle
committee judged, the score it settled as a model-index result.

A card must not cost a timestamp its proof: when this data directory timestamped the card-less manifest
for the signer (`asset timestamp`), no card is generated (a given card is still used).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofwork.domain import job as J
from proofwork.domain.assets import (
    MAX_MANIFEST_BYTES,
    AssetKind,
    AssetManifest,
    Parent,
    canonical_json,
    parse_manifest,
)
from proofwork.domain.cards import (
    EvalResult,
    check_card,
    croissant_card,
    csv_columns,
    is_hf_fields,
    media_type_of,
    model_card,
    model_card_document,
    model_card_from_fields,
)
from proofwork.domain.errors import InvalidInput, ProofworkError
from proofwork.services.workspace import Workspace

if TYPE_CHECKING:
    from proofwork.chain.assets import AssetRecord

CSV_SAMPLE_BYTES = 256 * 1024  # the head of each CSV read for its columns
_CSV_TYPES = {"text/csv": ",", "text/tab-separated-values": "\t"}
# the evaluation's metric -> the Hub's metric id (model-index `type`)
_HF_METRICS = {"macro_f1": "f1", "r2": "r_squared"}
_HF_TASKS = {"classification": "tabular-classification", "regression": "tabular-regression"}

# True: generate unless the manifest holds one; False: none; a mapping: this card (checked)
CardChoice = Mapping[str, Any] | bool


@dataclass(frozen=True)
class CardContext:
    """What a generated card says beyond the manifest: who made the asset, what it derives from."""

    creators: Sequence[str] = ()  # addresses, the owner or author first
    parents: Sequence[Parent] = ()
    sources: Sequence[Path] = ()  # the plaintext files as the owner has them
    job_id: int = 0
    milestone: int = 0


def with_card(
    ws: Workspace, manifest: AssetManifest, card: CardChoice, context: CardContext, *, skip: bool = False
) -> AssetManifest:
    """The manifest with its card: the one given (checked against the manifest), one generated (unless
    `card` is False, the manifest holds one already, or `skip`), else as it is."""
    if isinstance(card, Mapping):
        given = dict(card)
        if manifest.kind is AssetKind.MODEL and is_hf_fields(given):
            given = model_card_from_fields(manifest, given)
        check_card(manifest, given)
        return _replace_card(manifest, given)
    if manifest.card is not None:
        check_card(manifest, manifest.card)
        return manifest
    if not card or skip:
        return manifest
    return _replace_card(manifest, generate(ws, manifest, context))


def _replace_card(manifest: AssetManifest, card: Mapping[str, Any]) -> AssetManifest:
    """Rebuilt through `parse_manifest`: the card is bounded with the manifest it travels in."""
    doc = manifest.to_dict()
    doc["card"] = dict(card)
    try:
        return parse_manifest(canonical_json(doc))
    except InvalidInput as exc:
        raise InvalidInput(f"the card does not fit in the manifest: {exc}") from None


def generate(ws: Workspace, manifest: AssetManifest, context: CardContext) -> dict[str, Any]:
    """The card proofwork writes for `manifest`: Croissant for a dataset, a Hugging Face card for a model."""
    parents = [(p.asset_id, _parent(ws, p.asset_id)) for p in context.parents]
    creators = list(dict.fromkeys(context.creators))
    if manifest.kind is AssetKind.DATASET:
        samples = csv_samples(manifest, context.sources)
        card = croissant_card(
            manifest,
            csv_samples=samples,
            creators=creators,
            date_published=dt.datetime.fromtimestamp(ws.chain.next_timestamp(), tz=dt.UTC).date().isoformat(),
            keywords=["proofwork"],
        )
        if parents:
            card["isBasedOn"] = [asset_uri(ws, i) for i, _ in parents]
        return card
    datasets = [asset_uri(ws, i) for i, (kind, _) in parents if kind is AssetKind.DATASET]
    models = [asset_uri(ws, i) for i, (kind, _) in parents if kind is AssetKind.MODEL]
    lines = [manifest.description.strip()] if manifest.description.strip() else []
    if parents:
        lines.append(
            "## Lineage\n\n"
            + "\n".join(
                f"- {kind.label} `{asset_uri(ws, i)}`" + (f": {name}" if name else "")
                for i, (kind, name) in parents
            )
        )
    if creators:
        lines.append("## Creators\n\n" + "\n".join(f"- `{c}`" for c in creators))
    readme = model_card(
        manifest,
        datasets=datasets,
        base_model=(models[0] if len(models) == 1 else models) if models else None,
        results=job_results(ws, context.job_id, context.milestone) if context.job_id else (),
        body="\n\n".join(lines),
    )
    return model_card_document(readme)


def asset_uri(ws: Workspace, asset_id: int) -> str:
    """An asset's CAIP-19 id, as its PROV lineage names it."""
    return f"eip155:{ws.chain_id}/erc721:{ws.asset_registry.address}/{asset_id}"


def _parent(ws: Workspace, asset_id: int) -> tuple[AssetKind, str | None]:
    record: AssetRecord = ws.asset_registry.asset(asset_id)
    name = None
    if ws.store.has(record.manifest):
        try:
            name = parse_manifest(ws.store.read_bytes(record.manifest, MAX_MANIFEST_BYTES)).name
        except ProofworkError:  # a parent's manifest that does not parse: named by id only
            name = None
    return AssetKind(record.kind), name


def csv_samples(manifest: AssetManifest, sources: Sequence[Path]) -> dict[str, str]:
    """The first lines of each CSV/TSV file of the manifest found among `sources` (by name; its size
    must be the manifest's), checked to be a table with a header; InvalidInput naming the file."""
    by_name = {p.name: p for p in sources}
    out = {}
    for f in manifest.files:
        delimiter = _CSV_TYPES.get(media_type_of(f))
        path = by_name.get(f.name)
        if delimiter is None or path is None:
            continue
        try:
            if path.stat().st_size != f.size:
                raise InvalidInput(
                    f"{path} is not the asset's {f.name}: its size differs from the manifest's"
                )
            with path.open("rb") as fh:
                head = fh.read(CSV_SAMPLE_BYTES + 1)
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
        if len(head) > CSV_SAMPLE_BYTES:
            cut = head.rfind(b"\n", 0, CSV_SAMPLE_BYTES)
            if cut < 0:
                raise InvalidInput(
                    f"cannot describe the columns of {f.name} in the dataset card: its first line is over "
                    f"{CSV_SAMPLE_BYTES:,} bytes; give a card (--card FILE) or none (--no-card)"
                )
            head = head[: cut + 1]
        sample = head.decode("utf-8-sig", errors="replace")
        try:
            csv_columns(sample, delimiter=delimiter)
        except InvalidInput as exc:
            raise InvalidInput(
                f"cannot describe the columns of {f.name} in the dataset card: {exc}; give a card "
                "(--card FILE) or none (--no-card)"
            ) from None
        out[f.name] = sample
    return out


def job_results(ws: Workspace, job_id: int, milestone: int) -> list[EvalResult]:
    """The score the oracle committee settled (and passed) for a milestone, as a model-index result;
    none when the job is not the committee's or its spec is not in this store."""
    from proofwork.services.evaluated_jobs import Evaluations
    from proofwork.services.jobs import Jobs

    try:
        job = Jobs(ws).get(job_id)
        committee = ws.deployment.committee
        if not committee or job.arbiter.lower() != committee.lower():
            return []
        evaluations = Evaluations(ws)
        evaluation = evaluations.get(job_id)
        settled = [
            s for s in evaluation.settlements if int(s["milestone"]) == milestone and bool(s["passed"])
        ]
        if not settled:
            return []
        spec, spec_cid = evaluations.files.spec_by_hash(evaluation.spec_digest)
    except ProofworkError:
        return []
    return [
        score_result(
            spec.metric, int(settled[-1]["median"]), spec.name, spec.task, job_uri(ws, job), spec_cid
        )
    ]


def score_result(metric: str, median: int, spec_name: str, task: str, job: str, spec_cid: str) -> EvalResult:
    """A settled fixed-point score as a model-index result (the hidden test set named by its job)."""
    from proofwork.domain.evalspec import SCORE_SCALE

    return EvalResult(
        metric=_HF_METRICS.get(metric, metric),
        value=median / SCORE_SCALE,
        dataset_name=f"{spec_name} (hidden test set)",
        dataset_type=job,
        task_type=_HF_TASKS.get(task, "other"),
        source_name="proofwork oracle committee (median of the signed reports settled on chain)",
        source_url=f"ipfs://{spec_cid}",
    )


def job_uri(ws: Workspace, job: J.Job) -> str:
    """A job's id as its PROV lineage names it."""
    return f"urn:proofwork:eip155:{ws.chain_id}:{ws.deployment.escrow}:job:{job.job_id}"
