"""`proofwork job post --input-asset` as a user runs it: the licence bought and the job funded in one
command, royalties up the lineage, `job show` checking the licences on chain, one-line refusals that
move no money."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Cli


def _tokens(cli: Cli, name: str) -> Decimal:
    rows = cli.ok("account", "list", "--json").json()["accounts"]
    return Decimal(next(r["tokens"] for r in rows if r["name"] == name))


def _lineage(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """A dataset (dev3, labeler dev4) with a compute offer, a model derived from it (dev5, 20 % up)
    with a 30-day download offer at 10 tokens."""
    (tmp_path / "train.csv").write_text("x,y\n1,0\n")
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    cli.ok("asset", "deploy")
    data = cli.ok(
        "asset", "register", str(tmp_path / "train.csv"), "--name", "digits", "--kind", "dataset",
        "--license", "CC-BY-4.0", "--from", "dev3", "--creator", "dev4:5000", "--encrypt", "--json",
    ).json()["asset_id"]  # fmt: skip
    model = cli.ok(
        "asset", "register", str(tmp_path / "model.onnx"), "--name", "clf", "--license", "MIT",
        "--from", "dev5", "--parent", f"{data}:2000", "--json",
    ).json()["asset_id"]  # fmt: skip
    offer = cli.ok("asset", "offer", str(model), "--price", "10", "--from", "dev5", "--days", "30",
                   "--commercial", "--json").json()["offer_id"]  # fmt: skip
    compute = cli.ok("asset", "offer", str(data), "--price", "1", "--from", "dev3", "--kind", "compute",
                     "--json").json()["offer_id"]  # fmt: skip
    return {"data": data, "model": model, "offer": offer, "compute": compute}


POST = ("job", "post", "--from", "dev1", "--freelancer", "dev2", "--budget", "500", "--deadline", "7d")


def test_job_post_buys_the_input_licence_and_job_show_checks_it(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    made = _lineage(cli, tmp_path)
    offer = str(made["offer"])
    start = _tokens(cli, "dev1")

    # refused before anything is paid: one line each, dev1's money and licences as they were
    cli.fails(*POST, "--input-asset", "99", match="no licence offer 99")
    cli.fails(*POST, "--input-asset", offer, "--input-asset", str(made["compute"]), match="compute-only")
    cli.fails(*POST, "--input-asset", offer, "--max-licence-fee", "9.99", match="more than")
    cli.fails(*POST, *("--input-asset", "1") * 5, match="at most 4 input assets")
    cli.fails(*POST, "--input-asset", offer, "--input-asset", offer, match="named twice")
    assert _tokens(cli, "dev1") == start
    assert cli.ok("license", "list", "--holder", "dev1", "--json").json()["licences"] == []

    spec = tmp_path / "spec.md"
    spec.write_text("Fine-tune the model on your data; report accuracy.\n")
    posted = cli.ok(
        *POST, "--input-asset", offer, "--max-licence-fee", "10", "--spec", str(spec),
        "--distribute-royalties", "--json",
    ).json()  # fmt: skip
    [bought] = posted["input_assets"]
    assert (bought["asset_id"], bought["offer_id"], bought["kind"]) == (
        made["model"],
        made["offer"],
        "download",
    )
    assert [s["name"] for s in posted["steps"]] == [
        f"buy licence (offer {made['offer']}, asset {made['model']})",
        "create+fund",
        f"distribute asset {made['data']}",
    ]
    assert _tokens(cli, "dev1") == start - 500 - 10
    job_id = str(posted["job"]["id"])

    shown = cli.ok("job", "show", job_id, "--json").json()["job"]
    inputs = shown["inputs"]
    assert inputs["terms_cid"] == posted["terms_cid"] and inputs["all_valid"] and inputs["problem"] is None
    [checked] = inputs["input_assets"]
    assert checked["licence_id"] == bought["licence_id"] and checked["status"] == "valid"
    assert checked["holder"] == shown["client"]
    assert shown["spec_hash"] != "0x" + hashlib.sha256(spec.read_bytes()).hexdigest()  # the terms' digest
    human = cli.ok("job", "show", job_id).out
    assert f"input asset {made['model']}" in human and f"licence {bought['licence_id']}" in human
    assert "valid" in human
    assert (
        "proofwork asset get LICENCE --from dev1"
        in cli.ok(*POST, "--input-licence", str(bought["licence_id"])).out
    )

    # royalties went up the lineage in the same command: the labeler (half the dataset's 20 %) claims
    assert cli.ok("asset", "claim", "--from", "dev4", "--json").json()["paid"] == "1"
    # the licence is dev1's, shown by the licence list as any other
    held = cli.ok("license", "list", "--holder", "dev1", "--json").json()["licences"]
    assert [lic["licence_id"] for lic in held] == [bought["licence_id"]]

    # a plain job shows no inputs
    plain = cli.ok(*POST, "--json").json()["job"]["id"]
    assert cli.ok("job", "show", str(plain), "--json").json()["job"]["inputs"] is None
