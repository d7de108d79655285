"""each order's net value as a number, kept by the database, and the reports' covering index (issue 18)

Revision ID: 030_reportsperf_order_net
Revises: 020_member_names

``order_state.net_amount`` = ``total - refunded_total``, at least 0, as a double: a generated column, so every
writer (the order service, backfills, tests that insert rows) gets it right without knowing about it, in the same
statement as the row. The analytics reports read it instead of parsing two decimal strings per order
(``bridge.reports.analytics.net_minor``), and PostgreSQL reads it from the index below without touching the table
(an index-only scan of a year of orders).

PostgreSQL: ``STORED`` (the only kind it has): adding it rewrites ``order_state`` once, under an exclusive lock
(2M orders: see docs/reports.md). SQLite: ``VIRTUAL`` (``ALTER TABLE`` cannot add a stored one); computed when
read, which is what the reports did anyway.
"""

from __future__ import annotations

from alembic import op

revision = "030_reportsperf_order_net"
down_revision = "020_member_names"
branch_labels = None
depends_on = None

# The same expression as bridge.storage.tables (NET_AMOUNT): both spell it for either database.
NET_AMOUNT = (
    "CASE WHEN CAST(total AS DOUBLE PRECISION) > CAST(refunded_total AS DOUBLE PRECISION) "
    "THEN CAST(total AS DOUBLE PRECISION) - CAST(refunded_total AS DOUBLE PRECISION) ELSE 0 END"
)
OLD_INDEX = ("ix_order_state_program_id_paid_at", ["program_id", "paid_at", "member_id", "status"])
NEW_INDEX = (
    "ix_order_state_program_id_paid_at_net",
    ["program_id", "paid_at", "member_id", "status", "shop_id", "net_amount"],
)
# the same columns in member order: a report that sums each member's orders reads them already grouped (a streamed
# aggregate) instead of hashing a million members
BY_MEMBER = (
    "ix_order_state_program_id_member_id_net",
    ["program_id", "member_id", "paid_at", "status", "shop_id", "net_amount"],
)


def upgrade() -> None:
    kind = "STORED" if op.get_bind().dialect.name == "postgresql" else "VIRTUAL"
    op.execute(
        f"ALTER TABLE order_state ADD COLUMN net_amount DOUBLE PRECISION GENERATED ALWAYS AS ({NET_AMOUNT}) {kind}"
    )
    op.create_index(NEW_INDEX[0], "order_state", NEW_INDEX[1])
    op.create_index(BY_MEMBER[0], "order_state", BY_MEMBER[1])
    op.drop_index(OLD_INDEX[0], table_name="order_state")  # the new one starts with its columns


def downgrade() -> None:
    op.create_index(OLD_INDEX[0], "order_state", OLD_INDEX[1])
    op.drop_index(BY_MEMBER[0], table_name="order_state")
    op.drop_index(NEW_INDEX[0], table_name="order_state")
    op.drop_column("order_state", "net_amount")
