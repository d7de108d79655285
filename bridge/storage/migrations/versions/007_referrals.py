"""referrals: codes, clicks, referrals, member contact digests (issue 5)

Revision ID: 007_referrals
Revises: 005_shop_sync
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "007_referrals"
down_revision = "005_shop_sync"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "referral_code",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _fk("referral_code", "program_id", "program"),
        _fk("referral_code", "member_id", "member"),
        sa.PrimaryKeyConstraint("id", name="pk_referral_code"),
        sa.UniqueConstraint("program_id", "code", name="uq_referral_code_program_id_code"),
    )
    op.create_index("ix_referral_code_member_id", "referral_code", ["member_id"])
    op.create_table(
        "referral_click",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("member_id", _ID, nullable=True),
        sa.Column("ip_hash", sa.String(length=32), nullable=False),
        sa.Column("ua_hash", sa.String(length=32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _fk("referral_click", "program_id", "program"),
        _fk("referral_click", "shop_id", "shop"),
        _fk("referral_click", "member_id", "member"),
        sa.PrimaryKeyConstraint("id", name="pk_referral_click"),
    )
    op.create_index("ix_referral_click_member_id_created_at", "referral_click", ["member_id", "created_at"])
    op.create_table(
        "referral",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("referrer_member_id", _ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("friend_key", sa.String(length=320), nullable=False),
        sa.Column("friend_email", sa.String(length=320), nullable=False),
        sa.Column("friend_member_id", _ID, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("coupon_code", sa.String(length=64), nullable=False),
        sa.Column("coupon_id", sa.String(length=32), nullable=True),
        sa.Column("coupon_expires_at", _utc(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("order_total", sa.String(length=32), nullable=True),
        sa.Column("completed_at", _utc(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("ordered_at", _utc(), nullable=True),
        sa.Column("qualified_at", _utc(), nullable=True),
        sa.Column("rejected_at", _utc(), nullable=True),
        _fk("referral", "program_id", "program"),
        _fk("referral", "shop_id", "shop"),
        sa.ForeignKeyConstraint(["referrer_member_id"], ["member.id"], name="fk_referral_referrer_member_id_member"),
        _fk("referral", "friend_member_id", "member"),
        sa.PrimaryKeyConstraint("id", name="pk_referral"),
        sa.UniqueConstraint("program_id", "friend_key", name="uq_referral_program_id_friend_key"),
    )
    op.create_index("ix_referral_shop_id_coupon_code", "referral", ["shop_id", "coupon_code"])
    op.create_index("ix_referral_referrer_member_id_created_at", "referral", ["referrer_member_id", "created_at"])
    op.create_index("ix_referral_state_completed_at", "referral", ["state", "completed_at"])
    op.create_index("ix_referral_shop_id_order_id", "referral", ["shop_id", "order_id"])
    op.create_table(
        "member_contact",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _fk("member_contact", "program_id", "program"),
        _fk("member_contact", "member_id", "member"),
        sa.PrimaryKeyConstraint("id", name="pk_member_contact"),
        sa.UniqueConstraint("member_id", "kind", "digest", name="uq_member_contact_member_id_kind_digest"),
    )
    op.create_index("ix_member_contact_program_id_kind_digest", "member_contact", ["program_id", "kind", "digest"])


def downgrade() -> None:
    for table in ("member_contact", "referral", "referral_click", "referral_code"):
        op.drop_table(table)
