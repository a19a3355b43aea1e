"""The platform's HTTP surfaces (the REST API `/api/v1` and the web app) against hostile parties: an
outsider with no session, a signed-in user acting for another address, a replayer of sign-in messages,
a page of another origin, an uploader of huge or malformed bodies, header tricks, injection into pages
and statements. Each test is a proof of concept kept as the regression test of its defence; SECURITY.md
("Platform HTTP surfaces: attacker review") lists them with their results."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from proofwork.api.v1.deps import SESSION_COOKIE
from proofwork.services.sign_in import session_db_path
from proofwork.services.statements import Statement, StatementLine
from proofwork.settings import Settings
from proofwork.web import create_web_app
from tests.conftest import chain_snapshot
from tests.integration.conftest import DAY, Market, _deployed, digest
from tests.integration.test_api import (
    DOMAIN,
    bearer,
    error_code,
    make_app,
    personal_sign,
    siwe_text,
    wallet_sign,
)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with _deployed(None, "embedded", tmp_path_factory) as market:
        yield market


@pytest.fixture
def market(deployed: Market) -> Iterator[Market]:
    with chain_snapshot(deployed.pw.ws.chain.web3):
        yield deployed


@pytest.fixture
def api(market: Market) -> TestClient:
    return TestClient(make_app(market))


def sign_in(api: TestClient, key: bytes, address: str, **message: Any) -> Any:
    nonce = api.get("/api/v1/auth/nonce").json()
    text = siwe_text(address, nonce["nonce"], nonce["chain_id"], **message)
    return api.post("/api/v1/auth/sign-in", json={"message": text, "signature": personal_sign(text, key)})


def token_of(api: TestClient, market: Market) -> str:
    answer = sign_in(api, market.client.key, market.client.address)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def job_terms(market: Market, budget: str = "10") -> dict[str, Any]:
    return {
        "budget": str(market.pw.amount(budget)),
        "deadline": market.pw.now() + 7 * DAY,
        "review_period": 3 * DAY,
        "freelancer": market.freelancer.address,
    }


def raw_asgi(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> Any:
    """One request straight into an ASGI app: headers exactly as given (a client library would fix a
    lying Content-Length), the body in `chunks` (`more_body` between them). (status, headers, body)."""
    sent: list[dict[str, Any]] = []
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= max(len(chunks), 1):
            return {"type": "http.disconnect"}
        read += 1
        body = chunks[read - 1] if chunks else b""
        return {"type": "http.request", "body": body, "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("203.0.113.7", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body, read


# --- outsiders: crashing the process, bodies, headers -------------------------------------------------------


def test_deeply_nested_json_is_refused_before_parsing(api: TestClient, market: Market) -> None:
    """PoC (fixed): 120 kB of `[` posted to sign-in, no session needed, overflowed the C stack in
    `json.loads` (web3 raises the recursion limit) and killed the server with its embedded chain."""
    for body in (b"[" * 120_000 + b"]" * 120_000, b'{"message":' * 20_000 + b"1" + b"}" * 20_000):
        answer = api.post("/api/v1/auth/sign-in", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and error_code(answer) == "malformed_json", answer.text[:200]
        assert "nested deeper" in answer.json()["error"]["message"]
        assert answer.headers["x-proofwork-dev-mode"] == "true"
    token = token_of(api, market)
    for path in (
        "/api/v1/jobs",
        "/api/v1/tx",
        "/api/v1/credentials/verify",
        "/api/v1/jobs/1/milestones/0/approval",
    ):
        answer = api.post(
            path, content=b"[" * 50_000, headers=bearer(token) | {"content-type": "application/json"}
        )
        assert answer.status_code == 400 and error_code(answer) == "malformed_json", path
    # an ordinary body still goes through
    assert api.post("/api/v1/jobs", json=job_terms(market), headers=bearer(token)).status_code == 200


def test_content_length_lies_and_chunked_bodies_over_the_limit(market: Market) -> None:
    app = make_app(market)
    json_type = (b"content-type", b"application/json")
    for declared in (b"abc", b"-1", b"+5", b"1e3", b" 5"):
        status, _, body, _ = raw_asgi(
            app, "POST", "/api/v1/auth/sign-in", [(b"content-length", declared), json_type], [b"{}"]
        )
        assert status == 400 and json.loads(body)["error"]["code"] == "bad_request", declared
    status, headers, _, _ = raw_asgi(
        app, "POST", "/api/v1/auth/sign-in", [(b"content-length", b"9" * 40), json_type], [b"{}"]
    )
    assert status == 413 and headers[b"x-proofwork-dev-mode"] == b"true"
    # chunked (no Content-Length): counted as it arrives, refused past 256 kB without reading the rest
    chunks = [b" " * 65_536] * 5 + [b"never read"]
    status, _, body, _ = raw_asgi(app, "POST", "/api/v1/credentials/verify", [json_type], chunks)
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"
    # an upload is bounded by the upload limit whichever way it comes
    small = make_app(market, api_upload_limit=1000)
    status, _, _, _ = raw_asgi(
        small, "POST", "/api/v1/artifacts", [(b"content-length", b"5000")], [b"x" * 10]
    )
    assert status in (401, 413)  # no session: refused before a byte is read either way


def test_the_rate_limit_is_per_connection_not_per_forwarded_header(market: Market) -> None:
    """X-Forwarded-For, X-Real-IP and Forwarded are the client's to write: the app keys its buckets on
    the connection's address (behind a proxy, uvicorn's --forwarded-allow-ips decides, see SECURITY.md)."""
    api = TestClient(make_app(market, api_rate_limit=3))
    answers = [
        api.get(
            "/api/v1/info",
            headers={
                "X-Forwarded-For": f"198.51.100.{i}",
                "X-Real-IP": f"10.0.0.{i}",
                "Forwarded": f"for=192.0.2.{i}",
            },
        ).status_code
        for i in range(5)
    ]
    assert answers[:3] == [200, 200, 200] and answers[3:] == [429, 429]


def test_cors_grants_no_other_origin(api: TestClient) -> None:
    preflight = api.options(
        "/api/v1/jobs",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code in (404, 405)
    read = api.get("/api/v1/info", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in read.headers
    assert "access-control-allow-credentials" not in read.headers


def test_no_open_redirect_on_slashes(api: TestClient, market: Market) -> None:
    web = TestClient(
        create_web_app(lambda: nullcontext(market.pw.ws), Settings(data_dir=market.pw.ws.data_dir))
    )
    for client, path in (
        (api, "//evil.example/"),
        (api, "/api/v1/jobs/"),
        (web, "//evil.example/"),
        (web, "/jobs/new/"),
        (web, "/%2F%2Fevil.example/"),
    ):
        answer = client.get(path, follow_redirects=False)
        if 300 <= answer.status_code < 400:
            assert urlsplit(answer.headers["location"]).netloc == "testserver", answer.headers["location"]


# --- sign-in: replays, relays, sessions -------------------------------------------------------------------------


def test_a_phishing_sites_sign_in_message_cannot_be_relayed_with_its_host(market: Market) -> None:
    """PoC (fixed): without PROOFWORK_API_DOMAIN the API took the domain from the Host header, which the
    sender writes. A phishing site fetched a nonce here, had the victim sign a message for its own domain
    (the wallet sees nothing wrong: the message names the site it is on), and posted it with `Host:
    phish.example`: a session as the victim. Now only a loopback Host stands in for the domain."""
    app = make_app(market, api_domain=None)
    phish = TestClient(app, base_url="http://phish.example")
    nonce = phish.get("/api/v1/auth/nonce")
    assert nonce.status_code == 400 and error_code(nonce) == "bad_host"
    issued = TestClient(app, base_url="http://127.0.0.1:8000").get("/api/v1/auth/nonce").json()
    assert issued["domain"] == "127.0.0.1:8000"
    text = siwe_text(market.client.address, issued["nonce"], issued["chain_id"], domain="phish.example")
    relayed = phish.post(
        "/api/v1/auth/sign-in", json={"message": text, "signature": personal_sign(text, market.client.key)}
    )
    assert relayed.status_code == 400 and error_code(relayed) == "bad_host"
    assert "PROOFWORK_API_DOMAIN" in relayed.json()["error"]["message"]
    # loopback names work without a configured domain (the local server), and a configured one wins
    for base in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"):
        local = TestClient(app, base_url=base)
        answer = sign_in(local, market.client.key, market.client.address, domain=base.removeprefix("http://"))
        assert answer.status_code == 200, (base, answer.text)
    configured = TestClient(make_app(market, api_domain="proofwork.example"), base_url="http://phish.example")
    answer = sign_in(configured, market.client.key, market.client.address, domain="phish.example")
    assert answer.status_code == 401 and error_code(answer) == "siwe_wrong_domain"


def test_sign_in_message_replays_and_forgeries(api: TestClient, market: Market) -> None:
    """Beyond test_api's refusals: a URI on another host, Not Before in the future, no expiry, a
    nonce whose message was signed by another key, a contract address (EIP-1271 is not consulted: no
    contract can sign in), a signature of another message, and a nonce already expired."""
    address, key = market.client.address, market.client.key

    def attempt(text: str, signature: str) -> Any:
        return api.post("/api/v1/auth/sign-in", json={"message": text, "signature": signature})

    nonce = api.get("/api/v1/auth/nonce").json()
    base = siwe_text(address, nonce["nonce"], nonce["chain_id"])
    wrong_uri = base.replace(f"URI: http://{DOMAIN}/", "URI: http://evil.example/")
    assert error_code(attempt(wrong_uri, personal_sign(wrong_uri, key))) == "siwe_wrong_uri"
    no_expiry = re.sub(r"\nExpiration Time: [^\n]+", "", base)
    assert error_code(attempt(no_expiry, personal_sign(no_expiry, key))) == "siwe_no_expiry"
    later = base + "\nNot Before: 2999-01-01T00:00:00Z"
    assert error_code(attempt(later, personal_sign(later, key))) in ("siwe_not_yet_valid", "siwe_too_long")
    escrow = market.pw.ws.escrow.address  # a contract: its "signature" would need EIP-1271
    as_contract = siwe_text(escrow, nonce["nonce"], nonce["chain_id"])
    assert error_code(attempt(as_contract, personal_sign(as_contract, key))) == "siwe_bad_signature"
    other_message = siwe_text(address, nonce["nonce"], nonce["chain_id"], expires_in=200)
    assert error_code(attempt(base, personal_sign(other_message, key))) == "siwe_bad_signature"
    for garbage in ("0x", "0x" + "00" * 65, "0x" + "ff" * 65, "not hex", "0x" + "11" * 10_000):
        assert attempt(base, garbage).status_code in (401, 422), garbage[:8]
    # after all of those the nonce is still its owner's, once
    assert attempt(base, personal_sign(base, key)).status_code == 200
    assert error_code(attempt(base, personal_sign(base, key))) == "siwe_bad_nonce"
    # a nonce past its ten minutes
    stale = api.get("/api/v1/auth/nonce").json()
    ctx = api.app.state.proofwork  # type: ignore[attr-defined]
    ctx.sign_in.now = lambda: int(stale["expires_at"]) + 1  # type: ignore[method-assign]
    try:
        late = siwe_text(address, stale["nonce"], stale["chain_id"], expires_in=3600)
        assert error_code(attempt(late, personal_sign(late, key))) == "siwe_bad_nonce"
    finally:
        del ctx.sign_in.now


def test_session_cookie_flags_fixation_and_stored_tokens(market: Market) -> None:
    secure = TestClient(make_app(market), base_url="https://testserver")
    planted = "attacker-chosen-session-value"
    secure.cookies.set(SESSION_COOKIE, planted)
    answer = sign_in(secure, market.client.key, market.client.address)
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie and "path=/" in cookie
    token = answer.json()["token"]
    assert token != planted and len(token) >= 40
    assert secure.get("/api/v1/auth/session", headers=bearer(planted)).status_code == 401
    # the database holds digests only: a copy of it is no session
    stored = session_db_path(market.pw.ws.settings.data_dir).read_bytes()
    assert token.encode() not in stored
    too_long = secure.get("/api/v1/auth/session", headers=bearer("x" * 10_000))
    assert too_long.status_code == 401 and error_code(too_long) == "session_invalid"


# --- acting for others, cross-site writes ------------------------------------------------------------------------


def test_cookie_session_writes_from_another_origin_are_refused(api: TestClient, market: Market) -> None:
    """PoC (fixed): SameSite=Strict sends the session cookie from any page of the same *site*, e.g.
    another port of localhost. Such a page can send a body without a CORS preflight (no Content-Type,
    or text/plain): the artifact upload takes any body, so it stored files with the victim's session.
    JSON writes were already safe (FastAPI parses no JSON without its Content-Type; no CORS grants a
    preflight); all cookie writes from another origin are now refused before the body is used."""
    assert sign_in(api, market.client.key, market.client.address).status_code == 200  # the cookie
    jobs_before = market.pw.ws.escrow.job_count()
    forged = json.dumps(job_terms(market)).encode()  # no content-type: as a no-cors fetch sends it
    for headers in (
        {"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"},
        {"Origin": "http://localhost:3000"},  # a browser without Fetch Metadata
        {"Sec-Fetch-Site": "cross-site"},
    ):
        answer = api.post("/api/v1/jobs?dev_sign=true", content=forged, headers=headers)
        assert answer.status_code == 403 and error_code(answer) == "cross_site", (headers, answer.text)
        upload = api.post("/api/v1/artifacts", content=b"planted", headers=headers)
        assert upload.status_code == 403 and error_code(upload) == "cross_site"
    assert market.pw.ws.escrow.job_count() == jobs_before
    # the site's own page, a request with no Origin (a non-browser client), and a bearer token pass
    own = api.post(
        "/api/v1/jobs?dev_sign=true",
        json=job_terms(market),
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert own.status_code == 200, own.text
    assert (
        api.post("/api/v1/artifacts", content=b"mine", headers={"Sec-Fetch-Site": "same-origin"}).status_code
        == 201
    )
    token = token_of(api, market)
    untyped = api.post("/api/v1/jobs", content=forged, headers=bearer(token))
    assert untyped.status_code == 422  # no Content-Type: not parsed as JSON
    api.cookies.clear()
    bearer_answer = api.post(
        "/api/v1/jobs", json=job_terms(market), headers=bearer(token) | {"Origin": "https://evil.example"}
    )
    assert bearer_answer.status_code == 200


def test_acting_for_another_address_everywhere(api: TestClient, market: Market) -> None:
    """Every write names its actor from the session: `from` of another address (in any case) is
    refused, and dev_sign signs only as the session's own dev account."""
    job = market.post("100").job
    token = token_of(api, market)
    other = market.other.address
    for path, body in (
        ("/api/v1/jobs", {**job_terms(market), "from": other.lower()}),
        ("/api/v1/jobs", {**job_terms(market), "from": other.upper().replace("0X", "0x")}),
        (
            f"/api/v1/jobs/{job.job_id}/milestones/0/submissions",
            {"from": other, "deliverable": "0x" + "11" * 32},
        ),
        (f"/api/v1/jobs/{job.job_id}/milestones/0/approval", {"from": other}),
    ):
        answer = api.post(path + "?dev_sign=true", json=body, headers=bearer(token))
        assert answer.status_code == 403 and error_code(answer) == "not_your_address", (path, answer.text)
    # the client's session cannot make the freelancer's dev account submit
    submitted = api.post(
        f"/api/v1/jobs/{job.job_id}/milestones/0/submissions?dev_sign=true",
        json={"deliverable": "0x" + digest("w").hex()},
        headers=bearer(token),
    )
    assert submitted.status_code == 409 and error_code(submitted) == "not_allowed"
    # a non-dev address signed in cannot have the server sign
    stranger = Account.create()
    outsider = sign_in(api, bytes(stranger.key), stranger.address)
    assert outsider.status_code == 200
    refused = api.post(
        "/api/v1/jobs?dev_sign=true", json=job_terms(market), headers=bearer(outsider.json()["token"])
    )
    assert refused.status_code == 403 and error_code(refused) == "not_a_dev_account"


