"""A licence holder's key request: the EIP-712 message a wallet signs, the signer and public key the owner's
node recovers from it, the request's bounds and the record of requests answered."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from proofwork.chain.asset_access import recover_key_request, sign_key_request, typed_data_json
from proofwork.db.key_requests import UsedKeyRequests
from proofwork.domain.asset_access import (
    CLOCK_SKEW,
    KEY_REFUSALS,
    MAX_LIFETIME,
    KeyRequest,
    KeyRequestRefused,
    check_fresh,
    check_same,
)
from proofwork.keys.sealing import public_key_of

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ADDRESS = Account.from_key(KEY).address
LICENSING = "0x" + "5e" * 20
MANIFEST = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
NOW = 1_800_000_000


def _request(**changes: object) -> KeyRequest:
    base = KeyRequest(31337, LICENSING, 7, 3, MANIFEST, NOW + 300, bytes(range(32)))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_signer_and_its_public_key_are_recovered() -> None:
    request = _request()
    signature = sign_key_request(request, KEY)
    assert recover_key_request(request, signature) == (ADDRESS, public_key_of(KEY))


def test_what_a_wallet_signs_from_the_typed_data_json_is_what_the_node_checks() -> None:
    """`eth_signTypedData_v4` over `typed_data_json` (the nonce as 0x hex) recovers to the same signer."""
    request = _request()
    signed = Account.sign_message(encode_typed_data(full_message=typed_data_json(request)), KEY)
    assert recover_key_request(request, bytes(signed.signature)) == (ADDRESS, public_key_of(KEY))


@pytest.mark.parametrize(
    "change",
    [
        {"chain_id": 1},
        {"licensing": "0x" + "5f" * 20},
        {"licence_id": 8},
        {"asset_id": 4},
        {"manifest": MANIFEST[:-1] + "a"},
        {"expires_at": NOW + 301},
        {"nonce": bytes(32)},
    ],
    ids=lambda c: next(iter(c)),
)
def test_a_signature_binds_every_field(change: dict[str, object]) -> None:
    signature = sign_key_request(_request(), KEY)
    recovered = recover_key_request(_request(**change), signature)
    assert recovered is None or recovered[0] != ADDRESS


@pytest.mark.parametrize(
    "signature",
    [b"", bytes(64), bytes(66), bytes(65), b"\x01" * 64 + b"\x05", b"\xff" * 64 + b"\x1b"],
    ids=["empty", "short", "long", "zero", "bad-v", "not-a-point"],
)
def test_signatures_that_recover_nothing(signature: bytes) -> None:
    assert recover_key_request(_request(), signature) is None


@settings(max_examples=15, deadline=None)
@given(
    key=st.integers(1, 2**255).map(lambda k: k.to_bytes(32, "big")),
    licence=st.integers(0, 2**256 - 1),
    expires=st.integers(0, 2**64),
)
def test_any_request_recovers_to_its_signer(key: bytes, licence: int, expires: int) -> None:
    request = _request(licence_id=licence, expires_at=expires, nonce=os.urandom(32))
    recovered = recover_key_request(request, sign_key_request(request, key))
    assert recovered == (Account.from_key(key).address, public_key_of(key))


def test_a_request_round_trips_through_json_and_refuses_anything_else() -> None:
    request = _request()
    assert KeyRequest.from_json(request.to_json()) == request
    good = request.to_json()
    for bad in (
        None,
        [],
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "nonce"},
        {**good, "licence_id": True},
        {**good, "licence_id": "7"},
        {**good, "licence_id": -1},
        {**good, "asset_id": 2**256},
        {**good, "licensing": "0x1234"},
        {**good, "manifest": "Qm" + "a" * 44},
        {**good, "manifest": "b" + "a" * 300},
        {**good, "nonce": "0x" + "AB" * 32},
        {**good, "nonce": "0x" + "ab" * 31},
    ):
        with pytest.raises(KeyRequestRefused) as refused:
            KeyRequest.from_json(bad)
        assert refused.value.reason == "key_request_malformed" and refused.value.status == 400


def test_a_request_is_used_before_it_expires_and_never_claims_long_validity() -> None:
    check_fresh(_request(expires_at=NOW + 1), NOW)
    check_fresh(_request(expires_at=NOW + MAX_LIFETIME + CLOCK_SKEW), NOW)
    for expires in (NOW, NOW - 1, 0, NOW + MAX_LIFETIME + CLOCK_SKEW + 1, 2**255):
        with pytest.raises(KeyRequestRefused) as refused:
            check_fresh(_request(expires_at=expires), NOW)
        assert refused.value.reason == "key_request_expired"


def test_a_request_is_for_one_chain_and_one_licensing_contract() -> None:
    check_same(_request(), 31337, LICENSING.upper().replace("0X", "0x"))
    for chain, contract in ((1, LICENSING), (31337, "0x" + "11" * 20)):
        with pytest.raises(KeyRequestRefused) as refused:
            check_same(_request(), chain, contract)
        assert refused.value.reason == "key_request_wrong_chain"


def test_every_refusal_has_a_client_error_status() -> None:
    assert all(400 <= status < 500 for status, _ in KEY_REFUSALS.values())
    for code in ("licence_expired", "licence_revoked", "not_licence_holder", "compute_only", "bad_signature"):
        assert code in KEY_REFUSALS


def test_a_request_is_answered_once_even_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "used.sqlite3"
    used = UsedKeyRequests(path)
    nonce = os.urandom(32)
    assert used.use(ADDRESS, nonce, NOW + 300, NOW)
    assert not used.use(ADDRESS, nonce, NOW + 300, NOW)
    assert not used.use(ADDRESS.lower(), nonce, NOW + 300, NOW)
    assert used.use("0x" + "22" * 20, nonce, NOW + 300, NOW)  # another signer's nonce is its own
    used.close()
    again = UsedKeyRequests(path)
    try:
        assert not again.use(ADDRESS, nonce, NOW + 300, NOW + 10)
        # once expired it is forgotten (its request is refused for its expiry before this is asked)
        assert again.use(ADDRESS, nonce, NOW + 900, NOW + 301)
    finally:
        again.close()
