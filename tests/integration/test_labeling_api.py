"""The REST API's labeling routes (`/api/v1/labeling/...`) in process on the embedded chain: a batch
for the signed-in labeler, signed in a wallet from the served EIP-712 JSON and posted; refusals with
their stable codes (nothing stored); a round's bundle by CID; a claim prepared as an unsigned
transaction, signed by a relayer's wallet and broadcast through `POST /tx`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from proofwork.api.v1 import create_app
from proofwork.chain.artifacts import ArtifactStore
from proofwork.domain.errors import NotFound
from proofwork.keys.keystore import KeyStore
from proofwork.services.labeling import campaigns, rounds
from proofwork.services.workspace import Workspace
from proofwork.storage.store import open_store
from tests.integration.labeling_fixtures import LabelingSetup, labeling_setup
from tests.integration.test_api import DOMAIN, bearer, error_code, sign_in, wallet_sign

DAY = 86_400


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelingSetup]:
    with labeling_setup(tmp_path_factory.mktemp("labeling-api")) as s:
        yield s


@pytest.fixture(scope="module")
def api(setup: LabelingSetup) -> TestClient:
    settings = replace(setup.ws.settings, api_rate_limit=100_000, api_domain=DOMAIN)
    return TestClient(create_app(settings, setup.ws))


def wallet_signs(typed: dict[str, Any], key: bytes) -> str:
    signed = Account.sign_typed_data(key, full_message=typed)
    return "0x" + bytes(signed.signature).hex()


def test_batches_signed_in_a_wallet_and_a_relayed_claim(
    setup: LabelingSetup, api: TestClient, tmp_path: Path
) -> None:
    s = setup
    created = campaigns.create_campaign(s.ws, s.client, s.spec(), s.gold(), duration=40 * DAY)
    cid = created.campaign_id
    base = f"/api/v1/labeling/campaigns/{cid}"
    assert api.get("/api/v1/labeling/campaigns").json()["campaigns"][-1]["campaign"] == cid
    detail = api.get(base).json()
    assert detail["labels"] == ["cat", "dog"] and detail["budget"] == 100_000

    assert error_code(api.get(f"{base}/batch")) == "unauthenticated"
    tokens = {lab.address: sign_in(api, lab) for lab in s.labelers}
    alice = s.labelers[0]
    batch = api.get(f"{base}/batch", headers=bearer(tokens[alice.address])).json()
    assert len(batch["items"]) == 5 and batch["labeler"] == alice.address.lower()
    answers = [[item, s.truth[item]] for item in batch["items"]]
    url = f"{base}/batches/{batch['batch']}"
    typed = api.post(f"{url}/typed-data", json={"answers": answers}).json()["typed_data"]
    assert typed["primaryType"] == "LabelBatch" and typed["domain"]["chainId"] == s.ws.chain_id

    # refusals, each with its code, nothing stored
    bob = s.labelers[1]
    wrong = api.post(url, json={"answers": answers, "signature": wallet_signs(typed, bob.key)})
    assert wrong.status_code == 403 and error_code(wrong) == "wrong_signer"
    twice = [*answers, answers[0]]
    typed_twice = api.post(f"{url}/typed-data", json={"answers": twice}).json()["typed_data"]
    dup = api.post(url, json={"answers": twice, "signature": wallet_signs(typed_twice, alice.key)})
    assert dup.status_code == 400 and error_code(dup) == "duplicate_answer"
    other = next(i for i in s.items if i not in batch["items"])
    stray = api.post(url, json={"answers": [[other, "cat"]], "signature": wallet_signs(typed, alice.key)})
    assert stray.status_code == 400 and error_code(stray) == "item_not_in_batch"
    assert campaigns.campaign_status(s.ws, cid).labels_given == 0

    ok = api.post(url, json={"answers": answers, "signature": wallet_signs(typed, alice.key)})
    assert ok.status_code == 200, ok.text
    assert ok.json()["answers"] == 5
    replay = api.post(url, json={"answers": answers, "signature": wallet_signs(typed, alice.key)})
    assert replay.status_code == 409 and error_code(replay) == "batch_answered"

    # everyone else labels through the API too, until the work runs out
    for _ in range(20):
        served = 0
        for lab in s.labelers:
            got = api.get(f"{base}/batch", headers=bearer(tokens[lab.address]))
            if got.status_code != 200:
                assert error_code(got) in ("no_work", "labeler_cap", "budget_spent")
                continue
            b = got.json()
            rows = [[item, s.truth[item]] for item in b["items"]]
            t = api.post(f"{base}/batches/{b['batch']}/typed-data", json={"answers": rows}).json()[
                "typed_data"
            ]
            done = api.post(
                f"{base}/batches/{b['batch']}", json={"answers": rows, "signature": wallet_signs(t, lab.key)}
            )
            assert done.status_code == 200, done.text
            served += 1
        if not served:
            break

    outcome = rounds.run_round(s.ws, s.relayer, cid)
    listed = api.get(f"{base}/rounds").json()["rounds"]
    assert listed[-1]["bundle"] == outcome.bundle_cid
    bundle = api.get(f"/api/v1/labeling/bundles/{outcome.bundle_cid}")
    assert bundle.status_code == 200 and bundle.json()["round"] == 1
    assert api.get(f"/api/v1/labeling/bundles/{created.spec_cid}").status_code == 404
    # a stranger (its own data directory and store, the same chain) verifies from what the API serves
    stranger_dir = tmp_path / "stranger"
    shutil.copytree(s.ws.data_dir / "deployments", stranger_dir / "deployments")
    settings = replace(s.ws.settings, data_dir=stranger_dir, store=stranger_dir / "store")
    stranger = Workspace(
        settings,
        ArtifactStore(),
        KeyStore(stranger_dir / "keystore"),
        lambda _: "",
        open_store(stranger_dir / "store"),
        chain=s.ws.chain,
    )
    with pytest.raises(NotFound):  # nothing in its store yet
        rounds.verify_round(stranger, cid, 1, outcome.bundle_cid)
    assert stranger.store.add_bytes(bundle.content) == outcome.bundle_cid
    stranger.store.add_bytes(api.get(f"{base}/commitments").content)
    assert rounds.verify_round(stranger, cid, 1, outcome.bundle_cid).matches

    s.pw.advance_time(3_600)
    proof = api.get(f"{base}/claims/{alice.address}").json()
    assert proof["due"] == outcome.owed[alice.address.lower()]
    relayer_token = sign_in(api, s.relayer)
    prepared = api.post(
        f"{base}/claims", json={"labeler": alice.address}, headers=bearer(relayer_token)
    ).json()
    assert prepared["status"] == "sign_transaction"
    before = s.ws.token.balance_of(alice.address)
    sent = api.post(
        "/api/v1/tx",
        json={"raw": wallet_sign(prepared["transaction"], s.relayer.key)},
        headers=bearer(relayer_token),
    )
    assert sent.status_code == 200, sent.text
    assert s.ws.token.balance_of(alice.address) == before + proof["due"]
    again = api.post(f"{base}/claims", json={"labeler": alice.address}, headers=bearer(relayer_token))
    assert again.status_code == 409 and error_code(again) == "not_allowed"
