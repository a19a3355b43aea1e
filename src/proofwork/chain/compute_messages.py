"""Compute-to-data's EIP-712 messages: the licence holder's `ComputeRequest` and the owner's `ComputeResult`.

Both are signed under the domain ("proofwork compute-to-data", "1", chain id, the `Licensing` contract):
a request or a result for one chain or one deployment means nothing on another. The request carries a
random nonce and an expiry (the node keeps the hashes it served until then: no replay); the result
names the request's hash, so it answers that request only.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import _hash_eip191_message

from proofwork.chain.events import typed_data

DOMAIN = ("proofwork compute-to-data", "1")
MAX_STRING_BYTES = 4096
REQUEST_FIELDS = [
    {"name": "licenceId", "type": "uint256"},
    {"name": "task", "type": "string"},
    {"name": "modelCid", "type": "string"},
    {"name": "params", "type": "string"},
    {"name": "nonce", "type": "bytes32"},
    {"name": "expiresAt", "type": "uint256"},
]
RESULT_FIELDS = [
    {"name": "licenceId", "type": "uint256"},
    {"name": "assetId", "type": "uint256"},
    {"name": "dataset", "type": "string"},
    {"name": "request", "type": "bytes32"},
    {"name": "task", "type": "string"},
    {"name": "model", "type": "string"},
    {"name": "modelSha256", "type": "bytes32"},
    {"name": "metric", "type": "string"},
    {"name": "score", "type": "int256"},
    {"name": "rows", "type": "uint256"},
]
_RANGES = {"uint256": (0, 2**256), "int256": (-(2**255), 2**255)}


def _well_formed(fields: list[dict[str, str]], message: Any) -> bool:
    """Exactly the fields, each of its exact type (no padded hash, no out-of-range number, bounded text)."""
    if not isinstance(message, dict) or set(message) != {f["name"] for f in fields}:
        return False
    for field in fields:
        value, kind = message[field["name"]], field["type"]
        if kind == "bytes32":
            ok = isinstance(value, bytes) and len(value) == 32
        elif kind == "string":
            ok = isinstance(value, str) and len(value.encode("utf-8", "replace")) <= MAX_STRING_BYTES
        else:
            low, high = _RANGES[kind]
            ok = isinstance(value, int) and not isinstance(value, bool) and low <= value < high
        if not ok:
            return False
    return True


def _typed(chain_id: int, licensing: str, primary: str, message: dict[str, Any]) -> Any:
    fields = REQUEST_FIELDS if primary == "ComputeRequest" else RESULT_FIELDS
    if not _well_formed(fields, message):
        raise ValueError(f"a malformed {primary}")
    return typed_data((DOMAIN[0], DOMAIN[1], chain_id, licensing), primary, fields, message)


def message_hash(chain_id: int, licensing: str, primary: str, message: dict[str, Any]) -> bytes:
    """The EIP-712 digest that is signed (ValueError for a malformed message)."""
    return bytes(_hash_eip191_message(_typed(chain_id, licensing, primary, message)))


def sign(key: bytes, chain_id: int, licensing: str, primary: str, message: dict[str, Any]) -> bytes:
    return bytes(Account.sign_message(_typed(chain_id, licensing, primary, message), key).signature)


def signer(
    chain_id: int, licensing: str, primary: str, message: dict[str, Any], signature: bytes
) -> str | None:
    """The address that signed, or None when the message or the signature is malformed."""
    try:
        return str(
            Account.recover_message(_typed(chain_id, licensing, primary, message), signature=signature)
        )
    except Exception:  # eth_keys' BadSignature and ValidationError, eth_abi's EncodingError, ValueError...
        return None