def test_signed_transactions_that_do_something_else(api: TestClient, market: Market) -> None:
    """Beyond test_api's refusals (another chain, contract, function, value, signer, replay): a contract
    creation, a pre-EIP-155 signature valid on every chain, and an allowed call sent by a session with
    another address are refused with nothing sent."""
    token = token_of(api, market)
    prepared = api.post("/api/v1/jobs?dev_sign=false", json=job_terms(market), headers=bearer(token)).json()
    if prepared["status"] == "sign_typed_data":
        typed = prepared["typed_data"]
        signature = (
            "0x" + bytes(Account.sign_typed_data(market.client.key, full_message=typed).signature).hex()
        )
        body = {
            **job_terms(market),
            "permit_deadline": typed["message"]["deadline"],
            "permit_signature": signature,
        }
        prepared = api.post("/api/v1/jobs", json=body, headers=bearer(token)).json()
    tx = prepared["transaction"]
    web3 = market.pw.ws.chain.web3
    block = web3.eth.block_number
    creation = {k: v for k, v in tx.items() if k not in ("from", "to")}
    for name in ("value", "maxFeePerGas", "maxPriorityFeePerGas"):
        creation[name] = int(creation[name])
    raw = "0x" + bytes(Account.sign_transaction(creation, market.client.key).raw_transaction).hex()
    answer = api.post("/api/v1/tx", json={"raw": raw}, headers=bearer(token))
    assert answer.status_code == 400 and error_code(answer) == "tx_unexpected_call"
    legacy = {
        "to": tx["to"],
        "data": tx["data"],
        "value": 0,
        "gas": tx["gas"],
        "gasPrice": 10**10,
        "nonce": tx["nonce"],
    }  # no chainId: replayable on any chain
    raw = "0x" + bytes(Account.sign_transaction(legacy, market.client.key).raw_transaction).hex()
    answer = api.post("/api/v1/tx", json={"raw": raw}, headers=bearer(token))
    assert answer.status_code == 400 and error_code(answer) == "tx_wrong_chain"
    other = TestClient(make_app(market))
    other_token = sign_in(other, market.other.key, market.other.address).json()["token"]
    answer = api.post(
        "/api/v1/tx", json={"raw": wallet_sign(tx, market.client.key)}, headers=bearer(other_token)
    )
    assert answer.status_code == 403 and error_code(answer) == "not_your_address"
    assert web3.eth.block_number == block


