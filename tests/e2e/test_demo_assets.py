"""`proofwork demo --assets` in process on a fresh embedded chain: the royalties every account upstream
receives are the split recomputed here from the story's terms (`domain.assets`, not the chain's lineage),
to the unit; the buyer's decrypted model is the client's file byte for byte; the compute buyer's score is
signed by the dataset's owner and the result holds no row."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proofwork.chain import compute_messages
from proofwork.domain.assets import LineageNode, Parent, Share, flow_through_lineage, split_revenue
from proofwork.services import demo_assets as story
from proofwork.services.compute_to_data import ComputeResult
from tests.e2e.conftest import Cli

RESULT_FIELDS = {
    "chain_id", "licensing", "licence_id", "asset_id", "dataset", "request", "task", "model", "model_sha256",
    "metric", "score", "rows", "signer", "signature",
}  # fmt: skip
DIGITS_TRAIN_ROWS = 1257  # the ML demo's train split of scikit-learn's 1,797 digits (70 %)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    cli = Cli(tmp_path_factory.mktemp("unused") / "data")
    data = cli.ok("demo", "--assets", "--json").json()
    yield data
    shutil.rmtree(data["data_dir"], ignore_errors=True)  # the demo's own fresh data directory


def test_the_story_passes_its_own_checks(demo: dict[str, Any]) -> None:
    assert demo["ok"] is True and demo["problems"] == []
    assert demo["asset_ids"] == {"dataset": 1, "base_model": 2, "deliverable": 3, "fine_tuned": 4}
    assert demo["lineage"] == {"1": [], "2": [], "3": [1, 2], "4": [3]}
    assert demo["token"] == "pwUSD" and demo["seconds"] > 0


def test_the_royalties_are_the_split_of_the_lineage_to_the_unit(demo: dict[str, Any]) -> None:
    acc, ids = demo["accounts"], demo["asset_ids"]
    price = demo["prices"]["units"]["commercial"]
    assert price == 750_370_000  # 750.37 pwUSD: not a round number, so rounding is exercised
    nodes = {
        ids["dataset"]: LineageNode(
            acc["dataset_owner"],
            (Share(acc["labeler_1"], story.LABELER_BPS[0]), Share(acc["labeler_2"], story.LABELER_BPS[1])),
        ),
        ids["base_model"]: LineageNode(acc["base_model_creator"]),
        ids["deliverable"]: LineageNode(
            acc["client"],
            (Share(acc["freelancer"], story.CREATOR_BPS),),
            (
                Parent(ids["dataset"], story.DELIVERABLE_PARENTS_BPS[0]),
                Parent(ids["base_model"], story.DELIVERABLE_PARENTS_BPS[1]),
            ),
        ),
        ids["fine_tuned"]: LineageNode(
            acc["client"], (), (Parent(ids["deliverable"], story.FINE_TUNED_PARENT_BPS),)
        ),
    }
    flow = flow_through_lineage(ids["fine_tuned"], price, nodes).to_accounts
    royalties = demo["royalties"]["units"]
    for role in ("dataset_owner", "labeler_1", "labeler_2", "base_model_creator", "freelancer", "client"):
        assert royalties[role] == flow[acc[role]] > 0, role
    assert royalties["buyer"] == 0
    # by hand: 30 % of the sale to the deliverable; of that, 20 % to the dataset and 10 % to the base
    # model, 15 % of the rest to the freelancer; of the dataset's part, 20 % and 10 % to its labelers
    assert royalties["labeler_1"] == 9_004_440 and royalties["freelancer"] == 23_636_655
    assert royalties["client"] == 659_200_045 and royalties["base_model_creator"] == 22_511_100
    assert sum(royalties.values()) == price
    assert demo["sum_check"] == {"paid": price, "received": price, "left_in_licensing": 0, "ok": True}
    for role, balance in demo["balances"].items():
        change = balance["after"] - balance["before"]
        assert change == royalties[role] - (price if role == "buyer" else 0), role

    # the freelancer's licence on the dataset and the compute licence: the dataset's one-level split
    creators = (Share(acc["labeler_1"], story.LABELER_BPS[0]), Share(acc["labeler_2"], story.LABELER_BPS[1]))
    for sale, paid in ((demo["dataset_sale"]["units"], "dataset"), (demo["compute"]["sale"], "compute")):
        split = split_revenue(demo["prices"]["units"][paid], (), creators)
        assert sale == {
            "dataset_owner": split.to_owner,
            "labeler_1": split.to_creators[0],
            "labeler_2": split.to_creators[1],
        }


def test_the_buyer_decrypts_the_client_s_model_byte_for_byte(demo: dict[str, Any]) -> None:
    download = demo["download"]
    assert download["encrypted"] is True and download["matches"] is True
    assert download["files"] == ["digits-tuned.onnx"]
    work = Path(demo["data_dir"]) / "demo-assets"
    received, original = work / "buyer" / "digits-tuned.onnx", work / "digits-tuned.onnx"
    assert received.read_bytes() == original.read_bytes() and len(original.read_bytes()) > 1000
    # what the store holds is the ciphertext: the model's bytes are nowhere in it
    store = Path(demo["data_dir"]) / "store"
    plain = original.read_bytes()
    assert not any(plain in p.read_bytes() for p in store.rglob("*") if p.is_file())


def test_the_compute_buyer_gets_a_signed_score_and_no_row(demo: dict[str, Any]) -> None:
    compute, acc = demo["compute"], demo["accounts"]
    assert compute["verified"] is True and compute["signer"] == acc["dataset_owner"]
    assert set(compute["fields"]) == set(compute["result"]) == RESULT_FIELDS
    assert compute["rows"] == DIGITS_TRAIN_ROWS and 0.8 < compute["accuracy"] <= 1.0
    assert compute["download_refused"] == "compute_only" and compute["files_received"] == []
    result = ComputeResult.from_json(compute["result"])
    assert result.asset_id == demo["asset_ids"]["dataset"] and result.signer == acc["dataset_owner"]

    def signer_of(r: ComputeResult) -> str | None:
        return compute_messages.signer(r.chain_id, r.licensing, "ComputeResult", r.message(), r.signature)

    assert signer_of(result) == acc["dataset_owner"]
    # a score changed after signing no longer recovers to the owner
    assert signer_of(dataclasses.replace(result, score=result.score + 1)) != acc["dataset_owner"]


def test_demo_stories_are_one_at_a_time(cli: Cli) -> None:
    cli.fails("demo", "--assets", "--ml", match="separate demos")
