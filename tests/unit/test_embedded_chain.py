"""Tests for the persistent embedded chain: real py-evm, real SQLite, real processes."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from eth_abi import abi
from eth_account import Account
from eth_typing import ChecksumAddress, HexStr
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import TxParams, Wei

import proofwork
from proofwork.chain.embedded import CHAIN_ID, DB_FILENAME, EmbeddedChain
from proofwork.domain.errors import ChainBusy, ChainUnavailable, DataDirCorrupted, InvalidInput

SRC_DIR = pathlib.Path(proofwork.__file__).resolve().parents[1]
ONE_MILLION_ETH = 10**6 * 10**18

# ---------------------------------------------------------------------------
# Hand-assembled contracts (no compiler needed)
# ---------------------------------------------------------------------------


def deploy_code(runtime: bytes) -> bytes:
    """Init code that returns `runtime` as the contract's code."""
    size = len(runtime).to_bytes(2, "big")
    # PUSH2 size, PUSH1 14, PUSH1 0, CODECOPY, PUSH2 size, PUSH1 0, RETURN  (14 bytes)
    init = b"\x61" + size + b"\x60\x0e\x60\x00\x39" + b"\x61" + size + b"\x60\x00\xf3"
    assert len(init) == 14
    return init + runtime


LOG_TOPIC = Web3.keccak(text="Logged(bytes)")
# Copies the calldata to memory and emits it as a LOG1 with topic LOG_TOPIC.
LOGGER_RUNTIME = (
    bytes.fromhex("3660006000" + "37")  # CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY
    + b"\x7f"
    + LOG_TOPIC  # PUSH32 topic
    + bytes.fromhex("366000" + "a1" + "00")  # CALLDATASIZE PUSH1 0 LOG1 STOP
)

REVERT_REASON = "escrow: not the client"
_REVERT_PAYLOAD = bytes.fromhex("08c379a0") + abi.encode(["string"], [REVERT_REASON])
# Reverts every call with Error(REVERT_REASON), as Vyper's `assert x, "reason"` does.
REVERTER_RUNTIME = (
    bytes([0x60, len(_REVERT_PAYLOAD), 0x60, 0x0C, 0x60, 0x00, 0x39])
    + bytes([0x60, len(_REVERT_PAYLOAD), 0x60, 0x00, 0xFD])
    + _REVERT_PAYLOAD
)


def not_before_runtime(deadline: int) -> bytes:
    """Reverts (no data) while block.timestamp < deadline, succeeds afterwards."""
    return (
        b"\x67"
        + deadline.to_bytes(8, "big")  # PUSH8 deadline
        + b"\x42\x10"  # TIMESTAMP LT
        + b"\x60\x0f\x57"  # PUSH1 15 JUMPI
        + b"\x00"  # STOP
        + b"\x5b\x5f\x5f\xfd"  # JUMPDEST PUSH0 PUSH0 REVERT
    )


# Returns block.timestamp.
TIMESTAMP_RUNTIME = bytes.fromhex("4260005260206000f3")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@pytest.fixture
def chain_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "chain"


@pytest.fixture
def chain(chain_dir: pathlib.Path) -> Iterator[EmbeddedChain]:
    opened = EmbeddedChain.open(chain_dir)
    try:
        yield opened
    finally:
        opened.close()


def send(
    chain: EmbeddedChain,
    *,
    to: str | None = None,
    data: bytes = b"",
    value: int = 0,
    key_index: int = 0,
    gas: int | None = None,
    nonce: int | None = None,
) -> Any:
    """Sign locally with eth-account and send raw, as proofwork does; return the receipt."""
    w3 = chain.web3
    account = Account.from_key(chain.dev_private_keys[key_index])
    tx: dict[str, Any] = {
        "from": account.address,
        "value": value,
        "data": data,
        "nonce": w3.eth.get_transaction_count(account.address) if nonce is None else nonce,
        "chainId": w3.eth.chain_id,
        "maxPriorityFeePerGas": w3.eth.max_priority_fee,
        "maxFeePerGas": w3.eth.max_priority_fee + 2 * w3.eth.get_block("latest")["baseFeePerGas"],
    }
    if to is not None:
        tx["to"] = to
    tx["gas"] = gas if gas is not None else w3.eth.estimate_gas(cast(TxParams, tx))
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=5)


