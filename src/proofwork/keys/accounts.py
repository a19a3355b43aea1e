"""An Ethereum account's address from its private key: secp256k1 (libsecp256k1 through coincurve
when installed) and keccak, without loading eth_account or web3."""

from __future__ import annotations

from proofwork.domain.errors import InvalidInput


def address_of(key: bytes) -> str:
    """The EIP-55 checksummed address of a 32-byte secp256k1 private key."""
    from eth_keys import keys
    from eth_utils import ValidationError

    try:
        return str(keys.PrivateKey(key).public_key.to_checksum_address())
    except (ValidationError, ValueError) as exc:
        raise InvalidInput("invalid private key: out of the secp256k1 range") from exc
