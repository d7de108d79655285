"""indexes for the reports of issue 18: orders by payment day, coupons by issue and creation day

Revision ID: 020_reports_a
Revises: 015_console_indexes
"""

from __future__ import annotations

from alembic import op

revision = "020_reports_a"
down_revision = "015_console_indexes"
branch_labels = None
depends_on = None

INDEXES = (
    # participation and referred revenue: the orders paid in a range, counted by member (index-only on PostgreSQL)
    ("ix_order_state_program_id_paid_at", "order_state", ["program_id", "paid_at", "member_id", "status"]),
    # the redemption report: coupons issued in a range
    ("ix_redemption_program_id_issued_at", "redemption", ["program_id", "issued_at"]),
    # rewards by popularity, and engagement (members who redeemed before a day)
    ("ix_redemption_program_id_created_at", "redemption", ["program_id", "created_at", "member_id", "state"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
