"""A labeling campaign's set-up on the embedded chain: proofwork deployed with the local committee
(dev6..dev9, f = 1) and LabelPayouts, text items in the store, a spec and a gold file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from proofwork.sdk import Proofwork
from proofwork.services.workspace import Signer

LABELS = ["cat", "dog"]
N_ITEMS = 20
GOLD_ITEMS = 2  # 10 %
PRICE = 1_000
BONUS = 500


@dataclass
class LabelingSetup:
    pw: Proofwork
    items: list[str]
    truth: dict[str, str]  # item -> its true label
    client: Signer
    relayer: Signer
    labelers: list[Signer]

    @property
    def ws(self):  # type: ignore[no-untyped-def]
        return self.pw.ws

    def spec(self, **overrides: object) -> bytes:
        doc: dict[str, object] = {
            "version": 1,
            "name": "pets",
            "token": self.ws.deployment.token,
            "budget": 100_000,
            "items": self.items,
            "labels": LABELS,
            "labels_per_item": 2,
            "max_labels_per_item": 3,
            "extra_below_bps": 6_000,
            "aggregator": "majority_vote",
            "gold": {"share_bps": 1_000},
            "exclusion": {"min_gold_answers": 1, "min_gold_accuracy_bps": 5_000, "min_ms_per_label": 0},
            "pay": {"price_per_label": PRICE, "quality_bonus": BONUS, "accuracy_floor_bps": 5_000},
            "eligibility": {"kind": "anyone"},
            "per_labeler_cap": 40,
            "batch_size": 5,
            "batch_ttl_s": 600,
        }
        doc.update(overrides)
        return json.dumps(doc).encode()

    def gold(self) -> bytes:
        return json.dumps({item: self.truth[item] for item in self.items[:GOLD_ITEMS]}).encode()


@contextmanager
def labeling_setup(data_dir: Path) -> Iterator[LabelingSetup]:
    with Proofwork.open(data_dir) as pw:
        pw.deploy("dev0")
        pw.deploy_committee([f"dev{i}" for i in range(6, 10)], f=1)
        assert pw.labeling.deploy("dev0").created
        items, truth = [], {}
        for i in range(N_ITEMS):
            cid = pw.ws.store.add_bytes(f"item {i}: a picture of a {LABELS[i % 2]}".encode())
            items.append(cid)
            truth[cid] = LABELS[i % 2]
        client = pw.signer("dev1")
        pw.fund(client.address, pw.amount("1000"))
        yield LabelingSetup(
            pw, items, truth, client, pw.signer("dev2"), [pw.signer(f"dev{i}") for i in (3, 4, 5)]
        )
