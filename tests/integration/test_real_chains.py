"""Transactions on a node that does not mine at once: anvil with automine off (`--no-mining`, blocks on
demand or on an interval, `--block-time`), a base-fee spike, a dropped transaction, and two processes
sending with one key at once. Every intended transaction lands exactly once; nothing is paid twice.

Each test starts its own anvil (`running_anvil`); the sender's policy uses short timeouts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from proofwork.chain.client import Chain
from proofwork.chain.devnets import ANVIL_DEV_KEYS
from proofwork.chain.fees import GWEI, SendPolicy
from proofwork.chain.receipts import Receipt
from proofwork.domain.errors import ChainUnavailable
from proofwork.keys.accounts import address_of
from tests.conftest import ANVIL, ROOT, running_anvil

pytestmark = pytest.mark.anvil

KEY = ANVIL_DEV_KEYS[3]
SENDER = Web3.to_checksum_address(address_of(KEY))
HERE = Path(__file__).resolve().parent


def rpc(web3: Web3, method: str, *params: Any) -> Any:
    answer = web3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in answer, answer
    return answer["result"]


def recipient(i: int) -> str:
    return Web3.to_checksum_address(f"0x{0xA11CE0000 + i:040x}")


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Background:
    """`send_eth` in a thread (it blocks until mined), with its receipt or error kept."""

    def __init__(self, chain: Chain, to: str, value: int) -> None:
        self.receipt: Receipt | None = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.receipt = chain.send_eth(KEY, to, value)
            except BaseException as exc:
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def result(self, timeout: float = 60.0) -> Receipt:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the send did not return"
        if self.error is not None:
            raise self.error
        assert self.receipt is not None
        return self.receipt


@contextmanager
def node(*anvil_args: str, policy: SendPolicy, nonce_dir: Path) -> Iterator[tuple[Chain, Web3, list[str]]]:
    """A fresh anvil, the chain the sender uses, a separate web3 for the test to drive the node, the notes."""
    notes: list[str] = []
    with (
        running_anvil(ANVIL, *anvil_args) as url,
        Chain.connect(url, policy=policy, nonce_dir=nonce_dir, notify=notes.append) as chain,
    ):
        yield chain, Web3(Web3.HTTPProvider(url)), notes


def pooled_hashes(web3: Web3) -> list[str]:
    pending = rpc(web3, "txpool_content")["pending"]
    return [tx["hash"] for by_nonce in pending.values() for tx in by_nonce.values()]


def sender_transactions(web3: Web3) -> list[dict[str, Any]]:
    """Every mined transaction from SENDER, in order."""
    found = []
    for number in range(web3.eth.block_number + 1):
        for tx in web3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == SENDER:  # type: ignore[index]
                found.append(dict(tx))  # type: ignore[arg-type]
    return found


def paid_for_gas(web3: Web3, hashes: list[str]) -> int:
    total = 0
    for tx_hash in hashes:
        receipt = web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        total += int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
    return total


def test_a_stuck_transaction_is_replaced_with_higher_fees_and_lands_once(tmp_path: Path) -> None:
    policy = SendPolicy(replace_after=1.0, max_wait=60.0)
    with node("--no-mining", policy=policy, nonce_dir=tmp_path) as (chain, web3, notes):
        before = chain.eth_balance(SENDER)
        sending = Background(chain, recipient(1), 12_345)
        first = wait_for(lambda: pooled_hashes(web3), what="the transaction in the pool")[0]
        wait_for(lambda: any("replaced by" in n for n in notes), what="a replacement")
        replacement = pooled_hashes(web3)
        assert len(replacement) == 1 and replacement[0] != first  # the pool holds only the replacement
        rpc(web3, "evm_mine")
        receipt = sending.result()
        assert receipt.tx_hash == replacement[0]
        assert notes[0].startswith(f"transaction {first} (nonce 0) not mined after 1 s: replaced by")
        mined = sender_transactions(web3)
        assert [tx["nonce"] for tx in mined] == [0] and mined[0]["to"] == recipient(1)
        assert int(mined[0]["maxFeePerGas"]) >= int(2 * GWEI * 1.125)  # 2 x 1 gwei base + tip, then +12.5 %
        assert chain.eth_balance(recipient(1)) == 12_345
        assert chain.eth_balance(SENDER) == before - 12_345 - paid_for_gas(web3, [receipt.tx_hash])


def test_a_base_fee_spike_prices_the_transaction_out_and_it_is_sent_again_at_the_new_price(
    tmp_path: Path,
) -> None:
    """Blocks every second; the next block's base fee jumps from 1 to 100 gwei: anvil evicts the
    transaction offered at 2 x 1 gwei + tip, and the sender sends it again at what the chain asks."""
    policy = SendPolicy(max_fee_per_gas=1_000 * GWEI, replace_after=5.0, max_wait=60.0)
    with node("--no-mining", policy=policy, nonce_dir=tmp_path) as (chain, web3, notes):
        before = chain.eth_balance(SENDER)
        sending = Background(chain, recipient(2), 777)
        first = wait_for(lambda: pooled_hashes(web3), what="the transaction in the pool")[0]
        rpc(web3, "anvil_setNextBlockBaseFeePerGas", hex(100 * GWEI))
        rpc(web3, "evm_setIntervalMining", 1)
        receipt = sending.result()
        assert receipt.tx_hash != first
        assert any(
            f"transaction {first} (nonce 0) was dropped by the node: sent again as" in n for n in notes
        )
        block = web3.eth.get_block(receipt.block_number)
        assert int(block["baseFeePerGas"]) > 50 * GWEI  # mined after the spike, at its price
        assert [tx["nonce"] for tx in sender_transactions(web3)] == [0]
        assert chain.eth_balance(recipient(2)) == 777
        assert chain.eth_balance(SENDER) == before - 777 - paid_for_gas(web3, [receipt.tx_hash])


def test_a_spike_above_the_cap_is_waited_out_then_given_up_with_nothing_paid(tmp_path: Path) -> None:
    policy = SendPolicy(max_fee_per_gas=20 * GWEI, replace_after=1.0, max_wait=4.0)
    with node("--no-mining", policy=policy, nonce_dir=tmp_path) as (chain, web3, notes):
        before = chain.eth_balance(SENDER)
        sending = Background(chain, recipient(3), 5)
        wait_for(lambda: pooled_hashes(web3), what="the transaction in the pool")
        rpc(web3, "anvil_setNextBlockBaseFeePerGas", hex(100 * GWEI))
        rpc(web3, "evm_mine")  # evicted: its fee cap is below the base fee
        with pytest.raises(ChainUnavailable, match=r"was not mined within 4 s \(PROOFWORK_TX_MAX_WAIT\)"):
            sending.result()
        assert chain.eth_balance(SENDER) == before and chain.eth_balance(recipient(3)) == 0
        assert any("refused it again (max fee per gas less than block base fee)" in n for n in notes), notes
        # a new transaction is refused before anything is sent, in one line
        with pytest.raises(Exception, match=r"above the fee cap of 20 gwei \(PROOFWORK_MAX_FEE_GWEI\)"):
            chain.send_eth(KEY, recipient(3), 5)


def test_a_dropped_transaction_is_sent_again_and_lands_once(tmp_path: Path) -> None:
    policy = SendPolicy(replace_after=30.0, max_wait=60.0)
    with node("--no-mining", policy=policy, nonce_dir=tmp_path) as (chain, web3, notes):
        before = chain.eth_balance(SENDER)
        sending = Background(chain, recipient(4), 4_242)
        first = wait_for(lambda: pooled_hashes(web3), what="the transaction in the pool")[0]
        assert rpc(web3, "anvil_dropTransaction", first) == first
        assert pooled_hashes(web3) == []
        wait_for(lambda: pooled_hashes(web3), what="the transaction sent again")
        rpc(web3, "evm_mine")
        receipt = sending.result()
        assert receipt.tx_hash == first  # the same signed bytes, sent again
        assert notes[0] == f"transaction {first} (nonce 0) was dropped by the node: sent again"
        assert [tx["nonce"] for tx in sender_transactions(web3)] == [0]
        assert chain.eth_balance(recipient(4)) == 4_242
        assert chain.eth_balance(SENDER) == before - 4_242 - paid_for_gas(web3, [receipt.tx_hash])


def test_two_processes_sending_with_one_key_at_once_each_land_once(tmp_path: Path) -> None:
    """Blocks every second; two processes each send 4 payments with the same key, starting together:
    8 nonces, 8 transactions, every recipient paid once, the sender charged exactly values plus gas."""
    per_process, value = 4, 1_000_003
    with running_anvil(ANVIL, "--block-time", "1") as url:
        web3 = Web3(Web3.HTTPProvider(url))
        before = web3.eth.get_balance(SENDER)
        go = tmp_path / "go"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(HERE / "send_with_one_key.py"),
                    url,
                    str(tmp_path / "nonces"),
                    KEY.hex(),
                    str(go),
                    str(value),
                    *(recipient(10 * p + i) for i in range(per_process)),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for p in (1, 2)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", proc.stderr
        go.touch()
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            outputs.append(json.loads(out.strip().splitlines()[-1]))
        sent = [s for o in outputs for s in o["sent"]]
        hashes = [s["hash"] for s in sent]
        assert len(set(hashes)) == 2 * per_process
        mined = sender_transactions(web3)
        assert sorted(tx["nonce"] for tx in mined) == list(range(2 * per_process))
        assert sorted("0x" + bytes(tx["hash"]).hex() for tx in mined) == sorted(hashes)
        for p in (1, 2):
            for i in range(per_process):
                assert web3.eth.get_balance(recipient(10 * p + i)) == value
        spent = before - web3.eth.get_balance(SENDER)
        assert spent == 2 * per_process * value + paid_for_gas(web3, hashes)
        # the two really sent at the same time: each one's blocks span the other's first ones
        spans = [(min(s["block"] for s in o["sent"]), max(s["block"] for s in o["sent"])) for o in outputs]
        assert max(first for first, _ in spans) <= min(last for _, last in spans), spans
