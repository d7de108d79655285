"""members' names and their search words (issue 15: search by name)

Revision ID: 020_member_names
Revises: 015_console_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "020_member_names"
down_revision = "021_reports_segments"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# code-point order on PostgreSQL: a prefix range on the word uses the btree whatever the database's locale
NameWord = sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "member_name",
        sa.Column("member_id", Id, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_name"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_name_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_member_name_program_id_program"),
    )
    op.create_table(
        "member_name_word",
        sa.Column("member_id", Id, nullable=False),
        sa.Column("word", NameWord, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "word", name="pk_member_name_word"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_name_word_member_id_member"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"], name="fk_member_name_word_program_id_program"),
    )
    op.create_index("ix_member_name_word_program_id_word", "member_name_word", ["program_id", "word", "member_id"])


def downgrade() -> None:
    op.drop_index("ix_member_name_word_program_id_word", table_name="member_name_word")
    op.drop_table("member_name_word")
    op.drop_table("member_name")
