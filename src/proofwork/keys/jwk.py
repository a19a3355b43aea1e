"""JSON Web Keys and JWS signatures for the key types credentials use.

One place that turns JWKs (RFC 7517) into `cryptography` key objects and back, computes
RFC 7638 thumbprints, and signs or verifies JWS signing inputs. Supported:
- EdDSA over Ed25519 (`kty: OKP`, `crv: Ed25519`);
- ES256K over secp256k1 (`kty: EC`, `crv: secp256k1`; RFC 8812), the wallet's own key;
- ES256 over P-256 (`kty: EC`, `crv: P-256`), verify and sign, because most other SD-JWT
  implementations default to it and their credentials must verify here.
ECDSA signatures are JWS-style: r || s, fixed width, not DER.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from proofwork.domain.errors import InvalidInput

PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey

# JWS alg -> (JWK crv, cryptography curve or None for Ed25519)
_CURVES: dict[str, tuple[str, ec.EllipticCurve | None]] = {
    "EdDSA": ("Ed25519", None),
    "ES256K": ("secp256k1", ec.SECP256K1()),
    "ES256": ("P-256", ec.SECP256R1()),
}
_ALG_OF_CRV = {crv: alg for alg, (crv, _) in _CURVES.items()}
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SUPPORTED_ALGS = frozenset(_CURVES)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; raises InvalidInput on anything else."""
    if not isinstance(text, str) or "=" in text or not text.isascii():
        raise InvalidInput("not base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("not base64url text") from exc


def _field(jwk: Mapping[str, Any], name: str, size: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"the JWK has no '{name}'")
    raw = b64url_decode(value)
    if len(raw) != size:
        raise InvalidInput(f"the JWK's '{name}' must be {size} bytes")
    return raw


def alg_of_jwk(jwk: Mapping[str, Any]) -> str:
    """The JWS algorithm a public JWK signs with; raises InvalidInput for unsupported keys."""
    if not isinstance(jwk, Mapping):
        raise InvalidInput("a JWK must be a JSON object")
    crv = jwk.get("crv")
    kty = jwk.get("kty")
    alg = _ALG_OF_CRV.get(crv) if isinstance(crv, str) else None
    if alg is None or kty != ("OKP" if alg == "EdDSA" else "EC"):
        raise InvalidInput(f"unsupported key type {kty!r}/{crv!r} (Ed25519, secp256k1 or P-256)")
    return alg


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """A public key from its JWK; refuses private members, bad sizes and points off the curve."""
    alg = alg_of_jwk(jwk)
    if "d" in jwk:
        raise InvalidInput("a public JWK must not carry the private key")
    try:
        if alg == "EdDSA":
            return Ed25519PublicKey.from_public_bytes(_field(jwk, "x", 32))
        curve = _CURVES[alg][1]
        assert curve is not None
        x = int.from_bytes(_field(jwk, "x", 32), "big")
        y = int.from_bytes(_field(jwk, "y", 32), "big")
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    except ValueError as exc:
        raise InvalidInput("the JWK's point is not on its curve") from exc


def jwk_of(key: PublicKey | PrivateKey) -> dict[str, str]:
    """The public JWK (members in RFC 7638 order) of a public or private key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey) else key
    if isinstance(public, Ed25519PublicKey):
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return {
            "crv": "Ed25519",
            "kty": "OKP",
            "x": b64url_encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)),
        }
    numbers = public.public_numbers()
    crv = {"secp256k1": "secp256k1", "secp256r1": "P-256"}.get(public.curve.name)
    if crv is None:
        raise InvalidInput(f"unsupported curve {public.curve.name}")
    return {
        "crv": crv,
        "kty": "EC",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }


def alg_of_key(key: PublicKey | PrivateKey) -> str:
    return alg_of_jwk(jwk_of(key))


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url."""
    alg = alg_of_jwk(jwk)
    members = ("crv", "kty", "x") if alg == "EdDSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "EdDSA":
        return Ed25519PrivateKey.generate()
    if alg not in _CURVES:
        raise InvalidInput(f"unsupported algorithm {alg!r} (EdDSA, ES256K or ES256)")
    curve = _CURVES[alg][1]
    assert curve is not None
    return ec.generate_private_key(curve)


def private_key_from_bytes(alg: str, raw: bytes) -> PrivateKey:
    """A private key from its 32 raw bytes (an Ethereum account key for ES256K)."""
    if len(raw) != 32:
        raise InvalidInput("a private key must be 32 bytes")
    if alg == "EdDSA":
        return Ed25519PrivateKey.from_private_bytes(raw)
    if alg not in _CURVES:
        raise InvalidInput(f"unsupported algorithm {alg!r} (EdDSA, ES256K or ES256)")
    curve = _CURVES[alg][1]
    assert curve is not None
    try:
        return ec.derive_private_key(int.from_bytes(raw, "big"), curve)
    except ValueError as exc:
        raise InvalidInput("the private key is out of range for its curve") from exc


def sign(key: PrivateKey, signing_input: bytes) -> bytes:
    """A JWS signature over `signing_input` (EdDSA, or ECDSA with SHA-256 as r || s, low-s)."""
    if isinstance(key, Ed25519PrivateKey):
        return key.sign(signing_input)
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    if key.curve.name == "secp256k1" and s > _SECP256K1_ORDER // 2:
        s = _SECP256K1_ORDER - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(key: PublicKey, alg: str, signing_input: bytes, signature: bytes) -> bool:
    """True when `signature` is `alg`'s valid JWS signature of `signing_input` under `key`."""
    try:
        if alg == "EdDSA":
            if not isinstance(key, Ed25519PublicKey):
                return False
            key.verify(signature, signing_input)
            return True
        if alg not in _CURVES or not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        if key.curve.name != _CURVES[alg][1].name or len(signature) != 64:  # type: ignore[union-attr]
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False
