"""Sending a transaction to a JSON-RPC node until it is mined: priced from `eth_feeHistory`, its nonce
chosen with the other processes using the key (`nonces`), replaced with higher fees under the same
nonce when it is not mined in time (up to the cap), sent again when the node drops it.

Every hash sent for the nonce is kept, and whichever is mined is the answer: a replaced transaction
may still be mined before its replacement. They all share one nonce, so only one of them can ever be
mined: nothing is paid twice. What happens is told to `notify`, one line at a time.

The embedded chain does not come here: it mines each transaction as it is sent.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account

from proofwork.chain.fees import Fees, SendPolicy, at_least, bump, gwei, suggest
from proofwork.chain.nonces import NonceBook
from proofwork.domain.errors import ChainUnavailable, TransactionRejected
from proofwork.keys.accounts import address_of

# The first look for a receipt comes at once (a dev node mines as it receives); then less and less often.
FIRST_POLL = 0.05
MAX_POLL = 1.0
# Seconds between checks that the node still knows the transaction and that its nonce is still free.
DROP_CHECK = 1.0
# Times in a row the nonce must be seen used with none of our hashes mined before we say so (a node
# behind a load balancer may answer the count from one backend and the receipt from another).
CONSUMED_STRIKES = 3
NONCE_ATTEMPTS = 5
# How long the nonce record keeps a nonce for its process beyond the longest wait.
RECORD_MARGIN = 60.0


class NodeRefused(Exception):
    """The node answered the broadcast with an error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BroadcastUncertain(Exception):
    """The broadcast timed out: the node may or may not have the transaction."""


class Node(Protocol):
    """What the sender needs from a node (`client.RpcNode` over web3; a fake in the unit tests)."""

    def pending_count(self, address: str) -> int: ...
    def mined_count(self, address: str) -> int: ...
    def fee_data(self) -> tuple[int, int]:
        """The next block's base fee and a tip (wei)."""
        ...

    def broadcast(self, raw: bytes) -> None: ...
    def receipt(self, tx_hash: str) -> Any | None: ...
    def known(self, tx_hash: str) -> bool: ...


def refusal_kind(message: str) -> str:
    """What a node's refusal of a broadcast means: `nonce-used` (mined), `nonce-taken` (another
    transaction with it waits in the pool), `known` (this very one is there), `underpriced` or `other`."""
    text = message.lower()
    if "nonce too low" in text or "nonce is too low" in text or "oldnonce" in text:
        return "nonce-used"
    if "already known" in text or "already imported" in text or "known transaction" in text:
        return "known"
    if "replacement transaction underpriced" in text or "replacement fee too low" in text:
        return "nonce-taken"
    if "underpriced" in text or "less than block base fee" in text or "fee too low" in text:
        return "underpriced"
    return "other"


@dataclass
class _Flight:
    """One nonce's transactions: every hash sent, the fees of the last one, its signed bytes."""

    tx: dict[str, Any]
    nonce: int
    fees: Fees
    hashes: list[str] = field(default_factory=list)
    raw: bytes = b""