def deploy(chain: EmbeddedChain, runtime: bytes) -> ChecksumAddress:
    receipt = send(chain, data=deploy_code(runtime))
    assert receipt["status"] == 1
    address = receipt["contractAddress"]
    assert chain.web3.eth.get_code(address) == runtime
    return ChecksumAddress(address)


def address_of(chain: EmbeddedChain, index: int) -> ChecksumAddress:
    return ChecksumAddress(Account.from_key(chain.dev_private_keys[index]).address)


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def wait_for_wall_clock(at_least: int) -> None:
    """Sleep until the wall clock (whole seconds) reaches `at_least`."""
    wait_until(lambda: int(time.time()) >= at_least)


def python_child(script: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(SRC_DIR))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


# ---------------------------------------------------------------------------
# Basics
# ---------------------------------------------------------------------------


def test_new_chain_has_ten_funded_dev_accounts_and_fixed_chain_id(chain: EmbeddedChain) -> None:
    w3 = chain.web3
    assert chain.chain_id == CHAIN_ID
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.eth.block_number == 0
    assert len(chain.dev_private_keys) == 10
    assert len(set(chain.dev_private_keys)) == 10
    for index in range(10):
        assert w3.eth.get_balance(address_of(chain, index)) == ONE_MILLION_ETH


def test_dev_keys_and_chain_id_are_the_same_for_every_new_directory(
    tmp_path: pathlib.Path,
) -> None:
    with EmbeddedChain.open(tmp_path / "a") as first, EmbeddedChain.open(tmp_path / "b") as second:
        assert first.dev_private_keys == second.dev_private_keys
        assert first.chain_id == second.chain_id == CHAIN_ID


def test_unsigned_send_transaction_from_dev_account_is_mined(chain: EmbeddedChain) -> None:
    w3 = chain.web3
    tx_hash = w3.eth.send_transaction(
        {"from": address_of(chain, 0), "to": address_of(chain, 1), "value": Wei(5)}
    )
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    assert w3.eth.get_balance(address_of(chain, 1)) == ONE_MILLION_ETH + 5


def test_fee_history_and_gas_price_support_eip1559_transactions(chain: EmbeddedChain) -> None:
    w3 = chain.web3
    send(chain, to=address_of(chain, 1), value=1)
    history = w3.eth.fee_history(1, "latest", [50])
    assert history["baseFeePerGas"]
    assert w3.eth.gas_price >= w3.eth.get_block("latest")["baseFeePerGas"]
    # web3 builds the fee fields itself here (fee history / max priority fee).
    account = Account.from_key(chain.dev_private_keys[0])
    tx = {
        "from": account.address,
        "to": address_of(chain, 2),
        "value": 7,
        "nonce": w3.eth.get_transaction_count(account.address),
        "chainId": w3.eth.chain_id,
        "gas": 21000,
        "maxFeePerGas": w3.eth.gas_price,
        "maxPriorityFeePerGas": w3.eth.max_priority_fee,
    }
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1


# ---------------------------------------------------------------------------
# Persistence
# ---------------------------------------------------------------------------


