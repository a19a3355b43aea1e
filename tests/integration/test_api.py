"""The REST API (`/api/v1`) in process against a market deployed on the embedded chain: every router,
Sign-In with Ethereum and its refusals, wallet-signed and dev-signed writes, limits, and Schemathesis
over the OpenAPI schema."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks
from siwe import SiweMessage

from proofwork.api.v1 import create_app
from proofwork.sdk import Signer
from proofwork.services.credentials.issuing import VCT_COURSE_CERTIFICATE as COURSE
from tests.conftest import chain_snapshot
from tests.integration.conftest import DAY, Market, _deployed, digest

DOMAIN = "testserver"  # the Host TestClient sends


@pytest.fixture(scope="module")
def api_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with _deployed(None, "embedded", tmp_path_factory) as market:
        yield market


@pytest.fixture
def market(api_market: Market) -> Iterator[Market]:
    with chain_snapshot(api_market.pw.ws.chain.web3):
        yield api_market


def make_app(market: Market, **api_settings: Any) -> FastAPI:
    api_settings.setdefault("api_rate_limit", 100_000)
    api_settings.setdefault("api_domain", DOMAIN)  # TestClient's Host is not a loopback name
    return create_app(replace(market.pw.ws.settings, **api_settings), market.pw.ws)


@pytest.fixture
def api(market: Market) -> TestClient:
    return TestClient(make_app(market))


def siwe_text(
    address: str,
    nonce: str,
    chain_id: int,
    *,
    domain: str = DOMAIN,
    expires_in: int = 300,
    issued_ago: int = 0,
) -> str:
    now = datetime.now(UTC) - timedelta(seconds=issued_ago)
    message = SiweMessage(
        domain=domain,
        address=address,
        statement="Sign in to proofwork",
        uri=f"http://{domain}/",
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=now.isoformat().replace("+00:00", "Z"),
        expiration_time=(now + timedelta(seconds=expires_in)).isoformat().replace("+00:00", "Z"),
    )
    return str(message.prepare_message())


def personal_sign(text: str, key: bytes) -> str:
    signature = Account.sign_message(encode_defunct(text=text), key).signature.hex()
    return signature if signature.startswith("0x") else "0x" + signature


def fresh_nonce(api: TestClient) -> tuple[str, int]:
    answer = api.get("/api/v1/auth/nonce")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["domain"] == DOMAIN
    return body["nonce"], body["chain_id"]


def sign_in(api: TestClient, signer: Signer) -> str:
    nonce, chain_id = fresh_nonce(api)
    text = siwe_text(signer.address, nonce, chain_id)
    answer = api.post(
        "/api/v1/auth/sign-in", json={"message": text, "signature": personal_sign(text, signer.key)}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(answer: Any) -> str:
    return str(answer.json()["error"]["code"])


# --- reads ------------------------------------------------------------------------------------------


def test_info_openapi_and_unknown_paths(api: TestClient, market: Market) -> None:
    info = api.get("/api/v1/info")
    assert info.status_code == 200
    assert info.json()["dev_mode"] is True and info.json()["token_decimals"] == 6
    assert info.headers["x-proofwork-dev-mode"] == "true"
    schema = api.get("/api/v1/openapi.json").json()
    assert {"/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/auth/sign-in", "/api/v1/tx"} <= set(
        schema["paths"]
    )
    assert "Error" in schema["components"]["schemas"]
    documented = schema["info"]["description"]
    for code in ("job_not_found", "siwe_bad_nonce", "not_your_address", "payload_too_large", "rate_limited"):
        assert f"| `{code}` |" in documented
    missing = api.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and error_code(missing) == "not_found"


def test_job_board_filters_and_cursor_pages(api: TestClient, market: Market) -> None:
    ids = [market.post(budget).job.job_id for budget in ("100", "200", "300")]
    market.pw.jobs.post(
        market.other, budget=market.pw.amount("50"), deadline=market.pw.now() + 7 * DAY, review_period=3 * DAY
    )
    first = api.get("/api/v1/jobs", params={"client": market.client.address, "limit": 2}).json()
    assert [j["id"] for j in first["data"]] == [ids[2], ids[1]]  # newest first
    assert first["count"] == 3 and first["next_cursor"] == str(ids[1])
    second = api.get(
        "/api/v1/jobs", params={"client": market.client.address, "limit": 2, "cursor": first["next_cursor"]}
    )
    assert [j["id"] for j in second.json()["data"]] == [ids[0]] and second.json()["next_cursor"] is None
    cheap = api.get("/api/v1/jobs", params={"max_budget": str(market.pw.amount("150"))}).json()
    assert sorted(j["budget_display"] for j in cheap["data"]) == ["100", "50"]
    rich = api.get("/api/v1/jobs", params={"min_budget": str(market.pw.amount("250"))}).json()
    assert [j["id"] for j in rich["data"]] == [ids[2]]
    by_freelancer = api.get("/api/v1/jobs", params={"freelancer": market.freelancer.address}).json()
    assert {j["id"] for j in by_freelancer["data"]} == set(ids)
    opened = api.get("/api/v1/jobs", params={"state": "open"}).json()
    assert [j["client"] for j in opened["data"]] == [market.other.address]
    assert api.get("/api/v1/jobs", params={"skill": "vision"}).json()["count"] == 0  # no skill declared
    bad = api.get("/api/v1/jobs", params={"state": "lost"})
    assert (
        bad.status_code == 422
        and error_code(bad) == "validation_error"
        and "state" in bad.json()["error"]["message"]
    )
    assert api.get("/api/v1/jobs", params={"client": "0x123"}).status_code == 422


def test_job_detail_with_submission_dispute_and_unknown_ids(api: TestClient, market: Market) -> None:
    job = market.post("100", 2, arbiter=market.arbiter.address).job
    market.pw.jobs.submit(market.freelancer, job.job_id, 0, digest("model"))
    market.pw.jobs.dispute(market.client, job.job_id, 0)
    detail = api.get(f"/api/v1/jobs/{job.job_id}").json()
    assert [m["status"] for m in detail["milestones"]] == ["disputed", "open"]
    assert detail["submissions"][0]["deliverable"] == "0x" + digest("model").hex()
    assert detail["disputes"][0]["by"] == market.client.address and detail["disputes"][0]["resolved"] is None
    assert detail["milestones"][0]["deadlines"]["resolvable_from"] is not None
    assert detail["judged_by_committee"] is False and detail["scores"] == []
    unknown = api.get("/api/v1/jobs/999")
    assert unknown.status_code == 404 and error_code(unknown) == "job_not_found"
    assert "no job 999" in unknown.json()["error"]["message"]
    assert api.get("/api/v1/jobs/0").status_code == 422
    assert api.get("/api/v1/jobs/abc").status_code == 422


def test_competitions_without_a_committee(api: TestClient) -> None:
    assert api.get("/api/v1/competitions").json()["data"] == []
    missing = api.get("/api/v1/competitions/1")
    assert missing.status_code == 404 and error_code(missing) == "competition_not_found"
    assert api.get("/api/v1/competitions/1/leaderboard").status_code == 404


def test_profile_and_statement_after_a_paid_job(api: TestClient, market: Market) -> None:
    job = market.post("100").job
    market.pw.jobs.submit(market.freelancer, job.job_id, 0, digest("done"))
    market.pw.jobs.approve(market.client, job.job_id, 0)
    profile = api.get(f"/api/v1/profiles/{market.freelancer.address}").json()
    assert [j["id"] for j in profile["completed_jobs"]] == [job.job_id]
    assert profile["reputation"] is None  # no identity contracts in this deployment

    answer = api.get(f"/api/v1/statements/{market.freelancer.address}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["direction"], r["amount"], r["contract"]) for r in rows] == [("in", "97.5", "escrow")]
    paid = api.get(f"/api/v1/statements/{market.client.address}").text
    client_rows = list(csv.DictReader(io.StringIO(paid)))
    assert ("out", "-100") in [(r["direction"], r["amount"]) for r in client_rows]
    assert all(r["transaction"].startswith("0x") and r["date_utc"].endswith("Z") for r in client_rows)
    # the funding transfer from the deployer is not proofwork's: not on the statement
    assert all(r["counterparty"] != market.operator.address for r in client_rows)
    assert api.get("/api/v1/statements/0xnothex").status_code == 422


def test_credential_verification_refuses_garbage_with_a_reason(api: TestClient) -> None:
    answer = api.post(
        "/api/v1/credentials/verify",
        json={"presentation": "not-a-presentation", "audience": "x", "nonce": "n"},
    )
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 200:
        assert answer.json()["valid"] is False and answer.json()["reason"]
    else:
        assert error_code(answer) == "invalid_input"


# --- with the identity contracts: credentials, skills, profiles explained ----------------------------


@dataclass
class IdentityMarket:
    market: Market
    issuer: str  # a registered did:pkh issuer (dev5)


@pytest.fixture(scope="module")
def id_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityMarket]:
    """A second deployment with a committee (no oracles running), its competition contract and the
    identity contracts, and a registered issuer."""
    with _deployed(None, "embedded", tmp_path_factory) as market:
        pw = market.pw
        pw.deploy_committee([f"dev{i}" for i in range(6, 10)], f=1)
        pw.identity.deploy("dev0")
        pw.identity.create_issuer("uni", "dev5")
        pw.identity.register_issuer("uni")
        yield IdentityMarket(market, "uni")


def test_credential_verification(id_market: IdentityMarket) -> None:
    m = id_market.market
    api = TestClient(make_app(m))
    record = m.pw.identity.issue(
        id_market.issuer, "dev2", COURSE, {"course": "Machine Learning", "grade": "A"}, valid_for=365 * DAY
    )
    presentation = m.pw.identity.present("dev2", record.id, ["course"], "did:web:client.example", "n-1")
    body = {"presentation": presentation, "audience": "did:web:client.example", "nonce": "n-1"}
    valid = api.post("/api/v1/credentials/verify", json=body).json()
    assert valid["valid"] is True and valid["credential"]["accredited"] is True
    assert valid["credential"]["claims"] == {"course": "Machine Learning"}
    assert valid["credential"]["holder"] == m.freelancer.address
    replayed = api.post("/api/v1/credentials/verify", json=body | {"nonce": "n-2"}).json()
    assert replayed["valid"] is False and replayed["reason"] and replayed["message"]


def test_skills_profiles_and_competitions_with_identity(id_market: IdentityMarket) -> None:
    m = id_market.market
    api = TestClient(make_app(m))
    with chain_snapshot(m.pw.ws.chain.web3):
        job = m.post("200").job
        other = m.post("50").job
        m.pw.identity.declare_skill(m.client.address, job.job_id, "vision")
        listed = api.get("/api/v1/jobs", params={"skill": "vision"}).json()
        assert [(j["id"], j["skill"]) for j in listed["data"]] == [(job.job_id, "vision")]
        assert other.job_id not in [j["id"] for j in listed["data"]]
        m.pw.jobs.submit(m.freelancer, job.job_id, 0, digest("done"))
        m.pw.jobs.approve(m.client, job.job_id, 0)
        (attested,) = m.pw.identity.attest("dev4", job.job_id)
        m.pw.identity.mint_badge("dev5", m.freelancer.address, "vision")  # the issuer's account
        profile = api.get(f"/api/v1/profiles/{m.freelancer.address}").json()
        assert [j["id"] for j in profile["completed_jobs"]] == [job.job_id]
        assert [a["job_id"] for a in profile["attestations"]] == [job.job_id]
        assert profile["attestations"][0]["uid"] == "0x" + attested.uid.hex()
        assert len(profile["badges"]) == 1
        reputation = profile["reputation"]
        assert reputation["paid_jobs"] == 1 and reputation["address"] == m.freelancer.address
        assert [t["job"] for t in reputation["top_jobs"]] == [job.job_id]  # the explanation
        assert api.get("/api/v1/competitions").json() == {"data": [], "count": 0, "dev_mode": True}
        assert error_code(api.get("/api/v1/competitions/0")) == "competition_not_found"


# --- sign-in ----------------------------------------------------------------------------------------


def test_sign_in_session_cookie_and_sign_out(api: TestClient, market: Market) -> None:
    nonce, chain_id = fresh_nonce(api)
    text = siwe_text(market.client.address, nonce, chain_id)
    answer = api.post(
        "/api/v1/auth/sign-in", json={"message": text, "signature": personal_sign(text, market.client.key)}
    )
    assert answer.status_code == 200 and answer.json()["address"] == market.client.address
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert api.get("/api/v1/auth/session").json()["address"] == market.client.address  # the cookie
    token = answer.json()["token"]
    fresh = TestClient(make_app(market))  # a restarted server: the session is in the data directory
    assert fresh.get("/api/v1/auth/session", headers=bearer(token)).status_code == 200
    assert api.post("/api/v1/auth/sign-out", headers=bearer(token)).status_code == 204
    gone = fresh.get("/api/v1/auth/session", headers=bearer(token))
    assert gone.status_code == 401 and error_code(gone) == "session_expired"
    nobody = TestClient(make_app(market)).get("/api/v1/auth/session")
    assert nobody.status_code == 401 and error_code(nobody) == "unauthenticated"


def test_sign_in_refusals(api: TestClient, market: Market) -> None:
    def attempt(text: str, key: bytes) -> Any:
        return api.post("/api/v1/auth/sign-in", json={"message": text, "signature": personal_sign(text, key)})

    address, key = market.client.address, market.client.key
    nonce, chain_id = fresh_nonce(api)
    text = siwe_text(address, nonce, chain_id)
    assert attempt(text, key).status_code == 200
    replayed = attempt(text, key)
    assert replayed.status_code == 401 and error_code(replayed) == "siwe_bad_nonce"
    assert "already used" in replayed.json()["error"]["message"]

    nonce, _ = fresh_nonce(api)
    expired = attempt(siwe_text(address, nonce, chain_id, issued_ago=600, expires_in=300), key)
    assert expired.status_code == 401 and error_code(expired) == "siwe_expired"

    nonce, _ = fresh_nonce(api)
    other_key = attempt(siwe_text(address, nonce, chain_id), market.other.key)  # signed by someone else
    assert other_key.status_code == 401 and error_code(other_key) == "siwe_bad_signature"
    assert address in other_key.json()["error"]["message"]
    # the nonce survives a bad signature: its owner can still use it
    assert attempt(siwe_text(address, nonce, chain_id), key).status_code == 200

    nonce, _ = fresh_nonce(api)
    wrong_domain = attempt(siwe_text(address, nonce, chain_id, domain="evil.example"), key)
    assert wrong_domain.status_code == 401 and error_code(wrong_domain) == "siwe_wrong_domain"
    wrong_chain = attempt(siwe_text(address, nonce, chain_id + 1), key)
    assert wrong_chain.status_code == 401 and error_code(wrong_chain) == "siwe_wrong_chain"
    made_up = attempt(siwe_text(address, "abcdef0123456789", chain_id), key)
    assert made_up.status_code == 401 and error_code(made_up) == "siwe_bad_nonce"
    for text in ("hello", "a" * 4096):  # the second took the library's ABNF parser seconds
        malformed = api.post("/api/v1/auth/sign-in", json={"message": text, "signature": "0x" + "11" * 65})
        assert malformed.status_code == 401 and error_code(malformed) == "siwe_malformed"
    too_long = attempt(siwe_text(address, nonce, chain_id, expires_in=3 * DAY), key)
    assert too_long.status_code == 401 and error_code(too_long) == "siwe_too_long"


def test_session_expires(market: Market) -> None:
    api = TestClient(make_app(market, api_session_ttl=1))
    token = sign_in(api, market.client)
    assert api.get("/api/v1/auth/session", headers=bearer(token)).status_code == 200
    time.sleep(2.1)
    late = api.get("/api/v1/auth/session", headers=bearer(token))
    assert late.status_code == 401 and error_code(late) == "session_expired"


# --- writes ------------------------------------------------------------------------------------------


def wallet_sign(tx: dict[str, Any], key: bytes) -> str:
    fields = {k: v for k, v in tx.items() if k != "from"}
    for name in ("value", "maxFeePerGas", "maxPriorityFeePerGas"):
        fields[name] = int(fields[name])
    raw = Account.sign_transaction(fields, key).raw_transaction.hex()
    return raw if raw.startswith("0x") else "0x" + raw


def test_post_submit_approve_signed_by_wallets(api: TestClient, market: Market) -> None:
    client_token = sign_in(api, market.client)
    body = {
        "budget": str(market.pw.amount("100")),
        "milestones": 1,
        "deadline": market.pw.now() + 7 * DAY,
        "review_period": 3 * DAY,
        "freelancer": market.freelancer.address,
    }
    first = api.post("/api/v1/jobs", json=body, headers=bearer(client_token)).json()
    assert first["status"] == "sign_typed_data" and first["typed_data"]["primaryType"] == "Permit"
    permit = Account.sign_typed_data(market.client.key, full_message=first["typed_data"]).signature.hex()
    body |= {
        "permit_deadline": first["typed_data"]["message"]["deadline"],
        "permit_signature": "0x" + permit.removeprefix("0x"),
    }
    second = api.post("/api/v1/jobs", json=body, headers=bearer(client_token)).json()
    assert second["status"] == "sign_transaction" and second["dev_mode"] is True
    assert second["transaction"]["to"] == market.pw.ws.escrow.address
    sent = api.post(
        "/api/v1/tx",
        json={"raw": wallet_sign(second["transaction"], market.client.key)},
        headers=bearer(client_token),
    )
    assert sent.status_code == 200, sent.text
    (job_id,) = sent.json()["job_ids"]

    freelancer_token = sign_in(api, market.freelancer)
    submission = {"deliverable": "0x" + digest("weights").hex()}
    prepared = api.post(
        f"/api/v1/jobs/{job_id}/milestones/0/submissions", json=submission, headers=bearer(freelancer_token)
    )
    assert prepared.status_code == 200, prepared.text
    raw = wallet_sign(prepared.json()["transaction"], market.freelancer.key)
    assert api.post("/api/v1/tx", json={"raw": raw}, headers=bearer(freelancer_token)).status_code == 200
    again = api.post("/api/v1/tx", json={"raw": raw}, headers=bearer(freelancer_token))  # its nonce is used
    assert again.status_code == 409 and error_code(again) == "tx_replayed", again.text
    assert api.get(f"/api/v1/jobs/{job_id}").json()["milestones"][0]["status"] == "submitted"

    # the freelancer cannot approve (the escrow's rule, before anything is signed)
    refused = api.post(
        f"/api/v1/jobs/{job_id}/milestones/0/approval", json={}, headers=bearer(freelancer_token)
    )
    assert refused.status_code == 409 and error_code(refused) == "not_allowed"
    approval = api.post(
        f"/api/v1/jobs/{job_id}/milestones/0/approval", json={}, headers=bearer(client_token)
    ).json()
    raw = wallet_sign(approval["transaction"], market.client.key)
    assert api.post("/api/v1/tx", json={"raw": raw}, headers=bearer(client_token)).status_code == 200
    assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "completed"


def test_dev_mode_signs_with_the_dev_account(api: TestClient, market: Market) -> None:
    token = sign_in(api, market.client)
    body = {
        "budget": str(market.pw.amount("10")),
        "deadline": market.pw.now() + 7 * DAY,
        "review_period": 3 * DAY,
        "freelancer": market.freelancer.address,
    }
    answer = api.post("/api/v1/jobs", params={"dev_sign": "true"}, json=body, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["status"] == "sent" and out["dev_mode"] is True and out["tx_hash"].startswith("0x")
    assert out["job"]["client"] == market.client.address and out["job"]["budget_display"] == "10"


def test_acting_for_another_address_is_refused(api: TestClient, market: Market) -> None:
    job = market.post("100").job
    token = sign_in(api, market.client)
    body = {
        "from": market.other.address,
        "budget": "1",
        "deadline": market.pw.now() + DAY,
        "review_period": 3600,
    }
    forbidden = api.post("/api/v1/jobs", json=body, headers=bearer(token))
    assert forbidden.status_code == 403 and error_code(forbidden) == "not_your_address"
    other_submission = api.post(
        f"/api/v1/jobs/{job.job_id}/milestones/0/submissions",
        json={"from": market.freelancer.address, "deliverable": "0x" + digest("x").hex()},
        headers=bearer(token),
    )
    assert other_submission.status_code == 403
    # a transaction signed by another key, sent with the client's session
    tx = {
        "to": market.client.address,
        "value": 0,
        "gas": 21_000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 1,
        "nonce": 0,
        "chainId": market.pw.ws.chain_id,
        "data": "0x",
        "type": 2,
    }
    raw = Account.sign_transaction(tx, market.other.key).raw_transaction.hex()
    sent = api.post("/api/v1/tx", json={"raw": "0x" + raw.removeprefix("0x")}, headers=bearer(token))
    assert sent.status_code == 403 and error_code(sent) == "not_your_address"
    garbage = api.post("/api/v1/tx", json={"raw": "0x1234"}, headers=bearer(token))
    assert garbage.status_code == 400 and error_code(garbage) == "tx_malformed"
    unsigned = TestClient(make_app(market)).post("/api/v1/jobs", json=body)  # no cookie, no token
    assert unsigned.status_code == 401 and error_code(unsigned) == "unauthenticated"
    unknown_job = api.post("/api/v1/jobs/999/milestones/0/approval", json={}, headers=bearer(token))
    assert unknown_job.status_code == 404 and error_code(unknown_job) == "job_not_found"


def test_signed_transactions_are_checked_before_broadcast(api: TestClient, market: Market) -> None:
    """A raw transaction is refused, with a stable code and nothing sent, unless it is a call this API
    prepared, signed by the signed-in address for this chain, with a fresh nonce, of bounded size."""
    token = sign_in(api, market.client)
    job = market.post("100").job
    freelancer_token = sign_in(api, market.freelancer)
    submission = {"deliverable": "0x" + digest("weights").hex()}
    prepared = api.post(
        f"/api/v1/jobs/{job.job_id}/milestones/0/submissions",
        json=submission,
        headers=bearer(freelancer_token),
    ).json()["transaction"]
    web3 = market.pw.ws.chain.web3
    sent_before = web3.eth.block_number

    def send(tx: dict[str, Any], key: bytes, who: str = freelancer_token) -> Any:
        return api.post("/api/v1/tx", json={"raw": wallet_sign(tx, key)}, headers=bearer(who))

    cases = [
        (send(prepared | {"chainId": 1}, market.freelancer.key), 400, "tx_wrong_chain", "chain 1"),
        (send(prepared, market.freelancer.key, token), 403, "not_your_address", "signed by"),
        (
            send(prepared | {"to": market.pw.ws.token.address}, market.freelancer.key),
            400,
            "tx_unexpected_call",
            "not a call this server prepares",
        ),
        (  # the escrow, but a call no wallet is given here (withdraw_fees)
            send(prepared | {"data": "0x" + "ab" * 36}, market.freelancer.key),
            400,
            "tx_unexpected_call",
            "not a call",
        ),
        (  # the right function, arguments cut short
            send(prepared | {"data": prepared["data"][:-64]}, market.freelancer.key),
            400,
            "tx_unexpected_call",
            "not a call",
        ),
        (send(prepared | {"value": "1"}, market.freelancer.key), 400, "tx_unexpected_call", "not a call"),
    ]
    for answer, status, code, words in cases:
        assert answer.status_code == status and error_code(answer) == code, answer.text
        assert words in answer.json()["error"]["message"]
    for raw, status, code in [
        ("0xzz", 400, "tx_malformed"),
        ("0x" + "02" * 40, 400, "tx_malformed"),
        ("deadbeef", 400, "tx_malformed"),
        ("0x" + "00" * (64 * 1024 + 1), 413, "tx_too_large"),
    ]:
        answer = api.post("/api/v1/tx", json={"raw": raw}, headers=bearer(freelancer_token))
        assert answer.status_code == status and error_code(answer) == code, (raw[:10], answer.text)
    assert web3.eth.block_number == sent_before  # nothing was sent
    assert api.get(f"/api/v1/jobs/{job.job_id}").json()["milestones"][0]["status"] == "open"
    ok = send(prepared, market.freelancer.key)
    assert ok.status_code == 200, ok.text
    replayed = send(prepared, market.freelancer.key)
    assert replayed.status_code == 409 and error_code(replayed) == "tx_replayed"


# --- artifacts, limits ------------------------------------------------------------------------------


def test_artifacts_upload_download_and_limits(market: Market) -> None:
    api = TestClient(make_app(market, api_upload_limit=1000))
    token = sign_in(api, market.client)
    up = api.post(
        "/api/v1/artifacts",
        content=b"model bytes",
        headers=bearer(token) | {"content-type": "application/octet-stream"},
    )
    assert up.status_code == 201, up.text
    cid = up.json()["cid"]
    down = api.get(f"/api/v1/artifacts/{cid}")
    assert down.status_code == 200 and down.content == b"model bytes"
    big = api.post("/api/v1/artifacts", content=b"x" * 1001, headers=bearer(token))
    assert big.status_code == 413 and error_code(big) == "payload_too_large"
    assert "1000" in big.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(3):
            yield b"y" * 400

    streamed = api.post("/api/v1/artifacts", content=chunks(), headers=bearer(token))
    assert streamed.status_code == 413
    absent = api.get("/api/v1/artifacts/" + cid[:-4] + "aaaa")
    assert absent.status_code in (400, 404)
    assert error_code(absent) in ("artifact_not_found", "invalid_input")
    assert api.get("/api/v1/artifacts/bafkreiaaaa").status_code == 400
    assert api.get("/api/v1/artifacts/..%2F..%2Fetc").status_code in (404, 422)
    anonymous = TestClient(make_app(market)).post("/api/v1/artifacts", content=b"x")
    assert anonymous.status_code == 401


def test_malformed_and_oversized_json(api: TestClient, market: Market) -> None:
    token = sign_in(api, market.client)
    broken = api.post(
        "/api/v1/jobs", content=b'{"budget": ', headers=bearer(token) | {"content-type": "application/json"}
    )
    assert broken.status_code == 400 and error_code(broken) == "malformed_json"
    wrong_type = api.post(
        "/api/v1/jobs", json={"budget": 5, "deadline": "soon", "review_period": 1}, headers=bearer(token)
    )
    assert wrong_type.status_code == 422 and error_code(wrong_type) == "validation_error"
    extra = api.post(
        "/api/v1/auth/sign-in", json={"message": "m", "signature": "0x" + "11" * 65, "admin": True}
    )
    assert extra.status_code == 422
    huge = api.post(
        "/api/v1/credentials/verify",
        content=b"{" + b" " * 300_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and error_code(huge) == "payload_too_large"


def test_rate_limit(market: Market) -> None:
    api = TestClient(make_app(market, api_rate_limit=3))
    assert [api.get("/api/v1/info").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("/api/v1/info")
    assert limited.status_code == 429 and error_code(limited) == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1


# --- the schema -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema_app(api_market: Market) -> FastAPI:
    """Jobs in several states, then the app; the examples write to the module's chain (this test
    runs last in the module)."""
    market = api_market
    market.post("100", 2)
    job = market.post("50", arbiter=market.arbiter.address).job
    market.pw.jobs.submit(market.freelancer, job.job_id, 0, digest("model"))
    market.pw.jobs.dispute(market.client, job.job_id, 0)
    return make_app(market)


@pytest.fixture(scope="module")
def api_schema(schema_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", schema_app)


@pytest.fixture(scope="module")
def schema_token(schema_app: FastAPI, api_market: Market) -> str:
    return sign_in(TestClient(schema_app), api_market.client)


schema = schemathesis.pytest.from_fixture("api_schema")

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


# titanoboa's plugin anchors its own (unused here) EVM around each fixture; its anchors do not nest
# across Schemathesis' per-operation subtests
@pytest.mark.ignore_isolation
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_schemathesis_no_server_error_and_conformance(case: Any, schema_token: str) -> None:
    """Every operation, signed in (but for the sign-in ones, which would end the session): no 5xx, and
    every status, content type and body as the schema documents them."""
    headers = {} if case.path.startswith("/api/v1/auth") else bearer(schema_token)
    case.call_and_validate(checks=CHECKS, headers=headers)
