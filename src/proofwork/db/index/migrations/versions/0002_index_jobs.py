"""The jobs projection: one row per job of each escrow on each chain (and its folded job beside it).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_jobs",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("escrow", sa.String(length=42), nullable=False),
        sa.Column("job_id", sa.LargeBinary(), nullable=False),  # uint256, 32 bytes big-endian
        sa.Column("client", sa.String(length=42), nullable=False),
        sa.Column("freelancer", sa.String(length=42), nullable=False),
        sa.Column("arbiter", sa.String(length=42), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("budget", sa.LargeBinary(), nullable=False),  # uint256, 32 bytes big-endian
        sa.Column("skill", sa.String(length=255), nullable=True),
        sa.Column("skill_block", sa.BigInteger(), nullable=True),
        sa.Column("created_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("last_tx_index", sa.Integer(), nullable=False),
        sa.Column("last_log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "escrow", "job_id", name="pk_index_jobs"),
    )
    op.create_table(
        "index_job_records",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("escrow", sa.String(length=42), nullable=False),
        sa.Column("job_id", sa.LargeBinary(), nullable=False),
        sa.Column("job", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "escrow", "job_id", name="pk_index_job_records"),
    )
    op.create_index("ix_index_jobs_state", "index_jobs", ["chain_id", "escrow", "state", "job_id"])
    op.create_index("ix_index_jobs_client", "index_jobs", ["chain_id", "escrow", "client", "job_id"])
    op.create_index("ix_index_jobs_freelancer", "index_jobs", ["chain_id", "escrow", "freelancer", "job_id"])
    op.create_index("ix_index_jobs_skill", "index_jobs", ["chain_id", "escrow", "skill", "job_id"])
    op.create_index("ix_index_jobs_last_block", "index_jobs", ["chain_id", "last_block"])
    # an index made before this revision: its jobs are folded from the events it already holds
    from proofwork.db.index.jobs import project_all

    project_all(op.get_bind())


def downgrade() -> None:
    for name in ("last_block", "skill", "freelancer", "client", "state"):
        op.drop_index(f"ix_index_jobs_{name}", table_name="index_jobs")
    op.drop_table("index_jobs")
    op.drop_table("index_job_records")