def test_chain_survives_close_and_reopen(chain_dir: pathlib.Path) -> None:
    with EmbeddedChain.open(chain_dir) as first:
        logger = deploy(first, LOGGER_RUNTIME)
        logged = send(first, to=logger, data=b"hello from session one")
        paid = send(first, to=address_of(first, 3), value=12345)
        expected_block_number = first.web3.eth.block_number
        expected_balances = [first.web3.eth.get_balance(address_of(first, i)) for i in range(4)]
        expected_head = first.web3.eth.get_block("latest")

    with EmbeddedChain.open(chain_dir) as second:
        w3 = second.web3
        assert w3.eth.block_number == expected_block_number
        assert w3.eth.get_block("latest")["hash"] == expected_head["hash"]
        assert [w3.eth.get_balance(address_of(second, i)) for i in range(4)] == expected_balances
        assert w3.eth.get_code(logger) == LOGGER_RUNTIME

        assert w3.eth.get_transaction_receipt(logged["transactionHash"]) == logged
        assert w3.eth.get_transaction_receipt(paid["transactionHash"]) == paid
        assert w3.eth.get_transaction(paid["transactionHash"])["value"] == 12345

        logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": logger})
        assert [bytes(log["data"]) for log in logs] == [b"hello from session one"]
        assert logs == logged["logs"]
        assert logs[0]["topics"] == [LOG_TOPIC]
        assert w3.eth.get_logs({"fromBlock": 0, "address": address_of(second, 5)}) == []
        # A filter created now sees history from the earlier session too.
        log_filter = w3.eth.filter({"fromBlock": 0, "address": logger})
        assert log_filter.get_all_entries() == logs
        log_filter.get_new_entries()  # drain (eth-tester also reports history here)

        # The chain carries on where it left off.
        later = send(second, to=logger, data=b"session two")
        assert later["blockNumber"] == expected_block_number + 1
        assert log_filter.get_new_entries() == later["logs"]
        logs = w3.eth.get_logs({"fromBlock": "earliest", "toBlock": "latest", "address": logger})
        assert [bytes(log["data"]) for log in logs] == [b"hello from session one", b"session two"]
        assert w3.eth.get_logs({"fromBlock": 0, "topics": [LOG_TOPIC]}) == logs
        assert w3.eth.get_logs({"fromBlock": 0, "topics": [LOG_TOPIC.to_0x_hex()]}) == logs
        other = Web3.keccak(text="Other()")
        assert w3.eth.get_logs({"fromBlock": 0, "topics": [other]}) == []
        assert w3.eth.get_logs({"fromBlock": 0, "topics": [[other, LOG_TOPIC]]}) == logs
        assert w3.eth.filter({"fromBlock": 0, "topics": [LOG_TOPIC]}).get_all_entries() == logs
        assert w3.eth.get_logs({"fromBlock": later["blockNumber"], "address": logger}) == later["logs"]
        assert w3.eth.get_logs({"fromBlock": 0, "toBlock": later["blockNumber"] - 1}) == logged["logs"]


OTHER_TOPIC = Web3.keccak(text="Other(bytes)")
# Emits the calldata twice: LOG1(LOG_TOPIC), then LOG2(OTHER_TOPIC, LOG_TOPIC): two logs in one transaction.
TWO_LOGS_RUNTIME = (
    bytes.fromhex("3660006000" + "37")  # CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY
    + b"\x7f"
    + LOG_TOPIC
    + bytes.fromhex("366000" + "a1")  # CALLDATASIZE PUSH1 0 LOG1
    + b"\x7f"
    + LOG_TOPIC  # topic 1
    + b"\x7f"
    + OTHER_TOPIC  # topic 0
    + bytes.fromhex("366000" + "a2" + "00")  # CALLDATASIZE PUSH1 0 LOG2 STOP
)


def _receipt_logs(w3: Web3, receipts: list[Any]) -> list[Any]:
    """The logs as the receipts tell them (read from the blocks' receipts, not from the log index)."""
    return [
        log
        for receipt in receipts
        for log in w3.eth.get_transaction_receipt(receipt["transactionHash"])["logs"]
    ]


def _block_logs(w3: Web3) -> list[Any]:
    """Every log of the chain, block by block from its receipts (as eth_getLogs read them before)."""
    logs = []
    for number in range(w3.eth.block_number + 1):
        block = w3.eth.get_block(number)
        for tx_hash in block["transactions"]:
            logs.extend(w3.eth.get_transaction_receipt(cast(Any, tx_hash))["logs"])
    return logs


def _rpc(chain: EmbeddedChain, method: str, *params: Any) -> Any:
    response = chain.web3.provider.make_request(cast(Any, method), list(params))
    assert "error" not in response, response
    return response["result"]


