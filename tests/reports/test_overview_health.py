"""The Overview's inbox and shop figures: waiting and failed deliveries, and what is wrong with a connection, as
the sync and inbox code recorded it (the page never calls the shop)."""

from __future__ import annotations

from sqlalchemy import select

from bridge.reports import overview as report
from bridge.storage import connections, db
from bridge.storage import inbox as inbox_store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from tests.support.client import SHOP, Bridge


def figures(bridge: Bridge) -> report.Overview:
    program = bridge.rt.settings.program
    with db.read(bridge.rt.engine) as conn:
        return report.overview(
            conn,
            program_id=program.id,
            timezone=program.earning.timezone,
            rewards=program.rewards,
            shops=bridge.rt.settings.shops,
            now=utcnow(),
        )


def test_waiting_and_failed_deliveries_and_a_paused_webhook(bridge: Bridge) -> None:
    bridge.deliver_ok("customer.created")
    bridge.deliver_ok("order.updated.processing-paid")  # no worker ran: both wait in the inbox
    now = utcnow()
    with db.write(bridge.rt.engine) as conn:
        _first, last = conn.scalars(select(t.inbox_delivery.c.id).order_by(t.inbox_delivery.c.id)).all()
        inbox_store.mark_attempt_failed(conn, last, error="boom", retry_at=None, now=now)  # parked
        connections.save_connection(
            conn,
            shop_id=SHOP,
            values={
                "program_id": "club",
                "platform": "woocommerce",
                "url": "http://127.0.0.1:8080",
                "public_url": "https://bridge.test",
                "credentials": "sealed",
                "state": connections.CONNECTED,
            },
            now=now,
        )
        for topic, status in (("order.updated", "paused"), ("customer.created", "active")):
            values = {"platform_webhook_id": topic, "delivery_url": "https://bridge.test/w", "status": status}
            connections.save_webhook(conn, program_id="club", shop_id=SHOP, topic=topic, values=values, now=now)
        connections.save_sync_state(
            conn,
            program_id="club",
            shop_id=SHOP,
            kind="reconcile",
            values={"watermark": now, "last_error": "the shop answered 503"},
            now=now,
        )

    found = figures(bridge)
    assert (found.inbox.pending, found.inbox.failed) == (1, 1)
    assert found.inbox.oldest_pending_at is not None
    (shop,) = found.shops
    assert shop.connected and not shop.ok
    assert (shop.pending, shop.failed) == (1, 1)
    assert shop.last_delivery_at is not None
    assert shop.webhooks == {"order.updated": "paused", "customer.created": "active"}
    assert shop.problems == [
        report.Problem("webhook", {"topic": "order.updated", "status": "paused"}),
        report.Problem("failed_deliveries", {"count": 1}),
        report.Problem("reconcile_failed", {"error": "the shop answered 503"}),
    ]
