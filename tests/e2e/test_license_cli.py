"""`proofwork asset list` and `proofwork license list|show` as a user runs them: filters, the same
answers from the logs and from the chain index, licences that lapse, one-line refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proofwork.chain.devnets import EMBEDDED_DEV_KEYS
from proofwork.keys.accounts import address_of
from tests.e2e.conftest import Cli


def _market(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """A dataset (dev3, labeler dev4), a model derived from it (dev2) with a 30-day and a 1-day offer,
    and dev1's licences bought under both."""
    (tmp_path / "train.csv").write_text("x,y\n1,0\n")
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    cli.ok("asset", "deploy")
    data = cli.ok(
        "asset", "register", str(tmp_path / "train.csv"), "--name", "digits", "--kind", "dataset",
        "--license", "CC-BY-4.0", "--from", "dev3", "--creator", "dev4:5000", "--json",
    ).json()["asset_id"]  # fmt: skip
    model = cli.ok(
        "asset", "register", str(tmp_path / "model.onnx"), "--name", "clf", "--license", "MIT",
        "--from", "dev2", "--parent", f"{data}:2500", "--json",
    ).json()["asset_id"]  # fmt: skip
    long = cli.ok("asset", "offer", str(model), "--price", "10", "--from", "dev2", "--days", "30",
                  "--commercial", "--json").json()["offer_id"]  # fmt: skip
    short = cli.ok("asset", "offer", str(model), "--price", "2.5", "--from", "dev2", "--days", "1",
                   "--json").json()["offer_id"]  # fmt: skip
    first = cli.ok("asset", "buy", str(long), "--from", "dev1", "--json").json()["licence_id"]
    second = cli.ok("asset", "buy", str(short), "--from", "dev1", "--json").json()["licence_id"]
    return {"data": data, "model": model, "licences": (first, second)}


def _address(cli: Cli, name: str) -> str:
    """A dev account's address (checksummed)."""
    return address_of(EMBEDDED_DEV_KEYS[int(name.removeprefix("dev"))])


def test_asset_and_licence_lists_filter_and_agree_with_the_index(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    made = _market(cli, tmp_path)
    first, second = made["licences"]
    listed = cli.ok("asset", "list", "--json").json()
    assert [a["asset_id"] for a in listed["assets"]] == [made["model"], made["data"]]
    assert listed["indexed_block"] is None  # no index yet: read from the logs
    model = listed["assets"][0]
    assert model["kind"] == "model" and model["parents"] == [{"asset_id": made["data"], "bps": 2500}]
    assert model["owner"] == _address(cli, "dev2")
    dataset = listed["assets"][1]
    assert dataset["creators"] == [{"account": _address(cli, "dev4"), "bps": 5000}]
    kinds = cli.ok("asset", "list", "--kind", "dataset", "--json").json()["assets"]
    assert [a["asset_id"] for a in kinds] == [made["data"]]
    owned = cli.ok("asset", "list", "--owner", "dev2", "--json").json()["assets"]
    assert [a["asset_id"] for a in owned] == [made["model"]]
    assert cli.ok("asset", "list", "--owner", "dev5").out.strip() == "no assets match"
    table = cli.ok("asset", "list").out
    assert "dataset" in table and "model" in table and "dev2" in table

    licences = cli.ok("license", "list", "--holder", "dev1", "--json").json()
    assert [lic["licence_id"] for lic in licences["licences"]] == [second, first]
    assert licences["licences"][1]["price"] == "10" and licences["licences"][0]["price"] == "2.5"
    assert all(lic["valid"] for lic in licences["licences"])
    assert cli.ok("license", "list", "--asset", str(made["data"]), "--json").json()["licences"] == []
    assert cli.ok("license", "list", "--holder", "dev2").out.strip() == "no licences match"
    shown = cli.ok("license", "show", str(first), "--json").json()
    assert shown["holder"] == _address(cli, "dev1") and shown["kind"] == "download"
    assert shown["commercial"] is True and shown["status"] == "valid" and shown["price"] == "10"
    assert "commercial) on asset 2, offer 1: valid" in cli.ok("license", "show", str(first)).out

    # the same answers from the chain index, once it is caught up
    cli.ok("index")
    from_index = cli.ok("asset", "list", "--json").json()
    assert from_index["indexed_block"] is not None
    assert from_index["assets"] == listed["assets"]
    assert cli.ok("license", "list", "--holder", "dev1", "--json").json()["licences"] == [
        lic for lic in licences["licences"]
    ]

    # two days on, the one-day licence has lapsed; a new purchase is not in the index yet: the logs answer
    cli.ok("chain", "advance", "2d")
    lapsed = {
        lic["licence_id"]: lic["valid"] for lic in cli.ok("license", "list", "--json").json()["licences"]
    }
    assert lapsed == {first: True, second: False}
    assert cli.ok("license", "show", str(second), "--json").json()["status"] == "expired"
    cli.ok("account", "fund", "dev5", "--amount", "100")
    third = cli.ok("asset", "buy", "1", "--from", "dev5", "--json").json()["licence_id"]
    behind = cli.ok("license", "list", "--json").json()
    assert behind["indexed_block"] is None and behind["licences"][0]["licence_id"] == third


def test_list_commands_refuse_bad_input_in_one_line(deployed: Cli) -> None:
    cli = deployed
    cli.fails("asset", "list", match="asset deploy")
    cli.fails("license", "list", match="asset deploy")
    cli.ok("asset", "deploy")
    assert cli.ok("asset", "list", "--json").json()["assets"] == []
    cli.fails("asset", "list", "--kind", "tree", match="unknown asset kind 'tree'")
    cli.fails("asset", "list", "--owner", "0x123", match="owner")
    cli.fails("license", "list", "--holder", "nobody!", match="no account named")
    cli.fails("license", "list", "--holder", "0xabc", match="holder")
    cli.fails("license", "list", "--asset", "0", match="asset id")
    cli.fails("license", "show", "7", match="no licence 7")
    cli.fails("license", "show", "0", match="licence id")