def test_log_index_answers_the_receipts_logs_with_every_filter(chain: EmbeddedChain) -> None:
    w3 = chain.web3
    one, two = deploy(chain, LOGGER_RUNTIME), deploy(chain, TWO_LOGS_RUNTIME)
    sent = [send(chain, to=one, data=b"a"), send(chain, to=two, data=b"bb"), send(chain, to=one, data=b"c")]
    sent.append(send(chain, to=address_of(chain, 4), value=1))  # no logs
    sent.append(send(chain, to=two, data=b"dddd"))
    everything = _receipt_logs(w3, sent)
    assert len(everything) == 6 and [log["logIndex"] for log in everything] == [0, 0, 1, 0, 0, 1]
    first, last = sent[0]["blockNumber"], sent[-1]["blockNumber"]

    assert w3.eth.get_logs({"fromBlock": 0}) == everything
    assert w3.eth.get_logs({"fromBlock": first, "toBlock": last + 100}) == everything
    assert w3.eth.get_logs({"fromBlock": last}) == everything[4:]
    assert w3.eth.get_logs({"fromBlock": first + 1, "toBlock": first + 2}) == everything[1:4]
    assert w3.eth.get_logs({"fromBlock": 0, "address": one}) == [everything[0], everything[3]]
    assert w3.eth.get_logs({"fromBlock": 0, "address": [one, two]}) == everything
    assert w3.eth.get_logs({"fromBlock": 0, "address": [two, address_of(chain, 1)]}) == [
        everything[1],
        everything[2],
        everything[4],
        everything[5],
    ]
    many = [Web3.to_checksum_address(i.to_bytes(20, "big")) for i in range(1, 600)]  # matched in Python
    assert w3.eth.get_logs({"fromBlock": 0, "address": [*many, two]}) == w3.eth.get_logs(
        {"fromBlock": 0, "address": two}
    )
    first_topic_log = [everything[i] for i in (0, 1, 3, 4)]
    assert w3.eth.get_logs({"fromBlock": 0, "topics": [LOG_TOPIC]}) == first_topic_log
    assert w3.eth.get_logs({"fromBlock": 0, "topics": [OTHER_TOPIC]}) == [everything[2], everything[5]]
    assert w3.eth.get_logs({"fromBlock": 0, "topics": [None, LOG_TOPIC]}) == [everything[2], everything[5]]
    assert w3.eth.get_logs({"fromBlock": 0, "topics": [[OTHER_TOPIC, LOG_TOPIC]]}) == everything
    assert w3.eth.get_logs({"fromBlock": 0, "topics": [LOG_TOPIC, OTHER_TOPIC]}) == []
    assert w3.eth.get_logs({"fromBlock": 0, "address": two, "topics": [LOG_TOPIC]}) == [
        everything[1],
        everything[4],
    ]
    # a filter sees history and then new blocks, from the index too
    log_filter = w3.eth.filter({"fromBlock": 0, "address": two, "topics": [OTHER_TOPIC]})
    assert log_filter.get_all_entries() == [everything[2], everything[5]]
    log_filter.get_new_entries()
    later = send(chain, to=two, data=b"e")
    assert log_filter.get_new_entries() == [later["logs"][1]]


def test_log_index_survives_a_restart_and_is_rebuilt_when_missing_or_stale(chain_dir: pathlib.Path) -> None:
    with EmbeddedChain.open(chain_dir) as first:
        logger = deploy(first, TWO_LOGS_RUNTIME)
        sent = [send(first, to=logger, data=bytes([i]) * (i + 1)) for i in range(3)]
        expected = _receipt_logs(first.web3, sent)
        assert first.web3.eth.get_logs({"fromBlock": 0}) == expected
    with EmbeddedChain.open(chain_dir) as second:
        assert second.web3.eth.get_logs({"fromBlock": 0}) == expected
        assert second.web3.eth.get_logs({"fromBlock": 0, "topics": [OTHER_TOPIC]}) == expected[1::2]
    # a chain written before the log index existed: no rows, no meta
    with sqlite3.connect(chain_dir / DB_FILENAME) as conn:
        conn.execute("DELETE FROM logs")
        conn.execute("DELETE FROM meta WHERE name = 'logs_head'")
    with EmbeddedChain.open(chain_dir) as third:
        assert third.web3.eth.get_logs({"fromBlock": 0}) == expected
    # blocks mined by a proofwork that did not keep the index: its head is not the chain's
    with sqlite3.connect(chain_dir / DB_FILENAME) as conn:
        conn.execute("DELETE FROM logs WHERE block_number = ?", (sent[1]["blockNumber"],))
        conn.execute("UPDATE meta SET value = ? WHERE name = 'logs_head'", (b"\x00" * 32,))
    with EmbeddedChain.open(chain_dir) as fourth:
        assert fourth.web3.eth.get_logs({"fromBlock": 0}) == expected
        more = send(fourth, to=logger, data=b"more")
    with EmbeddedChain.open(chain_dir) as fifth:
        assert fifth.web3.eth.get_logs({"fromBlock": 0}) == expected + _receipt_logs(fifth.web3, [more])


