"""the owner console: console users, server-side sessions, login throttle (issue 15)

Revision ID: 013_console_users
Revises: 012_program_versions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "013_console_users"
down_revision = "012_program_versions"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("password_changed_at", _utc(), nullable=False),
        sa.Column("disabled_at", _utc(), nullable=True),
        sa.Column("last_login_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_console_user"),
        sa.UniqueConstraint("email", name="uq_console_user_email"),
    )
    op.create_table(
        "console_session",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", _id(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["console_user.id"], name="fk_console_session_user_id_console_user"),
        sa.PrimaryKeyConstraint("id", name="pk_console_session"),
        sa.UniqueConstraint("token_hash", name="uq_console_session_token_hash"),
    )
    op.create_index("ix_console_session_user_id_revoked_at", "console_session", ["user_id", "revoked_at"])
    op.create_table(
        "console_login_throttle",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", _utc(), nullable=False),
        sa.Column("locked_until", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_console_login_throttle"),
    )
    op.create_index("ix_console_login_throttle_window_start", "console_login_throttle", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_console_login_throttle_window_start", table_name="console_login_throttle")
    op.drop_table("console_login_throttle")
    op.drop_index("ix_console_session_user_id_revoked_at", table_name="console_session")
    op.drop_table("console_session")
    op.drop_table("console_user")
