"""members keyed on accounts: member.email is no longer unique, member.email_key selects (issue 12)

Revision ID: 010_member_email_key
Revises: 009_worker_heartbeat
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "010_member_email_key"
down_revision = "009_worker_heartbeat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite the batch rebuilds the table (a UNIQUE cannot be dropped in place); env.py turns foreign keys
    # off for it, so the rows of other tables that point at members survive the copy.
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("email_key", sa.String(length=320), nullable=True))
        batch.drop_constraint("uq_member_program_id_email", type_="unique")
        batch.create_unique_constraint("uq_member_program_id_email_key", ["program_id", "email_key"])
        batch.create_index("ix_member_program_id_email", ["program_id", "email"])
    # Until now every member was selected by its e-mail: each keeps it as its key (guest orders still find it).
    op.execute("UPDATE member SET email_key = email WHERE email <> ''")


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_index("ix_member_program_id_email")
        batch.drop_constraint("uq_member_program_id_email_key", type_="unique")
        batch.create_unique_constraint("uq_member_program_id_email", ["program_id", "email"])
        batch.drop_column("email_key")
