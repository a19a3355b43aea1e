"""The chain index's tables (SQLAlchemy 2 typed models). The schema is created and upgraded by the
Alembic migrations beside this module (`migrations/versions`); a test checks that they agree.

- `index_events`: every event of every indexed contract, one row per log, keyed by chain, transaction
  and log index (so writing a log twice changes nothing); `args` is JSON (integers as decimal text).
- `index_blocks`: the hash of every block holding an indexed event: where a reorg is looked for.
- `index_checkpoints`: per chain, the last block indexed and its hash.
- `index_contracts`: per chain, the contracts indexed and the block their scan starts at.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# explicit constraint names: the same schema on SQLite and PostgreSQL, and migrations that can name them
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


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
