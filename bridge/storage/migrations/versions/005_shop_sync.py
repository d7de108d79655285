"""shop connections, their webhooks, reconciliation/backfill progress; history-only orders (issue 7)

Revision ID: 005_shop_sync
Revises: 004_redemption
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "005_shop_sync"
down_revision = "004_redemption"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("order_state") as batch:
        batch.add_column(sa.Column("history_only", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "shop_connection",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("public_url", sa.String(length=500), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("connected_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name="fk_shop_connection_shop_id_shop"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_shop_connection_program_id_program"),
        sa.PrimaryKeyConstraint("shop_id", name="pk_shop_connection"),
    )
    op.create_table(
        "shop_webhook",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("platform_webhook_id", sa.String(length=32), nullable=False),
        sa.Column("delivery_url", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("checked_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name="fk_shop_webhook_shop_id_shop"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_shop_webhook_program_id_program"),
        sa.PrimaryKeyConstraint("id", name="pk_shop_webhook"),
        sa.UniqueConstraint("shop_id", "topic", name="uq_shop_webhook_shop_id_topic"),
    )
    op.create_table(
        "sync_state",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("watermark", _utc(), nullable=True),
        sa.Column("window_start", _utc(), nullable=True),
        sa.Column("window_end", _utc(), nullable=True),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name="fk_sync_state_shop_id_shop"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_sync_state_program_id_program"),
        sa.PrimaryKeyConstraint("id", name="pk_sync_state"),
        sa.UniqueConstraint("shop_id", "kind", name="uq_sync_state_shop_id_kind"),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    op.drop_table("shop_webhook")
    op.drop_table("shop_connection")
    with op.batch_alter_table("order_state") as batch:
        batch.drop_column("history_only")
