"""shop settings edited live over config.yaml's: widget secret and allowed origins (issue 14)

Revision ID: 017_shop_settings
Revises: 012_program_versions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "017_shop_settings"
down_revision = "012_program_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shop_setting",
        sa.Column("shop_id", sa.String(length=64), sa.ForeignKey("shop.id"), primary_key=True),
        sa.Column("program_id", sa.String(length=64), sa.ForeignKey("program.id"), nullable=False),
        sa.Column("widget_secret", sa.Text(), nullable=True),
        sa.Column("allowed_origins", sa.JSON(), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shop_setting")
