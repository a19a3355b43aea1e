"""Our SD-JWT VCs against two independent implementations, both directions.

- the PyPI `sd-jwt` package (the IETF draft authors' reference, on jwcrypto): its credentials and
  presentations verify here, ours verify with its SDJWTVerifier;
- the TypeScript `@sd-jwt/sd-jwt-vc` (OpenWallet Foundation), run with Node through
  tests/unit/sdjwt_interop.mjs: it verifies our presentations (key binding and our status list
  token included) and issues ES256 and EdDSA credentials with key binding that verify here.
Node or the npm packages missing is a failure, not a skip.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from proofwork.domain.errors import CredentialRejected
from proofwork.identity.sdjwt import (
    StatusReference,
    disclosed_claim_names,
    issue_credential,
    present,
    verify_presentation,
)
from proofwork.identity.status_list import INVALID, SUSPENDED, StatusList, sign_status_list_token
from proofwork.keys import jwk

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".tools" / "node_modules"
SCRIPT = Path(__file__).with_name("sdjwt_interop.mjs")
NPM_INSTALL = "make .tools/node_modules/@sd-jwt/sd-jwt-vc/package.json"
NOW = 1_800_000_000
ISSUER = "https://issuer.proofwork.example"
VCT = "https://proofwork.example/badge/ml-eval"
AUD = "https://client.proofwork.example"
NONCE = "nonce-7d1e"
CLAIMS = {
    "skill": "tabular-classification",
    "grade": "A",
    "email": "w@example.com",
    "address": {"locality": "Lyon", "country": "FR"},
}
STATUS_URI = "https://issuer.proofwork.example/status/1"


def key(alg: str, n: int) -> jwk.PrivateKey:
    return jwk.private_key_from_bytes(alg, hashlib.sha256(f"interop-{alg}-{n}".encode()).digest())


def fixed(public: jwk.PublicKey) -> Any:
    def resolve(iss: str, header: Mapping[str, Any], iat: int) -> jwk.PublicKey:
        return public

    return resolve


def ours(
    issuer_key: jwk.PrivateKey,
    holder_key: jwk.PrivateKey,
    *,
    now: int = NOW,
    nonce: str = NONCE,
    status: StatusReference | None = None,
) -> str:
    credential = issue_credential(
        issuer=ISSUER,
        key=issuer_key,
        kid="key-1",
        vct=VCT,
        claims=CLAIMS,
        holder_jwk=jwk.jwk_of(holder_key),
        iat=now - 100,
        exp=now + 3600,
        status=status,
    )
    return present(
        credential,
        disclose=["grade", "address.locality"],
        holder_key=holder_key,
        aud=AUD,
        nonce=nonce,
        iat=now,
    )


# ------------------------------------------------------------------------------------------------ PyPI sd-jwt


def jwcrypto_key(k: jwk.PrivateKey) -> JWK:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return JWK.from_pem(k.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))


def pypi_issue(issuer: JWK, alg: str, holder: JWK, claims: dict[Any, Any], decoys: bool = True) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "iat": now - 5, "exp": now + 600, "vct": VCT, **claims}
    return SDJWTIssuer(
        payload,
        issuer,
        holder_key=holder,
        sign_alg=alg,
        add_decoy_claims=decoys,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": "py-1"},
    ).sd_jwt_issuance


def pypi_present(issuance: str, disclose: dict[str, Any], holder: JWK, nonce: str = NONCE) -> str:
    holder_ = SDJWTHolder(issuance)
    holder_.create_presentation(disclose, nonce=nonce, aud=AUD, holder_key=holder, sign_alg="ES256")
    return holder_.sd_jwt_presentation


SD_CLAIMS = {
    SDObj("skill"): "tabular-classification",
    SDObj("grade"): "A",
    SDObj("email"): "w@example.com",
    SDObj("address"): {SDObj("locality"): "Lyon", SDObj("country"): "FR"},
}


@pytest.mark.parametrize(
    ("alg", "kty", "crv"),
    [("EdDSA", "OKP", "Ed25519"), ("ES256K", "EC", "secp256k1"), ("ES256", "EC", "P-256")],
)
def test_pypi_credentials_verify_here(alg: str, kty: str, crv: str) -> None:
    issuer, holder = JWK.generate(kty=kty, crv=crv), JWK.generate(kty="EC", crv="P-256")
    issuance = pypi_issue(issuer, alg, holder, SD_CLAIMS)
    assert disclosed_claim_names(issuance) == [
        "address",
        "address.country",
        "address.locality",
        "email",
        "grade",
        "skill",
    ]
    presentation = pypi_present(issuance, {"grade": True, "address": {"locality": True}}, holder)
    issuer_public = jwk.public_key_from_jwk(json.loads(issuer.export_public()))
    now = int(time.time())
    got = verify_presentation(
        presentation, resolve_key=fixed(issuer_public), now=now, audience=AUD, nonce=NONCE, check_status=None
    )
    assert got.claims == {"grade": "A", "address": {"locality": "Lyon"}}
    assert got.key_bound and got.issuer == ISSUER and got.vct == VCT
    assert got.holder_jwk == json.loads(holder.export_public())
    with pytest.raises(CredentialRejected) as info:
        verify_presentation(
            pypi_present(issuance, {"grade": True}, holder, nonce="other"),
            resolve_key=fixed(issuer_public),
            now=now,
            audience=AUD,
            nonce=NONCE,
            check_status=None,
        )
    assert info.value.reason == "wrong-nonce"
    # our holder code re-presents their credential (their verifier accepts it below)
    holder_key = load_pem_private_key(holder.export_to_pem(private_key=True, password=None), None)
    ours_of_theirs = present(
        issuance, disclose=["email"], holder_key=holder_key, aud=AUD, nonce=NONCE, iat=now
    )  # type: ignore[arg-type]
    verifier = SDJWTVerifier(
        ours_of_theirs, lambda iss, header: issuer, expected_aud=AUD, expected_nonce=NONCE
    )
    assert verifier.get_verified_payload()["email"] == "w@example.com"


def test_pypi_array_element_disclosures_verify_here() -> None:
    issuer, holder = JWK.generate(kty="OKP", crv="Ed25519"), JWK.generate(kty="EC", crv="P-256")
    claims = {SDObj("grade"): "A", "tags": [SDObj("ml"), SDObj("onnx"), "plain"]}
    issuance = pypi_issue(issuer, "EdDSA", holder, claims, decoys=False)
    presentation = pypi_present(issuance, {"grade": True, "tags": [True, False, True]}, holder)
    got = verify_presentation(
        presentation,
        resolve_key=fixed(jwk.public_key_from_jwk(json.loads(issuer.export_public()))),
        now=int(time.time()),
        audience=AUD,
        nonce=NONCE,
        check_status=None,
    )
    assert got.claims == {"grade": "A", "tags": ["ml", "plain"]}


@pytest.mark.parametrize("issuer_alg", ["EdDSA", "ES256K", "ES256"])
def test_ours_verify_with_pypi(issuer_alg: str) -> None:
    # the PyPI verifier checks key-binding JWTs with ES256 only
    issuer_key, holder_key = key(issuer_alg, 1), key("ES256", 2)
    now = int(time.time())
    presentation = ours(issuer_key, holder_key, now=now, status=StatusReference(3, STATUS_URI))
    issuer_jwk = JWK(**jwk.jwk_of(issuer_key))
    verifier = SDJWTVerifier(
        presentation, lambda iss, header: issuer_jwk, expected_aud=AUD, expected_nonce=NONCE
    )
    payload = verifier.get_verified_payload()
    assert payload["grade"] == "A" and payload["address"] == {"locality": "Lyon"}
    assert "email" not in payload and "skill" not in payload
    assert payload["vct"] == VCT and payload["cnf"] == {"jwk": jwk.jwk_of(holder_key)}
    assert payload["status"] == {"status_list": {"idx": 3, "uri": STATUS_URI}}
    with pytest.raises(Exception, match="nonce"):  # it does check what we bind
        SDJWTVerifier(presentation, lambda iss, header: issuer_jwk, expected_aud=AUD, expected_nonce="other")


# ------------------------------------------------------------------------------------------------ @sd-jwt/sd-jwt-vc


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js >= 20 is needed for the SD-JWT cross-check (tests/unit/sdjwt_interop.mjs)")
    for package in ("sd-jwt-vc", "crypto-nodejs", "jwt-status-list"):
        if not (NODE_MODULES / "@sd-jwt" / package / "package.json").exists():
            pytest.fail(f"npm package @sd-jwt/{package} missing from {NODE_MODULES}: run `{NPM_INSTALL}`")
    return node


STATUS = StatusList(bits=2)
STATUS[5] = INVALID
STATUS[6] = SUSPENDED
STATUS[131_071] = 3


@pytest.fixture(scope="module")
def node_run() -> dict[str, Any]:
    """One Node run: it verifies our presentations, decodes our status list, and issues its own."""
    node = _node()
    issuer_key = key("EdDSA", 7)
    status_token = sign_status_list_token(
        STATUS,
        key=issuer_key,
        kid="key-1",
        issuer=ISSUER,
        uri=STATUS_URI,
        iat=NOW - 50,
        exp=NOW + 600,
        ttl=60,
    )
    cases: dict[str, tuple[jwk.PrivateKey, str]] = {
        "eddsa-es256k-valid-status": (
            issuer_key,
            ours(issuer_key, key("ES256K", 8), status=StatusReference(3, STATUS_URI)),
        ),
        "es256-es256": (key("ES256", 9), ours(key("ES256", 9), key("ES256", 10))),
        "es256k-eddsa": (key("ES256K", 11), ours(key("ES256K", 11), key("EdDSA", 12))),
        "revoked": (issuer_key, ours(issuer_key, key("EdDSA", 13), status=StatusReference(5, STATUS_URI))),
        "wrong-nonce": (issuer_key, ours(issuer_key, key("EdDSA", 14), nonce="other")),
    }
    # a disclosure from another credential, with the holder's key binding over the forged set
    other = issue_credential(
        issuer=ISSUER, key=issuer_key, kid=None, vct=VCT, claims={"grade": "F"}, holder_jwk=None, iat=NOW
    )
    holder = key("EdDSA", 15)
    mine = issue_credential(
        issuer=ISSUER,
        key=issuer_key,
        kid=None,
        vct=VCT,
        claims={"grade": "A"},
        holder_jwk=jwk.jwk_of(holder),
        iat=NOW,
    )
    forged = mine.split("~")[0] + "~" + other.split("~")[1] + "~"
    sd_hash = jwk.b64url_encode(hashlib.sha256(forged.encode()).digest())
    kb_in = (
        jwk.b64url_encode(json.dumps({"alg": "EdDSA", "typ": "kb+jwt"}).encode())
        + "."
        + jwk.b64url_encode(json.dumps({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash}).encode())
    )
    cases["tampered"] = (
        issuer_key,
        forged + kb_in + "." + jwk.b64url_encode(jwk.sign(holder, kb_in.encode())),
    )
    request = {
        "now": NOW,
        "verify": [
            {
                "name": name,
                "presentation": presentation,
                "issuer_jwk": jwk.jwk_of(k),
                "aud": AUD,
                "nonce": NONCE,
                "status_list_token": status_token,
            }
            for name, (k, presentation) in cases.items()
        ],
        "issue": {"aud": AUD, "nonce": NONCE, "now": NOW},
        "status_lists": [{"lst": STATUS.encode(), "bits": 2, "indices": [0, 5, 6, 7, 131_071]}],
    }
    done = subprocess.run(
        [node, str(SCRIPT), str(NODE_MODULES)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"sdjwt_interop.mjs failed: {done.stderr.strip()[-1500:]}"
    answer = json.loads(done.stdout)
    answer["verified"] = {v["name"]: v for v in answer["verified"]}
    answer["cases"] = cases
    return answer


@pytest.mark.parametrize("name", ["eddsa-es256k-valid-status", "es256-es256", "es256k-eddsa"])
def test_typescript_verifies_ours(node_run: dict[str, Any], name: str) -> None:
    result = node_run["verified"][name]
    assert result["ok"], result.get("error")
    assert result["header"]["typ"] == "dc+sd-jwt"
    payload = result["payload"]
    assert payload["grade"] == "A" and payload["address"] == {"locality": "Lyon"}
    assert "email" not in payload and "skill" not in payload and "_sd" not in payload
    assert result["kb"]["aud"] == AUD and result["kb"]["nonce"] == NONCE and result["kb"]["iat"] == NOW
    # and ours agrees on the same bytes
    issuer_key, presentation = node_run["cases"][name]
    got = verify_presentation(
        presentation,
        resolve_key=fixed(issuer_key.public_key()),
        now=NOW,
        audience=AUD,
        nonce=NONCE,
        check_status=None,
    )
    assert got.claims == {"grade": "A", "address": {"locality": "Lyon"}}


@pytest.mark.parametrize(("name", "error"), [("revoked", "status"), ("wrong-nonce", "nonce")])
def test_typescript_refuses_what_we_refuse(node_run: dict[str, Any], name: str, error: str) -> None:
    result = node_run["verified"][name]
    assert not result["ok"], f"@sd-jwt/sd-jwt-vc accepted the {name} presentation"
    assert error in result["error"].lower()


def test_a_foreign_disclosure_never_surfaces(node_run: dict[str, Any]) -> None:
    """RFC 9901 section 7.1 says to reject an SD-JWT carrying a disclosure it does not reference;
    @sd-jwt/sd-jwt-vc 0.19 drops such a disclosure silently instead. Neither lets its claim through."""
    result = node_run["verified"]["tampered"]
    assert not result["ok"] or "grade" not in result["payload"]
    issuer_key, presentation = node_run["cases"]["tampered"]
    with pytest.raises(CredentialRejected) as info:
        verify_presentation(
            presentation,
            resolve_key=fixed(issuer_key.public_key()),
            now=NOW,
            audience=AUD,
            nonce=NONCE,
            check_status=None,
        )
    assert info.value.reason == "tampered-disclosure"


def test_typescript_decodes_our_status_list(node_run: dict[str, Any]) -> None:
    assert node_run["status_lists"] == [[0, INVALID, SUSPENDED, 0, 3]]


@pytest.mark.parametrize("index", [0, 1], ids=["ES256", "EdDSA"])
def test_typescript_credentials_verify_here(node_run: dict[str, Any], index: int) -> None:
    issued = node_run["issued"][index]
    assert issued["alg"] == ("ES256", "EdDSA")[index]
    header = json.loads(jwk.b64url_decode(issued["credential"].split(".")[0]))
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == issued["alg"]
    assert disclosed_claim_names(issued["credential"]) == [
        "address",
        "address.country",
        "address.locality",
        "email",
        "grade",
        "skill",
    ]
    issuer_public = jwk.public_key_from_jwk(issued["issuer_jwk"])
    got = verify_presentation(
        issued["presentation"],
        resolve_key=fixed(issuer_public),
        now=NOW,
        audience=AUD,
        nonce=NONCE,
        check_status=None,
    )
    assert got.claims == {"grade": "A", "address": {"locality": "Lyon"}}
    assert got.key_bound and got.holder_jwk == issued["holder_jwk"] and got.vct == VCT
    for kw, reason in (
        ({"nonce": "other"}, "wrong-nonce"),
        ({"audience": "other"}, "wrong-audience"),
        ({"now": NOW + 4000}, "expired"),
    ):
        args: dict[str, Any] = {"audience": AUD, "nonce": NONCE, "now": NOW}
        args.update(kw)
        with pytest.raises(CredentialRejected) as info:
            verify_presentation(
                issued["presentation"], resolve_key=fixed(issuer_public), check_status=None, **args
            )
        assert info.value.reason == reason