def test_hostile_values_in_every_field(api: TestClient, market: Market) -> None:
    """Negative, fractional, scientific, huge and unicode values: a 4xx with the error body, never a
    500, never a write."""
    token = token_of(api, market)
    base = job_terms(market)
    for change in (
        {"budget": "-5"},
        {"budget": "1.5"},
        {"budget": "1e6"},
        {"budget": "9" * 79},
        {"budget": "１２"},
        {"budget": 10},
        {"deadline": -1},
        {"deadline": 2**300},
        {"review_period": 0},
        {"review_period": 10**40},
        {"milestones": 0},
        {"milestones": 17},
        {"milestones": ["-1"]},
        {"milestones": ["1"] * 17},
        {"freelancer": "0x" + "g" * 40},
        {"freelancer": "0x" + "а" * 40},
        {"freelancer": "0x" + "ab" * 20 + "\u202e"},
        {"spec_hash": "0x" + "00" * 31},
        {"arbiter": "\x00"},
        {"permit_deadline": -1, "permit_signature": "0x" + "11" * 65},
        {"from": "0x" + "ab" * 20 + " "},
        {"extra": "<script>"},
        {"budget": None, "milestones": ["0"]},
    ):
        answer = api.post("/api/v1/jobs", json={**base, **change}, headers=bearer(token))
        assert 400 <= answer.status_code < 500 and "error" in answer.json(), (change, answer.text)
    for path in (
        "/api/v1/jobs/" + "9" * 100,
        "/api/v1/jobs/-1",
        "/api/v1/jobs/0",
        "/api/v1/jobs/1%00",
        "/api/v1/competitions/" + "9" * 100,
        "/api/v1/profiles/0x" + "zz" * 20,
        "/api/v1/statements/%3Cscript%3E",
        "/api/v1/jobs?min_budget=-1",
        "/api/v1/jobs?cursor=" + "9" * 100,
        "/api/v1/jobs?skill=" + "\u202e%00" * 10,
        "/api/v1/jobs?limit=100000",
        "/api/v1/jobs?state=open%00",
    ):
        answer = api.get(path)
        assert answer.status_code < 500, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/json"), path
    for index in ("-1", "99", "9" * 80):
        answer = api.post(f"/api/v1/jobs/1/milestones/{index}/approval", json={}, headers=bearer(token))
        assert answer.status_code in (404, 422), index


