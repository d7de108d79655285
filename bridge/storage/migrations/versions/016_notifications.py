"""notifications: the transactional outbox (domain_event), deliveries per (event, channel, target), opt-outs (issue 17)

Revision ID: 016_notifications
Revises: 013_console_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "016_notifications"
down_revision = "013_console_users"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "domain_event",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("member_id", _id(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("planned_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_domain_event_program_id_program"),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name="fk_domain_event_shop_id_shop"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_domain_event_member_id_member"),
        sa.PrimaryKeyConstraint("id", name="pk_domain_event"),
        sa.UniqueConstraint("key", name="uq_domain_event_key"),
    )
    op.create_index("ix_domain_event_planned_at_id", "domain_event", ["planned_at", "id"])
    op.create_index("ix_domain_event_member_id_id", "domain_event", ["member_id", "id"])
    op.create_table(
        "notification_delivery",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", _id(), nullable=False),
        sa.Column("member_id", _id(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _utc(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(length=128), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_notification_delivery_program_id_program"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["domain_event.id"], name="fk_notification_delivery_event_id_domain_event"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_notification_delivery_member_id_member"),
        sa.PrimaryKeyConstraint("id", name="pk_notification_delivery"),
        sa.UniqueConstraint("event_id", "channel", "target", name="uq_notification_delivery_event_id_channel_target"),
    )
    op.create_index(
        "ix_notification_delivery_state_next_attempt_at_id",
        "notification_delivery",
        ["state", "next_attempt_at", "id"],
    )
    op.create_index("ix_notification_delivery_member_id_sent_at", "notification_delivery", ["member_id", "sent_at"])
    op.create_index(
        "ix_notification_delivery_target_member_id_id", "notification_delivery", ["target", "member_id", "id"]
    )
    op.create_table(
        "notification_optout",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_notification_optout_program_id_program"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_notification_optout_member_id_member"),
        sa.PrimaryKeyConstraint("id", name="pk_notification_optout"),
        sa.UniqueConstraint("member_id", "channel", name="uq_notification_optout_member_id_channel"),
    )
    op.create_table(
        "notification_preference",
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_notification_preference_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_notification_preference_program_id_program"),
        sa.PrimaryKeyConstraint("member_id", name="pk_notification_preference"),
    )


def downgrade() -> None:
    op.drop_table("notification_preference")
    op.drop_table("notification_optout")
    op.drop_index("ix_notification_delivery_target_member_id_id", table_name="notification_delivery")
    op.drop_index("ix_notification_delivery_member_id_sent_at", table_name="notification_delivery")
    op.drop_index("ix_notification_delivery_state_next_attempt_at_id", table_name="notification_delivery")
    op.drop_table("notification_delivery")
    op.drop_index("ix_domain_event_member_id_id", table_name="domain_event")
    op.drop_index("ix_domain_event_planned_at_id", table_name="domain_event")
    op.drop_table("domain_event")
