"""A licence holder's key request as an EIP-712 message: signed by the holder's wallet key, and its
signer's address and public key recovered by the owner's node (to seal the asset key to).

    AssetKeyRequest(uint256 licenceId, uint256 assetId, string manifest, uint256 expiresAt, bytes32 nonce)

under the domain ("proofwork asset keys", "1", chain id, the `Licensing` contract): a request signed
for one chain or deployment is worthless on another. A wallet signs it with `eth_signTypedData_v4`
(`typed_data_json` gives the message it shows)."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from proofwork.chain import events
from proofwork.domain.asset_access import KeyRequest

DOMAIN_NAME = "proofwork asset keys"
DOMAIN_VERSION = "1"
PRIMARY = "AssetKeyRequest"
FIELDS = [
    {"name": "licenceId", "type": "uint256"},
    {"name": "assetId", "type": "uint256"},
    {"name": "manifest", "type": "string"},
    {"name": "expiresAt", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]
SIGNATURE_SIZE = 65


def typed_data_json(request: KeyRequest) -> dict[str, Any]:
    """The full EIP-712 message (as `eth_signTypedData_v4` takes it, the nonce as 0x hex)."""
    return events.typed_data_json(
        (DOMAIN_NAME, DOMAIN_VERSION, request.chain_id, to_checksum_address(request.licensing)),
        PRIMARY,
        FIELDS,
        {
            "licenceId": request.licence_id,
            "assetId": request.asset_id,
            "manifest": request.manifest,
            "expiresAt": request.expires_at,
            "nonce": "0x" + request.nonce.hex(),
        },
    )


def _signable(request: KeyRequest) -> SignableMessage:
    full = typed_data_json(request)
    full["message"]["nonce"] = request.nonce  # bytes: the encoder takes 32 bytes for a bytes32
    return encode_typed_data(full_message=full)


def sign_key_request(request: KeyRequest, key: bytes) -> bytes:
    """The holder's 65-byte signature (r, s, v) of the request."""
    return bytes(Account.sign_message(_signable(request), key).signature)


def recover_key_request(request: KeyRequest, signature: bytes) -> tuple[str, bytes] | None:
    """(checksummed address, 64-byte public key) of the request's signer; None for a signature that
    recovers to nothing (wrong length, bad v, not a point)."""
    if len(signature) != SIGNATURE_SIZE:
        return None
    v = signature[64]
    if v >= 27:
        v -= 27
    if v not in (0, 1):
        return None
    try:
        signable = _signable(request)
        digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
        public = keys.Signature(signature[:64] + bytes([v])).recover_public_key_from_msg_hash(digest)
    except Exception:  # eth_keys BadSignature / ValidationError, eth_abi EncodingError: not a signature
        return None
    return public.to_checksum_address(), public.to_bytes()
