"""A local anvil is a development chain whatever its chain id; a node that is not anvil never is.

Each test starts its own anvil (`running_anvil` in tests/conftest.py, with the arguments it needs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from proofwork.chain.client import Chain
from proofwork.chain.devnets import ANVIL_DEV_KEYS
from proofwork.domain.errors import NotAllowed
from proofwork.keys.accounts import address_of
from proofwork.sdk import Proofwork
from tests.conftest import ANVIL, masked_node, running_anvil

HOUR = 3600
# a mnemonic other than anvil's default: its accounts are none of the well-known dev keys
OTHER_MNEMONIC = (
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
)


def test_anvil_with_another_chain_id_is_a_dev_chain(tmp_path: Path) -> None:
    """`anvil --chain-id 4242`: dev accounts, funding and the clock, as with the default 31337."""
    with running_anvil(ANVIL, "--chain-id", "4242") as url:
        with Chain.connect(url) as chain:
            assert chain.chain_id == 4242 and chain.is_local
            assert chain.dev_keys == list(ANVIL_DEV_KEYS)
            before = chain.now()
            assert chain.advance_time(HOUR) >= before + HOUR
        with Proofwork.open(tmp_path / "pw", url) as pw:
            pw.deploy("dev0")
            newcomer = "0x" + "5e" * 20
            pw.fund(newcomer, pw.amount("250"))
            assert pw.balance(newcomer) == pw.amount("250")
            before = pw.now()
            assert pw.advance_time(2 * HOUR) >= before + 2 * HOUR


def test_anvil_with_its_own_mnemonic_has_a_clock_but_no_known_dev_accounts() -> None:
    with (
        running_anvil(ANVIL, "--chain-id", "77", "--mnemonic", OTHER_MNEMONIC) as url,
        Chain.connect(url) as chain,
    ):
        assert chain.is_local and chain.dev_keys == []
        held = {a.lower() for a in chain.web3.eth.accounts}
        assert held and not held & {address_of(k).lower() for k in ANVIL_DEV_KEYS}
        before = chain.now()
        assert chain.advance_time(HOUR) >= before + HOUR


@pytest.mark.parametrize(
    "client_version",
    [None, "Geth/v1.14.12-stable/linux-amd64/go1.23.4"],
    ids=["calls-itself-anvil", "geth"],
)
def test_a_node_without_anvil_methods_is_not_a_dev_chain(client_version: str | None) -> None:
    """Not even on anvil's default chain id, nor when it calls itself anvil without answering anvil_ methods."""
    with (
        running_anvil(ANVIL) as upstream,
        masked_node(upstream, client_version) as url,
        Chain.connect(url) as chain,
    ):
        assert chain.chain_id == 31337
        assert ("anvil" in str(chain.web3.client_version)) == (client_version is None)
        assert not chain.is_local and chain.dev_keys == []
        with pytest.raises(NotAllowed, match="local development chain"):
            chain.advance_time(HOUR)
        assert chain.block_number() == 0  # the EVM behind it answers everything else
