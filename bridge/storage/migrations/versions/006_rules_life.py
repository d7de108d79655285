"""rules and the life of a point: order paid/completed/released moments, member profile, point events (issue 3)

Revision ID: 006_rules_life
Revises: 004_redemption
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "006_rules_life"
down_revision = "004_redemption"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("order_state") as batch:
        batch.add_column(sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("evaluated_cycle", sa.Integer(), nullable=True))
    op.create_index("ix_order_state_released_at_completed_at", "order_state", ["released_at", "completed_at"])
    op.create_index("ix_order_state_member_id_paid_at", "order_state", ["member_id", "paid_at"])
    op.create_table(
        "member_profile",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invited_by", sa.String(length=200), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_member_profile_member_id_member")),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_member_profile_program_id_program")),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_profile")),
    )
    op.create_table(
        "point_event",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_point_event_program_id_program")),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_point_event_member_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_event")),
        sa.UniqueConstraint("event_key", name=op.f("uq_point_event_event_key")),
    )
    op.create_index("ix_point_event_member_id_id", "point_event", ["member_id", "id"])


def downgrade() -> None:
    op.drop_table("point_event")
    op.drop_table("member_profile")
    op.drop_index("ix_order_state_member_id_paid_at", "order_state")
    op.drop_index("ix_order_state_released_at_completed_at", "order_state")
    with op.batch_alter_table("order_state") as batch:
        batch.drop_column("evaluated_cycle")
        batch.drop_column("released_at")
        batch.drop_column("completed_at")
        batch.drop_column("paid_at")
