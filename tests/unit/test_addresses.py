from __future__ import annotations

import pytest

from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import InvalidInput

GOOD = "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"


def test_checksummed_lowercase_and_uppercase_are_accepted() -> None:
    assert parse_address(GOOD) == GOOD
    assert parse_address(GOOD.lower()) == GOOD
    assert parse_address("0x" + GOOD[2:].upper()) == GOOD


@pytest.mark.parametrize(
    "bad", ["0x123", "6813Eb9362372EEF6200f3b1dbC3f819671cBA69", "0x" + "g" * 40, "", "0x" + "1" * 41]
)
def test_malformed_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="expected 0x followed by 40"):
        parse_address(bad)


def test_a_wrong_eip55_checksum_is_refused() -> None:
    typo = GOOD.replace("E", "e", 1)
    with pytest.raises(InvalidInput, match="checksum"):
        parse_address(typo, "freelancer")