def test_log_index_follows_snapshot_reverts_and_abandoned_branches(chain_dir: pathlib.Path) -> None:
    with EmbeddedChain.open(chain_dir) as chain:
        w3 = chain.web3
        logger = deploy(chain, LOGGER_RUNTIME)
        kept = send(chain, to=logger, data=b"kept")
        before = _rpc(chain, "evm_snapshot")
        branch_a = [send(chain, to=logger, data=b"a1"), send(chain, to=logger, data=b"a2")]
        on_a = _rpc(chain, "evm_snapshot")
        assert [bytes(log["data"]) for log in w3.eth.get_logs({"fromBlock": 0})] == [b"kept", b"a1", b"a2"]

        _rpc(chain, "evm_revert", before)
        assert w3.eth.get_logs({"fromBlock": 0}) == kept["logs"]
        branch_b = send(chain, to=logger, data=b"b1")
        assert branch_b["blockNumber"] == branch_a[0]["blockNumber"]
        assert [bytes(log["data"]) for log in w3.eth.get_logs({"fromBlock": 0})] == [b"kept", b"b1"]

        # back to the abandoned branch: the logs are the chain's blocks' (eth-tester keeps the block
        # numbered like a1 on branch b, as eth_getBlockByNumber tells, and so did eth_getLogs before the
        # log index)
        _rpc(chain, "evm_revert", on_a)
        assert w3.eth.get_block("latest")["hash"] == branch_a[1]["blockHash"]
        on_branch_a = w3.eth.get_logs({"fromBlock": 0})
        assert on_branch_a == _block_logs(w3) and len(on_branch_a) == 3
        assert on_branch_a[-1]["blockHash"] == branch_a[1]["blockHash"]
    with EmbeddedChain.open(chain_dir) as again:
        assert again.web3.eth.get_logs({"fromBlock": 0}) == on_branch_a


def test_kill_9_while_sending_keeps_every_transaction_reported_done(
    chain_dir: pathlib.Path,
) -> None:
    EmbeddedChain.open(chain_dir).close()  # create it, so the child only sends
    child = python_child(
        """
        import pathlib, sys
        from eth_account import Account
        from proofwork.chain.embedded import EmbeddedChain

        chain = EmbeddedChain.open(pathlib.Path(sys.argv[1]))
        w3 = chain.web3
        account = Account.from_key(chain.dev_private_keys[0])
        to = Account.from_key(chain.dev_private_keys[1]).address
        nonce = w3.eth.get_transaction_count(account.address)
        base = {"to": to, "gas": 21000, "chainId": w3.eth.chain_id,
                "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
        for i in range(100000):
            tx = dict(base, value=i + 1, nonce=nonce + i)
            tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
            print(tx_hash.to_0x_hex(), flush=True)
        """,
        str(chain_dir),
    )
    reported: list[str] = []
    assert child.stdout is not None
    try:
        while len(reported) < 25:
            line = child.stdout.readline()
            assert line, f"child died early: {child.stderr.read() if child.stderr else ''}"
            reported.append(line.strip())
        child.send_signal(signal.SIGKILL)  # mid-stream: it is busy sending the next ones
        rest, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    reported += [line.strip() for line in rest.splitlines() if line.strip()]

    with EmbeddedChain.open(chain_dir, lock_timeout=5) as chain:
        w3 = chain.web3
        for tx_hash in reported:
            receipt = w3.eth.get_transaction_receipt(HexStr(tx_hash))
            assert receipt["status"] == 1
        sender = address_of(chain, 0)
        # At most one transaction was committed but not yet printed when it died.
        assert len(reported) <= w3.eth.get_transaction_count(sender) <= len(reported) + 1
        assert w3.eth.block_number == w3.eth.get_transaction_count(sender)
        # And the chain is usable afterwards.
        assert send(chain, to=address_of(chain, 2), value=1)["status"] == 1


# ---------------------------------------------------------------------------
# Locking
# ---------------------------------------------------------------------------

OPEN_AND_REPORT = """
    import json, pathlib, sys, time
    from proofwork.chain.embedded import EmbeddedChain
    print("waiting", flush=True)
    started = time.monotonic()
    try:
        chain = EmbeddedChain.open(pathlib.Path(sys.argv[1]), lock_timeout=float(sys.argv[2]))
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc),
                          "elapsed": time.monotonic() - started}), flush=True)
    else:
        print(json.dumps({"error": None, "block": chain.web3.eth.block_number,
                          "elapsed": time.monotonic() - started}), flush=True)
        chain.close()
"""


