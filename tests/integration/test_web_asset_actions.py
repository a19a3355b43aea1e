"""The web app's asset routes without a browser (FastAPI's test client): buying a licence from a wallet
(the permit, then `buy`, checked and broadcast by /actions/tx) and in dev mode, the refusals (no dev
mode, no CSRF token, a wallet without the price), and the pages' answers to unknown ids. The browser
flows are in tests/e2e/test_web_assets.py."""

from __future__ import annotations

from pathlib import Path

from proofwork.domain.assets import Parent
from tests.integration.conftest import Market
from tests.integration.test_web_app import client, permit, wallet_sign


def _offer(am: Market, tmp_path: Path) -> tuple[int, int]:
    """(model, offer): a dataset and a model derived from it, offered for 4 tokens."""
    pw = am.pw
    (tmp_path / "d.csv").write_bytes(b"x\n1\n")
    (tmp_path / "m.onnx").write_bytes(b"m")
    data, _ = pw.assets.manifest([tmp_path / "d.csv"], kind="dataset", name="d", license="CC0-1.0")
    dataset = pw.assets.register(am.arbiter, data).asset_id
    files, _ = pw.assets.manifest([tmp_path / "m.onnx"], kind="model", name="m", license="MIT")
    model = pw.assets.register(am.freelancer, files, parents=[Parent(dataset, 1_000)]).asset_id
    return model, pw.assets.offer(am.freelancer, model, price=pw.amount("4"))


def test_a_wallet_buys_a_licence_through_the_actions(am: Market, tmp_path: Path) -> None:
    pw = am.pw
    model, offer = _offer(am, tmp_path)
    web = client(pw)
    buyer = am.client
    url = f"/actions/offers/{offer}/buy"
    first = web.post(url, data={"from": buyer.address})
    assert first.status_code == 200, first.text
    assert first.json()["typed_data"]["message"]["spender"] == pw.ws.licensing.address
    second = web.post(url, data={"from": buyer.address, **permit(first, buyer.key)})
    (tx,) = second.json()["txs"]
    assert tx["to"] == pw.ws.licensing.address
    before = pw.balance(buyer.address)
    sent = web.post("/actions/tx", data={"from": buyer.address, "raw": wallet_sign(tx, buyer.key)})
    assert sent.status_code == 200 and sent.json()["status"] == "success", sent.text
    (licence_id,) = sent.json()["licences_bought"]
    assert before - pw.balance(buyer.address) == pw.amount("4")
    page = web.get(f"/licences/{licence_id}")
    assert page.status_code == 200 and 'id="licence-status">valid<' in page.text
    asset = web.get(f"/assets/{model}").text
    assert 'id="split"' in asset and f'data-action="/actions/offers/{offer}/buy"' in asset

    # a wallet without the price, half a permit, no CSRF token, an unknown offer: refused, nothing sent
    poor = web.post(url, data={"from": pw.address("dev7")})
    assert poor.status_code == 403 and "holds less" in poor.json()["error"]
    half = web.post(url, data={"from": buyer.address, "permit_deadline": "1"})
    assert half.status_code == 400 and "permit" in half.json()["error"]
    forged = client(pw, csrf=False).post(url, data={"from": buyer.address})
    assert forged.status_code == 403
    unknown = web.post(f"/actions/offers/{offer + 5}/buy", data={"from": buyer.address})
    assert unknown.status_code == 404 and f"no licence offer {offer + 5}" in unknown.json()["error"]
    for path, text in ((f"/licences/{licence_id + 1}", "no licence"), (f"/assets/{model + 9}", "no asset")):
        missing = web.get(path)
        assert missing.status_code == 404 and text in missing.text, path
    assert web.get("/assets/abc").status_code == 400


def test_dev_mode_buys_with_a_dev_account_and_only_then(am: Market, tmp_path: Path) -> None:
    pw = am.pw
    _, offer = _offer(am, tmp_path)
    url = f"/actions/offers/{offer}/buy"
    refused = client(pw).post(url, data={"sign_as": "dev1"})
    assert refused.status_code == 403 and "dev mode" in refused.json()["error"]
    bought = client(pw, web_dev_mode=True).post(url, data={"sign_as": "dev1"})
    assert bought.status_code == 200, bought.text
    licence_id = bought.json()["licence_id"]
    assert pw.assets.licence(licence_id).holder == pw.address("dev1")
