"""Ethereum addresses as people type them: validated, EIP-55 checksummed."""

from __future__ import annotations

import re

from eth_utils import to_checksum_address

from proofwork.domain.errors import InvalidInput

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def parse_address(text: str, what: str = "address") -> str:
    """A checksummed address; refuses malformed ones and mixed-case ones with a wrong EIP-55 checksum.

    All-lowercase and all-uppercase addresses carry no checksum (EIP-55) and are accepted.
    """
    value = str(text).strip()
    if not _ADDRESS.match(value):
        raise InvalidInput(f"invalid {what} {text!r}: expected 0x followed by 40 hexadecimal digits")
    body = value[2:]
    mixed = body != body.lower() and body != body.upper()
    checksummed = str(to_checksum_address(value))
    if mixed and checksummed != value:
        raise InvalidInput(f"invalid {what} {text!r}: wrong EIP-55 checksum (a typo?)")
    return checksummed
