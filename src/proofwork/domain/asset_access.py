"""A licence holder's request for an asset's key (pure): what it names, its bounds, why it is refused.

The holder signs an `AssetKeyRequest` (EIP-712, `chain.asset_access`) naming the chain, the `Licensing`
contract, the licence, the asset and its manifest, an expiry and a random nonce. The owner's node
releases the key sealed to the public key recovered from the signature, after checking the licence
on chain; a request is good for `MAX_LIFETIME` seconds at most and once only (its nonce is recorded),
so a request seen by someone else cannot be replayed later, and a replay would only get a key sealed
to the holder anyway.

Refusals carry a stable code (`KEY_REFUSALS`, with the HTTP status the API answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from proofwork.domain.errors import NotAllowed

MAX_LIFETIME = 600  # seconds a signed request may stay valid
CLOCK_SKEW = 60  # seconds a client's clock may run ahead of the node's
DEFAULT_LIFETIME = 300
NONCE_SIZE = 32

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE = re.compile(r"^0x[0-9a-f]{64}$")
_CID = re.compile(r"^b[a-z2-7]{1,200}$")
_UINT256 = 2**256

# why a key request was refused: stable code -> (HTTP status, when)
KEY_REFUSALS: dict[str, tuple[int, str]] = {
    "key_request_malformed": (400, "the key request does not have the expected fields and types"),
    "key_request_wrong_chain": (400, "the key request names another chain or Licensing contract"),
    "bad_signature": (401, "the key request's signature does not recover to an account"),
    "key_request_expired": (401, "the key request has expired, or claims a validity too long"),
    "not_licence_holder": (403, "the signer does not hold the licence"),
    "licence_expired": (403, "the licence's term is over"),
    "licence_revoked": (403, "the asset's owner revoked the licence"),
    "licence_surrendered": (403, "the licence was surrendered (its token burnt)"),
    "compute_only": (403, "a compute licence never releases the data"),
    "wrong_asset": (403, "the licence is for another asset, or the request names another manifest"),
    "licence_not_found": (404, "no licence with this id"),
    "asset_key_missing": (404, "this node holds no key for the asset"),
    "not_asset_owner": (409, "the asset's owner is not an account of this node: ask the owner's node"),
    "key_request_replayed": (409, "this signed request was used before"),
}


class KeyRequestRefused(NotAllowed):
    """A key request was refused; nothing was released. `reason` is a stable code of `KEY_REFUSALS`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = KEY_REFUSALS[reason][0]


@dataclass(frozen=True)
class KeyRequest:
    """What the holder signs (the fields of the EIP-712 message and of its domain)."""

    chain_id: int
    licensing: str  # the Licensing contract: the EIP-712 domain's verifying contract
    licence_id: int
    asset_id: int
    manifest: str  # the asset's manifest CID, as registered
    expires_at: int  # unix seconds (wall clock)
    nonce: bytes  # 32 random bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "licensing": self.licensing,
            "licence_id": self.licence_id,
            "asset_id": self.asset_id,
            "manifest": self.manifest,
            "expires_at": self.expires_at,
            "nonce": "0x" + self.nonce.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> KeyRequest:
        """A request as received: exactly these fields, each of its type; else `key_request_malformed`."""
        fields = ("chain_id", "licensing", "licence_id", "asset_id", "manifest", "expires_at", "nonce")
        if not isinstance(data, dict) or set(data) != set(fields):
            raise _malformed(f"the request has exactly the fields {', '.join(fields)}")
        for name in ("chain_id", "licence_id", "asset_id", "expires_at"):
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _UINT256:
                raise _malformed(f"{name} is a whole number from 0 to 2^256 - 1")
        if not isinstance(data["licensing"], str) or not _ADDRESS.match(data["licensing"]):
            raise _malformed("licensing is a 0x address")
        if not isinstance(data["manifest"], str) or not _CID.match(data["manifest"]):
            raise _malformed("manifest is a CIDv1 in base32")
        if not isinstance(data["nonce"], str) or not _NONCE.match(data["nonce"]):
            raise _malformed("nonce is 0x and 64 lower-case hex digits")
        return cls(
            data["chain_id"],
            data["licensing"],
            data["licence_id"],
            data["asset_id"],
            data["manifest"],
            data["expires_at"],
            bytes.fromhex(data["nonce"][2:]),
        )


def _malformed(message: str) -> KeyRequestRefused:
    return KeyRequestRefused("key_request_malformed", f"malformed key request: {message}")


def check_fresh(request: KeyRequest, now: int) -> None:
    """A request is used before its expiry, and never claims more than `MAX_LIFETIME` seconds ahead."""
    if request.expires_at <= now:
        raise KeyRequestRefused(
            "key_request_expired",
            f"the key request expired {now - request.expires_at} s ago: sign a new one",
        )
    if request.expires_at > now + MAX_LIFETIME + CLOCK_SKEW:
        raise KeyRequestRefused(
            "key_request_expired",
            f"a key request may be valid for {MAX_LIFETIME} s at most; this one claims "
            f"{request.expires_at - now} s",
        )


def check_same(request: KeyRequest, chain_id: int, licensing: str) -> None:
    """The request was signed for this chain and this Licensing contract."""
    if request.chain_id != chain_id or request.licensing.lower() != licensing.lower():
        raise KeyRequestRefused(
            "key_request_wrong_chain",
            f"the request is for chain {request.chain_id}, contract {request.licensing}; this node serves "
            f"chain {chain_id}, contract {licensing}",
        )
