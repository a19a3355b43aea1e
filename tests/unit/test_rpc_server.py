"""The embedded chain served over JSON-RPC (`chain.rpc_server`): web3.py over real HTTP against a real
persistent py-evm chain, and the raw protocol (batches, errors, limits, the loopback guards)."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError

from proofwork.chain.client import Chain
from proofwork.chain.devnets import EMBEDDED_CHAIN_ID, EMBEDDED_DEV_KEYS
from proofwork.chain.embedded import EmbeddedChain
from proofwork.chain.rpc_server import MAX_BATCH, RpcServer, check_loopback, serve_embedded
from proofwork.domain.errors import ChainBusy, InvalidInput
from tests.unit.test_embedded_chain import (
    LOG_TOPIC,
    LOGGER_RUNTIME,
    REVERT_REASON,
    REVERTER_RUNTIME,
    TIMESTAMP_RUNTIME,
    deploy_code,
)

KEY = EMBEDDED_DEV_KEYS[1]
SENDER = Account.from_key(KEY).address


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RpcServer]:
    server = serve_embedded(tmp_path_factory.mktemp("rpc") / "chain")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def w3(served: RpcServer) -> Web3:
    return Web3(Web3.HTTPProvider(served.url, request_kwargs={"timeout": 30}))


def rpc(url: str, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(url, content=json.dumps(body), headers={"content-type": "application/json", **headers})


def send(w3: Web3, tx: dict[str, Any], key: bytes = KEY) -> Any:
    """Signs locally and sends raw, as a wallet does; returns the receipt."""
    sender = Account.from_key(key).address
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    full = {
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(sender, "pending"),
        "maxPriorityFeePerGas": w3.eth.max_priority_fee,
        "maxFeePerGas": 2 * base + w3.eth.max_priority_fee,
        "value": 0,
        **tx,
    }
    if "gas" not in full:
        full["gas"] = w3.eth.estimate_gas({"from": sender, **tx})
    tx_hash = w3.eth.send_raw_transaction(Account.sign_transaction(full, key).raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)


def deploy(w3: Web3, runtime: bytes) -> str:
    receipt = send(w3, {"data": deploy_code(runtime)})
    assert receipt["status"] == 1
    return str(receipt["contractAddress"])


def test_identity_of_the_node(w3: Web3) -> None:
    assert w3.eth.chain_id == EMBEDDED_CHAIN_ID
    assert w3.net.version == str(EMBEDDED_CHAIN_ID)
    assert w3.client_version.startswith("proofwork/")
    assert w3.eth.accounts == []  # no keys held here
    assert w3.eth.get_balance(SENDER) > 0
    assert w3.eth.gas_price > 0 and w3.eth.max_priority_fee > 0
    history = w3.eth.fee_history(1, "latest", [10, 90])
    assert len(history["baseFeePerGas"]) == 2 and len(history["reward"]) == 1  # and the next block's


def test_a_signed_transaction_is_mined_and_read_back(w3: Web3) -> None:
    to = "0x" + "42" * 20
    before = w3.eth.get_balance(Web3.to_checksum_address(to))
    nonce = w3.eth.get_transaction_count(SENDER)
    receipt = send(w3, {"to": Web3.to_checksum_address(to), "value": 12345, "gas": 21_000})
    assert receipt["status"] == 1 and receipt["gasUsed"] == 21_000
    assert w3.eth.get_balance(Web3.to_checksum_address(to)) == before + 12345
    assert w3.eth.get_transaction_count(SENDER, "pending") == nonce + 1
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["from"] == SENDER and tx["value"] == 12345 and tx["blockNumber"] == receipt["blockNumber"]
    block = w3.eth.get_block(receipt["blockNumber"], full_transactions=True)
    assert block["transactions"][0]["hash"] == receipt["transactionHash"]
    assert w3.eth.get_block(block["hash"])["number"] == block["number"]
    assert w3.eth.block_number >= receipt["blockNumber"]


def test_code_storage_and_calls(w3: Web3) -> None:
    clock = deploy(w3, TIMESTAMP_RUNTIME)
    assert bytes(w3.eth.get_code(Web3.to_checksum_address(clock))) == TIMESTAMP_RUNTIME
    assert bytes(w3.eth.get_storage_at(Web3.to_checksum_address(clock), 0)) == bytes(32)
    answer = w3.eth.call({"to": Web3.to_checksum_address(clock)})  # no `from`: as a wallet's read
    assert int.from_bytes(answer, "big") >= w3.eth.get_block("latest")["timestamp"]


def test_a_revert_carries_its_reason_as_a_node_does(w3: Web3, served: RpcServer) -> None:
    reverter = Web3.to_checksum_address(deploy(w3, REVERTER_RUNTIME))
    with pytest.raises(ContractLogicError, match=REVERT_REASON):
        w3.eth.call({"to": reverter, "data": "0x01"})
    with pytest.raises(ContractLogicError, match=REVERT_REASON):
        w3.eth.estimate_gas({"from": SENDER, "to": reverter})
    raw = rpc(
        served.url, {"jsonrpc": "2.0", "id": 7, "method": "eth_call", "params": [{"to": reverter}, "latest"]}
    )
    error = raw.json()["error"]
    assert error["code"] == 3  # geth's and anvil's code for a revert, with its data
    assert error["data"].startswith("0x08c379a0") and REVERT_REASON in error["message"]
    # mined anyway with a fixed gas limit: status 0, as on any node
    assert send(w3, {"to": reverter, "gas": 50_000})["status"] == 0


def test_logs_by_range_topic_address_and_block_hash(w3: Web3) -> None:
    logger = Web3.to_checksum_address(deploy(w3, LOGGER_RUNTIME))
    first = send(w3, {"to": logger, "data": "0xaa"})
    second = send(w3, {"to": logger, "data": "0xbbbb"})
    logs = w3.eth.get_logs({"fromBlock": first["blockNumber"], "address": logger, "topics": [LOG_TOPIC]})
    assert [bytes(log["data"]) for log in logs] == [b"\xaa", b"\xbb\xbb"]
    assert logs[0]["transactionHash"] == first["transactionHash"] and logs[0]["removed"] is False
    only = w3.eth.get_logs({"blockHash": second["blockHash"], "address": logger})
    assert [bytes(log["data"]) for log in only] == [b"\xbb\xbb"]
    other_topic = w3.eth.get_logs({"fromBlock": 0, "address": logger, "topics": ["0x" + "11" * 32]})
    assert other_topic == []
    assert [log["logIndex"] for log in first["logs"]] == [0]


def test_fee_history_as_geth_answers_it(w3: Web3) -> None:
    tip = 2 * 10**9
    for _ in range(2):  # three blocks at least, whichever test ran before on this chain
        send(w3, {"to": "0x" + "46" * 20, "value": 1, "gas": 21_000})
    receipt = send(
        w3,
        {
            "to": "0x" + "45" * 20,
            "value": 1,
            "gas": 21_000,
            "maxPriorityFeePerGas": tip,
            "maxFeePerGas": 50 * tip,
        },
    )
    history = w3.eth.fee_history(3, receipt["blockNumber"], [25.0, 75.0])
    assert history["oldestBlock"] == receipt["blockNumber"] - 2
    assert len(history["baseFeePerGas"]) == 4 and len(history["gasUsedRatio"]) == 3
    assert history["reward"][-1] == [tip, tip]
    assert all(fee > 0 for fee in history["baseFeePerGas"])


def test_batch_requests_and_notifications(served: RpcServer) -> None:
    body = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": "two", "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "no_suchMethod"},
        {"jsonrpc": "2.0", "method": "eth_chainId"},  # a notification: no answer
        {"jsonrpc": "1.0", "id": 5, "method": "eth_chainId"},
    ]
    answers = rpc(served.url, body).json()
    by_id = {a["id"]: a for a in answers}
    assert len(answers) == 4
    assert by_id[1]["result"] == hex(EMBEDDED_CHAIN_ID)
    assert int(by_id["two"]["result"], 16) >= 0
    assert by_id[3]["error"]["code"] == -32601
    assert by_id[5]["error"]["code"] == -32600
    assert rpc(served.url, []).json()["error"]["code"] == -32600
    too_many = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(MAX_BATCH + 1)]
    assert rpc(served.url, too_many).json()["error"]["code"] == -32600
    only_notifications = rpc(served.url, [{"jsonrpc": "2.0", "method": "eth_chainId"}])
    assert only_notifications.status_code == 204 and only_notifications.content == b""


def test_errors_are_json_rpc_error_objects(served: RpcServer) -> None:
    def ask(method: str, params: Any) -> dict[str, Any]:
        answer = rpc(served.url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        assert answer.status_code == 200
        return dict(answer.json())

    assert ask("eth_unknownThing", [])["error"]["code"] == -32601
    refused = ask("eth_sendTransaction", [{"from": SENDER, "to": SENDER}])["error"]
    assert refused["code"] == -32601 and "eth_sendRawTransaction" in refused["message"]
    assert ask("eth_getBalance", ["not an address", "latest"])["error"]["code"] in (-32602, -32000)
    assert ask("eth_getBalance", "latest")["error"]["code"] == -32602
    assert (
        ask("eth_getLogs", [{"blockHash": "0x" + "00" * 32, "fromBlock": "0x0"}])["error"]["code"] == -32602
    )
    bad_tx = ask("eth_sendRawTransaction", ["0x1234"])["error"]
    assert bad_tx["code"] in (-32602, -32000) and bad_tx["message"]
    assert ask("eth_getTransactionByHash", ["0x" + "00" * 32])["result"] is None
    assert ask("eth_getTransactionReceipt", ["0x" + "00" * 32])["result"] is None
    assert ask("eth_getBlockByNumber", ["0xffffff", False])["result"] is None
    malformed = httpx.post(served.url, content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 200
    assert malformed.json()["id"] is None and malformed.json()["error"]["code"] == -32700
    assert rpc(served.url, "just a string").json()["error"]["code"] == -32600


def test_oversized_bodies_are_refused_before_being_read(served: RpcServer) -> None:
    limit = served.app.max_body
    huge = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["' + b"a" * limit + b'"]}'
    answer = httpx.post(served.url, content=huge, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["error"]["code"] == -32600

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    streamed = httpx.post(served.url, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_loopback_guards(served: RpcServer) -> None:
    ask = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}
    assert rpc(served.url, ask, host="evil.example:8545").status_code == 403  # DNS rebinding
    assert rpc(served.url, ask, origin="https://evil.example").status_code == 403
    page = rpc(served.url, ask, origin="http://127.0.0.1:8000")
    assert page.status_code == 200 and page.headers["access-control-allow-origin"] == "http://127.0.0.1:8000"
    wallet = rpc(served.url, ask, origin="chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn")
    assert wallet.status_code == 200
    form = httpx.post(served.url, content=json.dumps(ask), headers={"content-type": "text/plain"})
    assert form.status_code == 415  # a cross-site form cannot post JSON without a preflight
    preflight = httpx.request(
        "OPTIONS",
        served.url,
        headers={"origin": "http://localhost:3000", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    assert httpx.get(served.url).status_code == 405
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):
        with pytest.raises(InvalidInput, match="loopback"):
            check_loopback(host)


def test_dev_clock_and_snapshots(w3: Web3, served: RpcServer) -> None:
    def call(method: str, *params: Any) -> Any:
        answer = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        assert "error" not in answer, answer
        return answer["result"]

    snapshot = call("evm_snapshot")
    start = w3.eth.get_block("latest")
    call("evm_increaseTime", 7200)
    call("evm_mine")
    moved = w3.eth.get_block("latest")
    assert moved["number"] == start["number"] + 1
    assert moved["timestamp"] >= start["timestamp"] + 7200
    call("evm_setNextBlockTimestamp", moved["timestamp"] + 100)
    call("evm_mine")
    assert w3.eth.get_block("latest")["timestamp"] == moved["timestamp"] + 100
    assert call("evm_revert", snapshot) is True
    assert w3.eth.block_number == start["number"]
    call("evm_mine")  # as on anvil, the clock went back with the chain: no lead of 2 hours left
    assert start["timestamp"] < w3.eth.get_block("latest")["timestamp"] < moved["timestamp"]
    assert call("evm_revert", "0x999") is False
    assert w3.provider.make_request("evm_increaseTime", [-5])["error"]["code"] == -32602  # type: ignore[arg-type]


def test_a_client_of_the_served_chain_gets_its_dev_accounts_and_clock(served: RpcServer) -> None:
    chain = Chain.connect(served.url)
    assert chain.chain_id == EMBEDDED_CHAIN_ID
    assert chain.dev_keys == list(EMBEDDED_DEV_KEYS) and chain.is_local
    before = chain.now()
    assert chain.advance_time(3600) >= before + 3600
    receipt = chain.send_eth(EMBEDDED_DEV_KEYS[2], "0x" + "43" * 20, 1)
    assert receipt.status == 1


def test_the_server_holds_the_lock_and_the_chain_persists(tmp_path: pathlib.Path) -> None:
    directory = tmp_path / "chain"
    server = serve_embedded(directory)
    try:
        w3 = Web3(Web3.HTTPProvider(server.url))
        send(w3, {"to": "0x" + "44" * 20, "value": 1, "gas": 21_000})
        height = w3.eth.block_number
        with pytest.raises(ChainBusy):
            EmbeddedChain.open(directory, lock_timeout=0)
    finally:
        server.stop()
    server.stop()  # idempotent
    with EmbeddedChain.open(directory, lock_timeout=0) as chain:
        assert chain.web3.eth.block_number == height
    with pytest.raises(InvalidInput, match="loopback"):
        serve_embedded(directory, host="0.0.0.0")
    with EmbeddedChain.open(directory, lock_timeout=0) as chain:  # a refused start left it free
        busy = serve_embedded(tmp_path / "other")
        try:
            with pytest.raises(InvalidInput, match="cannot serve"):  # the port is taken
                RpcServer(chain, port=busy.port)
        finally:
            busy.stop()