class Sender:
    """Sends transactions signed with local keys to one node, under `policy`."""

    def __init__(
        self,
        node: Node,
        policy: SendPolicy,
        *,
        chain_id: int,
        nonce_dir: Path,
        notify: Callable[[str], None],
        lock_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.node = node
        self.policy = policy
        self.chain_id = chain_id
        self.nonce_dir = nonce_dir
        self.notify = notify
        self.lock_timeout = lock_timeout
        self._clock = clock
        self._sleep = sleep

    def fees(self) -> dict[str, int]:
        """The fees to offer now (refused with a one-line reason when the cap is below the base fee)."""
        base, tip = self.node.fee_data()
        return suggest(base, tip, self.policy.max_fee_per_gas).as_tx()

    def send(self, key: bytes, tx: dict[str, Any]) -> Any:
        """Signs `tx` (fees set, no nonce) with the key's next nonce, broadcasts it and watches it until
        one of its versions is mined; returns that receipt (as the node gave it)."""
        address = address_of(key)
        book = NonceBook(self.nonce_dir, self.chain_id, address, lock_timeout=self.lock_timeout)
        flight = _Flight(dict(tx), -1, Fees(int(tx["maxFeePerGas"]), int(tx["maxPriorityFeePerGas"])))
        with book.reserve(lambda: self.node.pending_count(address)) as reservation:
            for _ in range(NONCE_ATTEMPTS):
                flight.nonce = reservation.nonce
                raw, tx_hash = self._sign(key, flight)
                try:
                    self.node.broadcast(raw)
                except NodeRefused as exc:
                    kind = refusal_kind(exc.message)
                    if kind in ("nonce-used", "nonce-taken"):  # by a sender not sharing our record (a wallet)
                        book.retry_above(reservation, lambda: self.node.pending_count(address))
                        continue
                    if kind != "known":  # nothing sent, and the nonce stays free
                        raise TransactionRejected(f"the node refused the transaction: {exc.message}") from exc
                except BroadcastUncertain:
                    pass  # watched like any other: resent if the node turns out not to have it
                flight.raw, flight.hashes = raw, [tx_hash]
                reservation.sent(self.policy.max_wait + RECORD_MARGIN)
                break
            else:
                raise TransactionRejected(
                    f"no free nonce for {address}: the node said each one tried was used; nothing sent"
                )
        try:
            return self._watch(key, address, flight)
        finally:
            with contextlib.suppress(ChainUnavailable):  # the record forgets it on its own later
                book.release(flight.nonce)

    # --- watching ------------------------------------------------------------------------------------

    def _watch(self, key: bytes, address: str, flight: _Flight) -> Any:
        policy = self.policy
        start = self._clock()
        next_replace = start + policy.replace_after
        next_drop_check = start + DROP_CHECK
        poll = FIRST_POLL
        strikes = 0
        told_cap = False
        while True:
            found = self._mined(flight)
            if found is not None:
                return found
            now = self._clock()
            if now - start >= policy.max_wait:
                tries = len(flight.hashes) - 1
                raise ChainUnavailable(
                    f"transaction {flight.hashes[-1]} (nonce {flight.nonce}"
                    + (f", {tries} replacement{'s' if tries != 1 else ''}" if tries else "")
                    + f") was not mined within {policy.max_wait:g} s (PROOFWORK_TX_MAX_WAIT); "
                    "it may still be mined: check it later"
                )
            if now >= next_drop_check:
                next_drop_check = now + DROP_CHECK
                if self.node.mined_count(address) > flight.nonce:
                    found = self._mined(flight)
                    if found is not None:
                        return found
                    strikes += 1
                    if strikes >= CONSUMED_STRIKES:
                        raise TransactionRejected(
                            f"nonce {flight.nonce} of {address} was used by another transaction (this key "
                            f"is used elsewhere without proofwork?); {flight.hashes[-1]} was not mined, "
                            "nothing paid"
                        )
                else:
                    strikes = 0
                    if not any(self.node.known(h) for h in reversed(flight.hashes)):
                        self._resend(key, flight)
                        next_replace = self._clock() + policy.replace_after
                        continue
            if now >= next_replace:
                next_replace = now + policy.replace_after
                told_cap = self._replace(key, flight, told_cap) or told_cap
            self._sleep(poll)
            poll = min(poll * 1.5, MAX_POLL)

    def _mined(self, flight: _Flight) -> Any | None:
        for tx_hash in reversed(flight.hashes):
            receipt = self.node.receipt(tx_hash)
            if receipt is not None:
                if len(flight.hashes) > 1:
                    which = "its last version" if tx_hash == flight.hashes[-1] else "an earlier version"
                    self.notify(
                        f"transaction {tx_hash} (nonce {flight.nonce}) mined: {which}, after "
                        f"{len(flight.hashes) - 1} replacement(s) or resend(s); paid once"
                    )
                return receipt
        return None

    def _replace(self, key: bytes, flight: _Flight, told_cap: bool) -> bool:
        """Re-signs with higher fees under the same nonce; True when the cap left no room (told once)."""
        policy = self.policy
        current = flight.fees
        fresh = self._fresh()
        new = bump(current, fresh, policy.bump_percent, policy.max_fee_per_gas)
        if new is None:
            if not told_cap:
                self.notify(
                    f"transaction {flight.hashes[-1]} (nonce {flight.nonce}) not mined after "
                    f"{policy.replace_after:g} s; its fees are at the cap of {gwei(policy.max_fee_per_gas)} "
                    "gwei (PROOFWORK_MAX_FEE_GWEI): waiting for it without raising them"
                )
            return True
        old_hash = flight.hashes[-1]
        flight.fees = new
        raw, tx_hash = self._sign(key, flight)
        try:
            self.node.broadcast(raw)
        except NodeRefused as exc:
            kind = refusal_kind(exc.message)
            if kind == "nonce-used":
                return False  # one of ours was mined a moment ago, or another sender's: the watch sees it
            if kind != "known":
                # the next replacement starts from these fees, so it offers more than the node wanted
                self.notify(
                    f"transaction {old_hash} (nonce {flight.nonce}) not mined after {policy.replace_after:g} s; "
                    f"the node refused its replacement ({exc.message}); waiting"
                )
                return False
        except BroadcastUncertain:
            pass
        flight.raw = raw
        flight.hashes.append(tx_hash)
        self.notify(
            f"transaction {old_hash} (nonce {flight.nonce}) not mined after {policy.replace_after:g} s: "
            f"replaced by {tx_hash}, paying {new.describe()}"
        )
        return False

    def _resend(self, key: bytes, flight: _Flight) -> None:
        """The node no longer knows any version and the nonce is unused: send it again, at no lower
        fees than the chain asks now (a node drops what the base fee has outgrown)."""
        current = flight.fees
        fresh = self._fresh()
        new = current if fresh is None else at_least(current, fresh)
        old_hash = flight.hashes[-1]
        if new != current:
            flight.fees = new
            flight.raw, tx_hash = self._sign(key, flight)
        else:
            tx_hash = old_hash
        try:
            self.node.broadcast(flight.raw)
        except NodeRefused as exc:
            if refusal_kind(exc.message) not in ("known", "nonce-used"):
                self.notify(
                    f"transaction {old_hash} (nonce {flight.nonce}) was dropped by the node and it "
                    f"refused it again ({exc.message}); waiting"
                )
                return
        except BroadcastUncertain:
            pass
        if tx_hash != old_hash:
            flight.hashes.append(tx_hash)
            self.notify(
                f"transaction {old_hash} (nonce {flight.nonce}) was dropped by the node: sent again as "
                f"{tx_hash}, paying {new.describe()}"
            )
        else:
            self.notify(f"transaction {old_hash} (nonce {flight.nonce}) was dropped by the node: sent again")

    def _fresh(self) -> Fees | None:
        """What the chain asks now, within the cap (None when even the cap is below its base fee)."""
        base, tip = self.node.fee_data()
        try:
            return suggest(base, tip, self.policy.max_fee_per_gas)
        except TransactionRejected:
            return None

    def _sign(self, key: bytes, flight: _Flight) -> tuple[bytes, str]:
        tx = {
            **flight.tx,
            "nonce": flight.nonce,
            **flight.fees.as_tx(),
        }
        signed = Account.sign_transaction(tx, key)
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()
