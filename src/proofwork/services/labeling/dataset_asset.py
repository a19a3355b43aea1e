"""A finished campaign's dataset: the aggregate written as CSV and Parquet with a table of the labelers
and their shares, stored by CID and registered as an asset whose creators include a `LabelerRoyalties`
contract, so every labeler earns its share of what the dataset earns when it is licensed.

The labelers' shares are the campaign's cumulative pay in its claimable payout root (what the
committee signed): the contract is bound to that root on chain, so the table here only repeats it."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from proofwork.chain.labeler_royalties import LabelerRoyaltiesContract, ShareClaim
from proofwork.chain.payouts_tree import PayoutsTree
from proofwork.domain.assets import BPS, AssetKind, Parent, Share, build_manifest
from proofwork.domain.errors import InvalidInput
from proofwork.domain.labeling import CampaignSpec
from proofwork.services import assets
from proofwork.services.workspace import Signer, Workspace

DATASET_CSV = "labels.csv"
DATASET_PARQUET = "labels.parquet"
LABELERS_CSV = "labelers.csv"
DEFAULT_LABELERS_BPS = 5_000  # the labelers' part of the dataset's revenue (after its parents)
CARD_LABELERS = 1_000  # labelers named in the card's creators (every one is in labelers.csv)


class AggregatedItem(Protocol):
    item: str
    label: str
    confidence_bps: int
    n_labels: int


@dataclass(frozen=True)
class DatasetFiles:
    labels_csv: Path
    labels_parquet: Path
    labelers_csv: Path


@dataclass(frozen=True)
class LabeledDataset:
    asset_id: int
    manifest_cid: str
    royalties: str  # the LabelerRoyalties contract among the creators
    files: DatasetFiles


def _confidence(bps: int) -> str:
    return f"{bps // BPS}.{bps % BPS:04d}"


def write_files(out_dir: Path, items: Sequence[AggregatedItem], owed: Mapping[str, int]) -> DatasetFiles:
    """labels.csv and labels.parquet (item, label, confidence, labels), and labelers.csv (labeler, paid,
    share): every labeler the payout root pays, by share, largest first."""
    if not items:
        raise InvalidInput("the campaign has no aggregated item to export")
    total = sum(owed.values())
    if total <= 0:
        raise InvalidInput("the campaign has paid no labeler: no shares to name")
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = sorted(items, key=lambda r: r.item)
    table = pa.table(
        {
            "item": [r.item for r in rows],
            "label": [r.label for r in rows],
            "confidence": [_confidence(r.confidence_bps) for r in rows],
            "labels": [r.n_labels for r in rows],
        }
    )
    labels_csv, labels_parquet, labelers_csv = (
        out_dir / DATASET_CSV,
        out_dir / DATASET_PARQUET,
        out_dir / LABELERS_CSV,
    )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(table.column_names)
    writer.writerows(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
    labels_csv.write_text(text.getvalue(), encoding="utf-8")
    pq.write_table(table, labels_parquet)
    shares = io.StringIO()
    writer = csv.writer(shares, lineterminator="\n")
    writer.writerow(["labeler", "paid", "share"])
    for labeler, amount in sorted(owed.items(), key=lambda kv: (-kv[1], kv[0])):
        writer.writerow([labeler, amount, f"{amount / total:.6f}"])
    labelers_csv.write_text(shares.getvalue(), encoding="utf-8")
    return DatasetFiles(labels_csv, labels_parquet, labelers_csv)


def register(
    ws: Workspace,
    client: Signer,
    payouts: str,
    campaign_id: int,
    spec: CampaignSpec,
    items: Sequence[AggregatedItem],
    owed: Mapping[str, int],
    out_dir: Path,
    *,
    labelers_bps: int = DEFAULT_LABELERS_BPS,
    license: str | None = None,
    parents: Sequence[Parent] = (),
) -> LabeledDataset:
    """Writes the files, deploys the labelers' royalties contract on the campaign's claimable root,
    stores the files and registers the dataset (owned by the client) with that contract as a creator
    for `labelers_bps` of its revenue. `owed` must be the root's amounts (checked on chain)."""
    if not 0 < labelers_bps <= BPS:
        raise InvalidInput(f"the labelers' share must be 1 to {BPS} basis points, got {labelers_bps}")
    tree = PayoutsTree(owed.items())
    files = write_files(out_dir, items, owed)
    pool = LabelerRoyaltiesContract.deploy(
        ws.chain, ws.artifacts.get("LabelerRoyalties"), client.key, payouts, campaign_id
    )
    bound = pool.shares()
    if bound.shares_root != tree.root or bound.total_shares != tree.total:
        raise InvalidInput(
            f"the labelers' amounts given are not campaign {campaign_id}'s claimable payout root "
            f"(round {bound.shares_round}): export from the round the chain holds"
        )
    paths = [files.labels_csv, files.labels_parquet, files.labelers_csv]
    stored, _ = assets.store_files(ws, paths, encrypt=False)
    manifest = build_manifest(
        AssetKind.DATASET,
        spec.name,
        stored,
        license=license,
        description=(
            f"Labels of campaign {campaign_id} ({len(items)} items, labels {', '.join(spec.labels)}), "
            f"aggregated by {spec.aggregator.replace('_', '-')}; {len(owed)} labelers, listed with "
            f"their shares in {LABELERS_CSV}, share {labelers_bps / 100:g} % of its revenue through "
            f"{pool.address}."
        ),
    )
    creators = [Share(pool.address, labelers_bps)]
    named = sorted(owed, key=lambda a: (-owed[a], a))[:CARD_LABELERS]
    registered = assets.register(
        ws,
        client,
        manifest,
        creators=creators,
        parents=parents,
        sources=paths,
        card_creators=[client.address, pool.address, *named],
    )
    return LabeledDataset(registered.asset_id, registered.manifest_cid, pool.address, files)


def royalty_claims(owed: Mapping[str, int]) -> list[ShareClaim]:
    """Every labeler's claim on the royalties contract (its shares and proof in the payout tree)."""
    tree = PayoutsTree(owed.items())
    return [ShareClaim(labeler, amount, tree.proof(labeler)) for labeler, amount in sorted(owed.items())]
