"""one head again: issue 3 (006_rules_life) and issues 5/7 (005_shop_sync, 007_referrals) branched from 004

Revision ID: 008_merge_heads
Revises: 006_rules_life, 007_referrals
"""

from __future__ import annotations

revision = "008_merge_heads"
down_revision = ("006_rules_life", "007_referrals")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
