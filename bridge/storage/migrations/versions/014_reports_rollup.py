"""report rollups: daily points and members, member activity, the rollup's state; created_at indexes (issue 15)

Revision ID: 014_reports_rollup
Revises: 018_tiers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "014_reports_rollup"
down_revision = "018_tiers"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_rollup_state",
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("rolled_until", _utc(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_report_rollup_state_program_id_program"),
        sa.PrimaryKeyConstraint("program_id", name="pk_report_rollup_state"),
    )
    op.create_table(
        "report_daily_points",
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=1), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_report_daily_points_program_id_program"),
        sa.PrimaryKeyConstraint(
            "program_id", "day", "shop_id", "kind", "state", "direction", name="pk_report_daily_points"
        ),
    )
    op.create_table(
        "report_daily_members",
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("joined", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_report_daily_members_program_id_program"),
        sa.PrimaryKeyConstraint("program_id", "day", name="pk_report_daily_members"),
    )
    op.create_table(
        "report_member_activity",
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("last_active_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_report_member_activity_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_report_member_activity_program_id_program"),
        sa.PrimaryKeyConstraint("member_id", name="pk_report_member_activity"),
    )
    op.create_index(
        "ix_report_member_activity_program_id_last_active_at",
        "report_member_activity",
        ["program_id", "last_active_at"],
    )
    op.create_index("ix_ledger_entry_created_at", "ledger_entry", ["created_at"])
    op.create_index("ix_member_program_id_created_at", "member", ["program_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_member_program_id_created_at", table_name="member")
    op.drop_index("ix_ledger_entry_created_at", table_name="ledger_entry")
    op.drop_index("ix_report_member_activity_program_id_last_active_at", table_name="report_member_activity")
    op.drop_table("report_member_activity")
    op.drop_table("report_daily_members")
    op.drop_table("report_daily_points")
    op.drop_table("report_rollup_state")