def test_artifacts_cid_traversal_and_compressed_uploads(market: Market) -> None:
    api = TestClient(make_app(market, api_upload_limit=4096))
    token = token_of(api, market)
    for path in (
        "/api/v1/artifacts/..%2F..%2Fsessions.sqlite3",
        "/api/v1/artifacts/b..%2F..%2Fetc",
        "/api/v1/artifacts/bafkrei%2F..%2F..",
        "/api/v1/artifacts/BAFKREI" + "A" * 52,
        "/api/v1/artifacts/b" + "a" * 300,
        "/api/v1/artifacts/%2Fetc%2Fpasswd",
        "/api/v1/artifacts/bafkrei" + "a" * 52 + "%00.txt",
    ):
        answer = api.get(path)
        assert answer.status_code in (400, 404, 422), (path, answer.status_code)
    # a gzip bomb is stored as the bytes sent: nothing inflates it (Content-Encoding is not honoured)
    bomb = gzip.compress(b"\0" * 2_000_000)
    assert len(bomb) < 4096
    up = api.post(
        "/api/v1/artifacts",
        content=bomb,
        headers=bearer(token) | {"content-encoding": "gzip", "content-type": "application/gzip"},
    )
    assert up.status_code == 201 and up.json()["size"] == len(bomb)
    assert api.get(f"/api/v1/artifacts/{up.json()['cid']}").content == bomb


