"""Sealing hidden labels to the oracle committee: only recipients open it; tampering is caught."""

from __future__ import annotations

import json
import os

import pytest

from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.identity.sealing import (
    address_of_public_key,
    open_sealed,
    public_key_of,
    recipient,
    recipients_of,
    seal,
)


def _keys(n: int) -> list[bytes]:
    return [os.urandom(31) + bytes([i + 1]) for i in range(n)]


def test_every_recipient_opens_and_nobody_else() -> None:
    keys = _keys(4)
    payload = b"label\n1\n0\n" * 1000
    envelope = seal(payload, [recipient(public_key_of(k)) for k in keys])
    assert payload not in envelope
    for key in keys:
        assert open_sealed(envelope, key) == payload
    with pytest.raises(NotAllowed, match="not sealed to"):
        open_sealed(envelope, _keys(1)[0])
    assert len(recipients_of(envelope)) == 4


def test_address_matches_eth_account() -> None:
    from eth_account import Account

    key = _keys(1)[0]
    assert address_of_public_key(public_key_of(key)) == Account.from_key(key).address


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "wrapped_key"])
def test_tampering_is_detected(field: str) -> None:
    key = _keys(1)[0]
    data = json.loads(seal(b"secret labels", [recipient(public_key_of(key))]))
    target = data["recipients"][0] if field == "wrapped_key" else data
    raw = bytearray(__import__("base64").b64decode(target[field]))
    raw[0] ^= 1
    target[field] = __import__("base64").b64encode(bytes(raw)).decode()
    with pytest.raises(InvalidInput, match="tampered"):
        open_sealed(json.dumps(data).encode(), key)


@pytest.mark.parametrize("envelope", [b"", b"not json", b"[]", b'{"scheme": "rot13", "version": 1}'])
def test_garbage_envelopes_are_refused(envelope: bytes) -> None:
    with pytest.raises(InvalidInput, match="sealed envelope"):
        open_sealed(envelope, _keys(1)[0])


def test_bad_public_keys_are_refused() -> None:
    with pytest.raises(InvalidInput):
        recipient(b"\x01" * 64)
    with pytest.raises(InvalidInput):
        recipient(b"\x01" * 10)
    with pytest.raises(InvalidInput, match="at least one"):
        seal(b"x", [])
