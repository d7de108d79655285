"""An acknowledged delivery survives a power loss: SQLite commits are synced to disk before the 200."""

from __future__ import annotations

from tests.support import woo
from tests.support.client import Bridge


def test_the_connection_that_stores_a_delivery_syncs_every_commit(bridge: Bridge) -> None:
    bridge.deliver_ok(woo.ORDER_12_SEQUENCE[0])
    assert bridge.inbox_count() == 1
    connection = bridge.rt.engine.raw_connection()  # the pooled connection the receiver committed on
    try:
        cursor = connection.cursor()
        journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
    finally:
        connection.close()
    # WAL with synchronous=NORMAL fsyncs only at checkpoints: the last commits could vanish after a 200.
    assert (journal, synchronous) == ("wal", 2)  # 2 = FULL: the WAL is synced at every commit