def test_dev_mode_is_marked_on_every_response_and_only_in_dev_mode(market: Market) -> None:
    dev = TestClient(make_app(market, api_rate_limit=30, api_upload_limit=10))
    token = token_of(dev, market)
    answers = [
        dev.get("/api/v1/info"),
        dev.get("/api/v1/nowhere"),
        dev.post("/api/v1/info"),
        dev.post("/api/v1/jobs", json={}),
        dev.post("/api/v1/jobs", content=b"{", headers=bearer(token)),
        dev.post("/api/v1/artifacts", content=b"x" * 11, headers=bearer(token)),
        dev.get("/api/v1/openapi.json"),
        dev.get("/api/v1/docs"),
    ]
    while (limited := dev.get("/api/v1/info")).status_code != 429:
        pass
    for answer in [*answers, limited]:
        assert answer.headers.get("x-proofwork-dev-mode") == "true", (answer.request.url, answer.status_code)
    # a node at an RPC URL: no dev mode, no header, no dev_sign
    live = TestClient(make_app(market, rpc_url="http://127.0.0.1:9"))
    info = live.get("/api/v1/info")
    assert info.json()["dev_mode"] is False and "x-proofwork-dev-mode" not in info.headers
    live_token = token_of(live, market)
    refused = live.post("/api/v1/jobs?dev_sign=true", json=job_terms(market), headers=bearer(live_token))
    assert refused.status_code == 400 and error_code(refused) == "dev_mode_off"


