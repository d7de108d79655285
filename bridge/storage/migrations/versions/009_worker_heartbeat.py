"""worker heartbeats: which workers are alive and whether they reach Redis (issue 12)

Revision ID: 009_worker_heartbeat
Revises: 008_merge_heads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "009_worker_heartbeat"
down_revision = "008_merge_heads"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "worker_heartbeat",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("beat_at", _utc(), nullable=False),
        sa.Column("stopped_at", _utc(), nullable=True),
        sa.Column("redis_down_since", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_worker_heartbeat"),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeat")
