"""the nightly scoring's derived tables without foreign keys (issue 16: the scoring of 1M members < 60 s)

``member_segment``, ``member_in_segment`` (rebuilt by the nightly scoring) and ``report_segment_member`` (the rfm
snapshot's copy of each member's segment, rebuilt monthly) hold only what is derived from rows that are checked
already (``order_state``, ``member``). Their foreign keys to ``member`` and ``program`` cost a trigger call per
row written, and the ``member`` one locks each member's row: measured on PostgreSQL at 1M members, 70-85% of
writing each of these tables (member_in_segment 20.0 -> 5.9 s, report_segment_member 17.4 -> 2.6 s). Nothing
deletes a member or a program (an erasure pseudonymises the member's row and keeps it), so no row of these tables
is ever left pointing at nothing.

Revision ID: 030_tierperf_derived_keys
Revises: 030_reportsperf_order_net
"""

from __future__ import annotations

from alembic import op

revision = "030_tierperf_derived_keys"
down_revision = "030_reportsperf_order_net"
branch_labels = None
depends_on = None

KEYS = (
    ("member_segment", "fk_member_segment_member_id_member", "member_id", "member", "id"),
    ("member_segment", "fk_member_segment_program_id_program", "program_id", "program", "id"),
    ("member_in_segment", "fk_member_in_segment_member_id_member", "member_id", "member", "id"),
    ("member_in_segment", "fk_member_in_segment_program_id_program", "program_id", "program", "id"),
    ("report_segment_member", "fk_report_segment_member_member_id_member", "member_id", "member", "id"),
    ("report_segment_member", "fk_report_segment_member_program_id_program", "program_id", "program", "id"),
)


def upgrade() -> None:
    for table in dict.fromkeys(key[0] for key in KEYS):
        with op.batch_alter_table(table) as batch:
            for _, name, *_ in (key for key in KEYS if key[0] == table):
                batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    for table in dict.fromkeys(key[0] for key in KEYS):
        with op.batch_alter_table(table) as batch:
            for _, name, column, target, target_column in (key for key in KEYS if key[0] == table):
                batch.create_foreign_key(name, target, [column], [target_column])
