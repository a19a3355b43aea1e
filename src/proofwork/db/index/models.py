"""The chain index's tables (SQLAlchemy 2 typed models). The schema is created and upgraded by the
Alembic migrations beside this module (`migrations/versions`); a test checks that they agree.

- `index_events`: every event of every indexed contract, one row per log, keyed by chain, transaction
  and log index (so writing a log twice changes nothing); `args` is JSON (integers as decimal text).
- `index_blocks`: the hash of every block holding an indexed event: where a reorg is looked for.
- `index_checkpoints`: per chain, the last block indexed and its hash.
- `index_contracts`: per chain, the contracts indexed and the block their scan starts at.
- `index_jobs`: the jobs projection, one row per job of each escrow on each chain: the fields lists
  filter on and its declared skill (the job attester's `SkillDeclared`); `index_job_records` beside
  it holds the job folded from its escrow events (the same fold as the log-based reads). Both are
  kept in the same transaction as each batch of events.

Amounts and ids that may exceed 2^63 (`budget`, `job_id`: uint256) are `Uint256` columns: 32-byte
big-endian binary. Both databases compare binary values byte by byte (SQLite's BLOB memcmp,
PostgreSQL's bytea), which for fixed-width big-endian unsigned numbers is exactly numeric order, so
`budget >= :min`, ranges and ORDER BY are correct and use indexes up to 2^256 - 1. The alternatives
fail on one side: SQLite's INTEGER stops at 2^63 - 1 and its NUMERIC affinity turns larger values into
floats (rounded); zero-padded decimal text would compare in the PostgreSQL database's collation.
`budget` has no index of its own on purpose: a page is the newest jobs, so a budget range is checked
while walking the job ids backwards (an index on it made SQLite sort every match to take 20).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Dialect, Index, Integer, LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# explicit constraint names: the same schema on SQLite and PostgreSQL, and migrations that can name them
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


UINT256_BYTES = 32


class Uint256(TypeDecorator[int]):
    """A uint256 as 32 big-endian bytes: exact, and ordered as numbers on SQLite and PostgreSQL."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
            raise ValueError(f"not a uint256: {value!r}")
        return value.to_bytes(UINT256_BYTES, "big")

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int.from_bytes(bytes(value), "big")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EventRow(Base):
    __tablename__ = "index_events"
    __table_args__ = (
        Index("ix_index_events_order", "chain_id", "block_number", "tx_index", "log_index"),
        Index("ix_index_events_kind", "chain_id", "contract", "name", "block_number"),
        Index("ix_index_events_address", "chain_id", "address", "block_number"),
    )

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    tx_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(42))
    contract: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)


class BlockRow(Base):
    __tablename__ = "index_blocks"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(66))


class CheckpointRow(Base):
    __tablename__ = "index_checkpoints"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(66))


class ContractRow(Base):
    __tablename__ = "index_contracts"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    contract: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    from_block: Mapped[int] = mapped_column(BigInteger)


class JobRow(Base):
    __tablename__ = "index_jobs"
    __table_args__ = (
        Index("ix_index_jobs_state", "chain_id", "escrow", "state", "job_id"),
        Index("ix_index_jobs_client", "chain_id", "escrow", "client", "job_id"),
        Index("ix_index_jobs_freelancer", "chain_id", "escrow", "freelancer", "job_id"),
        Index("ix_index_jobs_skill", "chain_id", "escrow", "skill", "job_id"),
        Index("ix_index_jobs_last_block", "chain_id", "last_block"),
    )

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    escrow: Mapped[str] = mapped_column(String(42), primary_key=True)  # lower case
    job_id: Mapped[int] = mapped_column(Uint256, primary_key=True)
    client: Mapped[str] = mapped_column(String(42))  # lower case (filters)
    freelancer: Mapped[str] = mapped_column(String(42))  # lower case; the zero address while open
    arbiter: Mapped[str] = mapped_column(String(42))  # lower case
    state: Mapped[str] = mapped_column(String(16))  # Job.status: open, active, completed...
    budget: Mapped[int] = mapped_column(Uint256)  # token base units
    skill: Mapped[str | None] = mapped_column(String(255))
    skill_block: Mapped[int | None] = mapped_column(BigInteger)
    created_block: Mapped[int] = mapped_column(BigInteger)
    # the last event folded in: a batch written again folds nothing twice
    last_block: Mapped[int] = mapped_column(BigInteger)
    last_tx_index: Mapped[int] = mapped_column(Integer)
    last_log_index: Mapped[int] = mapped_column(Integer)


class JobRecordRow(Base):
    """The folded job of an `index_jobs` row, apart: counting the matches of a filter then reads only
    the narrow rows of `index_jobs`."""

    __tablename__ = "index_job_records"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    escrow: Mapped[str] = mapped_column(String(42), primary_key=True)
    job_id: Mapped[int] = mapped_column(Uint256, primary_key=True)
    job: Mapped[dict[str, Any]] = mapped_column(JSON)  # domain.indexed_jobs.job_record
