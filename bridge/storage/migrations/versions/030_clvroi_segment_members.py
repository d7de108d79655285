"""each member's segments in member order, read from the index alone (issue 18)

Revision ID: 030_clvroi_segment_members
Revises: 030_tierperf_derived_keys

The clv report joins every member with their segments, a range of members at a time, merged in member order
(``bridge.reports.clv``). ``ix_member_in_segment_member_id`` gives that order but not the segment: at 1M members
each row was a heap fetch (random: the table is filled segment by segment), 0.45 s a quarter of the members against
0.1 s from this index alone (``bench/reports.py --explain``).
"""

from __future__ import annotations

from alembic import op

revision = "030_clvroi_segment_members"
down_revision = "030_tierperf_derived_keys"
branch_labels = None
depends_on = None

INDEX = ("ix_member_in_segment_program_id_member_id_segment_id", ["program_id", "member_id", "segment_id"])


def upgrade() -> None:
    op.create_index(INDEX[0], "member_in_segment", INDEX[1])


def downgrade() -> None:
    op.drop_index(INDEX[0], table_name="member_in_segment")
