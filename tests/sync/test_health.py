"""Webhook health: a disabled or deleted bridge webhook is restored, audited, and the gap reconciled at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bridge.storage import db
from bridge.storage import tables as t
from bridge.sync.health import check_all, check_webhooks
from tests.support import clock
from tests.sync.conftest import CONNECTED, Synced


def _recent(minutes: int) -> str:
    return (clock.now() - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S")


def _audit(synced: Synced) -> list[tuple[str, dict[str, object]]]:
    with db.read(synced.rt.engine) as conn:
        rows = conn.execute(select(t.audit_log.c.action, t.audit_log.c.details).order_by(t.audit_log.c.id)).all()
    return [(action, details) for action, details in rows]


def test_a_disabled_webhook_is_reactivated_and_the_gap_reconciled(synced: Synced) -> None:
    synced.connect(hours_ago=2)
    updated = next(w for w in synced.shop.webhooks.values() if w["topic"] == "order.updated")
    updated["status"] = "disabled"  # what WooCommerce does after the 6th failed delivery in a row
    for i in range(3):  # orders placed while the webhook was off
        synced.shop.put_order(400 + i, email=f"gap{i}@example.test", created=_recent(20 - i))

    report = check_webhooks(synced.rt, CONNECTED)

    assert report.reactivated == ["order.updated"] and not report.recreated
    assert synced.shop.webhooks[updated["id"]]["status"] == "active"
    assert report.reconciled and report.reconciled["missed"] == 3
    assert [synced.balance_of(f"gap{i}@example.test") for i in range(3)] == [35, 35, 35]
    assert ("webhook.reactivated", {"topic": "order.updated", "previous_status": "disabled",
                                    "previous_id": str(updated["id"])}) in _audit(synced)  # fmt: skip


def test_a_deleted_webhook_is_recreated_with_the_same_secret(synced: Synced) -> None:
    synced.connect()
    secret = next(iter(synced.shop.webhook_secrets.values()))
    created = next(w for w in synced.shop.webhooks.values() if w["topic"] == "order.created")
    del synced.shop.webhooks[created["id"]]

    report = check_webhooks(synced.rt, CONNECTED)

    assert report.recreated == ["order.created"]
    again = [w for w in synced.shop.webhooks.values() if w["topic"] == "order.created"]
    assert len(again) == 1 and again[0]["status"] == "active" and again[0]["id"] != created["id"]
    assert synced.shop.webhook_secrets[again[0]["id"]] == secret
    assert check_webhooks(synced.rt, CONNECTED).recreated == []  # the new id is recorded: nothing to do next time
    assert any(action == "webhook.recreated" for action, _ in _audit(synced))


def test_healthy_webhooks_are_left_alone(synced: Synced) -> None:
    synced.connect()
    before = {k: dict(v) for k, v in synced.shop.webhooks.items()}
    report = check_webhooks(synced.rt, CONNECTED)
    assert not report.repaired and report.reconciled is None
    assert synced.shop.webhooks == before
    assert synced.shop.calls_to("PUT", r"webhooks/\d+") == 0


def test_the_periodic_job_checks_connected_shops_and_survives_a_failure(synced: Synced) -> None:
    synced.connect()
    paused = min(synced.shop.webhooks)
    synced.shop.webhooks[paused]["status"] = "paused"
    assert check_all(synced.rt, clock.now())[CONNECTED]["reactivated"]
    synced.shop.fail_next("GET", "webhooks", status=500)
    assert "error" in check_all(synced.rt, clock.now())[CONNECTED]
