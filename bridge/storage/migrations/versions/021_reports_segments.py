"""segment history for the rfm report (issue 18)

Revision ID: 021_reports_segments
Revises: 015_console_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "021_reports_segments"
down_revision = "020_reports_a"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_segment_snapshot",
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("from_segment", sa.String(length=64), nullable=False),
        sa.Column("to_segment", sa.String(length=64), nullable=False),
        sa.Column("members", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("program_id", "month", "from_segment", "to_segment", name="pk_report_segment_snapshot"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_report_segment_snapshot_program_id_program"),
    )
    op.create_table(
        "report_segment_member",
        sa.Column("member_id", Id, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_report_segment_member"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_report_segment_member_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_report_segment_member_program_id_program"),
    )


def downgrade() -> None:
    op.drop_table("report_segment_member")
    op.drop_table("report_segment_snapshot")
