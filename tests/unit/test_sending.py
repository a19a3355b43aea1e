"""Transactions on a node: the fee arithmetic, the settings that bound it, the nonce record shared by
processes, and the sender's watch (replace, resend, accept whichever version is mined) against a fake
node whose clock and pool the tests drive. Against a real anvil: tests/integration/test_real_chains.py."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak
from hexbytes import HexBytes
from hypothesis import given
from hypothesis import strategies as st

from proofwork.chain.fees import GWEI, Fees, SendPolicy, at_least, bump, gwei, suggest, tip_from_history
from proofwork.chain.nonces import NonceBook
from proofwork.chain.sending import NodeRefused, Sender, refusal_kind
from proofwork.domain.errors import ChainUnavailable, InvalidInput, TransactionRejected
from proofwork.keys.accounts import address_of
from proofwork.settings import Settings

KEY = (7).to_bytes(32, "big")
ADDRESS = address_of(KEY)
TO = "0x" + "22" * 20

# --- fees ---------------------------------------------------------------------------------------------


def test_offer_is_twice_the_next_base_fee_plus_the_tip() -> None:
    assert suggest(10 * GWEI, GWEI, 200 * GWEI) == Fees(21 * GWEI, GWEI)
    # an L2: a base fee of a few thousand wei and no tip
    assert suggest(2_500, 0, 200 * GWEI) == Fees(5_000, 0)


def test_offer_is_held_to_the_cap_and_refused_below_the_base_fee() -> None:
    assert suggest(10 * GWEI, GWEI, 15 * GWEI) == Fees(15 * GWEI, GWEI)
    assert suggest(10 * GWEI, 8 * GWEI, 12 * GWEI) == Fees(12 * GWEI, 8 * GWEI)
    with pytest.raises(TransactionRejected) as refused:
        suggest(30 * GWEI, GWEI, 25 * GWEI)
    message = str(refused.value)
    assert message == (
        "the chain's base fee is 30 gwei per gas, above the fee cap of 25 gwei (PROOFWORK_MAX_FEE_GWEI): "
        "nothing sent"
    )


def test_tip_is_the_median_of_the_blocks_that_held_transactions() -> None:
    rewards = [[0], [3 * GWEI], [GWEI], [0], [2 * GWEI]]
    used = [0.0, 0.5, 0.9, 0.0, 0.2]
    assert tip_from_history(rewards, used) == 2 * GWEI
    assert tip_from_history([[GWEI], [3 * GWEI]], [0.1, 0.1]) == 2 * GWEI
    assert tip_from_history([[0], [0]], [0.0, 0.0]) is None
    assert tip_from_history([], []) is None


def test_a_replacement_raises_both_fees_by_the_percentage() -> None:
    cap = 200 * GWEI
    assert bump(Fees(16 * GWEI, GWEI), None, 12.5, cap) == Fees(18 * GWEI, 1_125_000_000)
    # a zero tip still rises (a node compares, and 0 * 1.1 is 0)
    assert bump(Fees(1_000, 0), None, 12.5, cap) == Fees(1_125, 1)
    # the chain asks more than the bump: what it asks
    assert bump(Fees(16 * GWEI, GWEI), Fees(180 * GWEI, 2 * GWEI), 12.5, cap) == Fees(180 * GWEI, 2 * GWEI)
    # the cap leaves 10 % (what geth needs) but not 12.5 %: up to the cap
    assert bump(Fees(100 * GWEI, GWEI), None, 12.5, 111 * GWEI) == Fees(111 * GWEI, 1_125_000_000)
    # the cap leaves less than 10 %: no replacement a node would take
    assert bump(Fees(100 * GWEI, GWEI), None, 12.5, 109 * GWEI) is None
    assert bump(Fees(200 * GWEI, GWEI), Fees(200 * GWEI, GWEI), 12.5, cap) is None


@given(
    max_fee=st.integers(1, 10**13),
    tip_share=st.floats(0, 1),
    percent=st.floats(10, 100),
    cap_factor=st.floats(0.5, 5),
)
def test_a_replacement_always_clears_10_percent_and_the_cap(
    max_fee: int, tip_share: float, percent: float, cap_factor: float
) -> None:
    current = Fees(max_fee, int(max_fee * tip_share))
    cap = max(1, int(max_fee * cap_factor))
    new = bump(current, None, percent, cap)
    if new is None:
        assert cap * 10 < current.max_fee * 11 or cap < current.tip + -(-current.tip // 10)
    else:
        assert new.max_fee <= cap and new.tip <= new.max_fee
        assert new.max_fee * 10 >= current.max_fee * 11 and new.tip * 10 >= current.tip * 11
        assert new.max_fee > current.max_fee and new.tip > current.tip


def test_a_resend_offers_no_less_than_before_nor_than_the_chain_asks() -> None:
    assert at_least(Fees(10, 2), Fees(40, 1)) == Fees(40, 2)
    assert at_least(Fees(50, 3), Fees(40, 1)) == Fees(50, 3)


def test_gwei_for_people() -> None:
    assert [gwei(v) for v in (0, 30 * GWEI, 2_500_000_000, 1_000_000, 1)] == [
        "0",
        "30",
        "2.5",
        "0.001",
        "0.000000001",
    ]


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("nonce too low: next nonce 5, tx nonce 4", "nonce-used"),
        ("already known", "known"),
        ("transaction already imported", "known"),
        ("replacement transaction underpriced", "nonce-taken"),
        ("transaction underpriced", "underpriced"),
        ("max fee per gas less than block base fee", "underpriced"),
        ("insufficient funds for gas * price + value", "other"),
    ],
)
def test_node_refusals_are_told_apart(message: str, kind: str) -> None:
    assert refusal_kind(message) == kind


# --- settings -----------------------------------------------------------------------------------------


def test_settings_defaults_and_values() -> None:
    s = Settings.from_env({})
    assert (s.max_fee_per_gas, s.tx_replace_after, s.tx_fee_bump, s.tx_max_wait) == (
        200 * GWEI,
        30,
        12.5,
        300,
    )
    s = Settings.from_env(
        {
            "PROOFWORK_MAX_FEE_GWEI": "0.05",
            "PROOFWORK_TX_REPLACE_AFTER": "12",
            "PROOFWORK_TX_FEE_BUMP": "20",
            "PROOFWORK_TX_MAX_WAIT": "90.5",
        }
    )
    assert (s.max_fee_per_gas, s.tx_replace_after, s.tx_fee_bump, s.tx_max_wait) == (50_000_000, 12, 20, 90.5)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PROOFWORK_MAX_FEE_GWEI", "lots", "expected gwei"),
        ("PROOFWORK_MAX_FEE_GWEI", "0", "above 0"),
        ("PROOFWORK_MAX_FEE_GWEI", "-3", "above 0"),
        ("PROOFWORK_MAX_FEE_GWEI", "0.0000000001", "to the wei"),
        ("PROOFWORK_MAX_FEE_GWEI", "nan", "above 0"),
        ("PROOFWORK_MAX_FEE_GWEI", "1e7", "at most 1000000"),
        ("PROOFWORK_TX_FEE_BUMP", "5", "refuse a replacement raising fees by less than 10 %"),
        ("PROOFWORK_TX_FEE_BUMP", "ten", "expected a percentage"),
        ("PROOFWORK_TX_REPLACE_AFTER", "0", "above 0"),
        ("PROOFWORK_TX_MAX_WAIT", "soon", "expected seconds"),
    ],
)
def test_bad_settings_are_refused_in_one_line(name: str, value: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Settings.from_env({name: value})
    assert expected in str(refused.value) and name in str(refused.value)
    assert "\n" not in str(refused.value)


# --- the nonce record ---------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_nonce_is_above_the_nodes_count_and_the_live_nonces_in_flight(tmp_path: Path) -> None:
    book = NonceBook(tmp_path, 1, ADDRESS)
    with book.reserve(lambda: 3) as first:
        assert first.nonce == 3
        first.sent(60)
    # the node does not count it yet (another backend behind a load balancer): the record does
    with book.reserve(lambda: 3) as second:
        assert second.nonce == 4
        # not sent (the node refused it): nothing recorded, the nonce stays free
    with book.reserve(lambda: 3) as third:
        assert third.nonce == 4
        third.sent(60)
    book.release(3)
    book.release(4)
    with book.reserve(lambda: 5) as after:
        assert after.nonce == 5


def test_nonces_of_dead_or_finished_senders_are_used_again(tmp_path: Path) -> None:
    book = NonceBook(tmp_path, 1, ADDRESS)
    import json
    import time

    book.record_path.parent.mkdir(parents=True, exist_ok=True)
    far = time.time() + 600
    entries = [
        {"nonce": 9, "pid": _dead_pid(), "until": far},  # its process died: its nonce never reached a block
        {"nonce": 8, "pid": os.getppid(), "until": time.time() - 1},  # its sender stopped watching it
        {"nonce": 4, "pid": os.getppid(), "until": far},  # alive and watching
    ]
    book.record_path.write_text(json.dumps(entries))
    with book.reserve(lambda: 2) as reservation:
        assert reservation.nonce == 5
    book.record_path.write_text("{not json")  # a damaged record only loses the lead over the node
    with book.reserve(lambda: 2) as reservation:
        assert reservation.nonce == 2


def test_records_are_per_chain_and_address(tmp_path: Path) -> None:
    with NonceBook(tmp_path, 1, ADDRESS).reserve(lambda: 0) as r:
        r.sent(60)
    with NonceBook(tmp_path, 2, ADDRESS).reserve(lambda: 0) as r:
        assert r.nonce == 0
    with NonceBook(tmp_path, 1, TO).reserve(lambda: 0) as r:
        assert r.nonce == 0


# --- the sender against a fake node -------------------------------------------------------------------


@dataclass
class FakeNode:
    """A node's pool and chain for one account: `auto` mines what arrives; else the test mines."""

    base_fee: int = GWEI
    tip: int = GWEI
    auto: bool = False
    time: float = 0.0
    pool: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # nonce -> hash, tx
    mined: dict[str, int] = field(default_factory=dict)  # hash -> nonce
    count: int = 0  # the account's mined nonce count
    sent: list[str] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)  # refusal messages for the next broadcasts
    on_sleep: Any = None
    stale_pending: int | None = None  # what a lagging backend answers once for the pending count

    def pending_count(self, address: str) -> int:
        if self.stale_pending is not None:
            stale, self.stale_pending = self.stale_pending, None
            return stale
        return max([self.count, *(n + 1 for n in self.pool)])

    def mined_count(self, address: str) -> int:
        return self.count

    def fee_data(self) -> tuple[int, int]:
        return self.base_fee, self.tip

    def broadcast(self, raw: bytes) -> None:
        if self.refuse:
            raise NodeRefused(self.refuse.pop(0))
        tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        tx_hash = "0x" + keccak(raw).hex()
        if tx["nonce"] < self.count:
            raise NodeRefused("nonce too low")
        if tx["nonce"] in self.pool and self.pool[tx["nonce"]][0] == tx_hash:
            raise NodeRefused("already known")
        self.sent.append(tx_hash)
        self.pool[tx["nonce"]] = (tx_hash, tx)
        if self.auto:
            self.mine(tx_hash)

    def mine(self, tx_hash: str | None = None, nonce: int | None = None) -> None:
        """Mines `tx_hash` (even one the pool replaced since, as another node may), or the pool's."""
        if tx_hash is None:
            tx_hash = self.pool[nonce if nonce is not None else self.count][0]
        nonce = next(n for n, (h, _) in self.pool.items() if h == tx_hash) if nonce is None else nonce
        self.mined[tx_hash] = nonce
        self.pool.pop(nonce, None)
        self.count = nonce + 1

    def receipt(self, tx_hash: str) -> Any | None:
        return {"transactionHash": tx_hash} if tx_hash in self.mined else None

    def known(self, tx_hash: str) -> bool:
        return tx_hash in self.mined or any(h == tx_hash for h, _ in self.pool.values())

    def sleep(self, seconds: float) -> None:
        self.time += seconds
        if self.on_sleep is not None:
            self.on_sleep(self)


