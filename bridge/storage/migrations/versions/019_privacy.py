"""GDPR erasure marks and custom events (issue 19)

Revision ID: 019_privacy
Revises: 016_notifications
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "019_privacy"
down_revision = "016_notifications"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_erasure",
        sa.Column("member_id", Id, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_erasure"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_erasure_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_member_erasure_program_id_program"),
        sa.UniqueConstraint("pseudonym", name="uq_member_erasure_pseudonym"),
    )
    op.create_table(
        "member_event",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("request_key", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_member_event"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_member_event_program_id_program"),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name="fk_member_event_shop_id_shop"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_event_member_id_member"),
        sa.UniqueConstraint("program_id", "request_key", name="uq_member_event_program_id_request_key"),
    )
    op.create_index("ix_member_event_member_id_type_created_at", "member_event", ["member_id", "type", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_member_event_member_id_type_created_at", table_name="member_event")
    op.drop_table("member_event")
    op.drop_table("member_erasure")
