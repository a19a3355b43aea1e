"""DIDs: did:key spec vectors, did:pkh wallet keys, did:web over a real local HTTP server, rotation."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account

from proofwork.domain.errors import CredentialRejected, InvalidInput
from proofwork.identity.did import (
    DidDocument,
    DidResolver,
    HttpFetcher,
    b58decode,
    b58encode,
    did_key_of,
    did_pkh_of,
    did_web_document,
    did_web_url,
    parse_did,
    parse_did_document,
)
from proofwork.keys.jwk import b64url_encode, generate_private_key, jwk_of, private_key_from_bytes

# W3C CCG did:key test vectors (w3c-ccg/did-method-key, test-vectors/*.json): seed -> DID.
ED25519_VECTORS = [
    ("00" * 32, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
    ("00" * 31 + "01", "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"),
]
SECP256K1_VECTORS = [
    (
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
    ),
    (
        "f0f4df55a2b3ff13051ea814a8f24ad00f2e469af73c363ac7e9fb999a9072ed",
        "did:key:zQ3shtxV1FrJfhqE1dvxYRcCknWNjHc3c5X1y3ZSoPDi2aur2",
    ),
]
# the did:key spec's Ed25519 example and the JWK x it resolves to
SPEC_EXAMPLE_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
SPEC_EXAMPLE_X = "Lm_M42cB3HkUiODQsXRcweM6TByfzEHGO9ND274JcOY"
P256_DID = "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
P256_JWK = {
    "crv": "P-256",
    "kty": "EC",
    "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
    "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM",
}

T = 1_700_000_000
WEB_DID = "did:web:issuer.example"
WALLET_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def reason(exc: pytest.ExceptionInfo[CredentialRejected]) -> str:
    return exc.value.reason


def no_fetch(url: str) -> bytes:
    raise AssertionError(f"unexpected fetch of {url}")


def serving(documents: dict[str, Any]) -> tuple[DidResolver, list[str]]:
    """A resolver whose fetcher serves `documents` (URL -> JSON value or raw bytes) and logs URLs."""
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        doc = documents[url]
        return doc if isinstance(doc, bytes) else json.dumps(doc).encode()

    return DidResolver(fetch), fetched


def web_doc(**overrides: Any) -> dict[str, Any]:
    key = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32).public_key()
    doc: dict[str, Any] = {
        "id": WEB_DID,
        "verificationMethod": [
            {"id": "#key-1", "type": "JsonWebKey2020", "controller": WEB_DID, "publicKeyJwk": jwk_of(key)}
        ],
        "assertionMethod": ["#key-1"],
    }
    doc.update(overrides)
    return doc


WEB_URL = "https://issuer.example/.well-known/did.json"


# --- did:key ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "did"), ED25519_VECTORS)
def test_did_key_ed25519_spec_vectors(seed: str, did: str) -> None:
    key = private_key_from_bytes("EdDSA", bytes.fromhex(seed))
    assert did_key_of(key.public_key()) == did
    assert jwk_of(DidResolver(no_fetch).issuer_key(did, {"alg": "EdDSA"}, T)) == jwk_of(key)


@pytest.mark.parametrize(("seed", "did"), SECP256K1_VECTORS)
def test_did_key_secp256k1_spec_vectors(seed: str, did: str) -> None:
    key = private_key_from_bytes("ES256K", bytes.fromhex(seed))
    assert did_key_of(key) == did
    assert jwk_of(DidResolver(no_fetch).issuer_key(did, {"alg": "ES256K"}, T)) == jwk_of(key)


def test_did_key_spec_example_document() -> None:
    doc = DidResolver(no_fetch).resolve(SPEC_EXAMPLE_DID)
    (vm,) = doc.verification_methods
    fragment = SPEC_EXAMPLE_DID.removeprefix("did:key:")
    assert vm.id == f"{SPEC_EXAMPLE_DID}#{fragment}"
    assert vm.jwk == {"crv": "Ed25519", "kty": "OKP", "x": SPEC_EXAMPLE_X}
    assert doc.assertion_method == (vm.id,)
    assert doc.raw["authentication"] == [vm.id]
    assert doc.raw["verificationMethod"][0]["publicKeyJwk"]["x"] == SPEC_EXAMPLE_X


def test_did_key_p256_spec_vector() -> None:
    key = DidResolver(no_fetch).issuer_key(P256_DID, {"alg": "ES256"}, T)
    assert jwk_of(key) == P256_JWK
    assert did_key_of(key) == P256_DID


@pytest.mark.parametrize("alg", ["EdDSA", "ES256K", "ES256"])
def test_did_key_round_trip_with_every_kid_form(alg: str) -> None:
    key = generate_private_key(alg)
    did = did_key_of(key)
    resolver = DidResolver(no_fetch)
    fragment = did.removeprefix("did:key:")
    for header in (
        {"alg": alg},
        {"alg": alg, "kid": f"#{fragment}"},
        {"alg": alg, "kid": f"{did}#{fragment}"},
    ):
        assert jwk_of(resolver.issuer_key(did, header, T)) == jwk_of(key)


def _did_key_of_bytes(data: bytes) -> str:
    return "did:key:z" + b58encode(data)


@pytest.mark.parametrize(
    "did",
    [
        "did:key:" + SPEC_EXAMPLE_DID.removeprefix("did:key:z"),  # no multibase prefix
        "did:key:m" + SPEC_EXAMPLE_DID.removeprefix("did:key:z"),  # base64 multibase
        "did:key:z6Mk0OIl",  # not base58btc characters
        "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",  # X25519 (0xec): not a signing key
        _did_key_of_bytes(b"\xed\x01" + b"\x01" * 31),  # Ed25519 key one byte short
        _did_key_of_bytes(b"\xe7\x01" + b"\x04" + b"\x01" * 32),  # secp256k1 with a bad point prefix
        _did_key_of_bytes(b"\xe7\x01" + b"\x02" + b"\xff" * 32),  # x beyond the field: not a point
        _did_key_of_bytes(b"\x12\x34" + b"\x01" * 32),  # unknown multicodec
        "did:key:z" + "2" * 300,  # oversize
    ],
)
def test_did_key_multibase_and_multicodec_errors(did: str) -> None:
    with pytest.raises(CredentialRejected) as exc:
        DidResolver(no_fetch).resolve(did)
    assert reason(exc) == "bad-did"


def test_base58btc_codec() -> None:
    for data in (b"\0", b"\0\0\x01", b"\xff" * 40, bytes(range(1, 41))):
        assert b58decode(b58encode(data)) == data
    assert b58encode(b"") == ""
    assert b58encode(b"\0\0\x01") == "112"  # a '1' per leading zero byte, then digit 1
    assert b58encode(bytes([57])) == "z" and b58encode(bytes([58])) == "21"
    for bad in ("", "0", "O", "I", "l", "z+"):
        with pytest.raises(InvalidInput):
            b58decode(bad)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "did:key",
        "did:key:",
        "DID:key:z6Mk",
        "did:Key:z6Mk",
        "did:web:a:",
        "did:web:a#k",
        "did:web:a/b",
        42,
        None,
    ],
)
def test_parse_did_refuses_garbage(text: Any) -> None:
    with pytest.raises(CredentialRejected) as exc:
        parse_did(text)
    assert reason(exc) == "bad-did"


def test_parse_did_splits_method() -> None:
    assert parse_did("did:web:example.com:user:alice") == ("web", "example.com:user:alice")


def test_unsupported_method_is_unknown_issuer() -> None:
    with pytest.raises(CredentialRejected) as exc:
        DidResolver(no_fetch).resolve("did:example:123456789abcdefghi")
    assert reason(exc) == "unknown-issuer"


# --- did:pkh ----------------------------------------------------------------------------------


def _wallet() -> tuple[Any, str]:
    key = private_key_from_bytes("ES256K", WALLET_KEY)
    return key, Account.from_key(WALLET_KEY).address


def test_did_pkh_document_and_wallet_key() -> None:
    key, address = _wallet()
    did = did_pkh_of(8453, address.lower())
    assert did == f"did:pkh:eip155:8453:{address}"  # checksummed
    resolver = DidResolver(no_fetch)
    doc = resolver.resolve(did)
    (vm,) = doc.verification_methods
    assert vm.type == "EcdsaSecp256k1RecoveryMethod2020"
    assert vm.blockchain_account_id == f"eip155:8453:{address}"
    assert vm.jwk is None
    assert doc.assertion_method == (f"{did}#blockchainAccountId",)
    header = {"alg": "ES256K", "jwk": jwk_of(key), "kid": f"{did}#blockchainAccountId"}
    assert jwk_of(resolver.issuer_key(did, header, T)) == jwk_of(key)
    # a lowercase-address DID is the same wallet
    lower = f"did:pkh:eip155:1:{address.lower()}"
    assert jwk_of(resolver.issuer_key(lower, {"alg": "ES256K", "jwk": jwk_of(key)}, T)) == jwk_of(key)


def test_did_pkh_refuses_a_header_key_of_another_address() -> None:
    _, address = _wallet()
    other = generate_private_key("ES256K")
    with pytest.raises(CredentialRejected) as exc:
        DidResolver(no_fetch).issuer_key(did_pkh_of(1, address), {"alg": "ES256K", "jwk": jwk_of(other)}, T)
    assert reason(exc) == "wallet-key-mismatch"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({"alg": "ES256K"}, "wallet-key-missing"),
        ({"alg": "EdDSA", "jwk": jwk_of(Ed25519PrivateKey.generate())}, "wallet-key-mismatch"),
        (
            {"alg": "ES256K", "jwk": {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}},
            "wallet-key-mismatch",
        ),
        ({"alg": "ES256K", "jwk": "not an object"}, "wallet-key-mismatch"),
        ({"alg": "ES256", "jwk": "WALLET"}, "alg-mismatch"),
    ],
)
def test_did_pkh_header_key_errors(header: dict[str, Any], code: str) -> None:
    key, address = _wallet()
    if header.get("jwk") == "WALLET":
        header = {**header, "jwk": jwk_of(key)}
    with pytest.raises(CredentialRejected) as exc:
        DidResolver(no_fetch).issuer_key(did_pkh_of(1, address), header, T)
    assert reason(exc) == code


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("did:pkh:eip155:01:0x" + "ab" * 20, "bad-did"),
        ("did:pkh:eip155:0:0x" + "ab" * 20, "bad-did"),
        ("did:pkh:eip155:abc:0x" + "ab" * 20, "bad-did"),
        ("did:pkh:eip155:" + "9" * 33 + ":0x" + "ab" * 20, "bad-did"),
        ("did:pkh:eip155:1", "bad-did"),
        ("did:pkh:eip155:1:0x1234", "bad-did"),
        ("did:pkh:eip155:1:0x" + "aB" * 20, "bad-did"),  # mixed case with a wrong EIP-55 checksum
        ("did:pkh:eip155:1:0x" + "ab" * 20 + ":extra", "bad-did"),
        (
            "did:pkh:bip122:000000000019d6689c085ae165831e93:128Lkh3S7CkDTBZ8W7BbpsN3YYizJMp8p6",
            "unknown-issuer",
        ),
    ],
)
def test_did_pkh_malformed(did: str, code: str) -> None:
    with pytest.raises(CredentialRejected) as exc:
        DidResolver(no_fetch).resolve(did)
    assert reason(exc) == code


def test_did_pkh_of_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput):
        did_pkh_of(0, "0x" + "ab" * 20)
    with pytest.raises(InvalidInput):
        did_pkh_of(1, "0x1234")


# --- did:web URL mapping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("did", "insecure", "url"),
    [
        ("did:web:example.com", False, "https://example.com/.well-known/did.json"),
        ("did:web:example.com:user:alice", False, "https://example.com/user/alice/did.json"),
        ("did:web:localhost%3A8443", False, "https://localhost:8443/.well-known/did.json"),
        ("did:web:localhost%3a8443:u", False, "https://localhost:8443/u/did.json"),
        ("did:web:127.0.0.1%3A8443:issuers:a", True, "http://127.0.0.1:8443/issuers/a/did.json"),
        ("did:web:localhost", True, "http://localhost/.well-known/did.json"),
        ("did:web:example.com", True, "https://example.com/.well-known/did.json"),
    ],
)
def test_did_web_url_mapping(did: str, insecure: bool, url: str) -> None:
    assert did_web_url(did, allow_insecure_localhost=insecure) == url


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.com:..",
        "did:web:example.com:.:did",
        "did:web:exa_mple.com",
        "did:web:-example.com",
        "did:web:example.com%3A99999",
        "did:web:example.com%3A0",
        "did:web:example.com%2Fevil",
        "did:web:user%40example.com",
        "did:web:example.com:a%2F..",
        "did:key:z6Mk",
    ],
)
def test_did_web_url_refuses_bad_dids(did: str) -> None:
    with pytest.raises(CredentialRejected) as exc:
        did_web_url(did)
    assert reason(exc) == "bad-did"


# --- did:web over a real HTTP server ----------------------------------------------------------


Route = tuple[int, dict[str, str], bytes]


@pytest.fixture
def server() -> Iterator[tuple[int, dict[str, Route]]]:
    """A real HTTP server on 127.0.0.1 (port 0) serving `routes`: path -> (status, headers, body).

    A header value of "" for Content-Length omits it, so the body ends with the connection.
    """
    routes: dict[str, Route] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                if value:
                    self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # clients that hang up early (size limits, TLS probes) are expected here

    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], routes
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _local_did(port: int, *path: str) -> str:
    return ":".join([f"did:web:127.0.0.1%3A{port}", *path])


def _json(doc: dict[str, Any]) -> Route:
    return 200, {"Content-Type": "application/did+json"}, json.dumps(doc).encode()


def test_did_web_resolves_from_a_local_server_only_when_insecure_localhost_is_allowed(
    server: tuple[int, dict[str, Route]],
) -> None:
    port, routes = server
    key = generate_private_key("EdDSA")
    root, alice = _local_did(port), _local_did(port, "user", "alice")
    routes["/.well-known/did.json"] = _json(did_web_document(root, [("key-1", key.public_key(), None)]))
    routes["/user/alice/did.json"] = _json(did_web_document(alice, [("k", key.public_key(), None)]))
    resolver = DidResolver(allow_insecure_localhost=True)
    assert jwk_of(resolver.issuer_key(root, {"alg": "EdDSA", "kid": "#key-1"}, T)) == jwk_of(key)
    assert resolver.resolve(alice).assertion_method == (f"{alice}#k",)

    with pytest.raises(CredentialRejected) as exc:  # https to a plain-http server
        DidResolver().resolve(root)
    assert reason(exc) == "did-unavailable"
    with pytest.raises(CredentialRejected) as exc:  # and the fetcher itself refuses http
        HttpFetcher()(f"http://127.0.0.1:{port}/.well-known/did.json")
    assert reason(exc) == "did-unavailable"
    with pytest.raises(CredentialRejected) as exc:  # http elsewhere than localhost, even when allowed
        HttpFetcher(allow_insecure_localhost=True)("http://example.com/.well-known/did.json")
    assert reason(exc) == "did-unavailable"


def test_http_fetcher_statuses_redirects_and_size(server: tuple[int, dict[str, Route]]) -> None:
    port, routes = server
    base = f"http://127.0.0.1:{port}"
    fetch = HttpFetcher(allow_insecure_localhost=True)
    routes["/doc"] = (200, {}, b'{"ok": true}')
    routes["/same-host"] = (302, {"Location": "/doc"}, b"")
    routes["/other-host"] = (302, {"Location": f"http://localhost:{port}/doc"}, b"")
    routes["/loop"] = (302, {"Location": "/loop"}, b"")
    routes["/broken"] = (500, {}, b"oops")
    routes["/huge"] = (200, {}, b" " * (64 * 1024 + 1))
    routes["/huge-undeclared"] = (200, {"Content-Length": "", "Connection": "close"}, b" " * (64 * 1024 + 1))
    assert fetch(f"{base}/doc") == b'{"ok": true}'
    assert fetch(f"{base}/same-host") == b'{"ok": true}'
    for path, code in [
        ("/other-host", "did-unavailable"),
        ("/loop", "did-unavailable"),
        ("/broken", "did-unavailable"),
        ("/missing", "unknown-issuer"),
        ("/huge", "bad-did-document"),
        ("/huge-undeclared", "bad-did-document"),
    ]:
        with pytest.raises(CredentialRejected) as exc:
            fetch(f"{base}{path}")
        assert reason(exc) == code, path


def test_nothing_listening_is_did_unavailable() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(CredentialRejected) as exc:
        DidResolver(allow_insecure_localhost=True).resolve(_local_did(port))
    assert reason(exc) == "did-unavailable"


# --- document validation ----------------------------------------------------------------------


def _vm(**fields: Any) -> dict[str, Any]:
    vm = web_doc()["verificationMethod"][0]
    vm.update(fields)
    return {k: v for k, v in vm.items() if v is not None}


@pytest.mark.parametrize(
    "body",
    [
        web_doc(id="did:web:other.example"),
        web_doc(id=None),
        web_doc(verificationMethod=[_vm(publicKeyJwk=None)]),  # no key
        web_doc(verificationMethod=[_vm(publicKeyJwk=None, publicKeyBase58="4zvwRjXUKGfvw")]),
        web_doc(
            verificationMethod=[_vm(publicKeyMultibase=did_key_of(Ed25519PrivateKey.generate())[8:])]
        ),  # two
        web_doc(verificationMethod=[_vm(publicKeyJwk={"kty": "OKP", "crv": "Ed25519", "x": "AAAA"})]),
        web_doc(verificationMethod=[_vm(publicKeyJwk={"kty": "RSA", "n": "AQAB", "e": "AQAB"})]),
        web_doc(
            verificationMethod=[_vm(publicKeyJwk={**_vm()["publicKeyJwk"], "d": b64url_encode(b"1" * 32)})]
        ),
        web_doc(verificationMethod=[_vm(publicKeyJwk={**_vm()["publicKeyJwk"], "alg": "ES256K"})]),
        web_doc(
            verificationMethod=[
                _vm(publicKeyJwk=None, publicKeyMultibase="z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW")
            ]
        ),
        web_doc(verificationMethod=[_vm(id="did:web:other.example#key-1")]),
        web_doc(verificationMethod=[_vm(id="key-1")]),
        web_doc(verificationMethod=[_vm(type=None)]),
        web_doc(verificationMethod=[_vm(controller="not a did")]),
        web_doc(verificationMethod=[_vm(revoked="yesterday")]),
        web_doc(verificationMethod=[_vm(revoked="2024-01-01T00:00:00")]),  # no time zone
        web_doc(verificationMethod=[_vm(), _vm()]),  # duplicate ids
        web_doc(verificationMethod={"id": "#key-1"}),
        web_doc(assertionMethod=["#key-2"]),
        web_doc(assertionMethod="#key-1"),
        web_doc(verificationMethod=[_vm(id=f"#k{i}") for i in range(65)]),
        [web_doc()],
        b"not json",
        b"\xff\xfe not utf-8",
        b"[" * 1000 + b"]" * 1000,
        json.dumps(web_doc(padding="x" * (64 * 1024))).encode(),
    ],
)
def test_malformed_documents_are_bad_did_document(body: Any) -> None:
    resolver, _ = serving({WEB_URL: body})
    with pytest.raises(CredentialRejected) as exc:
        resolver.resolve(WEB_DID)
    assert reason(exc) == "bad-did-document"


def test_document_forms_that_are_accepted() -> None:
    ed = Ed25519PrivateKey.generate()
    k1 = generate_private_key("ES256K")
    doc = web_doc(
        verificationMethod=[
            _vm(),  # relative id
            _vm(id=f"{WEB_DID}#mb", publicKeyJwk=None, publicKeyMultibase=did_key_of(ed)[8:]),
            _vm(id="#k1", publicKeyJwk={**jwk_of(k1), "kid": "k1", "use": "sig", "alg": "ES256K"}),
        ],
        assertionMethod=[
            "#key-1",
            f"{WEB_DID}#mb",
            "#k1",
            {"id": "#embedded", "type": "JsonWebKey2020", "controller": WEB_DID, "publicKeyJwk": jwk_of(ed)},
        ],
        service=[{"id": "#s", "type": "LinkedDomains", "serviceEndpoint": "https://issuer.example"}],
    )
    resolver, _ = serving({WEB_URL: doc})
    parsed = resolver.resolve(WEB_DID)
    assert parsed.assertion_method == tuple(f"{WEB_DID}#{f}" for f in ("key-1", "mb", "k1", "embedded"))
    assert parsed.method("#k1").jwk == jwk_of(k1)  # extra JWK members dropped
    assert jwk_of(resolver.issuer_key(WEB_DID, {"alg": "EdDSA", "kid": "#mb"}, T)) == jwk_of(ed)
    assert jwk_of(resolver.issuer_key(WEB_DID, {"alg": "EdDSA", "kid": "#embedded"}, T)) == jwk_of(ed)


@pytest.mark.parametrize("did", ["did:web:issuer.example#key-1", "not a did", ""])
def test_parse_did_document_refuses_an_id_that_is_not_a_did(did: str) -> None:
    with pytest.raises(CredentialRejected) as exc:
        parse_did_document(web_doc(id=did), did)
    assert reason(exc) == "bad-did-document"


def test_fetcher_failures_are_clean_refusals() -> None:
    def broken(url: str) -> bytes:
        raise RuntimeError("boom")

    with pytest.raises(CredentialRejected) as exc:
        DidResolver(broken).resolve(WEB_DID)
    assert reason(exc) == "did-unavailable"
    with pytest.raises(CredentialRejected) as exc:
        DidResolver(lambda url: "text, not bytes").resolve(WEB_DID)  # type: ignore[arg-type,return-value]
    assert reason(exc) == "did-unavailable"


# --- cache ------------------------------------------------------------------------------------


def test_did_web_cache_honours_its_ttl() -> None:
    now = [1000.0]
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return json.dumps(web_doc()).encode()

    resolver = DidResolver(fetch, clock=lambda: now[0], cache_ttl=300)
    first = resolver.resolve(WEB_DID)
    now[0] += 299
    assert resolver.resolve(WEB_DID) is first
    assert len(fetched) == 1
    now[0] += 1
    assert resolver.resolve(WEB_DID) is not first
    assert len(fetched) == 2
    now[0] -= 1000  # a clock that went back does not extend the cache
    resolver.resolve(WEB_DID)
    assert len(fetched) == 3

    uncached = DidResolver(fetch, clock=lambda: now[0], cache_ttl=0)
    uncached.resolve(WEB_DID)
    uncached.resolve(WEB_DID)
    assert len(fetched) == 5


def test_failures_are_not_cached() -> None:
    answers = [b"not json", json.dumps(web_doc()).encode()]
    resolver = DidResolver(lambda url: answers.pop(0), clock=lambda: 0.0)
    with pytest.raises(CredentialRejected):
        resolver.resolve(WEB_DID)
    assert resolver.resolve(WEB_DID).id == WEB_DID


# --- rotation and key choice ------------------------------------------------------------------


def test_rotation_keeps_old_credentials_and_refuses_new_ones() -> None:
    old, new = generate_private_key("EdDSA"), generate_private_key("EdDSA")
    raw = did_web_document(WEB_DID, [("key-1", old.public_key(), T), ("key-2", new.public_key(), None)])
    assert raw["assertionMethod"] == [f"{WEB_DID}#key-1", f"{WEB_DID}#key-2"]
    assert raw["authentication"] == [f"{WEB_DID}#key-2"]
    assert raw["verificationMethod"][0]["revoked"] == "2023-11-14T22:13:20Z"
    assert "revoked" not in raw["verificationMethod"][1]
    resolver, _ = serving({WEB_URL: raw})
    old_header = {"alg": "EdDSA", "kid": "#key-1"}
    assert jwk_of(resolver.issuer_key(WEB_DID, old_header, T - 1)) == jwk_of(old)
    for at in (T, T + 1):
        with pytest.raises(CredentialRejected) as exc:
            resolver.issuer_key(WEB_DID, old_header, at)
        assert reason(exc) == "key-revoked"
    assert jwk_of(resolver.issuer_key(WEB_DID, {"alg": "EdDSA", "kid": "#key-2"}, T + 1)) == jwk_of(new)
    with pytest.raises(CredentialRejected) as exc:
        resolver.issuer_key(WEB_DID, {"alg": "EdDSA"}, T + 1)
    assert reason(exc) == "kid-required"


def test_a_key_outside_assertion_method_cannot_sign() -> None:
    signer, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    doc = web_doc(
        verificationMethod=[
            _vm(publicKeyJwk=jwk_of(signer)),
            _vm(id="#auth-only", publicKeyJwk=jwk_of(other)),
        ],
        authentication=["#auth-only"],
    )
    resolver, _ = serving({WEB_URL: doc})
    with pytest.raises(CredentialRejected) as exc:
        resolver.issuer_key(WEB_DID, {"alg": "EdDSA", "kid": "#auth-only"}, T)
    assert reason(exc) == "key-not-assertion"
    # with one assertion key the kid may be left out, and it is that key, not the other one
    assert jwk_of(resolver.issuer_key(WEB_DID, {"alg": "EdDSA"}, T)) == jwk_of(signer)


@pytest.mark.parametrize(
    ("issuer", "header", "code"),
    [
        (WEB_DID, {"alg": "ES256K", "kid": "#key-1"}, "alg-mismatch"),
        (WEB_DID, {"alg": "EdDSA", "kid": "#nope"}, "unknown-key"),
        (WEB_DID, {"alg": "EdDSA", "kid": "did:web:other.example#key-1"}, "kid-not-issuer"),
        (WEB_DID, {"alg": "EdDSA", "kid": WEB_DID}, "unknown-key"),
        (WEB_DID, {"alg": "EdDSA", "kid": "key-1"}, "unknown-key"),
        (WEB_DID, {"alg": "EdDSA", "kid": 7}, "bad-header"),
        (WEB_DID, {"kid": "#key-1"}, "bad-header"),
        (WEB_DID, ["alg", "EdDSA"], "bad-header"),
        (SPEC_EXAMPLE_DID, {"alg": "ES256"}, "alg-mismatch"),
        (SPEC_EXAMPLE_DID, {"alg": "none"}, "alg-mismatch"),
        ("not a did", {"alg": "EdDSA"}, "bad-did"),
        (None, {"alg": "EdDSA"}, "bad-did"),
        ("did:web:issuer.example#key-1", {"alg": "EdDSA"}, "bad-did"),
    ],
)
def test_issuer_key_refusals(issuer: Any, header: Any, code: str) -> None:
    resolver, _ = serving({WEB_URL: web_doc()})
    with pytest.raises(CredentialRejected) as exc:
        resolver.issuer_key(issuer, header, T)
    assert reason(exc) == code


@pytest.mark.parametrize("at", [None, "1700000000", True, float("nan")])
def test_issuer_key_refuses_a_non_numeric_time(at: Any) -> None:
    with pytest.raises(CredentialRejected) as exc:
        DidResolver(no_fetch).issuer_key(SPEC_EXAMPLE_DID, {"alg": "EdDSA"}, at)
    assert reason(exc) == "bad-iat"


def test_pinned_documents_need_no_fetch() -> None:
    key = generate_private_key("ES256")
    did = "did:web:pinned.example"
    doc = parse_did_document(did_web_document(did, [("k", key.public_key(), None)]), did)
    resolver = DidResolver(no_fetch, extra={did: doc})
    assert jwk_of(resolver.issuer_key(did, {"alg": "ES256", "kid": "#k"}, T)) == jwk_of(key)
    with pytest.raises(InvalidInput):
        DidResolver(no_fetch, extra={"did:web:else.example": doc})


def test_did_web_document_refuses_bad_input() -> None:
    key = generate_private_key("EdDSA").public_key()
    for did, keys in [
        ("did:key:z6Mk", [("k", key, None)]),
        (WEB_DID, []),
        (WEB_DID, [("bad name", key, None)]),
        (WEB_DID, [("k", key, None), ("k", key, None)]),
        (WEB_DID, [("k", key, -1)]),
        (WEB_DID, [("k", key, 10**12)]),
    ]:
        with pytest.raises(InvalidInput):
            did_web_document(did, keys)


def test_document_method_lookup() -> None:
    doc = DidResolver(no_fetch).resolve(SPEC_EXAMPLE_DID)
    assert isinstance(doc, DidDocument)
    fragment = SPEC_EXAMPLE_DID.removeprefix("did:key:")
    assert doc.method(f"#{fragment}") is doc.method(f"{SPEC_EXAMPLE_DID}#{fragment}")
    with pytest.raises(CredentialRejected) as exc:
        doc.method("#other")
    assert reason(exc) == "unknown-key"
