"""A persistent, in-process py-evm chain exposed as a web3.py ``Web3``.

proofwork's default chain lives in a data directory rather than in a node process:
every CLI command is a fresh Python process that opens the directory, does its work
and exits. That gives this module five jobs which plain eth-tester does not do:

* **Persistence.** py-evm's key-value store is replaced by one SQLite file. Writes are
  buffered in memory and committed in a single SQLite transaction right after each
  block is mined, so by the time ``send_raw_transaction`` returns, the block holding
  the transaction is on disk, and a ``kill -9`` at any moment leaves the last
  committed block intact (SQLite's atomic commit does the hard part).
* **Exclusive access.** ``fcntl.flock`` on a lock file serialises processes; a second
  process waits up to ``lock_timeout`` and then gets :class:`ChainBusy`.
* **A dev clock.** Blocks are stamped with ``wall clock + persisted offset`` at the
  moment they are mined (not when the pending block was created), and
  :meth:`EmbeddedChain.advance_time` moves the offset forward for good.
* **A log index.** Every block's logs are written to a ``logs`` table in the same
  SQLite transaction as the block (and replaced when ``evm_revert`` moves the head),
  so ``eth_getLogs`` is one indexed query instead of a receipt trie walk per block.
  A chain whose index does not end at its head (written before the index existed) is
  re-indexed when opened.
* **Node-like errors.** Reverts become ``web3.exceptions.ContractLogicError`` (with
  the revert data) and rejected transactions become ``Web3RPCError``, as they would
  against a real node, instead of leaking eth-tester's own exception types.

Everything runs in the calling thread; requests are serialised by a lock, so sharing
one ``EmbeddedChain`` between threads is safe but not concurrent.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import fcntl
import functools
import os
import pathlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Final, cast

import rlp
import web3
from eth.abc import AtomicWriteBatchAPI, BlockHeaderAPI, SignedTransactionAPI
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB
from eth.exceptions import InvalidInstruction as EVMInvalidInstruction
from eth.exceptions import PyEVMError, VMError
from eth.exceptions import Revert as EVMRevert
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.forks import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_abi import abi
from eth_abi.exceptions import DecodingError
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import (
    BLANK_ROOT_HASH,
    generate_genesis_state_for_keys,
    get_default_account_keys,
    get_default_genesis_params,
)
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.exceptions import BlockNotFound, TransactionFailed, TransactionNotFound
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_tester.utils.filters import check_if_topics_match
from eth_typing import BlockNumber, Hash32
from eth_utils import ValidationError as EthValidationError
from eth_utils import encode_hex, to_checksum_address
from eth_utils.toolz import assoc
from web3.providers.eth_tester import EthereumTesterProvider
from web3.providers.eth_tester.defaults import API_ENDPOINTS, static_return
from web3.types import RPCEndpoint, RPCError, RPCResponse

from proofwork.chain.devnets import EMBEDDED_CHAIN_ID
from proofwork.domain.errors import ChainBusy, ChainUnavailable, DataDirCorrupted, InvalidInput

__all__ = ["CHAIN_ID", "DB_FILENAME", "LOCK_FILENAME", "EmbeddedChain"]

# eth-tester's chain id. web3's EthereumTesterProvider answers eth_chainId with this
# constant, so using it keeps every layer (and any existing tooling) in agreement.
CHAIN_ID: Final = EMBEDDED_CHAIN_ID
DB_FILENAME: Final = "chain.sqlite3"
LOCK_FILENAME: Final = "chain.lock"
# Bumped whenever the on-disk layout changes incompatibly.
FORMAT_VERSION: Final = 1
DEV_ACCOUNT_COUNT: Final = 10

_ERROR_SELECTOR: Final = bytes.fromhex("08c379a0")  # Error(string)
_LOCK_POLL_SECONDS: Final = 0.05

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
    block_number INTEGER NOT NULL,
    tx_index INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    block_hash BLOB NOT NULL,
    tx_hash BLOB NOT NULL,
    address BLOB NOT NULL,
    topics BLOB NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (block_number, tx_index, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_by_address ON logs (address, block_number);
"""
# meta: the hash of the block the log index is complete up to (the canonical head when consistent)
_LOGS_HEAD: Final = "logs_head"
_LOG_COLUMNS: Final = "block_number, tx_index, log_index, block_hash, tx_hash, address, topics, data"
# a log index row: block number, transaction index, log index (in its transaction, as eth-tester numbers
# them), block hash, transaction hash, address, topics (32 bytes each, concatenated), data
_LogRow = tuple[int, int, int, bytes, bytes, bytes, bytes, bytes]
# addresses of one eth_getLogs matched in SQL (bound parameters); more are matched in Python
_MAX_SQL_ADDRESSES: Final = 500
# Call outcomes kept (a few hundred bytes each): a long-lived server stays bounded.
_CALL_CACHE_SIZE: Final = 4096


def _wall_clock() -> int:
    return int(time.time())


# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------


