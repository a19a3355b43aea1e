"""`proofwork demo --labeling` in process on a fresh embedded chain: the issue's quality targets on the
simulated crowd (aggregate accuracy at least 0.98 at no more than 4 labels per item, Dawid-Skene at least
as accurate as majority vote), the bad labelers excluded and unpaid, every round recomputed to its root,
the client's spending equal to what the labelers were paid, the dataset registered with its labelers'
royalties contract among its creators."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from proofwork.sdk import Proofwork
from tests.e2e.conftest import Cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    cli = Cli(tmp_path_factory.mktemp("unused") / "data")
    data = cli.ok("demo", "--labeling", "--json").json()
    yield data
    shutil.rmtree(data["data_dir"], ignore_errors=True)


def test_the_story_passes_its_own_checks(demo: dict[str, Any]) -> None:
    assert demo["ok"] is True and demo["problems"] == []
    assert demo["items"] == 1797 and demo["gold_items"] == 179
    assert demo["labelers"] == {"careful": 30, "sloppy": 10, "random": 5, "one_class": 5}


def test_quality_targets_of_the_issue(demo: dict[str, Any]) -> None:
    assert demo["ds_accuracy"] >= 0.98
    assert demo["ds_accuracy"] >= demo["mv_accuracy"]
    assert demo["labels_per_item"] <= 4.0
    assert demo["labels_per_item"] > 3.0  # extra labels were asked where the aggregate was unsure


def test_bad_labelers_are_excluded_and_unpaid(demo: dict[str, Any]) -> None:
    kinds = [why.split(":")[0] for why in demo["excluded"].values()]
    assert sorted(set(kinds)) == ["one_class", "random"]
    assert demo["claims"]["units"].get("random", 0) == 0
    assert demo["claims"]["units"].get("one_class", 0) == 0
    assert demo["claims"]["units"]["careful"] > demo["claims"]["units"]["sloppy"] > 0


def test_money_is_conserved_and_rounds_verify(demo: dict[str, Any]) -> None:
    client = demo["balances"]["client"]
    assert client["before"] - client["after"] == sum(demo["claims"]["units"].values())
    assert demo["balances"]["relayer"]["before"] == demo["balances"]["relayer"]["after"]
    rounds = [r["round"] for r in demo["rounds"]]
    assert rounds == list(range(1, len(rounds) + 1)) and demo["verified"] == rounds
    totals = [r["total"] for r in demo["rounds"]]
    assert totals == sorted(totals)  # cumulative: nobody is owed less than before


def test_the_dataset_is_an_asset_shared_with_its_labelers(demo: dict[str, Any]) -> None:
    dataset = demo["dataset"]
    assert set(dataset["files"]) == {"labels.csv", "labels.parquet", "labelers.csv"}
    with Proofwork.open(demo["data_dir"]) as pw:
        record = pw.ws.asset_registry.asset(dataset["asset_id"])
        creators = [c.account.lower() for c in record.creators]
        assert dataset["royalties"].lower() in creators
