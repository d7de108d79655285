"""indexes for the console's member search, member timeline and redemption list (issue 15)

Revision ID: 015_console_indexes
Revises: 014_reports_rollup
"""

from __future__ import annotations

from alembic import op

revision = "015_console_indexes"
down_revision = "014_reports_rollup"
branch_labels = None
depends_on = None

INDEXES = (
    # search by a shop customer id across the program's shops (the unique key starts with shop_id)
    ("ix_member_identity_platform_customer_id", "member_identity", ["platform_customer_id"]),
    # the tier filter
    ("ix_member_profile_program_id_tier", "member_profile", ["program_id", "tier"]),
    # the timeline's referrals received (the referrer's side has its index)
    ("ix_referral_friend_member_id", "referral", ["friend_member_id"]),
    # the timeline's profile changes, and the audit page's "this member" filter
    ("ix_audit_log_target", "audit_log", ["program_id", "target_type", "target_id", "id"]),
    # the Redemptions page: one state, newest first
    ("ix_redemption_state_id", "redemption", ["state", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
