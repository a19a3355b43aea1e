"""The command line on a node that mines on a clock (anvil deployed with automine, then blocks on an
interval): what happened to a transaction is said on stderr, two `proofwork` processes funding with one
key at once both land, and a fee cap below the chain's base fee is one line with nothing sent."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from web3 import Web3

from proofwork.chain.devnets import ANVIL_DEV_KEYS
from proofwork.keys.accounts import address_of
from tests.conftest import ANVIL, running_anvil
from tests.e2e.conftest import Cli

pytestmark = pytest.mark.anvil

ETH = 10**18
DEV0 = Web3.to_checksum_address(address_of(ANVIL_DEV_KEYS[0]))


@pytest.fixture
def deployed_on_anvil(cli: Cli) -> Iterator[tuple[Cli, Web3, list[str]]]:
    """proofwork deployed on a fresh anvil (automine), which then mines a block every `block_time`
    seconds set by the test (`evm_setIntervalMining`)."""
    with running_anvil(ANVIL) as url:
        rpc = ["--rpc-url", url]
        cli.ok("deploy", *rpc)
        web3 = Web3(Web3.HTTPProvider(url))
        yield cli, web3, rpc


def interval_mining(web3: Web3, seconds: int) -> None:
    for method, params in (("evm_setAutomine", [False]), ("evm_setIntervalMining", [seconds])):
        answer = web3.provider.make_request(method, params)  # type: ignore[arg-type]
        assert "error" not in answer, answer


def newcomer(i: int) -> str:
    return Web3.to_checksum_address(f"0x{0xFEE0000 + i:040x}")


def test_a_replaced_transaction_is_told_on_stderr_and_paid_once(
    deployed_on_anvil: tuple[Cli, Web3, list[str]],
) -> None:
    cli, web3, rpc = deployed_on_anvil
    interval_mining(web3, 2)
    to = newcomer(1)
    result = cli.ok(
        "account", "fund", to, "--amount", "7", "--eth", "0.5", *rpc, "--json",
        env={"PROOFWORK_TX_REPLACE_AFTER": "0.6"},
    )  # fmt: skip
    notes = [line for line in result.err.splitlines() if line.startswith("note: ")]
    assert any("not mined after 0.6 s: replaced by" in n for n in notes), result.err
    assert any("mined: its last version" in n or "mined: an earlier version" in n for n in notes)
    assert result.json()["tokens"] == "7"
    assert web3.eth.get_balance(to) == ETH // 2


def test_two_processes_funding_with_one_key_at_once_both_land(
    deployed_on_anvil: tuple[Cli, Web3, list[str]],
) -> None:
    """`account fund` mints from the deployer and sends gas money from dev0: the same key in both."""
    cli, web3, rpc = deployed_on_anvil
    interval_mining(web3, 1)
    nonce_before = web3.eth.get_transaction_count(DEV0)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "proofwork",
                "account",
                "fund",
                newcomer(10 + i),
                "--amount",
                "3",
                "--eth",
                "0.25",
                *rpc,
                "--json",
            ],
            env={**cli.env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert web3.eth.get_transaction_count(DEV0) == nonce_before + 4  # 2 mints and 2 payments, once each
    for i in range(2):
        assert web3.eth.get_balance(newcomer(10 + i)) == ETH // 4
        shown = cli.ok("account", "fund", newcomer(10 + i), "--amount", "0", "--eth", "0", *rpc, "--json")
        assert shown.json()["tokens"] == "3"


def test_a_fee_cap_below_the_base_fee_is_one_line_and_nothing_is_sent(
    deployed_on_anvil: tuple[Cli, Web3, list[str]],
) -> None:
    cli, web3, rpc = deployed_on_anvil
    nonce_before = web3.eth.get_transaction_count(DEV0)
    result = cli.fails(
        "account", "fund", newcomer(20), *rpc,
        env={"PROOFWORK_MAX_FEE_GWEI": "0.000000001"},
        match="above the fee cap of 0.000000001 gwei (PROOFWORK_MAX_FEE_GWEI): nothing sent",
    )  # fmt: skip
    assert result.code == 1
    assert web3.eth.get_transaction_count(DEV0) == nonce_before
    assert web3.eth.get_balance(newcomer(20)) == 0