def _sender(node: FakeNode, tmp_path: Path, notes: list[str], **policy: Any) -> Sender:
    return Sender(
        node,
        SendPolicy(**{"replace_after": 10.0, "max_wait": 100.0, **policy}),
        chain_id=1,
        nonce_dir=tmp_path,
        notify=notes.append,
        clock=lambda: node.time,
        sleep=node.sleep,
    )


def _tx(sender: Sender) -> dict[str, Any]:
    return {"to": TO, "value": 5, "gas": 21_000, "chainId": 1, **sender.fees()}


def test_mined_at_once_is_one_broadcast_and_no_note(tmp_path: Path) -> None:
    node, notes = FakeNode(auto=True), []
    sender = _sender(node, tmp_path, notes)
    for expected in range(3):
        receipt = sender.send(KEY, _tx(sender))
        assert receipt["transactionHash"] == node.sent[-1] and node.mined[node.sent[-1]] == expected
    assert len(node.sent) == 3 and notes == [] and node.time == 0


def test_stuck_transaction_is_replaced_with_higher_fees_then_mined(tmp_path: Path) -> None:
    node, notes = FakeNode(), []

    def mine_the_second_version(n: FakeNode) -> None:
        if len(n.sent) == 2 and not n.mined:
            n.mine()

    node.on_sleep = mine_the_second_version
    sender = _sender(node, tmp_path, notes)
    receipt = sender.send(KEY, _tx(sender))
    first, second = node.sent
    assert receipt["transactionHash"] == second and node.count == 1
    assert 10 <= node.time < 12
    assert notes[0].startswith(f"transaction {first} (nonce 0) not mined after 10 s: replaced by {second}")
    assert "paying up to 3.375 gwei per gas (tip 1.125 gwei)" in notes[0]
    assert "mined: its last version, after 1 replacement(s) or resend(s); paid once" in notes[1]