def run_opener(chain_dir: pathlib.Path, timeout: float, hold_for: float | None, holder: Any) -> Any:
    child = python_child(OPEN_AND_REPORT, str(chain_dir), str(timeout))
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "waiting"
    if hold_for is not None:
        time.sleep(hold_for)
        holder.close()
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    return json.loads(out)


def test_second_process_waits_then_gets_chain_busy(chain: EmbeddedChain) -> None:
    result = run_opener(chain.directory, timeout=0.75, hold_for=None, holder=chain)
    assert result["error"] == "ChainBusy"
    assert result["elapsed"] >= 0.7
    message = result["message"]
    assert "\n" not in message
    assert str(chain.directory) in message
    assert f"process {os.getpid()}" in message
    # The holder is unaffected.
    assert send(chain, to=address_of(chain, 1), value=1)["status"] == 1


def test_second_process_gets_the_chain_once_the_first_closes(chain_dir: pathlib.Path) -> None:
    holder = EmbeddedChain.open(chain_dir)
    send(holder, to=address_of(holder, 1), value=1)
    result = run_opener(chain_dir, timeout=30, hold_for=1.0, holder=holder)
    assert result["error"] is None
    assert result["block"] == 1
    assert result["elapsed"] >= 0.8


def test_second_open_in_same_process_is_refused_too(chain: EmbeddedChain) -> None:
    started = time.monotonic()
    with pytest.raises(ChainBusy) as excinfo:
        EmbeddedChain.open(chain.directory, lock_timeout=0.2)
    assert time.monotonic() - started >= 0.2
    assert "\n" not in str(excinfo.value)
    assert str(chain.directory) in str(excinfo.value)


def test_close_is_idempotent_releases_lock_and_refuses_further_use(
    chain_dir: pathlib.Path,
) -> None:
    chain = EmbeddedChain.open(chain_dir)
    chain.close()
    chain.close()
    with pytest.raises(ChainUnavailable, match="closed"):
        chain.web3.eth.block_number  # noqa: B018
    with pytest.raises(ChainUnavailable, match="closed"):
        chain.now()
    with EmbeddedChain.open(chain_dir, lock_timeout=0) as again:
        assert again.web3.eth.block_number == 0


# ---------------------------------------------------------------------------
# Dev clock
# ---------------------------------------------------------------------------

DAY = 24 * 60 * 60


def test_advance_time_persists_and_later_blocks_keep_the_lead(chain_dir: pathlib.Path) -> None:
    with EmbeddedChain.open(chain_dir) as chain:
        before = chain.now()
        assert abs(before - time.time()) < 5
        stamped = chain.advance_time(7 * DAY)
        assert stamped == before + 7 * DAY
        latest = chain.web3.eth.get_block("latest")
        assert latest["timestamp"] == stamped
        assert latest["transactions"] == []
        assert chain.now() >= stamped + 1

    # Let wall-clock time pass, so "one second after the last block" is no longer
    # enough: only the persisted offset keeps later blocks 7 days ahead.
    wait_for_wall_clock(stamped - 7 * DAY + 3)
    with EmbeddedChain.open(chain_dir) as chain:
        sent_at = int(time.time())
        assert chain.now() >= sent_at + 7 * DAY
        receipt = send(chain, to=address_of(chain, 1), value=1)
        block = chain.web3.eth.get_block(receipt["blockNumber"])
        assert block["timestamp"] >= sent_at + 7 * DAY
        # Leads accumulate.
        again = chain.advance_time(DAY)
        assert again >= int(time.time()) + 8 * DAY


def test_advance_time_rejects_negative_seconds(chain: EmbeddedChain) -> None:
    with pytest.raises(InvalidInput):
        chain.advance_time(-1)
    assert chain.web3.eth.block_number == 0


def test_pending_block_timestamp_tracks_the_clock_in_a_long_lived_process(
    chain: EmbeddedChain,
) -> None:
    first = send(chain, to=address_of(chain, 1), value=1)
    # The pending block was created right after `first` was mined, before this pause.
    wait_for_wall_clock(chain.web3.eth.get_block(first["blockNumber"])["timestamp"] + 3)
    sent_at = int(time.time())
    receipt = send(chain, to=address_of(chain, 1), value=1)
    assert chain.web3.eth.get_block(receipt["blockNumber"])["timestamp"] >= sent_at


