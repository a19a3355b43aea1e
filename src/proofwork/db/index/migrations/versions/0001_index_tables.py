"""The chain index: events, blocks with events, checkpoints, contracts.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_events",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "tx_hash", "log_index", name="pk_index_events"),
    )
    op.create_index(
        "ix_index_events_order", "index_events", ["chain_id", "block_number", "tx_index", "log_index"]
    )
    op.create_index("ix_index_events_kind", "index_events", ["chain_id", "contract", "name", "block_number"])
    op.create_index("ix_index_events_address", "index_events", ["chain_id", "address", "block_number"])
    op.create_table(
        "index_blocks",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "number", name="pk_index_blocks"),
    )
    op.create_table(
        "index_checkpoints",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name="pk_index_checkpoints"),
    )
    op.create_table(
        "index_contracts",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("from_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "address", name="pk_index_contracts"),
    )


def downgrade() -> None:
    op.drop_table("index_contracts")
    op.drop_table("index_checkpoints")
    op.drop_table("index_blocks")
    op.drop_index("ix_index_events_address", table_name="index_events")
    op.drop_index("ix_index_events_kind", table_name="index_events")
    op.drop_index("ix_index_events_order", table_name="index_events")
    op.drop_table("index_events")
