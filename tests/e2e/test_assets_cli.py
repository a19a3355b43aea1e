"""`proofwork asset` as a user runs it: deploy, register a dataset and a model derived from it, offer and
buy a licence, see and collect the royalties, the lineage as PROV-JSON; one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Cli


def test_register_license_and_collect_royalties_along_the_lineage(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    (tmp_path / "train.csv").write_text("x,y\n1,0\n")
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    assert cli.ok("asset", "deploy", "--json").json()["created"] is True
    data = cli.ok(
        "asset", "register", str(tmp_path / "train.csv"), "--name", "digits", "--kind", "dataset",
        "--license", "CC-BY-4.0", "--from", "dev3", "--creator", "dev4:5000", "--json",
    ).json()  # fmt: skip
    model = cli.ok(
        "asset", "register", str(tmp_path / "model.onnx"), "--name", "clf", "--license", "mit",
        "--from", "dev2", "--parent", f"{data['asset_id']}:2500", "--royalty-bps", "500", "--json",
    ).json()  # fmt: skip
    shown = cli.ok("asset", "show", str(model["asset_id"])).out
    assert "clf" in shown and "licence MIT" in shown and "derived from asset 1: 25 % of revenue" in shown
    offer = cli.ok(
        "asset", "offer", str(model["asset_id"]), "--price", "10", "--from", "dev2", "--days", "30"
    )
    assert "offer 1 on asset 2" in offer.out
    bought = cli.ok("asset", "buy", "1", "--from", "dev1", "--json").json()
    assert bought["licence_id"] == 1 and bought["price"] == "10"
    assert "valid" in cli.ok("asset", "licence", "1").out
    expected = cli.ok("asset", "royalties", "2", "--amount", "10", "--json").json()["received"]
    assert sorted(expected.values()) == [
        "1.25",
        "1.25",
        "7.5",
    ]  # dataset owner, its labeler, the model's owner
    assert "split 2.5 along the lineage of asset 2" in cli.ok("asset", "distribute", "2").out
    for account, amount in expected.items():
        assert f"paid {amount}" in cli.ok("asset", "claim", "--for", account, "--from", "dev5").out
    prov = json.loads(cli.ok("asset", "lineage", "2", "--prov").out)
    assert set(prov["entity"]) == {"asset:1", "asset:2"} and len(prov["wasDerivedFrom"]) == 1


def test_asset_commands_refuse_bad_input_in_one_line(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    cli.fails("asset", "show", "1", match="asset deploy")
    cli.ok("asset", "deploy")
    (tmp_path / "m.bin").write_bytes(b"m")
    cli.fails(
        "asset",
        "register",
        str(tmp_path / "m.bin"),
        "--name",
        "m",
        "--license",
        "not a licence!",
        match="licen",
    )
    cli.fails(
        "asset", "register", str(tmp_path / "nope.bin"), "--name", "m", "--license", "MIT", match="no file"
    )
    cli.fails("asset", "register", str(tmp_path / "m.bin"), "--name", "m", "--license", "MIT", "--parent", "x:1",
              match="a parent is written PARENT:BPS")  # fmt: skip
    cli.fails("asset", "show", "5", match="no asset 5")
    cli.fails("asset", "buy", "3", "--from", "dev1", match="no licence offer 3")


def test_the_issues_bad_inputs_move_no_money(deployed: Cli, tmp_path: Path) -> None:
    """Shares above 100 %, a parent that does not exist yet (the only way to close a cycle), an unknown
    licence kind, a purchase the buyer cannot pay, a download without a licence: one line each, and
    nothing registered, offered or paid."""
    cli = deployed
    cli.ok("asset", "deploy")
    (tmp_path / "m.bin").write_bytes(b"weights")
    reg = ["asset", "register", str(tmp_path / "m.bin"), "--name", "m", "--license", "MIT", "--from", "dev1"]
    cli.fails(*reg, "--creator", "dev2:6000", "--creator", "dev3:5000", match="100")
    cli.fails(*reg, "--parent", "1:1000", match="no asset 1")
    assert cli.ok("asset", "list", "--json").json()["assets"] == []
    asset = cli.ok(*reg, "--json").json()["asset_id"]
    cli.fails(*reg, "--parent", f"{asset + 1}:1000", match=f"no asset {asset + 1}")
    cli.fails("asset", "offer", str(asset), "--price", "5", "--kind", "lease", "--from", "dev1", match="kind")
    offer = cli.ok("asset", "offer", str(asset), "--price", "5", "--from", "dev1", "--json").json()[
        "offer_id"
    ]
    before = cli.ok("account", "list", "--json").json()["accounts"]
    cli.fails("asset", "buy", str(offer), "--from", "dev8", match="balance")
    assert cli.ok("account", "list", "--json").json()["accounts"] == before
    assert cli.ok("license", "list", "--json").json()["licences"] == []
    (tmp_path / "out").mkdir()
    cli.fails("asset", "get", "1", "--from", "dev8", "--out", str(tmp_path / "out"), match="licen")
    assert not any((tmp_path / "out").iterdir())
