"""The REST API's assets and licences (`/api/v1/assets`, `/licences`, `/offers/{id}/purchase`) in
process against a market with the asset contracts on the embedded chain: lists with filters and cursor
pages, from the logs and from a caught-up index; an asset in full with its lineage, offers and a
sale's split; a licence bought through the buyer's wallet (permit, then `buy`, broadcast by `POST /tx`)
and by a dev account; stable error codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from proofwork.api.v1 import create_app
from proofwork.db.index import IndexStore
from proofwork.domain.assets import Parent, Share
from proofwork.services.indexer import Indexer
from tests.conftest import chain_snapshot
from tests.integration.conftest import DAY, Market, _deployed
from tests.integration.test_api import DOMAIN, bearer, error_code, sign_in, wallet_sign


@pytest.fixture(scope="module")
def asset_api_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with _deployed(None, "embedded", tmp_path_factory) as market:
        market.pw.assets.deploy("dev0")
        yield market


@dataclass
class Assets:
    market: Market
    dataset: int
    model: int
    offer: int  # on the model, 10 tokens, 30 days, commercial
    licence: int  # the client's, under `offer`


@pytest.fixture
def am(asset_api_market: Market, tmp_path: Path) -> Iterator[Assets]:
    """A dataset (owned by `arbiter`, labeled by `other`), a model derived from it (`freelancer`), an
    offer on the model and the client's licence under it; rolled back after the test."""
    m = asset_api_market
    pw = m.pw
    with chain_snapshot(pw.ws.chain.web3):
        (tmp_path / "train.csv").write_bytes(b"x,y\n1,0\n")
        (tmp_path / "model.onnx").write_bytes(b"onnx")
        data, _ = pw.assets.manifest(
            [tmp_path / "train.csv"], kind="dataset", name="digits", license="CC-BY-4.0"
        )
        dataset = pw.assets.register(m.arbiter, data, creators=[Share(m.other.address, 3_000)]).asset_id
        files, _ = pw.assets.manifest([tmp_path / "model.onnx"], kind="model", name="clf", license="MIT")
        model = pw.assets.register(m.freelancer, files, parents=[Parent(dataset, 2_000)]).asset_id
        offer = pw.assets.offer(
            m.freelancer, model, price=pw.amount("10"), term_seconds=30 * DAY, commercial=True
        )
        licence = pw.assets.buy(m.client, offer)
        yield Assets(m, dataset, model, offer, licence)


def make_app(market: Market, **settings: Any) -> Any:
    settings.setdefault("api_rate_limit", 100_000)
    settings.setdefault("api_domain", DOMAIN)
    return create_app(replace(market.pw.ws.settings, **settings), market.pw.ws)