# --- statements ---------------------------------------------------------------------------------------------


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_statement_csv_has_no_formula_cells(api: TestClient, market: Market) -> None:
    """The statement's cells are numbers, hex and fixed words; the token symbol, the one text the
    deployment chooses, is neutralised when it would start a formula."""
    job = market.post("5").job
    market.pw.jobs.submit(market.freelancer, job.job_id, 0, digest("w"))
    market.pw.jobs.approve(market.client, job.job_id, 0)
    text = api.get(f"/api/v1/statements/{market.client.address}").text
    for cell in _cells(text):
        assert cell[:1] not in ("=", "+", "@", "\t", "\r"), cell
        assert not cell.startswith("-") or re.fullmatch(r"-[0-9.]+", cell), cell
    hostile = Statement(
        market.client.address,
        market.pw.ws.token.address,
        '=HYPERLINK("http://evil.example","x")',
        6,
        [StatementLine(1, 1, "0x" + "00" * 32, "in", 5, market.other.address, "escrow", 1)],
    )
    cells = _cells(hostile.to_csv())
    assert '\'=HYPERLINK("http://evil.example","x")' in cells
    assert all(c[:1] not in ("=", "+", "@") for c in cells)
    for symbol, cell in (
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("USDC", "USDC"),
    ):
        rows = list(csv.reader(io.StringIO(replace(hostile, symbol=symbol).to_csv())))
        assert rows[1][rows[0].index("token")] == cell


