"""redemption.orphan_check_at: a redemption given up while the shop could not be asked (issue 13)

When a reserved redemption passes ``give_up_after_seconds`` and the shop still cannot even be asked whether its
coupon exists, the points go back and the code is kept for a later look-up: a coupon of ours found under it is
deleted then. The column says when that look-up is due (NULL: nothing to check).

Revision ID: 011_redemption_orphan_check
Revises: 010_member_email_key
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "011_redemption_orphan_check"
down_revision = "010_member_email_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("redemption") as batch:
        batch.add_column(sa.Column("orphan_check_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_redemption_orphan_check_at", ["orphan_check_at"])


def downgrade() -> None:
    with op.batch_alter_table("redemption") as batch:
        batch.drop_index("ix_redemption_orphan_check_at")
        batch.drop_column("orphan_check_at")
