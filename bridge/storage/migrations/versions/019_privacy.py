"""GDPR erasure marks and custom events (issue 19)

Revision ID: 019_privacy
Revises: 012_program_versions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "019_privacy"
down_revision = "012_program_versions"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_erasure",
        sa.Column("member_id", Id, sa.ForeignKey("member.id"), primary_key=True),
        sa.Column("program_id", sa.String(length=64), sa.ForeignKey("program.id"), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pseudonym", name="uq_member_erasure_pseudonym"),
    )
    op.create_table(
        "member_event",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("program_id", sa.String(length=64), sa.ForeignKey("program.id"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), sa.ForeignKey("shop.id"), nullable=True),
        sa.Column("member_id", Id, sa.ForeignKey("member.id"), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("request_key", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("program_id", "request_key", name="uq_member_event_program_id_request_key"),
    )
    op.create_index("ix_member_event_member_id_type_created_at", "member_event", ["member_id", "type", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_member_event_member_id_type_created_at", table_name="member_event")
    op.drop_table("member_event")
    op.drop_table("member_erasure")