def test_execution_and_gas_estimation_see_the_dev_clock(chain: EmbeddedChain) -> None:
    deadline = int(time.time()) + 3 * DAY
    gate = deploy(chain, not_before_runtime(deadline))
    w3 = chain.web3
    with pytest.raises(ContractLogicError):
        w3.eth.estimate_gas({"from": address_of(chain, 0), "to": gate})

    chain.advance_time(4 * DAY)
    assert w3.eth.estimate_gas({"from": address_of(chain, 0), "to": gate}) > 21000
    assert send(chain, to=gate)["status"] == 1

    clock = deploy(chain, TIMESTAMP_RUNTIME)
    seen = int.from_bytes(w3.eth.call({"to": clock}, "latest"), "big")
    assert seen == w3.eth.get_block("latest")["timestamp"] >= deadline
    seen_pending = int.from_bytes(w3.eth.call({"to": clock}, "pending"), "big")
    assert seen_pending >= chain.now() - 1 >= deadline


# With call data: store its first word in slot 0; without: return slot 0.
SLOT_RUNTIME = bytes.fromhex("3615600c57600035600055005b60005460005260206000f3")


def test_calls_answer_from_the_state_of_the_block_they_read(chain: EmbeddedChain) -> None:
    """Call outcomes are kept per block (header hash): a repeated read answers the same, and a read
    after a write, of an older block, or after a snapshot revert answers from that block's state."""
    w3 = chain.web3
    slot = deploy(chain, SLOT_RUNTIME)

    def read(block: Any = "latest") -> int:
        return int.from_bytes(w3.eth.call({"to": slot}, block), "big")

    def write(value: int) -> None:
        assert send(chain, to=slot, data=value.to_bytes(32, "big"))["status"] == 1

    assert read() == read() == 0
    before = w3.eth.block_number
    write(7)
    assert read() == read("pending") == 7 and read(before) == 0
    snapshot = _rpc(chain, "evm_snapshot")
    write(9)
    assert read() == 9
    _rpc(chain, "evm_revert", snapshot)
    assert read() == 7
    write(11)  # the reverted block's number again, on another state
    assert read() == 11 and read(before) == 0
    with pytest.raises(ContractLogicError):  # a revert is kept and raised again, the same
        w3.eth.call({"to": deploy(chain, REVERTER_RUNTIME), "data": HexStr("0x12")})


def test_gas_estimation_between_blocks_uses_the_dev_clock(chain: EmbeddedChain) -> None:
    """While no block is mined, estimates must follow wall clock + offset, as the
    transaction itself will, not "one second after the last block"."""
    chain.advance_time(DAY)
    soon = chain.now() + 3
    gate = deploy(chain, not_before_runtime(soon))
    # "One second after the latest block" is still before `soon`...
    assert chain.web3.eth.get_block("latest")["timestamp"] + 1 < soon
    # ...but with no new block, the dev clock (wall clock + offset) gets there.
    wait_until(lambda: chain.now() >= soon)
    assert chain.web3.eth.estimate_gas({"from": address_of(chain, 0), "to": gate}) > 21000
    assert send(chain, to=gate)["status"] == 1


# ---------------------------------------------------------------------------
# Damage
# ---------------------------------------------------------------------------


def _make_chain_with_history(chain_dir: pathlib.Path) -> pathlib.Path:
    with EmbeddedChain.open(chain_dir) as chain:
        send(chain, to=address_of(chain, 1), value=1)
    db_path = chain_dir / DB_FILENAME
    assert db_path.exists()
    return db_path


def test_garbage_database_raises_data_dir_corrupted(chain_dir: pathlib.Path) -> None:
    db_path = _make_chain_with_history(chain_dir)
    db_path.write_bytes(os.urandom(db_path.stat().st_size or 8192))
    for suffix in ("-wal", "-shm"):
        pathlib.Path(f"{db_path}{suffix}").unlink(missing_ok=True)

    with pytest.raises(DataDirCorrupted) as excinfo:
        EmbeddedChain.open(chain_dir)
    message = str(excinfo.value)
    assert "\n" not in message
    assert str(db_path) in message
    # The failed open released the lock (otherwise this would be ChainBusy).
    with pytest.raises(DataDirCorrupted):
        EmbeddedChain.open(chain_dir, lock_timeout=0)


