"""Sealing hidden labels to the oracle committee: only recipients open it; tampering is caught."""

from __future__ import annotations

import json
import os

import pytest

from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.keys.sealing import (
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


@pytest.mark.parametrize(
    "bomb", [b"[" * 200_000, b'{"recipients": ' * 100_000, b'{"a": [[[[[[[[[[]]]]]]]]]]}']
)
def test_nested_envelopes_are_refused_before_parsing(bomb: bytes) -> None:
    # json.loads on the first two overflows the C stack once web3 raised the recursion limit
    with pytest.raises(InvalidInput, match=r"sealed envelope.*nested deeper than 8"):
        open_sealed(bomb, _keys(1)[0])
    with pytest.raises(InvalidInput, match="sealed envelope"):
        recipients_of(bomb)


def test_oversize_envelopes_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import proofwork.keys.sealing as sealing

    key = _keys(1)[0]
    envelope = seal(b"x" * 1000, [recipient(public_key_of(key))])
    monkeypatch.setattr(sealing, "MAX_ENVELOPE_BYTES", len(envelope) - 1)
    with pytest.raises(InvalidInput, match=r"sealed envelope.*larger than"):
        open_sealed(envelope, key)
    monkeypatch.setattr(sealing, "MAX_ENVELOPE_BYTES", len(envelope))
    assert open_sealed(envelope, key) == b"x" * 1000


def test_an_unpublished_key_is_named_as_such() -> None:
    with pytest.raises(InvalidInput, match="has not published its key"):
        recipient(b"")


@pytest.mark.parametrize(
    "entry",
    [
        {"address": None},
        {"address": 7, "ephemeral_public_key": 1},
        {"ephemeral_public_key": "zz", "nonce": [], "wrapped_key": {}},
    ],
)
def test_garbage_recipient_entries_are_refused(entry: dict[str, object]) -> None:
    key = _keys(1)[0]
    data = json.loads(seal(b"secret", [recipient(public_key_of(key))]))
    data["recipients"][0] = {**data["recipients"][0], **entry}
    with pytest.raises((InvalidInput, NotAllowed)):
        open_sealed(json.dumps(data).encode(), key)
