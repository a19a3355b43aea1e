"""Token Status List: bit layout, the draft's own vectors, compression bounds, signed tokens, the checker."""

from __future__ import annotations

import hashlib
import json
import random
import zlib
from collections.abc import Mapping
from typing import Any

import pytest

from proofwork.domain.errors import CredentialRejected, InvalidInput
from proofwork.identity.sdjwt import StatusReference, issue_credential, present, verify_presentation
from proofwork.identity.status_list import (
    INVALID,
    MAX_DECOMPRESSED_BYTES,
    SUSPENDED,
    VALID,
    StatusList,
    make_status_checker,
    sign_status_list_token,
    token_digest,
    verify_status_list_token,
)
from proofwork.keys import jwk

NOW = 1_800_000_000
ISSUER = "did:web:issuer.proofwork.example"
URI = "https://issuer.proofwork.example/status/1"
KEY = jwk.private_key_from_bytes("ES256K", hashlib.sha256(b"status-issuer").digest())
OTHER = jwk.private_key_from_bytes("ES256K", hashlib.sha256(b"someone-else").digest())


def resolve(iss: str, header: Mapping[str, Any], iat: int) -> jwk.PublicKey:
    if iss != ISSUER:
        raise CredentialRejected("unknown-issuer", f"no key for {iss}")
    return KEY.public_key()


def token(lst: StatusList, **kw: Any) -> str:
    args: dict[str, Any] = {
        "key": KEY,
        "kid": "sl-1",
        "issuer": ISSUER,
        "uri": URI,
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "ttl": 300,
    }
    args.update(kw)
    return sign_status_list_token(lst, **args)


def b64json(value: Any) -> str:
    return jwk.b64url_encode(json.dumps(value).encode())


def forge(header: dict[str, Any], payload: dict[str, Any], k: jwk.PrivateKey = KEY) -> str:
    signing_input = b64json(header) + "." + b64json(payload)
    return signing_input + "." + jwk.b64url_encode(jwk.sign(k, signing_input.encode()))


def bad(tok: Any, reason: str = "bad-status-list", **kw: Any) -> None:
    args: dict[str, Any] = {"resolve_key": resolve, "uri": URI, "now": NOW}
    args.update(kw)
    with pytest.raises(CredentialRejected) as info:
        verify_status_list_token(tok, **args)
    assert info.value.reason == reason, str(info.value)


# ------------------------------------------------------------------------------------------------ the list


def test_bit_layout_is_least_significant_first() -> None:
    one = StatusList(bits=1)
    one[0] = INVALID
    one[9] = INVALID
    raw = one.to_bytes()
    assert raw[0] == 0b0000_0001 and raw[1] == 0b0000_0010 and len(raw) == 131_072 // 8
    two = StatusList(bits=2)
    two[1] = SUSPENDED
    two[2] = INVALID
    assert two.to_bytes()[0] == 0b01_10_00 and len(two.to_bytes()) == 131_072 // 4
    assert [two[i] for i in range(4)] == [VALID, SUSPENDED, INVALID, VALID]
    two[1] = VALID
    assert two.to_bytes()[0] == 0b01_00_00
    assert len(StatusList(200_000, bits=8)) == 200_000


def test_issuing_refuses_small_lists_and_bad_values() -> None:
    with pytest.raises(InvalidInput, match="131,072"):
        StatusList(131_071)
    with pytest.raises(InvalidInput):
        StatusList(bits=3)
    lst = StatusList(bits=1)
    with pytest.raises(InvalidInput):
        lst[0] = 2
    with pytest.raises(InvalidInput):
        lst[131_072] = 1
    with pytest.raises(InvalidInput):
        lst.get(-1)
    with pytest.raises(InvalidInput):
        StatusList.decode(lst.encode(), 3)


