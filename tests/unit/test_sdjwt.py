"""SD-JWT VC: issuing, presenting and verifying, and each way a presentation is refused (by reason code)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from proofwork.domain.errors import CredentialRejected, InvalidInput
from proofwork.identity.sdjwt import (
    MAX_DISCLOSURES,
    MAX_PRESENTATION_BYTES,
    StatusReference,
    VerifiedCredential,
    disclosed_claim_names,
    issue_credential,
    present,
    verify_presentation,
)
from proofwork.keys import jwk

NOW = 1_800_000_000
ISSUER = "did:web:issuer.proofwork.example"
VCT = "https://proofwork.example/badge/ml-eval"
AUD = "did:pkh:eip155:1:0x00000000000000000000000000000000000000c1"
NONCE = "n-4f1c2b"
CLAIMS = {
    "skill": "tabular-classification",
    "grade": "A",
    "job_count": 12,
    "email": "worker@example.com",
    "address": {"locality": "Lyon", "country": "FR"},
    "tags": ["ml", "onnx"],
}


def key(alg: str, n: int) -> jwk.PrivateKey:
    return jwk.private_key_from_bytes(alg, hashlib.sha256(f"{alg}-{n}".encode()).digest())


ISSUER_KEY = key("EdDSA", 1)
HOLDER_KEY = key("EdDSA", 2)
OTHER_KEY = key("EdDSA", 3)


def resolver_for(k: jwk.PrivateKey) -> Callable[[str, Mapping[str, Any], int], jwk.PublicKey]:
    public = k.public_key()

    def resolve(iss: str, header: Mapping[str, Any], iat: int) -> jwk.PublicKey:
        if iss != ISSUER:
            raise CredentialRejected("unknown-issuer", f"no key for {iss}")
        return public

    return resolve


def issue(
    issuer_key: jwk.PrivateKey = ISSUER_KEY, holder_key: jwk.PrivateKey | None = HOLDER_KEY, **kw: Any
) -> str:
    args: dict[str, Any] = {
        "issuer": ISSUER,
        "key": issuer_key,
        "kid": "key-1",
        "vct": VCT,
        "claims": CLAIMS,
        "holder_jwk": jwk.jwk_of(holder_key) if holder_key is not None else None,
        "iat": NOW - 100,
        "exp": NOW + 3600,
    }
    args.update(kw)
    return issue_credential(**args)


def make(
    credential: str | None = None,
    disclose: tuple[str, ...] = ("skill", "grade"),
    holder_key: jwk.PrivateKey | None = HOLDER_KEY,
    **kw: Any,
) -> str:
    args: dict[str, Any] = {"aud": AUD, "nonce": NONCE, "iat": NOW}
    args.update(kw)
    return present(credential or issue(), disclose=disclose, holder_key=holder_key, **args)


def check(presentation: str, issuer_key: jwk.PrivateKey = ISSUER_KEY, **kw: Any) -> VerifiedCredential:
    args: dict[str, Any] = {
        "resolve_key": resolver_for(issuer_key),
        "now": NOW,
        "audience": AUD,
        "nonce": NONCE,
        "check_status": None,
    }
    args.update(kw)
    return verify_presentation(presentation, **args)


def rejected(presentation: Any, reason: str, **kw: Any) -> CredentialRejected:
    with pytest.raises(CredentialRejected) as info:
        check(presentation, **kw)
    assert info.value.reason == reason, str(info.value)
    assert str(info.value)
    return info.value


def b64json(value: Any) -> str:
    return jwk.b64url_encode(json.dumps(value).encode())


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    h, p, _ = token.split(".")
    return json.loads(jwk.b64url_decode(h)), json.loads(jwk.b64url_decode(p))


def sign_jwt(k: jwk.PrivateKey, header: Mapping[str, Any], payload: Any) -> str:
    signing_input = b64json(header) + "." + (payload if isinstance(payload, str) else b64json(payload))
    return signing_input + "." + jwk.b64url_encode(jwk.sign(k, signing_input.encode()))


def reissue(
    credential: str,
    header: Callable[[dict[str, Any]], None] | None = None,
    payload: Callable[[dict[str, Any]], None] | None = None,
    k: jwk.PrivateKey = ISSUER_KEY,
) -> str:
    """The credential with its issuer-signed JWT edited and signed again by `k` (a validly signed forgery)."""
    jwt, *rest = credential.split("~")
    h, p = jwt_parts(jwt)
    if header:
        header(h)
    if payload:
        payload(p)
    return "~".join([sign_jwt(k, h, p), *rest])


def bind(presented: str, k: jwk.PrivateKey = HOLDER_KEY, **claims: Any) -> str:
    """`presented` ("<jwt>~<discs>~") with a KB-JWT the holder signs over exactly it."""
    sd_hash = jwk.b64url_encode(hashlib.sha256(presented.encode()).digest())
    payload = {"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash, **claims}
    return presented + sign_jwt(k, {"alg": jwk.alg_of_key(k), "typ": "kb+jwt"}, payload)


def disclosure(salt: str, *rest: Any) -> str:
    return jwk.b64url_encode(json.dumps([salt, *rest]).encode())


def digest(d: str) -> str:
    return jwk.b64url_encode(hashlib.sha256(d.encode()).digest())


# ------------------------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    ("issuer_alg", "holder_alg"),
    [("EdDSA", "EdDSA"), ("ES256K", "ES256K"), ("ES256", "ES256"), ("EdDSA", "ES256K"), ("ES256K", "ES256")],
)
def test_round_trip_each_algorithm(issuer_alg: str, holder_alg: str) -> None:
    ik, hk = key(issuer_alg, 10), key(holder_alg, 11)
    status = StatusReference(idx=42, uri="https://issuer.proofwork.example/status/1")
    credential = issue(ik, hk, status=status, nbf=NOW - 100)
    header, _ = jwt_parts(credential.split("~")[0])
    assert header == {"alg": issuer_alg, "typ": "dc+sd-jwt", "kid": "key-1"}
    got = check(make(credential, holder_key=hk), issuer_key=ik)
    assert got == VerifiedCredential(
        issuer=ISSUER,
        vct=VCT,
        claims={"skill": "tabular-classification", "grade": "A"},
        holder_jwk=jwk.jwk_of(hk),
        iat=NOW - 100,
        exp=NOW + 3600,
        status=status,
        key_bound=True,
    )


def test_registered_claims_are_plain_and_every_claim_is_hidden() -> None:
    status = StatusReference(idx=7, uri="https://s.example/1")
    credential = issue(status=status, nbf=NOW - 50, decoys=0)
    jwt, *disclosures, last = credential.split("~")
    assert last == ""
    _, payload = jwt_parts(jwt)
    assert set(payload) == {"iss", "iat", "nbf", "exp", "vct", "status", "cnf", "_sd", "_sd_alg"}
    assert payload["_sd_alg"] == "sha-256"
    assert payload["status"] == {"status_list": {"idx": 7, "uri": "https://s.example/1"}}
    assert payload["cnf"] == {"jwk": jwk.jwk_of(HOLDER_KEY)}
    assert payload["_sd"] == sorted(payload["_sd"])
    # nothing of the claims is readable in the signed part
    assert "Lyon" not in json.dumps(payload) and "worker@example.com" not in json.dumps(payload)
    # six top-level disclosures, two nested under address; arrays stay plain inside their disclosure
    assert len(disclosures) == 8
    decoded = [json.loads(jwk.b64url_decode(d)) for d in disclosures]
    assert ["tags", ["ml", "onnx"]] in [x[1:] for x in decoded]
    assert all(isinstance(x[0], str) and len(jwk.b64url_decode(x[0])) == 16 for x in decoded)
    assert len(payload["_sd"]) == 6


def test_decoy_digests_outnumber_disclosures() -> None:
    for _ in range(5):
        credential = issue()
        jwt, *disclosures, _ = credential.split("~")
        _, payload = jwt_parts(jwt)
        assert 6 + 1 <= len(payload["_sd"]) <= 6 + 3
        address = next(
            json.loads(jwk.b64url_decode(d))[2]
            for d in disclosures
            if json.loads(jwk.b64url_decode(d))[1] == "address"
        )
        assert 2 + 1 <= len(address["_sd"]) <= 2 + 3
    jwt = issue(decoys=5).split("~")[0]
    assert len(jwt_parts(jwt)[1]["_sd"]) == 11
    # decoys do not disturb verification
    assert check(make(issue(decoys=3))).claims == {"skill": "tabular-classification", "grade": "A"}


def test_selective_disclosure_reveals_only_the_chosen_claims() -> None:
    credential = issue()
    assert disclosed_claim_names(credential) == [
        "address",
        "address.country",
        "address.locality",
        "email",
        "grade",
        "job_count",
        "skill",
        "tags",
    ]
    got = check(make(credential, disclose=("grade", "address.locality")))
    assert got.claims == {"grade": "A", "address": {"locality": "Lyon"}}
    presentation = make(credential, disclose=("grade",))
    assert "worker@example.com" not in json.dumps(
        [json.loads(jwk.b64url_decode(d)) for d in presentation.split("~")[1:-1]]
    )
    assert len(presentation.split("~")) == 3
    # the parent alone discloses an object without its hidden members
    assert check(make(credential, disclose=("address",))).claims == {"address": {}}
    assert check(make(credential, disclose=())).claims == {}
    everything = check(make(credential, disclose=tuple(disclosed_claim_names(credential))))
    assert everything.claims == CLAIMS


def test_present_refuses_unknown_claims_and_bad_input() -> None:
    credential = issue()
    with pytest.raises(InvalidInput, match="no disclosable claim 'salary'"):
        make(credential, disclose=("salary",))
    with pytest.raises(InvalidInput):
        make(credential, disclose="grade")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        present("garbage", disclose=(), holder_key=HOLDER_KEY, aud=AUD, nonce=NONCE, iat=NOW)


@pytest.mark.parametrize("name", ["iss", "vct", "cnf", "status", "exp", "_sd", "..."])
def test_issue_refuses_reserved_claim_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        issue(claims={name: "x"})
    if name in ("_sd", "..."):
        with pytest.raises(InvalidInput, match="reserved"):
            issue(claims={"address": {name: "x"}})


def test_issue_refuses_private_holder_keys_and_non_json() -> None:
    with pytest.raises(InvalidInput):
        issue_credential(
            issuer=ISSUER,
            key=ISSUER_KEY,
            kid=None,
            vct=VCT,
            claims={},
            holder_jwk={**jwk.jwk_of(HOLDER_KEY), "d": "AAAA"},
            iat=NOW,
        )
    with pytest.raises(InvalidInput):
        issue(claims={"x": object()})
    with pytest.raises(InvalidInput):
        issue(iat="yesterday")


def test_header_jwk_for_issuers_without_key_documents() -> None:
    seen: list[Mapping[str, Any]] = []

    def resolve(iss: str, header: Mapping[str, Any], iat: int) -> jwk.PublicKey:
        seen.append(header)
        return jwk.public_key_from_jwk(header["jwk"])

    credential = issue(key("ES256K", 5), kid=None, header_jwk=True)
    got = check(make(credential), resolve_key=resolve)
    assert got.issuer == ISSUER
    assert seen[0]["jwk"] == jwk.jwk_of(key("ES256K", 5)) and "kid" not in seen[0]
    assert seen[0]["alg"] == "ES256K"


def test_without_key_binding() -> None:
    presentation = make(holder_key=None)
    assert presentation.endswith("~")
    rejected(presentation, "missing-key-binding")
    got = check(presentation, require_key_binding=False)
    assert got.key_bound is False and got.claims == {"skill": "tabular-classification", "grade": "A"}
    # a credential with no holder key cannot be key-bound
    unbound = issue(holder_key=None)
    assert check(make(unbound, holder_key=None), require_key_binding=False).holder_jwk is None
    rejected(make(unbound, holder_key=None), "missing-key-binding")
    rejected(make(unbound), "bad-key-binding")


def test_legacy_typ_is_accepted() -> None:
    credential = reissue(issue(), header=lambda h: h.update(typ="vc+sd-jwt"))
    assert check(make(credential)).vct == VCT


def test_audience_and_nonce_can_be_left_to_the_caller() -> None:
    got = check(make(aud="someone", nonce="other"), audience=None, nonce=None)
    assert got.key_bound


# ------------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "~",
        "~~",
        "abc",
        "a.b.c",
        "a.b~",
        "eyJhbGciOiJFZERTQSJ9.e30~",
        "!!!.???.###~",
        "a.b.c.d~",
        "é.é.é~",
        "x" * 70_000,
        "e30.e30.e30~",  # {} header: no typ -> but shape checks first
        None,
        b"bytes.are.not~",
        12,
        ["a.b.c~"],
    ],
)
def test_garbage_is_malformed_or_wrong_type(garbage: Any) -> None:
    with pytest.raises(CredentialRejected) as info:
        check(garbage)
    assert info.value.reason in ("malformed", "wrong-type")
    if garbage != "e30.e30.e30~":
        assert info.value.reason == "malformed"


def test_malformed_parts() -> None:
    credential = issue()
    jwt, *rest = make(credential).split("~")
    h, p, s = jwt.split(".")
    rejected("~".join([f"{h}.{p}.{s}=", *rest]), "malformed")  # padded base64
    rejected("~".join([f"{h}.{p}", *rest]), "malformed")
    rejected("~".join([f"{b64json([1, 2])}.{p}.{s}", *rest]), "malformed")  # header not an object
    rejected("~".join([f"{h}.{jwk.b64url_encode(b'{not json')}.{s}", *rest]), "malformed")
    # an empty disclosure between two separators
    parts = make(credential).split("~")
    rejected("~".join([parts[0], "", *parts[1:]]), "malformed")
    # a disclosure that is not [salt, name, value]
    for bad in ([1, "grade", "A"], ["salt"], {"a": 1}, ["s", 5, "v"], "text"):
        forged = "~".join([parts[0], jwk.b64url_encode(json.dumps(bad).encode()), ""])
        rejected(forged, "malformed", require_key_binding=False)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda p: p.pop("iss"), "malformed"),
        (lambda p: p.update(iss=5), "malformed"),
        (lambda p: p.pop("iat"), "malformed"),
        (lambda p: p.update(iat="now"), "malformed"),
        (lambda p: p.update(iat=True), "malformed"),
        (lambda p: p.update(exp=1.5e9), "malformed"),
        (lambda p: p.update(nbf="soon"), "malformed"),
        (lambda p: p.pop("vct"), "malformed"),
        (lambda p: p.update(status={"status_list": {"idx": -1, "uri": "u"}}), "malformed"),
        (lambda p: p.update(status="revoked?"), "malformed"),
        (lambda p: p.update(cnf="key"), "malformed"),
        (lambda p: p.update(cnf={"jwk": "key"}), "malformed"),
        (lambda p: p.update(_sd="digest"), "malformed"),
        (lambda p: p.update(_sd=[1, 2]), "malformed"),
        (lambda p: p.update(_sd_alg="sha-512"), "unsupported-alg"),
    ],
)
def test_wrong_payload_types(edit: Callable[[dict[str, Any]], Any], reason: str) -> None:
    rejected(make(reissue(issue(), payload=edit), disclose=()), reason)


@pytest.mark.parametrize("typ", ["JWT", "example+sd-jwt", None, 5])
def test_wrong_type(typ: Any) -> None:
    rejected(make(reissue(issue(), header=lambda h: h.update(typ=typ))), "wrong-type")


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", None, ["EdDSA"]])
def test_unsupported_alg(alg: Any) -> None:
    presentation = make(reissue(issue(), header=lambda h: h.update(alg=alg)))
    rejected(presentation, "unsupported-alg")
    if alg == "none":  # the classic: no signature at all
        jwt, *rest = presentation.split("~")
        h, p, _ = jwt.split(".")
        rejected("~".join([f"{h}.{p}.", *rest]), "unsupported-alg")


def test_crit_header_is_refused() -> None:
    rejected(make(reissue(issue(), header=lambda h: h.update(crit=["exp"]))), "malformed")


def test_unknown_issuer() -> None:
    credential = reissue(issue(), payload=lambda p: p.update(iss="did:web:stranger.example"))
    rejected(make(credential), "unknown-issuer")

    def broken(iss: str, header: Mapping[str, Any], iat: int) -> jwk.PublicKey:
        raise KeyError(iss)

    err = rejected(make(), "unknown-issuer", resolve_key=broken)
    assert "could not be resolved" in str(err)


def test_bad_signature() -> None:
    presentation = make()
    jwt, *rest = presentation.split("~")
    h, p, s = jwt.split(".")
    sig = bytearray(jwk.b64url_decode(s))
    sig[5] ^= 1
    rejected("~".join([f"{h}.{p}.{jwk.b64url_encode(bytes(sig))}", *rest]), "bad-signature")
    # a payload edited after signing
    payload = json.loads(jwk.b64url_decode(p))
    payload["vct"] = "https://proofwork.example/badge/admin"
    rejected("~".join([f"{h}.{b64json(payload)}.{s}", *rest]), "bad-signature")
    # signed by someone else
    rejected(make(reissue(issue(), k=OTHER_KEY)), "bad-signature")
    # the header claims another algorithm than the issuer's key has
    rejected(make(reissue(issue(), header=lambda h: h.update(alg="ES256K"))), "bad-signature")
    # an ES256K signature checked with a P-256 key of the same length
    rejected(make(issue(key("ES256K", 1))), "bad-signature", issuer_key=key("ES256", 1))


def test_disclosure_from_another_credential_is_tampered() -> None:
    mine, theirs = issue(), issue(claims={"grade": "C", "skill": "x"})
    # swap my grade disclosure for the other credential's grade disclosure (same name, other value)
    names = {json.loads(jwk.b64url_decode(d))[1]: d for d in theirs.split("~")[1:-1]}
    jwt = mine.split("~")[0]
    forged = f"{jwt}~{names['grade']}~"
    rejected(forged, "tampered-disclosure", require_key_binding=False)
    # also when the holder signs a key binding over the forged set
    rejected(bind(forged), "tampered-disclosure")
    # an invented disclosure with a fresh salt
    rejected(
        f"{jwt}~{disclosure('c2FsdA', 'grade', 'A+')}~", "tampered-disclosure", require_key_binding=False
    )


def test_the_same_disclosure_twice() -> None:
    credential = issue()
    jwt, *disclosures, _ = make(credential, disclose=("grade",), holder_key=None).split("~")
    rejected(
        "~".join([jwt, disclosures[0], disclosures[0], ""]), "duplicate-digest", require_key_binding=False
    )


def test_a_digest_referenced_twice() -> None:
    d = disclosure("c2FsdDE", "grade", "A")

    def twice(p: dict[str, Any]) -> None:
        p["_sd"] = [digest(d), digest(d)]

    rejected(
        f"{reissue(issue(), payload=twice).split('~')[0]}~{d}~", "duplicate-digest", require_key_binding=False
    )

    def in_two_objects(p: dict[str, Any]) -> None:
        p["_sd"] = [digest(d)]
        p["extra"] = {"_sd": [digest(d)]}

    rejected(
        f"{reissue(issue(), payload=in_two_objects).split('~')[0]}~{d}~",
        "duplicate-digest",
        require_key_binding=False,
    )
    # even an undisclosed (decoy) digest may not repeat
    rejected(
        make(reissue(issue(), payload=lambda p: p["_sd"].append(p["_sd"][0]))),
        "duplicate-digest",
    )


@pytest.mark.parametrize("name", ["_sd", "...", "iss", "vct", "cnf", "status", "exp", "grade"])
def test_reserved_or_existing_claim_names_in_disclosures(name: str) -> None:
    d = disclosure("c2FsdDI", name, "x")

    def add(p: dict[str, Any]) -> None:
        p["_sd"] = [*p["_sd"], digest(d)]
        p["grade"] = "A"  # a plain claim a disclosure may not overwrite

    jwt = reissue(issue(), payload=add).split("~")[0]
    rejected(f"{jwt}~{d}~", "reserved-claim", require_key_binding=False)


def test_nested_reserved_and_shape_checks() -> None:
    inner = disclosure("c2FsdDM", "_sd", ["x"])
    outer = disclosure("c2FsdDQ", "address", {"_sd": [digest(inner)]})
    jwt = reissue(issue(), payload=lambda p: p.update(_sd=[digest(outer)])).split("~")[0]
    rejected(f"{jwt}~{outer}~{inner}~", "reserved-claim", require_key_binding=False)
    # an array-element disclosure referenced from an object's _sd
    element = disclosure("c2FsdDU", "ml")
    jwt = reissue(issue(), payload=lambda p: p.update(_sd=[digest(element)])).split("~")[0]
    rejected(f"{jwt}~{element}~", "malformed", require_key_binding=False)
    # and array elements: disclosed, hidden, and an object-property disclosure in an array
    shown, hidden, wrong = (
        disclosure("c2FsdDY", "ml"),
        disclosure("c2FsdDc", "onnx"),
        disclosure("c2FsdDg", "k", 1),
    )
    jwt = reissue(
        issue(), payload=lambda p: p.update(tags=[{"...": digest(shown)}, {"...": digest(hidden)}, "plain"])
    ).split("~")[0]
    got = check(f"{jwt}~{shown}~", require_key_binding=False)
    assert got.claims["tags"] == ["ml", "plain"]
    jwt = reissue(issue(), payload=lambda p: p.update(tags=[{"...": digest(wrong)}])).split("~")[0]
    rejected(f"{jwt}~{wrong}~", "malformed", require_key_binding=False)
    jwt = reissue(issue(), payload=lambda p: p.update(tags=[{"...": digest(shown), "x": 1}])).split("~")[0]
    rejected(f"{jwt}~{shown}~", "malformed", require_key_binding=False)


def test_time_checks() -> None:
    presentation = make(issue(iat=NOW - 100, exp=NOW - 61))
    rejected(presentation, "expired")
    assert check(make(issue(iat=NOW - 100, exp=NOW - 60))).exp == NOW - 60  # within the leeway
    rejected(make(issue(iat=NOW - 100, exp=NOW - 10)), "expired", leeway=0)
    rejected(make(issue(nbf=NOW + 61)), "not-yet-valid")
    assert check(make(issue(nbf=NOW + 60))).iat == NOW - 100
    rejected(make(issue(iat=NOW + 61)), "not-yet-valid")
    assert check(make(issue(exp=None))).exp is None


def test_key_binding_checks() -> None:
    credential = issue()
    rejected(make(credential, aud="did:web:someone-else.example"), "wrong-audience")
    rejected(make(credential, nonce="replayed"), "wrong-nonce")
    rejected(make(credential, iat=NOW - 361), "stale-key-binding")
    assert check(make(credential, iat=NOW - 360)).key_bound  # 300 s + the leeway
    rejected(make(credential, iat=NOW - 100), "stale-key-binding", max_kb_age=30)
    rejected(make(credential, iat=NOW + 61), "stale-key-binding")
    rejected(make(credential, holder_key=OTHER_KEY), "bad-key-binding")
    rejected(make(credential, holder_key=key("ES256", 4)), "bad-key-binding")


def test_key_binding_header_and_hash() -> None:
    presentation = make(disclose=("skill", "grade", "email"))
    *body, kb = presentation.split("~")
    h, p = jwt_parts(kb)
    rejected("~".join([*body, sign_jwt(HOLDER_KEY, {**h, "typ": "JWT"}, p)]), "bad-key-binding")
    rejected("~".join([*body, sign_jwt(HOLDER_KEY, {**h, "alg": "none"}, p)]), "bad-key-binding")
    rejected("~".join([*body, sign_jwt(HOLDER_KEY, h, {**p, "iat": "now"})]), "bad-key-binding")
    rejected("~".join([*body, "x.y.z"]), "malformed")
    # dropping a disclosure after the holder signed (a verifier-side edit) breaks sd_hash
    rejected("~".join([body[0], *body[2:], kb]), "sd-hash-mismatch")
    rejected(
        "~".join([*body, sign_jwt(HOLDER_KEY, h, {**p, "sd_hash": digest("other")})]), "sd-hash-mismatch"
    )
    rejected(
        "~".join([*body, sign_jwt(HOLDER_KEY, h, {k: v for k, v in p.items() if k != "sd_hash"})]),
        "sd-hash-mismatch",
    )
    # a key binding copied from another presentation of the same credential
    other_kb = make(disclose=("skill",)).split("~")[-1]
    rejected("~".join([*body, other_kb]), "sd-hash-mismatch")


def test_wrong_vct() -> None:
    rejected(make(), "wrong-vct", expected_vct="https://proofwork.example/badge/other")
    assert check(make(), expected_vct=VCT).vct == VCT


def test_status_checker_is_called_and_its_verdict_kept() -> None:
    status = StatusReference(idx=3, uri="https://s.example/1")
    calls: list[StatusReference] = []

    def ok(ref: StatusReference) -> None:
        calls.append(ref)

    assert check(make(issue(status=status)), check_status=ok).status == status
    assert calls == [status]
    check(make(issue()), check_status=ok)  # no status: not called
    assert calls == [status]

    def revoked(ref: StatusReference) -> None:
        raise CredentialRejected("revoked", "revoked")

    rejected(make(issue(status=status)), "revoked", check_status=revoked)

    def broken(ref: StatusReference) -> None:
        raise RuntimeError("network")

    rejected(make(issue(status=status)), "status-unavailable", check_status=broken)

    def never(ref: StatusReference) -> None:
        raise AssertionError("the status must not be checked for a forged credential")

    rejected(make(issue(status=status), aud="x"), "wrong-audience", check_status=never)


# ------------------------------------------------------------------------------------------------ hostile input


def test_hostile_deep_json() -> None:
    deep = "[" * 5000 + "]" * 5000
    d = jwk.b64url_encode(f'["c2FsdA", "x", {deep}]'.encode())
    rejected(f"{issue().split('~')[0]}~{d}~", "malformed", require_key_binding=False)
    # inside the signed payload
    payload = jwk.b64url_encode(('{"iss": "' + ISSUER + '", "x": ' + deep + "}").encode())
    jwt = sign_jwt(ISSUER_KEY, {"alg": "EdDSA", "typ": "dc+sd-jwt"}, payload)
    rejected(f"{jwt}~", "malformed", require_key_binding=False)
    # nesting built up through disclosures, each shallow on its own
    d_prev = disclosure("c2FsdA", "leaf", 1)
    chain = [d_prev]
    for i in range(40):
        d_prev = disclosure(f"c2FsdA{i}", f"n{i}", {"_sd": [digest(d_prev)]})
        chain.append(d_prev)
    jwt = reissue(issue(), payload=lambda p: p.update(_sd=[digest(d_prev)])).split("~")[0]
    rejected("~".join([jwt, *chain, ""]), "malformed", require_key_binding=False)


def test_size_bounds() -> None:
    jwt = issue().split("~")[0]
    many = [disclosure(f"s{i}", f"c{i}", i) for i in range(MAX_DISCLOSURES + 1)]
    err = rejected("~".join([jwt, *many, ""]), "malformed", require_key_binding=False)
    assert str(MAX_DISCLOSURES) in str(err)
    err = rejected(jwt + "~" + "A" * MAX_PRESENTATION_BYTES + "~", "malformed", require_key_binding=False)
    assert "larger" in str(err)
    # the issuer does not bound what it signs, but a holder cannot present past the bound
    big = issue(claims={"blob": "x" * MAX_PRESENTATION_BYTES})
    with pytest.raises(InvalidInput, match="larger"):
        present(big, disclose=(), holder_key=None, aud=AUD, nonce=NONCE, iat=NOW)


def test_random_mutations_never_escape_as_tracebacks() -> None:
    rng = random.Random(20260101)
    presentation = make(
        issue(status=StatusReference(1, "https://s.example/1")), disclose=("grade", "address.country")
    )
    alphabet = "ABCxyz019-_.~{}[]\"'é\x00"
    for _ in range(400):
        chars = list(presentation)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(chars))
            op = rng.random()
            if op < 0.4:
                chars[i] = rng.choice(alphabet)
            elif op < 0.7:
                del chars[i]
            else:
                chars.insert(i, rng.choice(alphabet))
        mutated = "".join(chars)
        if mutated == presentation:
            continue
        try:
            check(mutated)
        except CredentialRejected as exc:
            assert exc.reason and str(exc)
        else:  # only edits inside base64 padding bits can keep the bytes (and the signatures) intact
            pass


def test_es256k_fast_path_agrees_with_openssl() -> None:
    """ES256K goes through libsecp256k1: it must accept and refuse exactly what jwk.verify does."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    ik, hk = key("ES256K", 20), key("ES256K", 21)
    presentation = make(issue(ik, hk), holder_key=hk)
    assert check(presentation, issuer_key=ik).key_bound
    jwt, *middle, kb = presentation.split("~")

    def with_sig(token: str, sig: bytes) -> str:
        return token.rsplit(".", 1)[0] + "." + jwk.b64url_encode(sig)

    def mirrored(sig: bytes) -> bytes:
        return sig[:32] + (n - int.from_bytes(sig[32:], "big")).to_bytes(32, "big")

    issuer_sig = jwk.b64url_decode(jwt.rsplit(".", 1)[1])
    kb_sig = jwk.b64url_decode(kb.rsplit(".", 1)[1])
    signing_input = jwt.rsplit(".", 1)[0].encode()
    # the high-s twin of a valid signature is valid for OpenSSL, so it is here too
    assert jwk.verify(ik.public_key(), "ES256K", signing_input, mirrored(issuer_sig))
    unbound = {"issuer_key": ik, "require_key_binding": False}
    assert check("~".join([with_sig(jwt, mirrored(issuer_sig)), *middle, ""]), **unbound).claims
    body = "~".join([jwt, *middle, ""])
    assert check(body + with_sig(kb, mirrored(kb_sig)), issuer_key=ik).key_bound
    for sig in (bytes(64), n.to_bytes(32, "big") * 2, issuer_sig[:63], issuer_sig[:32] + bytes(32)):
        assert not jwk.verify(ik.public_key(), "ES256K", signing_input, sig)
        rejected("~".join([with_sig(jwt, sig), *middle, ""]), "bad-signature", **unbound)
        rejected(body + with_sig(kb, sig), "bad-key-binding", issuer_key=ik)
    # a holder key that is not a usable public key
    broken = {**jwk.jwk_of(hk), "y": jwk.b64url_encode(bytes(32))}
    credential = reissue(issue(ik, hk), payload=lambda p: p.update(cnf={"jwk": broken}), k=ik)
    rejected(make(credential, holder_key=hk), "bad-key-binding", issuer_key=ik)
    leaked = {**jwk.jwk_of(hk), "d": jwk.b64url_encode(bytes(32))}
    credential = reissue(issue(ik, hk), payload=lambda p: p.update(cnf={"jwk": leaked}), k=ik)
    rejected(make(credential, holder_key=hk), "malformed", issuer_key=ik)