@pytest.mark.parametrize("table", ["kv", "meta"])
def test_database_missing_rows_raises_data_dir_corrupted(chain_dir: pathlib.Path, table: str) -> None:
    db_path = _make_chain_with_history(chain_dir)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(f"DELETE FROM {table}")
    conn.close()

    with pytest.raises(DataDirCorrupted) as excinfo:
        EmbeddedChain.open(chain_dir)
    assert "\n" not in str(excinfo.value)
    assert str(db_path) in str(excinfo.value)


# ---------------------------------------------------------------------------
# Errors, as a node would report them
# ---------------------------------------------------------------------------


def test_revert_reason_surfaces_as_contract_logic_error(chain_dir: pathlib.Path) -> None:
    with EmbeddedChain.open(chain_dir) as chain:
        reverter = deploy(chain, REVERTER_RUNTIME)

    with EmbeddedChain.open(chain_dir) as chain:  # also across a restart
        w3 = chain.web3
        tx: TxParams = {"from": address_of(chain, 0), "to": reverter, "data": HexStr("0x1234")}

        with pytest.raises(ContractLogicError) as called:
            w3.eth.call(tx)
        assert REVERT_REASON in str(called.value)
        assert called.value.data == Web3.to_hex(_REVERT_PAYLOAD)

        with pytest.raises(ContractLogicError) as estimated:
            w3.eth.estimate_gas(tx)
        assert REVERT_REASON in str(estimated.value)

        # Forced through with explicit gas, it is mined as a failed transaction.
        receipt = send(chain, to=reverter, gas=100_000)
        assert receipt["status"] == 0
        assert w3.eth.block_number == receipt["blockNumber"]


def test_rejected_transaction_raises_rpc_error_and_changes_nothing(
    chain: EmbeddedChain,
) -> None:
    send(chain, to=address_of(chain, 1), value=1)
    block_number = chain.web3.eth.block_number
    with pytest.raises(Web3RPCError):
        send(chain, to=address_of(chain, 1), value=1, nonce=0, gas=21000)  # nonce reused
    assert chain.web3.eth.block_number == block_number
    assert send(chain, to=address_of(chain, 1), value=1)["blockNumber"] == block_number + 1


def test_rejected_transaction_leaves_disk_and_memory_in_step(chain_dir: pathlib.Path) -> None:
    with EmbeddedChain.open(chain_dir) as chain:
        broke = Account.create()
        with pytest.raises(Web3RPCError):
            tx = {
                "to": address_of(chain, 1),
                "value": 1,
                "gas": 21000,
                "nonce": 0,
                "chainId": CHAIN_ID,
                "maxFeePerGas": 10**10,
                "maxPriorityFeePerGas": 10**9,
            }
            chain.web3.eth.send_raw_transaction(broke.sign_transaction(tx).raw_transaction)
        receipt = send(chain, to=address_of(chain, 1), value=3)
    with EmbeddedChain.open(chain_dir) as chain:
        assert chain.web3.eth.block_number == receipt["blockNumber"] == 1


# Reverts unless at least 100,000 gas is left when it starts: GAS PUSH3 100000 GT PUSH1 10 JUMPI STOP
# JUMPDEST PUSH1 0 DUP1 REVERT. It consumes a few gas, so only the bisection finds the limit it needs.
GAS_GATE_RUNTIME = bytes.fromhex("5a620186a011600a57005b600080fd")


def test_gas_estimates_are_enough_and_close_to_what_the_transaction_consumes(chain: EmbeddedChain) -> None:
    """Estimates run a transaction twice instead of bisecting: the limit given must let it succeed,
    whether it consumes what it needs (a transfer, a contract writing storage) or needs far more gas
    left than it consumes (the gate), where the bisection still decides."""
    w3 = chain.web3
    plain = w3.eth.estimate_gas({"from": address_of(chain, 0), "to": address_of(chain, 1), "value": 1})
    assert 21_000 <= plain <= 21_000 + 21_000 // 63 + 2_300
    assert send(chain, to=address_of(chain, 1), value=1, gas=plain)["status"] == 1

    gate = deploy(chain, GAS_GATE_RUNTIME)
    needed = w3.eth.estimate_gas({"from": address_of(chain, 0), "to": gate})
    assert 121_000 <= needed <= 121_000 + 21_000  # the bisection's tolerance is one intrinsic cost
    assert send(chain, to=gate, gas=needed)["status"] == 1
    assert send(chain, to=gate, gas=100_000)["status"] == 0  # less than it needs: mined as failed