class _SQLiteAtomicDB(BaseAtomicDB):
    """py-evm key-value store over SQLite with write buffering.

    py-evm writes trie nodes and chain indexes as it goes (while applying a transaction,
    while mining). Writing each straight to SQLite would make every block many
    transactions and leave half-written blocks after a crash. Instead, writes land in
    ``_pending`` (readable immediately, so py-evm sees its own writes) and
    :meth:`commit` moves them to disk in one SQLite transaction. Anything written but
    not yet committed is unreachable from the committed canonical head, so dropping it
    (crash, :meth:`discard`) is always safe.
    """

    def __init__(self, conn: sqlite3.Connection, path: pathlib.Path) -> None:
        self._conn = conn
        self._path = path
        # None marks a pending delete.
        self._pending: dict[bytes, bytes | None] = {}
        self._pending_meta: dict[str, bytes] = {}
        # log index changes, in order: (first block replaced, rows from that block on)
        self._pending_logs: list[tuple[int, list[_LogRow]]] = []

    # -- DatabaseAPI ---------------------------------------------------------
    def __getitem__(self, key: bytes) -> bytes:
        if key in self._pending:
            value = self._pending[key]
            if value is None:
                raise KeyError(key)
            return value
        value = self._read(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[key] = value

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[key] = None

    def _exists(self, key: bytes) -> bool:
        if key in self._pending:
            return self._pending[key] is not None
        return self._read(key) is not None

    @contextlib.contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        # Same semantics as py-evm's AtomicDB: the batch lands in our buffer all at
        # once or not at all; durability comes later from commit().
        with AtomicDBWriteBatch._commit_unless_raises(self) as batch:
            yield batch

    # -- persistence ---------------------------------------------------------
    def _read(self, key: bytes) -> bytes | None:
        try:
            row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self._path, exc) from exc
        return None if row is None else bytes(row[0])

    def read_meta(self, name: str) -> bytes | None:
        if name in self._pending_meta:
            return self._pending_meta[name]
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def has_chain_data(self) -> bool:
        return self._conn.execute("SELECT 1 FROM kv LIMIT 1").fetchone() is not None

    def stage_meta(self, name: str, value: bytes) -> None:
        """Set a meta value that will be written by the next :meth:`commit`."""
        self._pending_meta[name] = value

    def stage_logs(self, from_block: int, rows: list[_LogRow]) -> None:
        """Replace the log index from block `from_block` up with `rows` at the next :meth:`commit`."""
        self._pending_logs.append((from_block, rows))

    def logs(self, where: str, params: tuple[Any, ...]) -> list[_LogRow]:
        """Committed log index rows matching the SQL condition, in chain order."""
        try:
            rows = self._conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM logs WHERE {where} ORDER BY block_number, tx_index, log_index",
                params,
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self._path, exc) from exc
        return cast(list[_LogRow], rows)

    def commit(self) -> None:
        """Write every buffered change in one durable SQLite transaction."""
        if not self._pending and not self._pending_meta and not self._pending_logs:
            return
        puts = [(k, v) for k, v in self._pending.items() if v is not None]
        deletes = [(k,) for k, v in self._pending.items() if v is None]
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", puts)
                self._conn.executemany("DELETE FROM kv WHERE key = ?", deletes)
                self._conn.executemany(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                    list(self._pending_meta.items()),
                )
                for from_block, rows in self._pending_logs:
                    self._conn.execute("DELETE FROM logs WHERE block_number >= ?", (from_block,))
                    self._conn.executemany(
                        f"INSERT INTO logs ({_LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            raise _storage_error(self._path, exc) from exc
        self._pending.clear()
        self._pending_meta.clear()
        self._pending_logs.clear()

    def discard(self) -> None:
        """Forget everything written since the last commit."""
        self._pending.clear()
        self._pending_meta.clear()
        self._pending_logs.clear()


def _storage_error(path: pathlib.Path, exc: sqlite3.DatabaseError) -> Exception:
    """Map a SQLite failure to the domain error a person can act on."""
    detail = str(exc).replace("\n", " ")
    if isinstance(exc, sqlite3.OperationalError):
        # I/O errors, disk full, permissions: the data may be fine, the machine is not.
        return ChainUnavailable(f"cannot use chain database {path}: {detail}")
    return DataDirCorrupted(f"chain database {path} is damaged ({detail})")


# ---------------------------------------------------------------------------
# Chain
# ---------------------------------------------------------------------------


class _DevClock:
    """Wall clock plus a persisted offset, the time source for every new header."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def next_timestamp(self, parent_timestamp: int, wall: int | None = None) -> int:
        if wall is None:
            wall = _wall_clock()
        return max(wall + self.offset, parent_timestamp + 1)


def _make_chain_class(clock: _DevClock) -> type[MiningChain]:
    """Build the chain class: eth-tester's ``MainnetTesterPosChain`` plus our clock.

    The class is defined here rather than taken from eth-tester because a persisted
    chain must keep its consensus rules when eth-tester changes, and because every
    header py-evm creates (pending blocks, gas estimation) must use the dev clock.
    """
    base_create_header = PragueVM.create_header_from_parent

    def create_header_from_parent(
        parent_header: BlockHeaderAPI | None, **header_params: Any
    ) -> BlockHeaderAPI:
        if parent_header is not None and "timestamp" not in header_params:
            header_params["timestamp"] = clock.next_timestamp(parent_header.timestamp)
        return base_create_header(parent_header, **header_params)

    vm_class = type(
        "ProofworkPragueVM",
        (PragueVM,),
        {"create_header_from_parent": staticmethod(create_header_from_parent)},
    )

    class ProofworkDevChain(MiningChain):
        chain_id = CHAIN_ID
        vm_configuration = ((BlockNumber(0), vm_class),)

        def create_header_from_parent(
            self, parent_header: BlockHeaderAPI, **header_params: Any
        ) -> BlockHeaderAPI:
            # Keep the gas limit constant, as eth-tester does.
            return super().create_header_from_parent(
                parent_header, **assoc(header_params, "gas_limit", parent_header.gas_limit)
            )

        def get_transaction_builder(self) -> Any:
            return super().get_vm().get_transaction_builder()

    return ProofworkDevChain


class _RevertError(TransactionFailed):  # type: ignore[misc]
    """A failed call that keeps the raw revert data for the JSON-RPC error."""

    def __init__(self, message: str, data: bytes | None) -> None:
        super().__init__(message)
        self.data = data


class _PersistentBackend(PyEVMBackend):  # type: ignore[misc]
    """eth-tester's py-evm backend, made durable and given the dev clock.

    Every path that mines a block ends in :meth:`mine_blocks`, which commits the
    buffered writes; every failure in a state-changing path resets the in-memory chain
    to the last commit so memory never runs ahead of disk.
    """

    def __init__(
        self,
        db: _SQLiteAtomicDB,
        chain_class: type[MiningChain],
        clock: _DevClock,
        account_keys: tuple[Any, ...],
    ) -> None:
        # PyEVMBackend.__init__ would build a throwaway in-memory genesis; skip it.
        self._db = db
        self._chain_class = chain_class
        self._clock = clock
        self.account_keys = account_keys
        self.chain = chain_class(db)
        # Set by set_next_block_timestamp: the pending timestamp was chosen on purpose.
        self._timestamp_pinned = False
        # Outcomes of recent calls, by (block header hash, call): see `call`.
        self._calls: collections.OrderedDict[tuple[bytes, str], Any] = collections.OrderedDict()

    # -- helpers -------------------------------------------------------------
    def _pending_is_empty(self) -> bool:
        return bool(self.chain.header.transaction_root == BLANK_ROOT_HASH)

    def _refresh_pending_timestamp(self) -> None:
        """Restamp the empty pending block with the current dev time.

        The pending header is created right after the previous block is mined, which
        in a long-lived process may be long ago. Only moves time forward, so a
        timestamp set explicitly by :meth:`time_travel` survives.
        """
        if self._timestamp_pinned or not self._pending_is_empty():
            return
        header = self.chain.header
        parent = self.chain.get_canonical_head()
        wanted = max(header.timestamp, self._clock.next_timestamp(parent.timestamp))
        if wanted != header.timestamp:
            self.chain.header = header.copy(timestamp=wanted)

    def _reset_to_committed(self) -> None:
        """Drop uncommitted writes and rebuild the chain from the committed head."""
        self._db.discard()
        self._clock.offset = _read_offset(self._db)
        self._timestamp_pinned = False
        self.chain = self._chain_class(self._db)

    def _guarded(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except BaseException:
            self._reset_to_committed()
            raise

    def now(self) -> int:
        return self._clock.next_timestamp(self.chain.get_canonical_head().timestamp)

    # -- state-changing paths ---------------------------------------------------
    def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the embedded chain is persistent; delete its directory")

    def mine_blocks(self, num_blocks: int = 1, coinbase: bytes = 20 * b"\x00") -> tuple[bytes, ...]:
        hashes: list[bytes] = []

        def mine() -> None:
            for _ in range(num_blocks):
                self._refresh_pending_timestamp()
                parent = self.chain.get_canonical_head()
                hashes.extend(super(_PersistentBackend, self).mine_blocks(1, coinbase))
                self._timestamp_pinned = False
                self._stage_log_index(parent)
                # The durability point: this block (and anything staged with it, such
                # as a new clock offset) is on disk before we report it mined.
                self._db.commit()

        self._guarded(mine)
        return tuple(hashes)

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Make the next mined block carry ``timestamp`` and keep that lead from then on."""
        parent = self.chain.get_canonical_head()
        if timestamp <= parent.timestamp or not self._pending_is_empty():
            raise ValueError(f"cannot stamp the next block {timestamp}: latest block is {parent.timestamp}")
        wall = _wall_clock()
        self._clock.offset = max(self._clock.offset, timestamp - wall)
        self._db.stage_meta("time_offset", str(self._clock.offset).encode())
        self.chain.header = self.chain.header.copy(timestamp=timestamp)
        self._timestamp_pinned = True

    def time_travel(self, to_timestamp: int) -> int:
        self._guarded(lambda: self.set_next_block_timestamp(to_timestamp))
        self.mine_blocks()
        return to_timestamp

    def revert_to_snapshot(self, snapshot: bytes) -> None:
        def revert() -> None:
            old_head = self.chain.get_canonical_head()
            super(_PersistentBackend, self).revert_to_snapshot(snapshot)
            self._stage_log_index(old_head)
            self._db.commit()

        self._guarded(revert)

    def send_raw_transaction(self, raw_transaction: bytes) -> bytes:
        def send() -> bytes:
            self._refresh_pending_timestamp()
            return bytes(super(_PersistentBackend, self).send_raw_transaction(raw_transaction))

        return bytes(self._guarded(send))

    def send_signed_transaction(
        self, signed_transaction: dict[str, Any], block_number: Any = "latest"
    ) -> bytes:
        def send() -> bytes:
            self._refresh_pending_timestamp()
            sent = super(_PersistentBackend, self).send_signed_transaction(signed_transaction, block_number)
            return bytes(sent)

        return bytes(self._guarded(send))

    def send_transaction(self, transaction: dict[str, Any]) -> bytes:
        def send() -> bytes:
            self._refresh_pending_timestamp()
            return bytes(super(_PersistentBackend, self).send_transaction(transaction))

        return bytes(self._guarded(send))

    def apply_withdrawals(self, withdrawals_list: list[dict[str, int | str]]) -> None:
        def apply() -> None:
            self._refresh_pending_timestamp()
            super(_PersistentBackend, self).apply_withdrawals(withdrawals_list)
            self._db.commit()

        self._guarded(apply)

    # -- reads -------------------------------------------------------------
    def get_block_by_number(self, block_number: Any, full_transaction: bool = True) -> Any:
        if block_number == "pending":
            self._refresh_pending_timestamp()
        return super().get_block_by_number(block_number, full_transaction)

    def _find_transaction(self, transaction_hash: bytes) -> tuple[Any, Any, int]:
        """Locate a transaction via py-evm's hash index.

        eth-tester walks every block from the head backwards, which makes receipts
        (and so ``eth_getLogs``) slower the longer the chain gets.
        """
        if not self._pending_is_empty():
            pending = self.chain.get_block()
            for index, transaction in enumerate(pending.transactions):
                if transaction.hash == transaction_hash:
                    return pending, transaction, index
        try:
            block_number, index = self.chain.chaindb.get_transaction_index(Hash32(transaction_hash))
        except EVMTransactionNotFound:
            raise TransactionNotFound(
                f"No transaction found for transaction hash: {encode_hex(transaction_hash)}"
            ) from None
        block = self.chain.get_canonical_block_by_number(block_number)
        return block, block.transactions[index], index

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, transaction, index = self._find_transaction(transaction_hash)
        is_pending = block.number == self.chain.header.block_number
        return serialize_transaction(block, transaction, index, is_pending)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        block, transaction, index = self._find_transaction(transaction_hash)
        is_pending = block.number == self.chain.header.block_number
        receipts = block.get_receipts(self.chain.chaindb)
        return serialize_transaction_receipt(
            block, receipts, transaction, index, is_pending, self.chain.get_vm()
        )

    def log_rows(self, header: BlockHeaderAPI) -> list[_LogRow]:
        """The log index rows of a block, read from its receipts.

        Receipts and transaction hashes come straight from the chain database: decoding the block's
        transactions (what building a block object does, with a sender recovery each) is not needed.
        """
        chaindb = self.chain.chaindb
        builder = self.chain.get_vm_class(header).get_block_class().get_receipt_builder()
        receipts = chaindb.get_receipts(header, builder)
        hashes = chaindb.get_block_transaction_hashes(header)
        number, block_hash = int(header.block_number), bytes(header.hash)
        return [
            (
                number,
                tx_index,
                log_index,
                block_hash,
                bytes(tx_hash),
                bytes(log.address),
                b"".join(topic.to_bytes(32, "big") for topic in log.topics),
                bytes(log.data),
            )
            for tx_index, (tx_hash, receipt) in enumerate(zip(hashes, receipts, strict=True))
            for log_index, log in enumerate(receipt.logs)
        ]

    def _stage_log_index(self, old_head: BlockHeaderAPI) -> None:
        """Stage the log index changes that take it from `old_head` to the canonical head: the rows
        of the blocks above the two chains' common ancestor are replaced by the new chain's."""
        chaindb = self.chain.chaindb
        new_head = self.chain.get_canonical_head()
        old, new = old_head, new_head
        while old.hash != new.hash:
            if old.block_number >= new.block_number:
                old = chaindb.get_block_header_by_hash(old.parent_hash)
            else:
                new = chaindb.get_block_header_by_hash(new.parent_hash)
        ancestor = int(new.block_number)
        rows: list[_LogRow] = []
        for number in range(ancestor + 1, int(new_head.block_number) + 1):
            rows.extend(self.log_rows(self.chain.get_canonical_block_header_by_number(BlockNumber(number))))
        self._db.stage_logs(ancestor + 1, rows)
        self._db.stage_meta(_LOGS_HEAD, bytes(new_head.hash))

    def sync_log_index(self) -> None:
        """Rebuild the log index when it is not the canonical chain's (a chain written before it
        existed, or by a proofwork that did not keep it), and commit it."""
        head = self.chain.get_canonical_head()
        if self._db.read_meta(_LOGS_HEAD) == bytes(head.hash):
            return
        rows: list[_LogRow] = []
        for number in range(1, int(head.block_number) + 1):
            rows.extend(self.log_rows(self.chain.get_canonical_block_header_by_number(BlockNumber(number))))
        self._db.stage_logs(0, rows)
        self._db.stage_meta(_LOGS_HEAD, bytes(head.hash))
        self._db.commit()

    def indexed_logs(self, lower: int, upper: int, addresses: Any) -> list[_LogRow]:
        """Log index rows of canonical blocks `lower`..`upper` from `addresses` (eth-tester's
        normalised filter value: None for any, one canonical address, or a tuple of them)."""
        if lower > upper:
            return []
        if addresses is None:
            return self._db.logs("block_number BETWEEN ? AND ?", (lower, upper))
        if isinstance(addresses, bytes):
            return self._db.logs("address = ? AND block_number BETWEEN ? AND ?", (addresses, lower, upper))
        wanted = {bytes(a) for a in addresses}
        if not wanted:
            return []
        if len(wanted) > _MAX_SQL_ADDRESSES:
            rows = self._db.logs("block_number BETWEEN ? AND ?", (lower, upper))
            return [row for row in rows if row[5] in wanted]
        marks = ", ".join("?" * len(wanted))
        return self._db.logs(
            f"address IN ({marks}) AND block_number BETWEEN ? AND ?", (*wanted, lower, upper)
        )

    def estimate_gas(self, transaction: dict[str, Any], block_number: Any = "latest") -> int:
        """eth-tester's estimate (same state, header and errors) in two runs instead of a dozen.

        py-evm searches the gas limit by bisection, about twelve executions of the transaction, which
        made estimation most of the time of a transaction here. A run with the whole block's gas tells
        what the transaction consumes before refunds; that plus 1/63 per call (the gas a call keeps back)
        is tried once, and only if it runs out does the bisection decide. Receipts, and every gas figure
        read from them, are unaffected: only the limit a transaction is sent with changes."""
        self._refresh_pending_timestamp()
        if block_number == "pending":
            return int(super().estimate_gas(transaction, block_number))
        try:
            unsigned = self._get_normalized_and_unsigned_evm_transaction(
                assoc(transaction, "gas", 21000), block_number
            )
            spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
            header = (
                None if block_number in ("latest", "safe", "finalized") else self._header_for(block_number)
            )
            with self.chain.get_vm(header or self.chain.get_canonical_head()).in_costless_state() as state:
                return _two_run_gas_estimate(state, spoofed, self.chain.gas_estimator)
        except (EVMRevert, EVMInvalidInstruction) as exc:  # as eth-tester's own estimate_gas maps them
            raise TransactionFailed(exc) from exc

    def call(self, transaction: dict[str, Any], block_number: Any = "latest") -> bytes:
        """eth-tester's call, but a failure keeps the raw revert data.

        eth-tester decodes the reason and drops the bytes; a node returns them, and
        web3 needs them to raise ContractLogicError/ContractCustomError properly.
        """
        if block_number == "pending":
            self._refresh_pending_timestamp()
        header = self._header_for(block_number)
        # A call's outcome is a function of the block it runs on (the header's hash covers its state
        # root, time, number and parent) and of the call itself: the oracles and the CLI repeat many
        # reads between two blocks, and each costs a full EVM execution here.
        key = (bytes(header.hash), repr(sorted(transaction.items())))
        outcome = self._calls.get(key)
        if outcome is None:
            outcome = self._execute_call(transaction, block_number, header)
            self._calls[key] = outcome
            if len(self._calls) > _CALL_CACHE_SIZE:
                self._calls.popitem(last=False)
        else:
            self._calls.move_to_end(key)
        output, failure = outcome
        if failure is not None:
            raise _RevertError(*failure)
        return output

    def _execute_call(
        self, transaction: dict[str, Any], block_number: Any, header: BlockHeaderAPI
    ) -> tuple[bytes, tuple[str, bytes | None] | None]:
        """Runs a call on `header`'s state: (output, None), or (b"", (message, revert data))."""
        defaulted = dict(transaction)
        if "gas" not in defaulted:
            defaulted["gas"] = self._max_available_gas()
        unsigned = self._get_normalized_and_unsigned_evm_transaction(defaulted, block_number)
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        vm = self.chain.get_vm(at_header=header)
        state = vm.state
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(cast(SignedTransactionAPI, spoofed))
        finally:
            state.revert(snapshot)
        if computation.is_error:
            error = computation.error
            if isinstance(error, EVMRevert):
                data = bytes(error.args[0]) if error.args else b""
                return b"", (_revert_message(data), data)
            return b"", (str(error) or type(error).__name__, None)
        return bytes(computation.output), None

    def _header_for(self, block_number: Any) -> BlockHeaderAPI:
        if block_number == "pending":
            return self.chain.header
        if block_number in ("latest", "safe", "finalized"):
            return self.chain.get_canonical_head()
        if block_number == "earliest":
            return self.chain.get_canonical_block_header_by_number(BlockNumber(0))
        head = self.chain.get_canonical_head()
        if isinstance(block_number, int) and 0 <= block_number <= head.block_number:
            return self.chain.get_canonical_block_header_by_number(BlockNumber(block_number))
        raise BlockNotFound(f"No block found for block number: {block_number}")


def _two_run_gas_estimate(state: Any, transaction: Any, bisection: Callable[[Any, Any], int]) -> int:
    """The gas limit `transaction` needs on `state`: one run with the block's whole gas, one check of
    what it consumed (plus 1/63 for what calls keep back), the bisection only if that runs out. Raises
    the VM's error when the transaction fails with all the gas there is, as the bisection does."""

    def run(gas: int) -> Any:
        snapshot = state.snapshot()
        try:
            return state.apply_transaction(SpoofTransaction(transaction, gas=gas, gas_price=0))
        finally:
            state.revert(snapshot)

    whole = run(state.gas_limit)
    if whole.is_error:
        raise whole.error
    consumed = state.gas_limit - whole.get_gas_remaining()  # intrinsic gas included, refunds not
    candidate = min(state.gas_limit, consumed + consumed // 63 + 2_300)
    if not run(candidate).is_error:
        return int(candidate)
    return int(bisection(state, transaction))


@functools.lru_cache(maxsize=1024)
def _checksum(address: bytes) -> str:
    return str(to_checksum_address(address))


def _outbound_log(row: _LogRow) -> dict[str, Any]:
    """A log index row as eth-tester's `get_logs` answers it (its outbound normalisation)."""
    number, tx_index, log_index, block_hash, tx_hash, address, topics, data = row
    return {
        "type": "mined",
        "log_index": log_index,
        "transaction_index": tx_index,
        "transaction_hash": "0x" + tx_hash.hex(),
        "block_hash": "0x" + block_hash.hex(),
        "block_number": number,
        "address": _checksum(address),
        "data": "0x" + data.hex(),
        "topics": ["0x" + topics[i : i + 32].hex() for i in range(0, len(topics), 32)],
    }


def _raw_log(row: _LogRow) -> dict[str, Any]:
    """A log index row as eth-tester's backend serialises a log (what its filters hold)."""
    number, tx_index, log_index, block_hash, tx_hash, address, topics, data = row
    return {
        "type": "mined",
        "log_index": log_index,
        "transaction_index": tx_index,
        "transaction_hash": tx_hash,
        "block_hash": block_hash,
        "block_number": number,
        "address": address,
        "data": data,
        "topics": _split_topics(topics),
    }


def _split_topics(topics: bytes) -> list[bytes]:
    return [topics[i : i + 32] for i in range(0, len(topics), 32)]


def _plain_topics(topics: Any) -> Any:
    """Turn web3's HexBytes topics into plain bytes.

    eth-tester's matcher compares topics with ``type(a) is type(b)``, so a HexBytes
    topic (which is what web3 passes) never matches and topic filters return nothing.
    """
    if isinstance(topics, bytes):
        return bytes(topics)
    if isinstance(topics, (list, tuple)):
        return [_plain_topics(topic) for topic in topics]
    return topics


class _EmbeddedTester(EthereumTester):  # type: ignore[misc]
    """EthereumTester whose log scans use block blooms and skip sender recovery."""

    def create_log_filter(
        self, from_block: Any = None, to_block: Any = None, address: Any = None, topics: Any = None
    ) -> Any:
        return super().create_log_filter(from_block, to_block, address, _plain_topics(topics))

    def get_logs(
        self, from_block: Any = None, to_block: Any = None, address: Any = None, topics: Any = None
    ) -> tuple[dict[str, Any], ...]:
        topics = _plain_topics(topics)
        # Validation, normalisation and matching exactly as eth-tester does them.
        self.validator.validate_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        raw_from, raw_to, raw_address, raw_topics = self.normalizer.normalize_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        # Block tags become numbers first, giving them node semantics ("earliest" is
        # block 0, "pending" is the head); eth-tester's matcher treats tags oddly.
        lower = self._resolve_block_number("latest" if raw_from is None else raw_from)
        upper = self._resolve_block_number("latest" if raw_to is None else raw_to)
        # The backend's log index: blocks and addresses selected in SQL, no receipt decoded.
        rows = self.backend.indexed_logs(lower, upper, raw_address)
        if raw_topics is not None:
            rows = [row for row in rows if check_if_topics_match(_split_topics(row[6]), raw_topics)]
        return tuple(_outbound_log(row) for row in rows)

    def _resolve_block_number(self, raw: Any) -> int:
        latest = int(self.backend.chain.get_canonical_head().block_number)
        if isinstance(raw, int):
            return min(raw, latest)
        # Nothing is ever pending (transactions are auto-mined), so "pending" is "latest".
        return latest if raw == "pending" else int(self.get_block_by_number(raw)["number"])

    def _add_log_entries_to_filter(self, block: Any, filter_: Any) -> None:
        # Used for new blocks and for history when a log filter is created.
        params = filter_.filter_params or {}
        raw_number = self.normalizer.normalize_inbound_block_number(block["number"])
        for row in self.backend.indexed_logs(raw_number, raw_number, params.get("addresses")):
            filter_.add(_raw_log(row))


def _revert_message(data: bytes) -> str:
    if data[:4] == _ERROR_SELECTOR:
        try:
            (reason,) = abi.decode(["string"], data[4:])
        except DecodingError:
            return "execution reverted"
        return f"execution reverted: {reason}"
    return "execution reverted"


def _revert_from_failure(exc: BaseException) -> tuple[str, bytes | None]:
    """Recover message and revert data from an eth-tester ``TransactionFailed``."""
    if isinstance(exc, _RevertError):
        return str(exc.args[0]), exc.data
    inner: object = exc.args[0] if exc.args else None
    if isinstance(inner, EVMRevert):
        data = bytes(inner.args[0]) if inner.args else b""
        return _revert_message(data), data
    if isinstance(inner, VMError):
        return str(inner) or type(inner).__name__, None
    if isinstance(inner, bytes):
        return _revert_message(inner), inner
    return str(inner) if inner is not None else "execution reverted", None


# ---------------------------------------------------------------------------
# web3 provider
# ---------------------------------------------------------------------------


def _endpoints() -> dict[str, dict[str, Any]]:
    endpoints = {namespace: dict(methods) for namespace, methods in API_ENDPOINTS.items()}
    endpoints["eth"]["chainId"] = static_return(CHAIN_ID)
    return endpoints


class _EmbeddedProvider(EthereumTesterProvider):
    """EthereumTesterProvider that answers failures the way a JSON-RPC node does.

    eth-tester raises its own ``TransactionFailed``/``ValidationError`` straight
    through web3; turning them into JSON-RPC error responses lets web3's normal error
    formatters raise ``ContractLogicError`` (for eth_call/eth_estimateGas) and
    ``Web3RPCError`` (e.g. a bad nonce on send), exactly as against a real node.
    """

    def __init__(self, owner: EmbeddedChain, tester: EthereumTester) -> None:
        super().__init__(ethereum_tester=tester, api_endpoints=_endpoints())
        self._owner = owner

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request_id = self._current_request_id
        self._current_request_id += 1
        with self._owner._request_lock:
            self._owner._ensure_open()
            return self._dispatch(method, params, request_id)

    def _dispatch(self, method: str, params: Any, request_id: int) -> RPCResponse:
        namespace, _, endpoint = method.partition("_")
        assert self.api_endpoints is not None
        delegator = self.api_endpoints.get(namespace, {}).get(endpoint)
        if delegator is None:
            return _error_response(request_id, -32601, f"Unknown RPC Endpoint: {method}")
        try:
            result = delegator(self.ethereum_tester, params)
        except NotImplementedError:
            return _error_response(request_id, -32601, f"RPC Endpoint has not been implemented: {method}")
        except TransactionFailed as exc:
            message, data = _revert_from_failure(exc)
            return _error_response(request_id, 3, message, None if data is None else encode_hex(data))
        except (EthValidationError, TesterValidationError) as exc:
            # What a node says when it refuses a transaction (nonce, funds, gas...).
            return _error_response(request_id, -32000, str(exc).replace("\n", " "))
        return {"id": request_id, "jsonrpc": "2.0", "result": result}


def _error_response(request_id: int, code: int, message: str, data: str | None = None) -> RPCResponse:
    # "data" must be present (even as None): web3 treats a missing key as custom-error data.
    return {
        "id": request_id,
        "jsonrpc": "2.0",
        "error": cast(RPCError, {"code": code, "message": message, "data": data}),
    }


# ---------------------------------------------------------------------------
# Locking and opening
# ---------------------------------------------------------------------------


def _acquire_lock(directory: pathlib.Path, timeout: float) -> int:
    """Take the directory's exclusive lock, waiting up to ``timeout`` seconds.

    flock (not a pid file) because the kernel releases it when the holder dies, even
    by ``kill -9``, so a crash never leaves the chain locked. The holder's pid is
    written into the file only to make the "busy" message useful.
    """
    lock_path = directory / LOCK_FILENAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise ChainUnavailable(f"cannot open lock file {lock_path}: {exc.strerror}") from exc
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise ChainUnavailable(f"cannot lock {lock_path}: {exc.strerror}") from exc
        if time.monotonic() >= deadline:
            holder = _read_holder_pid(fd)
            os.close(fd)
            by = f" by process {holder}" if holder else " by another process"
            raise ChainBusy(
                f"chain data directory {directory} is in use{by}; gave up after waiting {timeout:g}s"
            )
        time.sleep(_LOCK_POLL_SECONDS)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # The pid is a courtesy for error messages; the lock is what matters.
    return fd


def _read_holder_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def _release_lock(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _connect(path: pathlib.Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves so one block is exactly
    # one transaction. WAL + synchronous=FULL: each commit is durable once it returns.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL").fetchone()
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


def _read_offset(db: _SQLiteAtomicDB) -> int:
    raw = db.read_meta("time_offset")
    return int(raw.decode()) if raw is not None else 0


def _dev_keys() -> tuple[Any, ...]:
    return tuple(get_default_account_keys(quantity=DEV_ACCOUNT_COUNT))


class EmbeddedChain:
    """A py-evm chain stored in a directory, usable from one process at a time.

    Open it with :meth:`open`, use :attr:`web3`, then :meth:`close` (or use it as a
    context manager). Every block is committed to disk when it is mined, so anything a
    caller was told is done survives a crash.
    """

    web3: web3.Web3
    chain_id: int
    dev_private_keys: list[bytes]

    def __init__(
        self,
        directory: pathlib.Path,
        conn: sqlite3.Connection,
        lock_fd: int,
        backend: _PersistentBackend,
    ) -> None:
        """Internal; use :meth:`open`."""
        self.directory = directory
        self.chain_id = CHAIN_ID
        self.dev_private_keys = [key.to_bytes() for key in backend.account_keys]
        self._conn = conn
        self._lock_fd: int | None = lock_fd
        self._backend = backend
        self._request_lock = threading.RLock()
        self._tester = _EmbeddedTester(backend=backend, auto_mine_transactions=True)
        self.web3 = web3.Web3(_EmbeddedProvider(self, self._tester))

    @classmethod
    def open(cls, directory: pathlib.Path, *, lock_timeout: float = 30.0) -> EmbeddedChain:
        """Open (creating on first use) the chain stored in ``directory``.

        Takes an exclusive lock (``fcntl.flock`` on ``directory/chain.lock``) held until
        :meth:`close`; waits up to ``lock_timeout`` seconds for another process, then
        raises :class:`ChainBusy` with a one-line message naming the directory (and the
        other pid if known). A damaged database raises :class:`DataDirCorrupted` (one
        line, naming the file), never a raw traceback.
        """
        directory = pathlib.Path(directory).expanduser().absolute()
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ChainUnavailable(f"cannot create chain data directory {directory}: {exc.strerror}") from exc
        lock_fd = _acquire_lock(directory, lock_timeout)
        db_path = directory / DB_FILENAME
        conn: sqlite3.Connection | None = None
        try:
            try:
                conn = _connect(db_path)
            except sqlite3.DatabaseError as exc:
                raise _storage_error(db_path, exc) from exc
            db = _SQLiteAtomicDB(conn, db_path)
            backend = _load_or_create(db, db_path)
            return cls(directory, conn, lock_fd, backend)
        except BaseException:
            if conn is not None:
                conn.close()
            _release_lock(lock_fd)
            raise

    # -- dev clock ------------------------------------------------------------
    def now(self) -> int:
        """The timestamp the next block will get."""
        with self._request_lock:
            self._ensure_open()
            return self._backend.now()

    def advance_time(self, seconds: int) -> int:
        """Dev clock: mine an (empty) block whose timestamp is ``seconds`` later than
        the chain's current time (:meth:`now`).

        The new offset from the wall clock is persisted, atomically with that block, so
        every later block (in this and later processes) keeps at least that lead over
        the wall clock. Returns the new latest block timestamp.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise InvalidInput(f"time can only move forward by whole seconds, not {seconds!r}")
        with self._request_lock:
            self._ensure_open()
            target = self._backend.now() + seconds
            self._backend._guarded(lambda: self._backend.set_next_block_timestamp(target))
            # Through EthereumTester, so this process's block/log filters see the block.
            self._tester.mine_blocks(1)
            return int(self._backend.chain.get_canonical_head().timestamp)

    def increase_time(self, seconds: int) -> int:
        """Dev clock, as a node's ``evm_increaseTime``: blocks mined from now on are ``seconds`` later
        than :meth:`now` would have stamped them (nothing is mined). The new offset is on disk when this returns (uncommitted chain writes committed
        with it belong to no block yet, so they are harmless). Returns the offset."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise InvalidInput(f"time can only move forward by whole seconds, not {seconds!r}")
        with self._request_lock:
            self._ensure_open()
            clock = self._backend._clock
            # from the chain's time (`now`), which a run of blocks in one second may put ahead of the wall
            clock.offset = self._backend.now() + seconds - _wall_clock()
            self._backend._db.stage_meta("time_offset", str(clock.offset).encode())
            self._backend._db.commit()
            return int(clock.offset)

    @property
    def time_offset(self) -> int:
        """Dev clock: seconds the chain's time leads the wall clock by."""
        with self._request_lock:
            return int(self._backend._clock.offset)

    def restore_time_offset(self, offset: int) -> None:
        """Dev clock, for a node's ``evm_revert``: the lead the clock had when the snapshot was taken
        (blocks stay monotonic: a new block is always later than its parent). Persisted at once."""
        with self._request_lock:
            self._ensure_open()
            backend = self._backend
            backend._clock.offset = int(offset)
            backend._timestamp_pinned = False
            if backend._pending_is_empty():  # the pending block was stamped with the lead undone here
                parent = backend.chain.get_canonical_head()
                stamp = backend._clock.next_timestamp(parent.timestamp)
                backend.chain.header = backend.chain.header.copy(timestamp=stamp)
            backend._db.stage_meta("time_offset", str(int(offset)).encode())
            backend._db.commit()

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Dev clock, as a node's ``evm_setNextBlockTimestamp``: the next block mined carries
        ``timestamp`` (later than the latest block's), and later blocks keep that lead."""
        with self._request_lock:
            self._ensure_open()
            backend = self._backend
            if timestamp <= int(backend.chain.get_canonical_head().timestamp):
                raise InvalidInput(f"timestamp {timestamp} is not after the latest block's")
            backend._guarded(lambda: backend.set_next_block_timestamp(timestamp))

    # -- lifecycle ------------------------------------------------------------
    def close(self) -> None:
        """Release the chain: close the database (checkpointing its WAL) and the lock.

        Everything reported done was committed when its block was mined; writes not
        yet committed belong to no block and are dropped. Idempotent.
        """
        with self._request_lock:
            if self._lock_fd is None:
                return
            try:
                self._backend._db.discard()
                self._conn.close()
            finally:
                fd, self._lock_fd = self._lock_fd, None
                _release_lock(fd)

    @property
    def closed(self) -> bool:
        return self._lock_fd is None

    def _ensure_open(self) -> None:
        if self._lock_fd is None:
            raise ChainUnavailable(f"embedded chain in {self.directory} has been closed")

    def __enter__(self) -> EmbeddedChain:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<EmbeddedChain {self.directory} ({state})>"


def _load_or_create(db: _SQLiteAtomicDB, db_path: pathlib.Path) -> _PersistentBackend:
    """Load the chain from its committed head, or build and commit the genesis."""
    try:
        version = db.read_meta("format_version")
        if version is None:
            # Genesis and meta are committed together, so chain data without meta
            # means damage; re-creating the genesis would silently reset the chain.
            if db.has_chain_data():
                raise DataDirCorrupted(f"chain database {db_path} is damaged (its meta table is empty)")
            return _create(db)
        if version != str(FORMAT_VERSION).encode():
            raise DataDirCorrupted(
                f"chain database {db_path} has format {version.decode(errors='replace')!r}, "
                f"this proofwork reads format {FORMAT_VERSION}"
            )
        stored_chain_id = db.read_meta("chain_id")
        if stored_chain_id != str(CHAIN_ID).encode():
            raise DataDirCorrupted(
                f"chain database {db_path} belongs to chain id {stored_chain_id!r}, expected {CHAIN_ID}"
            )
        clock = _DevClock(_read_offset(db))
        backend = _PersistentBackend(db, _make_chain_class(clock), clock, _dev_keys())
        # Touch the head's state so a database missing its latest data fails now,
        # with a clear message, instead of on the first request.
        head = backend.chain.get_canonical_head()
        if not db.exists(head.state_root):
            raise DataDirCorrupted(
                f"chain database {db_path} is damaged (state of block {head.block_number} is missing)"
            )
        backend.sync_log_index()
        return backend
    except sqlite3.DatabaseError as exc:
        raise _storage_error(db_path, exc) from exc
    except (PyEVMError, KeyError, rlp.exceptions.RLPException, ValueError) as exc:
        detail = str(exc).replace("\n", " ") or type(exc).__name__
        raise DataDirCorrupted(f"chain database {db_path} is damaged ({detail})") from exc


def _create(db: _SQLiteAtomicDB) -> _PersistentBackend:
    keys = _dev_keys()
    clock = _DevClock(0)
    chain_class = _make_chain_class(clock)
    chain_class.from_genesis(db, get_default_genesis_params(), generate_genesis_state_for_keys(keys))
    db.stage_meta("format_version", str(FORMAT_VERSION).encode())
    db.stage_meta("chain_id", str(CHAIN_ID).encode())
    db.stage_meta("time_offset", b"0")
    # Genesis and the meta rows land in one transaction: a crash here leaves an empty
    # database that the next open simply initialises again.
    db.commit()
    backend = _PersistentBackend(db, chain_class, clock, keys)
    backend.sync_log_index()
    return backend
