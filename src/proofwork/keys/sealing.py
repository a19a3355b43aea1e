"""Seal a file to several secp256k1 keys (the oracle committee), open it with one of them.

Hidden test labels (and competition submissions) are sealed so that only the committee's
oracles can read them, while the sealed envelope itself is a public artifact.

Scheme (ECIES, one envelope for many recipients):
- a random 256-bit content key encrypts the payload with AES-256-GCM;
- for each recipient, a fresh ephemeral key pair does ECDH with the recipient's public key;
  HKDF-SHA256 over the shared secret (salted with both public keys) gives a key-encryption key
  that wraps the content key with AES-256-GCM, bound to the recipient's address.
The recipients' keys are the oracles' Ethereum keys, whose public halves the committee
contract publishes (and checks against their addresses).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey, PublicKey
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_utils import keccak, to_checksum_address

from proofwork.domain.errors import InvalidInput, NotAllowed
from proofwork.domain.jsonsafe import safe_json_loads

SCHEME = "ecies-secp256k1-hkdf-sha256-aes256gcm"
_INFO = b"proofwork sealed envelope v1"
MAX_RECIPIENTS = 64
# an envelope is a flat JSON object holding a list of flat objects: three levels deep
MAX_ENVELOPE_DEPTH = 8
# base64 of the largest payload sealed (submissions, labels: ~1 GiB), with room for the recipients
MAX_ENVELOPE_BYTES = 1536 * 1024 * 1024


@dataclass(frozen=True)
class Recipient:
    address: str
    public_key: bytes  # 64 bytes: uncompressed point without the 0x04 prefix


def public_key_of(private_key: bytes) -> bytes:
    """The 64-byte uncompressed public key (no prefix) of a secp256k1 private key."""
    return PrivateKey(private_key).public_key.format(compressed=False)[1:]


def address_of_public_key(public_key: bytes) -> str:
    if len(public_key) != 64:
        raise InvalidInput("a public key must be 64 bytes (uncompressed, without the 0x04 prefix)")
    return to_checksum_address(keccak(public_key)[12:])


def recipient(public_key: bytes) -> Recipient:
    """A recipient from a published public key; refuses points not on the curve."""
    if len(public_key) == 0:
        raise InvalidInput("the oracle has not published its key")
    try:
        PublicKey(b"\x04" + public_key)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("the public key is not a valid secp256k1 point") from exc
    return Recipient(address_of_public_key(public_key), public_key)


def _kek(shared: bytes, ephemeral: bytes, recipient_key: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient_key, info=_INFO)
    return hkdf.derive(shared)


def _ecdh(private: PrivateKey, public_key: bytes) -> bytes:
    # coincurve's ecdh: sha256 of the compressed shared point (libsecp256k1's default)
    return private.ecdh(b"\x04" + public_key)


def seal(payload: bytes, recipients: list[Recipient]) -> bytes:
    """A JSON envelope readable by each recipient's private key and nobody else."""
    if not recipients:
        raise InvalidInput("sealing needs at least one recipient")
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidInput(f"at most {MAX_RECIPIENTS} recipients")
    content_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    ciphertext = AESGCM(content_key).encrypt(nonce, payload, _INFO)
    wrapped = []
    for r in recipients:
        ephemeral = PrivateKey()
        ephemeral_public = ephemeral.public_key.format(compressed=False)[1:]
        kek = _kek(_ecdh(ephemeral, r.public_key), ephemeral_public, r.public_key)
        wrap_nonce = os.urandom(12)
        wrapped.append(
            {
                "address": r.address,
                "ephemeral_public_key": ephemeral_public.hex(),
                "nonce": _b64(wrap_nonce),
                "wrapped_key": _b64(AESGCM(kek).encrypt(wrap_nonce, content_key, r.address.lower().encode())),
            }
        )
    envelope = {
        "version": 1,
        "scheme": SCHEME,
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
        "recipients": wrapped,
    }
    return json.dumps(envelope, sort_keys=True).encode()


def recipients_of(envelope: bytes) -> list[str]:
    """The addresses an envelope was sealed to."""
    return [str(entry["address"]) for entry in _parse(envelope)["recipients"]]


def open_sealed(envelope: bytes, private_key: bytes) -> bytes:
    """The payload, if `private_key` is one of the recipients; a clear error otherwise."""
    data = _parse(envelope)
    me = PrivateKey(private_key)
    my_public = me.public_key.format(compressed=False)[1:]
    my_address = address_of_public_key(my_public).lower()
    entry = next((e for e in data["recipients"] if str(e.get("address", "")).lower() == my_address), None)
    if entry is None:
        raise NotAllowed(f"the envelope is not sealed to {to_checksum_address(my_address)}")
    try:
        ephemeral_public = bytes.fromhex(entry["ephemeral_public_key"])
        kek = _kek(_ecdh(me, ephemeral_public), ephemeral_public, my_public)
        content_key = AESGCM(kek).decrypt(
            _unb64(entry["nonce"]), _unb64(entry["wrapped_key"]), my_address.encode()
        )
        return AESGCM(content_key).decrypt(_unb64(data["nonce"]), _unb64(data["ciphertext"]), _INFO)
    except (InvalidTag, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput("the sealed envelope was tampered with or is damaged") from exc


def _parse(envelope: bytes) -> dict[str, Any]:
    try:
        data = safe_json_loads(envelope, max_bytes=MAX_ENVELOPE_BYTES, max_depth=MAX_ENVELOPE_DEPTH)
    except InvalidInput as exc:
        raise InvalidInput(f"not a sealed envelope ({exc})") from exc
    if not isinstance(data, dict) or data.get("scheme") != SCHEME or data.get("version") != 1:
        raise InvalidInput(f"not a sealed envelope (expected scheme {SCHEME} version 1)")
    recipients = data.get("recipients")
    if not isinstance(recipients, list) or not all(isinstance(e, dict) for e in recipients):
        raise InvalidInput("the sealed envelope has no recipient list")
    return data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text, validate=True)