# --- the web app ---------------------------------------------------------------------------------------------


def web_client(market: Market, *, token: bool = True, **settings: Any) -> TestClient:
    base = Settings(data_dir=market.pw.ws.data_dir)
    web = TestClient(create_web_app(lambda: nullcontext(market.pw.ws), replace(base, **settings)))
    if token:
        page = web.get("/credentials/verify")
        found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
        assert found
        web.headers["X-CSRF-Token"] = found.group(1)
    return web


def test_web_dev_mode_never_signs_with_the_keystores_accounts(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PoC (fixed): in dev mode `sign_as` went to `Workspace.signer`, which also unlocks the keystore's
    accounts with the configured password: any visitor of the page could sign with the keys of the
    machine's owner (`sign_as=owner`). Now only dev0, dev1, ... (by name or address)."""
    ws = market.pw.ws
    if ws.keystore.find("owner") is None:
        ws.keystore.add("owner", market.client.key, "owner-password")
    monkeypatch.setattr(ws, "_password", lambda name: "owner-password")
    assert ws.signer("owner").address == market.client.address  # the key is there to be unlocked
    web = web_client(market, web_dev_mode=True)
    jobs_before = ws.escrow.job_count()
    terms = {"budget": "3", "freelancer": market.freelancer.address}
    for name in ("owner", " owner", market.client.address.lower() + "x", "../keystore/owner"):
        refused = web.post("/actions/jobs", data={**terms, "sign_as": name})
        assert refused.status_code in (400, 403, 404), (name, refused.text)
    assert ws.escrow.job_count() == jobs_before
    by_address = web.post("/actions/jobs", data={**terms, "sign_as": market.client.address.lower()})
    assert by_address.status_code == 200, by_address.text  # a dev account, by its address
    approve = web.post("/actions/jobs/1/approve", data={"sign_as": "owner", "milestone": "1"})
    assert approve.status_code == 403


def test_web_same_site_and_token_tricks_are_refused(market: Market) -> None:
    web = web_client(market, web_dev_mode=True)
    forged = {"sign_as": "dev1", "budget": "5", "freelancer": market.freelancer.address}
    jobs_before = market.pw.ws.escrow.job_count()
    for headers in (
        {"Sec-Fetch-Site": "same-site"},  # another port of localhost
        {"Origin": "http://localhost:3000"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
    ):
        answer = web.post("/actions/jobs", data=forged, headers=headers)
        assert answer.status_code == 403, (headers, answer.text)
    # a token of the attacker's own browser: the cookie must match
    attacker = web_client(market, web_dev_mode=True)
    stolen_header = {"X-CSRF-Token": attacker.headers["X-CSRF-Token"]}
    assert web.post("/actions/jobs", data=forged, headers=stolen_header).status_code == 403
    no_cookie = web_client(market, web_dev_mode=True)
    no_cookie.cookies.clear()
    assert no_cookie.post("/actions/jobs", data=forged).status_code == 403
    field_only = web_client(market, token=False, web_dev_mode=True)
    field_only.get("/")
    assert field_only.post("/actions/jobs", data={**forged, "csrf_token": "A" * 43}).status_code == 403
    assert market.pw.ws.escrow.job_count() == jobs_before
    cookie = web_client(market, token=False).get("/").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def test_web_bodies_are_bounded_before_parsing(market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    """PoC (fixed): the multipart parser read a body of any size (spooled to disk, fields in memory)
    before the CSRF check ran, from anyone. Now a declared length over the bound is refused at once and
    a chunked body is cut off where it passes it (the bound made small here: 1 MiB)."""
    from proofwork.web import app as web_app

    monkeypatch.setattr(web_app, "MAX_BODY", 1 << 20)
    app = create_web_app(lambda: nullcontext(market.pw.ws), Settings(data_dir=market.pw.ws.data_dir))
    form = (b"content-type", b"multipart/form-data; boundary=x")
    too_long = [(b"content-length", str((1 << 20) + 1).encode()), form]
    status, _, _, read = raw_asgi(app, "POST", "/actions/jobs", too_long, [b"x"])
    assert status == 413 and read == 0
    status, _, _, _ = raw_asgi(app, "POST", "/actions/jobs", [(b"content-length", b"12abc"), form], [b""])
    assert status == 400
    head = b'--x\r\nContent-Disposition: form-data; name="spec"; filename="s"\r\n\r\n'
    chunks = [head] + [b"\0" * 65_536] * 64  # 4 MiB, no Content-Length
    status, _, body, read = raw_asgi(app, "POST", "/actions/jobs", [form], chunks)
    assert status == 413 and read < len(chunks), body[:200]
    # under the bound, the request reaches the app (and its CSRF check)
    status, _, _, _ = raw_asgi(app, "POST", "/actions/jobs", [form], [head, b"x\r\n--x--\r\n"])
    assert status == 403


def test_web_reflected_and_stored_markup_is_escaped(market: Market) -> None:
    """Everything a visitor or a job's party writes reaches pages through Jinja's autoescape (no
    `|safe`, no Markup, no innerHTML in the script); reflected values come back escaped."""
    templates = Path(__file__).parents[2] / "src" / "proofwork" / "web"
    for template in (templates / "templates").glob("*.html"):
        text = template.read_text()
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, template.name
    script = (templates / "static" / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    web = web_client(market)
    payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    pages = [
        web.get("/profiles/" + payload),
        web.get("/jobs/" + payload),
        web.get("/competitions/" + payload),
        web.get("/tx/" + payload),
        web.get("/", params={"q": payload, "min_budget": payload, "party": payload}),
        web.post(
            "/credentials/verify", data={"audience": payload, "nonce": payload, "presentation": payload}
        ),
    ]
    for page in pages:
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, page.request.url
        assert page.status_code < 500
    assert "&lt;script&gt;" in pages[-1].text or "&#34;&gt;&lt;script" in pages[-1].text
    from proofwork.web import app as web_app

    assert web_app.Jinja2Templates(directory=str(templates / "templates")).env.autoescape("job.html") is True
