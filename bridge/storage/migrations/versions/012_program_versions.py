"""the program as data: published program versions, drafts, and the version each ledger entry used (issue 14)

Revision ID: 012_program_versions
Revises: 011_redemption_orphan_check
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "012_program_versions"
down_revision = "011_redemption_orphan_check"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "program_version",
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_program_version_program_id_program"),
        sa.PrimaryKeyConstraint("program_id", "version", name="pk_program_version"),
    )
    op.create_table(
        "program_draft",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_program_draft_program_id_program"),
        sa.PrimaryKeyConstraint("id", name="pk_program_draft"),
    )
    op.create_index("ix_program_draft_program_id", "program_draft", ["program_id"])
    with op.batch_alter_table("ledger_entry") as batch:
        batch.add_column(sa.Column("program_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_column("program_version")
    op.drop_index("ix_program_draft_program_id", table_name="program_draft")
    op.drop_table("program_draft")
    op.drop_table("program_version")
