"""redemption: points turned into single-use shop coupons (issue 4)

Revision ID: 004_redemption
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "004_redemption"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "redemption",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("request_key", sa.String(length=128), nullable=False),
        sa.Column("reward_id", sa.String(length=64), nullable=False),
        sa.Column("reward_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("coupon_id", sa.String(length=32), nullable=True),
        sa.Column("coupon_body", sa.JSON(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_redemption_program_id_program")),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_redemption_shop_id_shop")),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_redemption_member_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption")),
        sa.UniqueConstraint("member_id", "request_key", name=op.f("uq_redemption_member_id_request_key")),
        sa.UniqueConstraint("shop_id", "code", name=op.f("uq_redemption_shop_id_code")),
    )
    op.create_index("ix_redemption_state_next_attempt_at", "redemption", ["state", "next_attempt_at"])
    op.create_index("ix_redemption_state_expires_at", "redemption", ["state", "expires_at"])
    op.create_index(
        "ix_redemption_member_id_reward_id_created_at", "redemption", ["member_id", "reward_id", "created_at"]
    )
    op.create_index("ix_redemption_shop_id_order_id", "redemption", ["shop_id", "order_id"])


def downgrade() -> None:
    op.drop_table("redemption")