def test_an_earlier_version_mined_after_its_replacement_is_accepted(tmp_path: Path) -> None:
    node, notes = FakeNode(), []

    def mine_the_first_version(n: FakeNode) -> None:
        if len(n.sent) == 3 and not n.mined:
            n.mine(n.sent[0], nonce=0)  # a node that had not seen the replacements yet

    node.on_sleep = mine_the_first_version
    sender = _sender(node, tmp_path, notes)
    receipt = sender.send(KEY, _tx(sender))
    assert receipt["transactionHash"] == node.sent[0] and len(node.sent) == 3
    assert "mined: an earlier version, after 2 replacement(s)" in notes[-1]
    # the next transaction takes the next nonce
    node.auto = True
    sender.send(KEY, _tx(sender))
    assert node.mined[node.sent[-1]] == 1


def test_at_the_cap_the_sender_says_so_once_and_gives_up_after_the_longest_wait(tmp_path: Path) -> None:
    node, notes = FakeNode(), []
    sender = _sender(node, tmp_path, notes, max_fee_per_gas=3 * GWEI + GWEI // 2, max_wait=60.0)
    with pytest.raises(ChainUnavailable) as gave_up:
        sender.send(KEY, _tx(sender))
    # 3 gwei offered, 3.375 after one bump; the next would be 3.8: above the cap by more than 10 %
    assert len(node.sent) == 2
    at_cap = [n for n in notes if "at the cap of 3.5 gwei" in n]
    assert len(at_cap) == 1
    assert str(gave_up.value) == (
        f"transaction {node.sent[-1]} (nonce 0, 1 replacement) was not mined within 60 s "
        "(PROOFWORK_TX_MAX_WAIT); it may still be mined: check it later"
    )


def test_a_dropped_transaction_is_sent_again(tmp_path: Path) -> None:
    node, notes = FakeNode(), []

    def drop_then_mine(n: FakeNode) -> None:
        if len(n.sent) == 1 and n.pool and n.time > 0.5:
            n.pool.clear()  # the node forgot it
        elif len(n.sent) == 2 and not n.mined:
            n.mine()

    node.on_sleep = drop_then_mine
    sender = _sender(node, tmp_path, notes)
    receipt = sender.send(KEY, _tx(sender))
    assert node.sent[0] == node.sent[1] == receipt["transactionHash"]  # the same signed bytes
    assert notes[0] == f"transaction {node.sent[0]} (nonce 0) was dropped by the node: sent again"


def test_a_dropped_transaction_the_base_fee_outgrew_is_sent_again_at_the_new_price(tmp_path: Path) -> None:
    node, notes = FakeNode(), []

    def spike_drop_then_mine(n: FakeNode) -> None:
        if len(n.sent) == 1 and n.pool and n.time > 0.5:
            n.base_fee = 50 * GWEI
            n.pool.clear()
        elif len(n.sent) == 2 and not n.mined:
            n.mine()

    node.on_sleep = spike_drop_then_mine
    sender = _sender(node, tmp_path, notes)
    receipt = sender.send(KEY, _tx(sender))
    assert receipt["transactionHash"] == node.sent[1] != node.sent[0]
    assert "was dropped by the node: sent again as" in notes[0] and "up to 101 gwei per gas" in notes[0]


def test_a_nonce_used_by_a_sender_outside_proofwork_is_reported(tmp_path: Path) -> None:
    node, notes = FakeNode(), []

    def someone_else(n: FakeNode) -> None:
        if n.time > 0.5 and n.count == 0:
            n.pool.clear()
            n.count = 1  # a wallet's transaction with nonce 0 was mined

    node.on_sleep = someone_else
    sender = _sender(node, tmp_path, notes)
    with pytest.raises(TransactionRejected, match=r"nonce 0 of .* was used by another transaction"):
        sender.send(KEY, _tx(sender))


def test_a_refused_transaction_burns_no_nonce_and_a_used_one_is_skipped(tmp_path: Path) -> None:
    node, notes = FakeNode(auto=True), []
    sender = _sender(node, tmp_path, notes)
    node.refuse = ["insufficient funds for gas * price + value"]
    with pytest.raises(TransactionRejected, match="the node refused the transaction: insufficient funds"):
        sender.send(KEY, _tx(sender))
    sender.send(KEY, _tx(sender))
    assert list(node.mined.values()) == [0]
    # a wallet used nonce 1 and the node's count lags (a backend behind): "nonce too low", then nonce 2
    node.count, node.stale_pending = 2, 1
    sender.send(KEY, _tx(sender))
    assert list(node.mined.values()) == [0, 2] and len(node.sent) == 2
    # a wallet's transaction with the next nonce waits in the pool, not yet counted: the one after it
    node.auto = False
    node.pool[3] = ("0x" + "ee" * 32, {})
    node.stale_pending, node.refuse = 3, ["replacement transaction underpriced"]
    node.on_sleep = lambda n: n.mine(nonce=4) if 4 in n.pool else None
    sender.send(KEY, _tx(sender))
    assert node.mined[node.sent[-1]] == 4
