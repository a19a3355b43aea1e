"""The chain index in SQL: SQLite by default, PostgreSQL by URL (schema by the Alembic migrations).

Every write is one transaction that first moves (or re-asserts) the chain's checkpoint with a
compare-and-set: a batch's events, the hashes of their blocks and the new checkpoint land together or
not at all, so a process killed at any moment leaves the index as it was after its last whole batch,
and two indexers on one database never move a checkpoint backwards or past each other's work (the
loser gets `CheckpointMoved` and starts its pass again). Events are keyed by (chain, transaction, log
index) and written with ON CONFLICT DO NOTHING: indexing a range twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, create_engine, delete, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from proofwork.db.index.jobs import (
    JobQuery,
    dump_jobs,
    events_of_jobs,
    job_by_id,
    project_batch,
    project_rollback,
    query_jobs,
)
from proofwork.db.index.migrate import UnknownRevision, upgrade
from proofwork.db.index.models import BlockRow, CheckpointRow, ContractRow, EventRow
from proofwork.domain import job as J
from proofwork.domain.errors import DataDirCorrupted, InvalidInput, ProofworkError
from proofwork.domain.indexing import IndexedEvent, arg_value

# rows per INSERT statement (SQLite allows 32,766 bound parameters; an event row binds 10)
_ROWS_PER_INSERT = 2000


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


class CheckpointMoved(ProofworkError):
    """Another indexer moved the checkpoint since this one read it: nothing was written."""


@dataclass(frozen=True)
class Checkpoint:
    block: int  # the last block indexed
    hash: str


@dataclass(frozen=True)
class IndexedContract:
    address: str  # lower case
    contract: str  # JobEscrow...
    role: str  # the deployment manifest's field (escrow, committee...)
    from_block: int


def _url_of(location: str | Path) -> Any:
    text = str(location)
    if "://" in text:
        try:
            url = make_url(text)
        except (ArgumentError, ValueError) as exc:
            raise InvalidInput("the index database URL is not a valid SQLAlchemy URL") from exc
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")  # the driver proofwork installs
        return url
    return make_url("sqlite://").set(database=str(Path(text).expanduser().resolve()))


class IndexStore:
    """The index of every chain written to one database."""

    def __init__(self, engine: Engine, where: str) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.where = where
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        try:
            upgrade(engine)
        except UnknownRevision as exc:
            engine.dispose()
            raise DataDirCorrupted(
                f"{where} was written by a newer proofwork (schema revision {exc.revision}): "
                "use that version, or index into another database"
            ) from exc
        except SQLAlchemyError as exc:
            engine.dispose()
            raise DataDirCorrupted(f"{where} cannot be opened: {_reason(exc)}") from exc

    @classmethod
    def open(cls, location: str | Path) -> IndexStore:
        """`location`: a SQLite file path, or a SQLAlchemy URL (sqlite:///..., postgresql+psycopg://...)."""
        url = _url_of(location)
        shown = url.render_as_string(hide_password=True)
        backend = url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise InvalidInput(
                f"unknown database kind {url.drivername!r} in {shown}: use a SQLite path or postgresql+psycopg://"
            )
        if backend == "sqlite" and url.database and url.database != ":memory:":
            parent = Path(url.database).parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DataDirCorrupted(f"cannot create {parent} for the index: {exc.strerror}") from exc
        options: dict[str, Any] = {}
        if backend == "postgresql":
            # an unreachable server fails in seconds; a connection the server dropped is replaced
            options = {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
        try:
            engine = create_engine(url, **options)
        except NoSuchModuleError as exc:
            raise InvalidInput(f"unknown database kind {url.drivername!r} in {shown}") from exc
        except ImportError as exc:
            raise InvalidInput(
                f"the database driver for {url.drivername!r} is not installed ({exc.name})"
            ) from exc
        except (ArgumentError, SQLAlchemyError, ValueError, TypeError) as exc:
            raise InvalidInput(f"the index database URL {shown} cannot be used: {_reason(exc)}") from exc
        if backend == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine, f"the index database {shown}")

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(f"{self.where} failed: {_reason(exc)}") from exc

    # --- the indexer's side -----------------------------------------------------------------------

    def checkpoint(self, chain_id: int) -> Checkpoint | None:
        with self._session() as session:
            row = session.get(CheckpointRow, chain_id)
            return Checkpoint(row.block, row.hash) if row else None

    def begin(self, chain_id: int, start: Checkpoint) -> Checkpoint:
        """The chain's checkpoint, set to `start` (the block before the first one to index) when the
        chain has none yet."""
        with self._session() as session:
            session.execute(
                self._insert(_table(CheckpointRow))
                .values(chain_id=chain_id, block=start.block, hash=start.hash)
                .on_conflict_do_nothing()
            )
        checkpoint = self.checkpoint(chain_id)
        assert checkpoint is not None
        return checkpoint

    def contracts(self, chain_id: int) -> list[IndexedContract]:
        with self._session() as session:
            rows = session.scalars(
                select(ContractRow).where(ContractRow.chain_id == chain_id).order_by(ContractRow.from_block)
            )
            return [IndexedContract(r.address, r.contract, r.role, r.from_block) for r in rows]

    def write_batch(
        self,
        chain_id: int,
        expected: Checkpoint,
        new: Checkpoint | None,
        events: Sequence[IndexedEvent],
        register: Iterable[IndexedContract] = (),
    ) -> None:
        """One transaction: the checkpoint moves from `expected` to `new` (None: stays, as a backfill
        of a newly indexed contract below it needs), the events and their blocks' hashes are stored,
        the contracts in `register` recorded. CheckpointMoved, and nothing written, when the
        checkpoint is not `expected` any more."""
        target = new or expected
        with self._session() as session:
            moved = session.execute(
                update(CheckpointRow)
                .where(
                    CheckpointRow.chain_id == chain_id,
                    CheckpointRow.block == expected.block,
                    CheckpointRow.hash == expected.hash,
                )
                .values(block=target.block, hash=target.hash)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise CheckpointMoved(f"another indexer moved the checkpoint of chain {chain_id}")
            rows = [
                {
                    "chain_id": chain_id,
                    "tx_hash": e.tx_hash,
                    "log_index": e.log_index,
                    "block_number": e.block_number,
                    "block_hash": e.block_hash,
                    "tx_index": e.tx_index,
                    "address": e.address,
                    "contract": e.contract,
                    "name": e.name,
                    "args": e.args,
                }
                for e in events
            ]
            for i in range(0, len(rows), _ROWS_PER_INSERT):
                session.execute(
                    self._insert(_table(EventRow)).on_conflict_do_nothing(), rows[i : i + _ROWS_PER_INSERT]
                )
            blocks = [
                {"chain_id": chain_id, "number": n, "hash": h}
                for n, h in sorted({(e.block_number, e.block_hash) for e in events})
            ]
            for i in range(0, len(blocks), _ROWS_PER_INSERT):
                session.execute(
                    self._insert(_table(BlockRow)).on_conflict_do_nothing(),
                    blocks[i : i + _ROWS_PER_INSERT],
                )
            contracts = [
                {
                    "chain_id": chain_id,
                    "address": c.address.lower(),
                    "contract": c.contract,
                    "role": c.role,
                    "from_block": c.from_block,
                }
                for c in register
            ]
            if contracts:
                session.execute(self._insert(_table(ContractRow)).on_conflict_do_nothing(), contracts)
            project_batch(session, chain_id, events)  # the jobs projection, in the same transaction

    def blocks_below(self, chain_id: int, below: int, limit: int) -> list[tuple[int, str]]:
        """Stored (number, hash) of blocks with events, at most `limit`, highest first, under `below`."""
        with self._session() as session:
            rows = session.execute(
                select(BlockRow.number, BlockRow.hash)
                .where(BlockRow.chain_id == chain_id, BlockRow.number < below)
                .order_by(BlockRow.number.desc())
                .limit(limit)
            )
            return [(int(n), str(h)) for n, h in rows]

    def rollback(self, chain_id: int, expected: Checkpoint, to: Checkpoint, *, forget_contracts: bool) -> int:
        """Removes everything above block `to.block` and sets the checkpoint to `to` (one transaction);
        `forget_contracts`: the chain was replaced below every stored block, its contracts are
        recorded anew. Returns the number of events removed."""
        with self._session() as session:
            moved = session.execute(
                update(CheckpointRow)
                .where(
                    CheckpointRow.chain_id == chain_id,
                    CheckpointRow.block == expected.block,
                    CheckpointRow.hash == expected.hash,
                )
                .values(block=to.block, hash=to.hash)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise CheckpointMoved(f"another indexer moved the checkpoint of chain {chain_id}")
            removed = session.execute(
                delete(EventRow).where(EventRow.chain_id == chain_id, EventRow.block_number > to.block)
            ).rowcount  # type: ignore[attr-defined]
            session.execute(delete(BlockRow).where(BlockRow.chain_id == chain_id, BlockRow.number > to.block))
            project_rollback(session, chain_id, to.block)
            if forget_contracts:
                session.execute(delete(ContractRow).where(ContractRow.chain_id == chain_id))
            return int(removed)

    # --- reading --------------------------------------------------------------------------------------

    def latest_block(self, chain_id: int) -> int | None:
        """The last block indexed on the chain (None: never indexed)."""
        checkpoint = self.checkpoint(chain_id)
        return checkpoint.block if checkpoint else None

    def count(self, chain_id: int) -> int:
        with self._session() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(EventRow).where(EventRow.chain_id == chain_id)
                )
                or 0
            )

    def events(
        self,
        chain_id: int,
        *,
        contract: str | None = None,
        name: str | None = None,
        address: str | None = None,
        args: dict[str, object] | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
        limit: int | None = None,
    ) -> list[IndexedEvent]:
        """Indexed events in chain order: of a contract (its name, JobEscrow...) or an address, of an
        event name, whose `args` equal the given values (integers, addresses, bytes or text, compared
        as the index stores them), within a block range, the first `limit` of them."""
        query = select(EventRow).where(EventRow.chain_id == chain_id)
        if contract is not None:
            query = query.where(EventRow.contract == contract)
        if name is not None:
            query = query.where(EventRow.name == name)
        if address is not None:
            query = query.where(EventRow.address == address.lower())
        if from_block is not None:
            query = query.where(EventRow.block_number >= from_block)
        if to_block is not None:
            query = query.where(EventRow.block_number <= to_block)
        conditions = []
        for key, value in (args or {}).items():
            stored = arg_value(value)
            if not isinstance(stored, str):
                raise InvalidInput(
                    f"events can be filtered on text, numbers, addresses and bytes, not {value!r}"
                )
            conditions.append(EventRow.args[key].as_string() == stored)
        if conditions:
            query = query.where(and_(*conditions))
        query = query.order_by(EventRow.block_number, EventRow.tx_index, EventRow.log_index)
        if limit is not None:
            query = query.limit(limit)
        with self._session() as session:
            return [IndexedEvent.from_row(r) for r in session.scalars(query)]

    def dump(self, chain_id: int) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the chain, in a stable order (to compare two indexes)."""
        with self._session() as session:
            return {
                "events": [
                    _event_row(r)
                    for r in session.scalars(
                        select(EventRow)
                        .where(EventRow.chain_id == chain_id)
                        .order_by(EventRow.block_number, EventRow.tx_index, EventRow.log_index)
                    )
                ],
                "blocks": [
                    (r.number, r.hash)
                    for r in session.scalars(
                        select(BlockRow).where(BlockRow.chain_id == chain_id).order_by(BlockRow.number)
                    )
                ],
                "contracts": [
                    (r.address, r.contract, r.role, r.from_block)
                    for r in session.scalars(
                        select(ContractRow)
                        .where(ContractRow.chain_id == chain_id)
                        .order_by(ContractRow.address)
                    )
                ],
                "checkpoint": [
                    (r.block, r.hash)
                    for r in session.scalars(select(CheckpointRow).where(CheckpointRow.chain_id == chain_id))
                ],
                "jobs": dump_jobs(session, chain_id),
            }

    # --- the jobs projection --------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A plain connection for reads (lighter than an ORM session)."""
        try:
            with self._engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise DataDirCorrupted(f"{self.where} failed: {_reason(exc)}") from exc

    def jobs(
        self,
        chain_id: int,
        escrow: str,
        where: JobQuery,
        *,
        before: int | None = None,
        limit: int | None = None,
        count: bool = True,
    ) -> JobsRead:
        """The escrow's jobs matching `where`, newest first, with ids below `before`, at most `limit`,
        each with its declared skill; the count matching `where` on every page (when `count`); and the
        checkpoint they are as of (None: the chain is not indexed, or the escrow not registered). The
        page and its checkpoint come from one statement, so they agree."""
        with self._reading() as connection:
            jobs, total, more, at = query_jobs(
                connection, chain_id, escrow, where, before=before, limit=limit, count=count
            )
            if at is not None:  # the escrow has jobs in the index: it is indexed
                return JobsRead(Checkpoint(*at), jobs, total, more)
            found = connection.execute(
                _CHECKPOINT_OF_ESCROW, {"chain_id": chain_id, "escrow": escrow.lower()}
            ).first()
            if found is None or not found[2]:
                return JobsRead(None, [], 0, False)
            return JobsRead(Checkpoint(int(found[0]), str(found[1])), jobs, total, more)

    def job_events(
        self,
        chain_id: int,
        address: str,
        contract: str,
        job_ids: Iterable[int] | None,
        names: Sequence[str] = (),
    ) -> list[IndexedEvent]:
        """The events of the contract at `address` (JobEscrow, OracleCommittee...) about these jobs
        (every job when None), of these names (all when empty), in chain order."""
        with self._reading() as connection:
            return events_of_jobs(connection, chain_id, address, contract, job_ids, names)

    def job_record(self, chain_id: int, escrow: str, job_id: int) -> tuple[J.Job, str | None] | None:
        """One job of the projection with its declared skill (None: not in the index)."""
        with self._reading() as connection:
            return job_by_id(connection, chain_id, escrow, job_id)


# the chain's checkpoint, and whether the escrow is indexed there
_CHECKPOINT_OF_ESCROW = text(
    "SELECT c.block, c.hash, (SELECT COUNT(*) FROM index_contracts k"
    " WHERE k.chain_id = c.chain_id AND k.address = :escrow)"
    " FROM index_checkpoints c WHERE c.chain_id = :chain_id"
)


@dataclass(frozen=True)
class JobsRead:
    checkpoint: Checkpoint | None  # what the index holds: every block up to this one
    jobs: list[tuple[J.Job, str | None]]  # (job, declared skill), newest first
    total: int | None  # matching jobs on every page (None: not counted)
    more: bool  # more jobs follow the page


def _event_row(r: EventRow) -> tuple[Any, ...]:
    fields = ("tx_hash", "log_index", "block_number", "block_hash", "tx_index", "address", "contract", "name")
    return (*(getattr(r, f) for f in fields), r.args)


def _reason(exc: BaseException) -> str:
    """One line about a database error, without its SQL or parameters."""
    orig = getattr(exc, "orig", None)
    detail = str(orig if orig is not None else exc).strip().splitlines()
    text = f"{exc.__class__.__name__}: {detail[0]}" if detail else exc.__class__.__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a killed process loses nothing committed (only a power cut may lose the last
    # batches, which the next pass indexes again from the chain)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
