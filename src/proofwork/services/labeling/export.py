"""A round's aggregated dataset: (item, label, confidence, number of labels) for every answered item
that is not gold, as CSV and Parquet, with a card naming the labelers and their shares (of the round's
cumulative pay), each file stored by CID. Recomputed from the published round bundle, so the dataset
is exactly what the committee signed for. (Registering it as an asset is not done here.)"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofwork.domain.errors import InvalidInput
from proofwork.domain.labeling import BPS
from proofwork.services.labeling.rounds import verify_round
from proofwork.services.workspace import Workspace
from proofwork.storage.files import save_json

COLUMNS = ["item", "label", "confidence_bps", "n_labels"]


@dataclass(frozen=True)
class Exported:
    campaign_id: int
    round: int
    items: int
    csv_cid: str
    parquet_cid: str
    card_cid: str
    directory: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "round": self.round,
            "items": self.items,
            "csv": self.csv_cid,
            "parquet": self.parquet_cid,
            "card": self.card_cid,
            "directory": str(self.directory),
        }


def export_round(ws: Workspace, campaign_id: int, round_: int, out: Path) -> Exported:
    """Writes dataset.csv, dataset.parquet and card.json in `out` and stores each by CID. Refused when
    the round's bundle does not recompute to the root on chain."""
    import pandas as pd

    check = verify_round(ws, campaign_id, round_)
    if not check.matches:
        raise InvalidInput(
            f"round {round_} of campaign {campaign_id} does not recompute to its root: not exported"
        )
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} is a file, not a directory")
    out.mkdir(parents=True, exist_ok=True)
    result = check.again.result
    rows = [[i.item, i.label, i.confidence_bps, i.n_labels] for i in result.items]
    csv_path = out / "dataset.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    parquet_path = out / "dataset.parquet"
    pd.DataFrame(rows, columns=COLUMNS).to_parquet(parquet_path, index=False)
    owed = {who: amount for who, amount in sorted(result.owed.items()) if amount > 0}
    total = sum(owed.values())
    spec = check.again.spec
    card = {
        "name": f"{spec.name} (campaign {campaign_id}, round {round_})",
        "description": "Labels aggregated by a proofwork labeling campaign; the round bundle recomputes them.",
        "columns": COLUMNS,
        "labels": list(spec.labels),
        "aggregator": spec.aggregator,
        "items": len(rows),
        "chain_id": ws.chain_id,
        "label_payouts": ws.label_payouts.address,
        "campaign": campaign_id,
        "round": round_,
        "round_bundle": check.bundle_cid,
        "root": "0x" + check.root_on_chain.hex(),
        "creators": [
            {"labeler": who, "amount": amount, "share_bps": amount * BPS // total if total else 0}
            for who, amount in owed.items()
        ],
    }
    card_path = out / "card.json"
    save_json(card_path, card)
    csv_cid = ws.store.add_file(csv_path)
    parquet_cid = ws.store.add_file(parquet_path)
    card_cid = ws.store.add_bytes(json.dumps(card, sort_keys=True).encode())
    return Exported(campaign_id, round_, len(rows), csv_cid, parquet_cid, card_cid, out)
