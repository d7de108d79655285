"""tiers and segments: member tier state and history, nightly segment scores (issue 16)

Revision ID: 018_tiers
Revises: 019_privacy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "018_tiers"
down_revision = "019_privacy"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_tier",
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("tier_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("since", _utc(), nullable=False),
        sa.Column("earned_tier_id", sa.String(length=64), nullable=True),
        sa.Column("override_until", _utc(), nullable=True),
        sa.Column("below_since", _utc(), nullable=True),
        sa.Column("reviewed_period", sa.String(length=16), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_tier_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_member_tier_program_id_program"),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_tier"),
    )
    op.create_index(
        "ix_member_tier_program_id_tier_id_member_id", "member_tier", ["program_id", "tier_id", "member_id"]
    )
    op.create_table(
        "member_tier_history",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("from_tier", sa.String(length=64), nullable=True),
        sa.Column("to_tier", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_tier_history_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_member_tier_history_program_id_program"),
        sa.PrimaryKeyConstraint("id", name="pk_member_tier_history"),
    )
    op.create_index("ix_member_tier_history_member_id_id", "member_tier_history", ["member_id", "id"])
    op.create_table(
        "member_segment",
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("recency", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("last_order_at", _utc(), nullable=True),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("spent_hundredths", sa.BigInteger(), nullable=False),
        sa.Column("scored_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_segment_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_member_segment_program_id_program"),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_segment"),
    )
    op.create_index(
        "ix_member_segment_program_id_segment_member_id", "member_segment", ["program_id", "segment", "member_id"]
    )
    op.create_table(
        "member_in_segment",
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", _id(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_member_in_segment_program_id_program"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_in_segment_member_id_member"),
        sa.PrimaryKeyConstraint("program_id", "segment_id", "member_id", name="pk_member_in_segment"),
    )
    op.create_index("ix_member_in_segment_member_id", "member_in_segment", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_member_in_segment_member_id", table_name="member_in_segment")
    op.drop_table("member_in_segment")
    op.drop_index("ix_member_segment_program_id_segment_member_id", table_name="member_segment")
    op.drop_table("member_segment")
    op.drop_index("ix_member_tier_history_member_id_id", table_name="member_tier_history")
    op.drop_table("member_tier_history")
    op.drop_index("ix_member_tier_program_id_tier_id_member_id", table_name="member_tier")
    op.drop_table("member_tier")
