"""`proofwork asset get` as a user runs it: the owner registers a dataset encrypted, a buyer downloads it
with a download licence (the key released by the owner's node, here the same data directory) and gets the
files back; another account, a compute licence, an expired licence, a damaged file: one line each, and
nothing written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Cli
from tests.e2e.test_serve import Serve

ROWS = b"id,label\n" + b"7,secret\n" * 5_000


def _sell(cli: Cli, tmp_path: Path) -> dict[str, int]:
    (tmp_path / "rows.csv").write_bytes(ROWS)
    (tmp_path / "card.md").write_text("# private rows\n")
    cli.ok("asset", "deploy")
    asset = cli.ok(
        "asset", "register", str(tmp_path / "rows.csv"), str(tmp_path / "card.md"), "--name", "rows",
        "--kind", "dataset", "--license", "CC-BY-NC-4.0", "--from", "dev2", "--encrypt", "--json",
    ).json()  # fmt: skip
    download = cli.ok(
        "asset", "offer", str(asset["asset_id"]), "--price", "3", "--from", "dev2", "--days", "1", "--json"
    ).json()["offer_id"]
    compute = cli.ok(
        "asset",
        "offer",
        str(asset["asset_id"]),
        "--price",
        "1",
        "--from",
        "dev2",
        "--kind",
        "compute",
        "--json",
    ).json()["offer_id"]
    return {
        "asset": asset["asset_id"],
        "download": cli.ok("asset", "buy", str(download), "--from", "dev1", "--json").json()["licence_id"],
        "compute": cli.ok("asset", "buy", str(compute), "--from", "dev1", "--json").json()["licence_id"],
    }


def test_a_licence_holder_downloads_and_decrypts_the_asset(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    sold = _sell(cli, tmp_path)
    out = tmp_path / "got"
    out.mkdir()
    got = cli.ok("asset", "get", str(sold["download"]), "--from", "dev1", "--out", str(out), "--json").json()
    assert got["encrypted"] is True and got["asset_id"] == sold["asset"]
    assert (out / "rows.csv").read_bytes() == ROWS and (out / "card.md").read_text() == "# private rows\n"
    human = cli.ok("asset", "get", str(sold["download"]), "--from", "dev1", "--out", str(out)).out
    assert f"asset {sold['asset']} (licence {sold['download']}): 2 file(s)" in human
    assert f"wrote {out / 'rows.csv'}" in human
    assert hashlib.sha256((out / "rows.csv").read_bytes()).digest() == hashlib.sha256(ROWS).digest()


def test_asset_get_refuses_in_one_line_and_writes_nothing(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    sold = _sell(cli, tmp_path)
    out = tmp_path / "got"
    out.mkdir()
    get = ("asset", "get", str(sold["download"]), "--out", str(out))
    cli.fails(*get, "--from", "dev3", match="is held by")
    cli.fails("asset", "get", str(sold["compute"]), "--from", "dev1", "--out", str(out),
              match="a compute licence never releases the data")  # fmt: skip
    cli.fails("asset", "get", "9", "--from", "dev1", "--out", str(out), match="no licence 9")
    cli.fails(*get, "--from", "dev1", "--out", str(tmp_path / "missing"), match="no such directory")
    cli.fails(*get, "--from", "dev1", "--node", "ftp://example.org", match="not an http(s) URL")
    clash = tmp_path / "clash"
    (clash / "card.md").mkdir(parents=True)
    cli.fails(*get, "--from", "dev1", "--out", str(clash), match="it is a directory; nothing was written")
    assert [p.name for p in clash.iterdir()] == ["card.md"]
    # a damaged block of the ciphertext in the store
    blocks = sorted((cli.data_dir / "store" / "blocks").rglob("b*"), key=lambda p: p.stat().st_size)
    biggest = blocks[-1]
    original = biggest.read_bytes()
    biggest.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    cli.fails(*get, "--from", "dev1", match="does not match its content id")
    biggest.write_bytes(original)
    cli.ok("chain", "advance", "2d")
    cli.fails(*get, "--from", "dev1", match="expired")
    assert list(out.iterdir()) == []


@pytest.mark.daemon
def test_the_owners_proofwork_serve_releases_the_key_over_http(cli: Cli, tmp_path: Path) -> None:
    """The owner runs `proofwork serve`; the buyer's `asset get --node URL` asks its API for the key."""
    serve = Serve(cli, tmp_path / "serve.log")
    try:
        up = serve.ready()
        rpc = ("--rpc-url", up["rpc_url"])
        (tmp_path / "rows.csv").write_bytes(ROWS)
        cli.ok("asset", "deploy", *rpc)
        asset = cli.ok(
            "asset", "register", str(tmp_path / "rows.csv"), "--name", "rows", "--kind", "dataset",
            "--license", "MIT", "--from", "dev2", "--encrypt", "--json", *rpc,
        ).json()  # fmt: skip
        offer = cli.ok(
            "asset", "offer", str(asset["asset_id"]), "--price", "2", "--from", "dev2", "--json", *rpc
        ).json()["offer_id"]
        licence = cli.ok("asset", "buy", str(offer), "--from", "dev1", "--json", *rpc).json()["licence_id"]
        out = tmp_path / "got"
        out.mkdir()
        get = ("asset", "get", str(licence), "--out", str(out), "--node", up["url"], *rpc)
        cli.fails(*get, "--from", "dev3", match="is held by")
        got = cli.ok(*get, "--from", "dev1", "--json").json()
        assert got["encrypted"] is True and (out / "rows.csv").read_bytes() == ROWS
        # the node checks the body before anything else
        refused = httpx.post(
            up["api_url"] + "/asset-keys", json={"request": {"licence_id": 1}, "signature": "0x"}, timeout=10
        )
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
        code, _ = serve.stop()
        assert code == 0 and "Traceback" not in serve.log()
    finally:
        serve.kill()
