"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 01:51:23.065485
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "program",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program")),
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_api_key_program_id_program")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    op.create_table(
        "shop",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("minor_unit", sa.Integer(), nullable=False),
        sa.Column("connection_state", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_shop_program_id_program")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop")),
    )
    with op.batch_alter_table("shop", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_program_id"), ["program_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_audit_log_program_id_program")),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_audit_log_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_program_id_id", ["program_id", "id"], unique=False)

    op.create_table(
        "inbox_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("platform_delivery_id", sa.String(length=128), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_inbox_delivery_program_id_program")),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_inbox_delivery_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_delivery")),
    )
    with op.batch_alter_table("inbox_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_delivery_due", ["shop_id", "state", "next_attempt_at", "id"], unique=False)
        batch_op.create_index("ix_inbox_delivery_state_id", ["state", "id"], unique=False)

    op.create_table(
        "member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_shop_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["first_shop_id"], ["shop.id"], name=op.f("fk_member_first_shop_id_shop")),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_member_program_id_program")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("program_id", "email", name=op.f("uq_member_program_id_email")),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cause_type", sa.String(length=32), nullable=False),
        sa.Column("cause_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("reverses_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_ledger_entry_member_id_member")),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_ledger_entry_program_id_program")),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"],
            ["ledger_entry.id"],
            name=op.f("fk_ledger_entry_reverses_entry_id_ledger_entry"),
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_ledger_entry_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entry_idempotency_key")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entry_member_id_id", ["member_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entry_reverses_entry_id"), ["reverses_entry_id"], unique=False)
        batch_op.create_index("ix_ledger_entry_shop_id_cause_id", ["shop_id", "cause_type", "cause_id"], unique=False)

    op.create_table(
        "member_identity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("platform_customer_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_member_identity_member_id_member")),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_member_identity_program_id_program")),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_member_identity_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_identity")),
        sa.UniqueConstraint(
            "shop_id", "platform_customer_id", name=op.f("uq_member_identity_shop_id_platform_customer_id")
        ),
    )
    with op.batch_alter_table("member_identity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_identity_member_id"), ["member_id"], unique=False)

    op.create_table(
        "order_state",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("total", sa.String(length=32), nullable=False),
        sa.Column("refunded_total", sa.String(length=32), nullable=False),
        sa.Column("date_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_order_state_member_id_member")),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name=op.f("fk_order_state_program_id_program")),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_order_state_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_state")),
        sa.UniqueConstraint("shop_id", "order_id", name=op.f("uq_order_state_shop_id_order_id")),
    )


def downgrade() -> None:

    op.drop_table("order_state")
    with op.batch_alter_table("member_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_identity_member_id"))

    op.drop_table("member_identity")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entry_shop_id_cause_id")
        batch_op.drop_index(batch_op.f("ix_ledger_entry_reverses_entry_id"))
        batch_op.drop_index("ix_ledger_entry_member_id_id")

    op.drop_table("ledger_entry")
    op.drop_table("member")
    with op.batch_alter_table("inbox_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_delivery_state_id")
        batch_op.drop_index("ix_inbox_delivery_due")

    op.drop_table("inbox_delivery")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_program_id_id")

    op.drop_table("audit_log")
    with op.batch_alter_table("shop", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_program_id"))

    op.drop_table("shop")
    op.drop_table("api_key")
    op.drop_table("program")
