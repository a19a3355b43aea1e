"""`proofwork asset compute` as a user runs it: a compute licence's holder gets the dataset owner's signed,
verified score and never a row; a download licence, a hostile model and bad options get one line."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.e2e.conftest import Cli
from tests.integration.test_compute_to_data import (
    SECRET,
    _dataset,
    custom_op_model,
    leaking_model,
    logistic_model,
)


def test_a_compute_licence_gets_a_signed_score_and_nothing_else(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    path, x, y = _dataset(tmp_path)
    (tmp_path / "model.onnx").write_bytes(logistic_model(x, y))
    (tmp_path / "evil.onnx").write_bytes(custom_op_model())
    (tmp_path / "leak.onnx").write_bytes(leaking_model())
    cli.ok("asset", "deploy")
    cli.ok(
        "asset", "register", str(path), "--name", "private", "--kind", "dataset", "--license", "CC-BY-4.0",
        "--encrypt", "--from", "dev3",
    )  # fmt: skip
    cli.ok("asset", "offer", "1", "--price", "5", "--kind", "compute", "--days", "30", "--from", "dev3")
    cli.ok("asset", "offer", "1", "--price", "5", "--kind", "download", "--from", "dev3")
    assert cli.ok("asset", "buy", "1", "--from", "dev1", "--json").json()["licence_id"] == 1
    assert cli.ok("asset", "buy", "2", "--from", "dev1", "--json").json()["licence_id"] == 2

    done = cli.ok(
        "asset", "compute", "1", "--model", str(tmp_path / "model.onnx"), "--from", "dev1", "--json"
    )
    result = done.json()
    owner = cli.ok("asset", "show", "1", "--json").json()["owner"]
    assert result["verified"] is True and result["signer"] == owner and result["rows"] == len(y)
    assert result["metric"] == "accuracy" and 0.8 < float(result["value"]) <= 1.0
    assert str(SECRET) not in done.out.replace(result["signature"], "")
    human = cli.ok("asset", "compute", "1", "--model", str(tmp_path / "model.onnx"), "--from", "dev1").out
    assert f"on {len(y)} rows of asset 1, signed by its owner {owner} (verified)" in human

    cli.fails(
        "asset", "compute", "2", "--model", str(tmp_path / "model.onnx"), "--from", "dev1", match="download"
    )
    cli.fails(
        "asset", "compute", "1", "--model", str(tmp_path / "model.onnx"), "--from", "dev2", match="not held"
    )
    cli.fails(
        "asset", "compute", "1", "--model", str(tmp_path / "evil.onnx"), "--from", "dev1", match="com.evil"
    )
    leak = cli.fails(
        "asset", "compute", "1", "--model", str(tmp_path / "leak.onnx"), "--from", "dev1", match="withheld"
    )
    assert str(SECRET) not in leak.err
    cli.fails(
        "asset", "compute", "1", "--model", str(tmp_path / "model.onnx"), "--metric", "ndcg", "--from", "dev1",
        match="metric",
    )  # fmt: skip
    cli.fails("asset", "compute", "1", "--from", "dev1", match="--model")


def test_a_training_recipe_writes_the_signed_model(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    path, _, y = _dataset(tmp_path)
    cli.ok("asset", "deploy")
    cli.ok(
        "asset", "register", str(path), "--name", "private", "--kind", "dataset", "--license", "CC-BY-4.0",
        "--encrypt", "--from", "dev3",
    )  # fmt: skip
    cli.ok("asset", "offer", "1", "--price", "5", "--kind", "compute", "--from", "dev3")
    cli.ok("asset", "buy", "1", "--from", "dev1")
    out = tmp_path / "trained.onnx"
    done = cli.ok(
        "asset", "compute", "1", "--recipe", "logistic_regression", "--param", "C=0.5", "--param",
        "fit_intercept=false", "--out", str(out), "--from", "dev1", "--json",
    ).json()  # fmt: skip
    assert done["written"] == str(out) and done["rows"] == len(y)
    assert "0x" + hashlib.sha256(out.read_bytes()).hexdigest() == done["model_sha256"]
    cli.fails(
        "asset", "compute", "1", "--recipe", "logistic_regression", "--param", "C=-1", "--from", "dev1",
        match="parameter C",
    )  # fmt: skip
    cli.fails(
        "asset", "compute", "1", "--recipe", "random_forest", "--from", "dev1", match="unknown compute task"
    )
    cli.fails(
        "asset", "compute", "1", "--recipe", "logistic_regression", "--param", "penalty=l1", "--from", "dev1",
        match="unknown parameter",
    )  # fmt: skip
