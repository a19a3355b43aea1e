"""Argument checks every command group shares, made before any chain is opened."""

from __future__ import annotations

from proofwork.domain.errors import InvalidInput

MAX_ID = 2**256


def milestone_index(number: int) -> int:
    """`--milestone N` (numbered from 1 on the command line) -> the contracts' index (from 0)."""
    if number < 1:
        raise InvalidInput(f"invalid milestone {number}: milestones are numbered from 1")
    return number - 1


def uint_id(value: int, what: str = "job id", lowest: int = 0) -> int:
    """An id as the contracts hold it (uint256); typer accepts any integer."""
    if not lowest <= value < MAX_ID:
        shown = str(value) if len(str(value)) <= 30 else str(value)[:27] + "..."
        raise InvalidInput(f"invalid {what} {shown}: ids are whole numbers from {lowest} to 2^256 - 1")
    return value


def hash32(text: str, what: str) -> bytes:
    """A 32-byte hash given as 64 hexadecimal digits (0x optional)."""
    digits = text.strip().removeprefix("0x")
    if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise InvalidInput(f"invalid {what} hash: expected 32 bytes as 64 hexadecimal digits")
    return bytes.fromhex(digits)