def test_asset_list_filters_pages_and_the_index(am: Assets, tmp_path: Path) -> None:
    m = am.market
    api = TestClient(make_app(m))
    listed = api.get("/api/v1/assets").json()
    assert [a["asset_id"] for a in listed["data"]] == [am.model, am.dataset]
    assert listed["count"] == 2 and listed["indexed_block"] is None and listed["next_cursor"] is None
    model = listed["data"][0]
    assert model["kind"] == "model" and model["owner"] == m.freelancer.address
    assert model["parents"] == [{"asset_id": am.dataset, "bps": 2000}]
    assert listed["data"][1]["creators"] == [{"account": m.other.address, "bps": 3000}]
    only = api.get("/api/v1/assets", params={"kind": "dataset"}).json()["data"]
    assert [a["asset_id"] for a in only] == [am.dataset]
    owned = api.get("/api/v1/assets", params={"owner": m.freelancer.address.lower()}).json()["data"]
    assert [a["asset_id"] for a in owned] == [am.model]
    by_creator = api.get("/api/v1/assets", params={"creator": m.other.address}).json()["data"]
    assert [a["asset_id"] for a in by_creator] == [am.dataset]
    first = api.get("/api/v1/assets", params={"limit": 1}).json()
    assert [a["asset_id"] for a in first["data"]] == [am.model] and first["count"] == 2
    rest = api.get("/api/v1/assets", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [a["asset_id"] for a in rest["data"]] == [am.dataset] and rest["next_cursor"] is None
    bad = api.get("/api/v1/assets", params={"kind": "tree"})
    assert bad.status_code == 422 and error_code(bad) == "validation_error"

    # a caught-up index answers the same
    where = tmp_path / "index.sqlite3"
    with IndexStore.open(where) as store:
        Indexer(m.pw.ws, store).run_once()
    indexed = TestClient(make_app(m, index_db=str(where))).get("/api/v1/assets").json()
    assert indexed["indexed_block"] == m.pw.ws.chain.block_number()
    assert indexed["data"] == listed["data"]


def test_an_asset_in_full_its_lineage_and_offers(am: Assets) -> None:
    m = am.market
    api = TestClient(make_app(m))
    got = api.get(f"/api/v1/assets/{am.model}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["name"] == "clf" and body["manifest_json"]["license"] == "MIT"
    assert [n["asset_id"] for n in body["lineage"]] == [am.model, am.dataset]
    assert body["lineage"][1]["name"] == "digits" and body["children"] == []
    (offer,) = body["offers"]
    assert offer["offer_id"] == am.offer and offer["price_display"] == "10" and offer["sold"] == 1
    assert offer["available"] and offer["commercial"] and offer["term_seconds"] == 30 * DAY
    sale = body["sale"]
    received = {r["account"]: r["amount_display"] for r in sale["received"]}
    # the dataset's 20 % is split 30 % to its labeler, the rest to its owner; the model's owner keeps 80 %
    assert received == {m.freelancer.address: "8", m.arbiter.address: "1.4", m.other.address: "0.6"}
    assert sum(int(r["amount"]) for r in sale["received"]) == int(sale["price"])
    assert api.get(f"/api/v1/assets/{am.dataset}").json()["children"] == [am.model]

    lineage = api.get(f"/api/v1/assets/{am.model}/lineage").json()["data"]
    assert [n["asset_id"] for n in lineage] == [am.model, am.dataset]
    prov = api.get(f"/api/v1/assets/{am.model}/lineage", params={"format": "prov"})
    assert prov.headers["content-type"].startswith("application/json")
    assert set(json.loads(prov.text)["entity"]) == {f"asset:{am.model}", f"asset:{am.dataset}"}
    offers = api.get(f"/api/v1/assets/{am.model}/offers").json()["data"]
    assert [o["offer_id"] for o in offers] == [am.offer]
    assert api.get(f"/api/v1/assets/{am.dataset}/offers").json()["data"] == []

    for path in (
        f"/assets/{am.model + 5}",
        f"/assets/{am.model + 5}/lineage",
        f"/assets/{am.model + 5}/offers",
    ):
        missing = api.get("/api/v1" + path)
        assert missing.status_code == 404 and error_code(missing) == "asset_not_found", path


def test_licence_list_and_detail(am: Assets) -> None:
    m = am.market
    api = TestClient(make_app(m))
    held = api.get("/api/v1/licences", params={"holder": m.client.address}).json()
    assert held["count"] == 1
    (lic,) = held["data"]
    assert lic["licence_id"] == am.licence and lic["holder"] == m.client.address and lic["valid"]
    assert lic["price_display"] == "10" and lic["kind"] == "download" and lic["commercial"]
    assert api.get("/api/v1/licences", params={"holder": m.other.address}).json()["data"] == []
    assert api.get("/api/v1/licences", params={"asset": am.dataset}).json()["count"] == 0
    detail = api.get(f"/api/v1/licences/{am.licence}").json()
    assert detail["valid"] and detail["revocable"] is False and detail["expires_at"] > 0
    missing = api.get(f"/api/v1/licences/{am.licence + 1}")
    assert missing.status_code == 404 and error_code(missing) == "licence_not_found"


def test_buying_through_the_wallet_with_a_permit(am: Assets) -> None:
    m = am.market
    pw = m.pw
    api = TestClient(make_app(m))
    buyer = pw.signer("dev6")
    pw.fund(buyer.address, pw.amount("25"))
    token = sign_in(api, buyer)
    url = f"/api/v1/offers/{am.offer}/purchase"
    first = api.post(url, json={}, headers=bearer(token)).json()
    assert first["status"] == "sign_typed_data" and first["typed_data"]["primaryType"] == "Permit"
    assert first["typed_data"]["message"]["spender"] == pw.ws.licensing.address
    permit = Account.sign_typed_data(buyer.key, full_message=first["typed_data"]).signature.hex()
    body = {
        "permit_deadline": first["typed_data"]["message"]["deadline"],
        "permit_signature": "0x" + permit.removeprefix("0x"),
    }
    second = api.post(url, json=body, headers=bearer(token)).json()
    assert second["status"] == "sign_transaction" and second["transaction"]["to"] == pw.ws.licensing.address
    before = pw.balance(buyer.address)
    sent = api.post(
        "/api/v1/tx", json={"raw": wallet_sign(second["transaction"], buyer.key)}, headers=bearer(token)
    )
    assert sent.status_code == 200, sent.text
    (licence_id,) = sent.json()["licence_ids"]
    assert before - pw.balance(buyer.address) == pw.amount("10")
    mine = api.get("/api/v1/licences", params={"holder": buyer.address}).json()["data"]
    assert [lic["licence_id"] for lic in mine] == [licence_id] and mine[0]["valid"]

    # half a permit, another's address, an unknown offer, a buyer without the price: refused, nothing sent
    half = api.post(url, json={"permit_deadline": 1}, headers=bearer(token))
    assert half.status_code == 400 and error_code(half) == "invalid_input"
    other = api.post(url, json={"from": m.client.address}, headers=bearer(token))
    assert other.status_code == 403 and error_code(other) == "not_your_address"
    unknown = api.post(f"/api/v1/offers/{am.offer + 9}/purchase", json={}, headers=bearer(token))
    assert unknown.status_code == 404 and error_code(unknown) == "offer_not_found"
    poor = sign_in(api, pw.signer("dev7"))
    broke = api.post(url, json={}, headers=bearer(poor))
    assert broke.status_code == 409 and error_code(broke) == "not_allowed" and "holds less" in broke.text
    cheap = api.post(url, json={"max_price": "1"}, headers=bearer(token))
    assert cheap.status_code == 409 and "more than the 1 you accept" in cheap.text
    assert TestClient(make_app(m)).post(url, json={}).status_code == 401  # no session cookie


def test_dev_mode_buys_with_the_dev_account(am: Assets) -> None:
    m = am.market
    api = TestClient(make_app(m))
    token = sign_in(api, m.client)
    bought = api.post(f"/api/v1/offers/{am.offer}/purchase?dev_sign=true", json={}, headers=bearer(token))
    assert bought.status_code == 200, bought.text
    assert bought.json()["status"] == "sent" and bought.json()["licence_id"] == am.licence + 1
    held = api.get("/api/v1/licences", params={"holder": m.client.address}).json()["data"]
    assert [lic["licence_id"] for lic in held] == [am.licence + 1, am.licence]