def test_draft_examples_decode_and_encode() -> None:
    """draft-ietf-oauth-status-list, section 4.1 / Appendix C: the 1-bit and 2-bit example lists."""
    one = StatusList.decode("eNrbuRgAAhcBXQ", 1)
    assert one.to_bytes() == bytes([0xB9, 0xA3]) and len(one) == 16
    assert [one[i] for i in range(16)] == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    assert one.encode() == "eNrbuRgAAhcBXQ"
    two = StatusList.decode("eNo76fITAAPfAgc", 2)
    assert two.to_bytes() == bytes([0xC9, 0x44, 0xF9]) and len(two) == 12
    assert [two[i] for i in range(12)] == [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    assert two.encode() == "eNo76fITAAPfAgc"


def test_compressed_size_of_a_full_list() -> None:
    lst = StatusList(131_072, bits=1)
    assert len(lst.encode()) <= 64  # 16 KiB of zeros
    rng = random.Random(7)
    revoked = rng.sample(range(131_072), 1_311)  # 1 %
    for i in revoked:
        lst[i] = INVALID
    encoded = lst.encode()
    assert len(encoded) < 3_000
    back = StatusList.decode(encoded, 1)
    assert back.to_bytes() == lst.to_bytes()
    assert (
        all(back[i] == INVALID for i in revoked)
        and back[next(i for i in range(10) if i not in revoked)] == VALID
    )


def test_compression_bomb_is_refused_without_inflating() -> None:
    exact = jwk.b64url_encode(zlib.compress(bytes(MAX_DECOMPRESSED_BYTES), 9))
    assert len(StatusList.decode(exact, 1)) == MAX_DECOMPRESSED_BYTES * 8
    bomb = jwk.b64url_encode(zlib.compress(bytes(MAX_DECOMPRESSED_BYTES + 1), 9))
    with pytest.raises(InvalidInput, match="inflates past"):
        StatusList.decode(bomb, 1)
    huge = jwk.b64url_encode(zlib.compress(bytes(64 * 1024 * 1024), 9))  # ~64 KB -> 64 MiB
    with pytest.raises(InvalidInput, match="inflates past"):
        StatusList.decode(huge, 1)


@pytest.mark.parametrize(
    "lst",
    [
        "not base64!",
        jwk.b64url_encode(b"plain bytes"),
        jwk.b64url_encode(zlib.compress(b"\x00" * 100)[:-3]),  # truncated
        jwk.b64url_encode(zlib.compress(b"\x00" * 100) + b"trailing"),
        "",
    ],
)
def test_undecodable_lists(lst: str) -> None:
    with pytest.raises(InvalidInput):
        StatusList.decode(lst, 1)


# ------------------------------------------------------------------------------------------------ the token


def test_token_round_trip() -> None:
    lst = StatusList(bits=2)
    lst[5] = SUSPENDED
    tok = token(lst)
    header, payload = (json.loads(jwk.b64url_decode(p)) for p in tok.split(".")[:2])
    assert header == {"alg": "ES256K", "typ": "statuslist+jwt", "kid": "sl-1"}
    assert payload == {
        "sub": URI,
        "iss": ISSUER,
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "ttl": 300,
        "status_list": {"bits": 2, "lst": lst.encode()},
    }
    back = verify_status_list_token(tok, resolve_key=resolve, uri=URI, now=NOW)
    assert back.bits == 2 and back[5] == SUSPENDED and back.to_bytes() == lst.to_bytes()
    assert token_digest(tok) == hashlib.sha256(tok.encode()).digest() and len(token_digest(tok)) == 32


def test_token_refusals() -> None:
    lst = StatusList()
    good = token(lst)
    header, payload = (json.loads(jwk.b64url_decode(p)) for p in good.split(".")[:2])
    bad(forge({**header, "typ": "JWT"}, payload))
    bad(forge({**header, "alg": "none"}, payload))
    bad(forge(header, payload, k=OTHER))
    bad(good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"))
    bad(good, uri="https://issuer.proofwork.example/status/2")  # a list served for another uri
    bad(forge(header, {**payload, "status_list": {"bits": 3, "lst": lst.encode()}}))
    bad(forge(header, {**payload, "status_list": {"bits": 1}}))
    bad(forge(header, {**payload, "status_list": {"bits": 1, "lst": "%%%"}}))
    bad(forge(header, {k: v for k, v in payload.items() if k != "iss"}))
    bad(forge(header, {**payload, "iat": NOW + 3600}))
    bad(forge(header, {**payload, "iss": "did:web:stranger"}), "unknown-issuer")
    bad(token(lst, exp=NOW - 61), "stale-status-list")
    assert verify_status_list_token(token(lst, exp=NOW - 60), resolve_key=resolve, uri=URI, now=NOW)
    for garbage in ("", "a.b", "a.b.c", "é.é.é", None, 5, "x" * (5 * 1024 * 1024)):
        bad(garbage)
    deep = jwk.b64url_encode(("[" * 10_000 + "]" * 10_000).encode())
    bad(f"{deep}.{deep}.AAAA")


# ------------------------------------------------------------------------------------------------ the checker


def test_status_checker_verdicts_and_cache() -> None:
    lst = StatusList(bits=2)
    lst[1] = INVALID
    lst[2] = SUSPENDED
    lst[3] = 3
    tok = token(lst)
    fetched: list[str] = []

    def fetch(uri: str) -> str:
        fetched.append(uri)
        return tok + "\n"

    check = make_status_checker(fetch, resolve, NOW, None)
    check(StatusReference(0, URI))
    for idx, reason in (
        (1, "revoked"),
        (2, "suspended"),
        (3, "bad-status-list"),
        (131_072, "bad-status-list"),
    ):
        with pytest.raises(CredentialRejected) as info:
            check(StatusReference(idx, URI))
        assert info.value.reason == reason
    assert fetched == [URI]  # verified once, then cached


def test_status_checker_fetch_failures_and_anchors() -> None:
    tok = token(StatusList())

    def down(uri: str) -> str:
        raise OSError("connection refused")

    with pytest.raises(CredentialRejected) as info:
        make_status_checker(down, resolve, NOW, None)(StatusReference(0, URI))
    assert info.value.reason == "status-unavailable"

    anchored = {URI: token_digest(tok)}
    make_status_checker(lambda u: tok, resolve, NOW, anchored.get)(StatusReference(0, URI))
    make_status_checker(lambda u: tok, resolve, NOW, lambda u: None)(StatusReference(0, URI))
    # an older (validly signed, unexpired) token replayed after the issuer anchored a newer one
    newer = StatusList()
    newer[0] = INVALID
    anchored[URI] = token_digest(token(newer, iat=NOW - 30))
    with pytest.raises(CredentialRejected) as info:
        make_status_checker(lambda u: tok, resolve, NOW, anchored.get)(StatusReference(0, URI))
    assert info.value.reason == "stale-status-list"
    with pytest.raises(CredentialRejected) as info:
        make_status_checker(lambda u: tok, resolve, NOW + 7200, None)(StatusReference(0, URI))
    assert info.value.reason == "stale-status-list"


def test_revoked_credential_is_refused_end_to_end() -> None:
    issuer_key = jwk.private_key_from_bytes("EdDSA", hashlib.sha256(b"badge-issuer").digest())
    holder_key = jwk.private_key_from_bytes("EdDSA", hashlib.sha256(b"holder").digest())

    def resolve_any(iss: str, header: Mapping[str, Any], iat: int) -> jwk.PublicKey:
        return KEY.public_key() if header.get("typ") == "statuslist+jwt" else issuer_key.public_key()

    lst = StatusList()
    lst[77] = INVALID
    lst[78] = VALID
    tok = token(lst)

    def presentation(idx: int) -> str:
        credential = issue_credential(
            issuer=ISSUER,
            key=issuer_key,
            kid="k",
            vct="urn:badge",
            claims={"grade": "A"},
            holder_jwk=jwk.jwk_of(holder_key),
            iat=NOW - 10,
            status=StatusReference(idx, URI),
        )
        return present(credential, disclose=["grade"], holder_key=holder_key, aud="v", nonce="n", iat=NOW)

    checker = make_status_checker(lambda u: tok, resolve_any, NOW, {URI: token_digest(tok)}.get)
    args: dict[str, Any] = {"resolve_key": resolve_any, "now": NOW, "audience": "v", "nonce": "n"}
    assert verify_presentation(presentation(78), check_status=checker, **args).claims == {"grade": "A"}
    with pytest.raises(CredentialRejected) as info:
        verify_presentation(presentation(77), check_status=checker, **args)
    assert info.value.reason == "revoked"
