"""Webhook health: WooCommerce disables a webhook after a handful of failed deliveries and never tells anyone.

Periodically, for each connected shop, the bridge reads its own webhooks in the shop: a ``disabled`` or ``paused``
one is re-activated, a missing one re-created (with the same secret), each event is audited, and a
reconciliation runs at once to recover what was lost while deliveries were off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge.connectors.woocommerce import api
from bridge.connectors.woocommerce.api import WooClient
from bridge.runtime import Runtime, runs_with_runtime
from bridge.storage import audit, db
from bridge.storage import connections as store
from bridge.storage.clock import utcnow
from bridge.sync import reconcile as reconciliation
from bridge.sync import webhook_plan as plan

log = logging.getLogger(__name__)


@dataclass
class HealthReport:
    shop_id: str
    reactivated: list[str] = field(default_factory=list)
    recreated: list[str] = field(default_factory=list)
    reconciled: dict[str, Any] | None = None

    @property
    def repaired(self) -> bool:
        return bool(self.reactivated or self.recreated)


@runs_with_runtime
def check_webhooks(rt: Runtime, shop_id: str, client: WooClient | None = None) -> HealthReport:
    shop = rt.settings.shop(shop_id)
    assert shop is not None
    client = client or WooClient.for_shop(shop, timeout=rt.settings.sync.shop_timeout_seconds)
    with db.read(rt.engine) as conn:
        recorded = store.webhooks(conn, shop_id)
    by_id = {str(w.get("id")): w for w in api.list_webhooks(client)}
    report = HealthReport(shop_id)
    for mine in recorded:
        found = by_id.get(str(mine["platform_webhook_id"]))
        if found is None:
            saved = api.create_webhook(client, _body(rt, shop_id, mine["topic"], mine["delivery_url"]))
            report.recreated.append(mine["topic"])
            _note(rt, shop_id, mine, saved, "webhook.recreated", previous="missing")
        elif found.get("status") != "active":
            saved = api.update_webhook(client, found["id"], {"status": "active"})
            report.reactivated.append(mine["topic"])
            _note(rt, shop_id, mine, saved, "webhook.reactivated", previous=str(found.get("status")))
        else:
            _touch(rt, shop_id, mine["topic"])
    if report.repaired:
        # Deliveries were off for a while: recover the gap now rather than at the next scheduled run.
        report.reconciled = reconciliation.reconcile(rt, shop_id, client=client).as_dict()
    return report


def _body(rt: Runtime, shop_id: str, topic: str, delivery_url: str) -> dict[str, Any]:
    shop = rt.settings.shop(shop_id)
    assert shop is not None
    return {
        "name": plan.webhook_name(shop_id, topic),
        "topic": topic,
        "delivery_url": delivery_url,
        "secret": shop.webhook_secret,
        "status": "active",
    }


def _note(rt: Runtime, shop_id: str, mine: dict[str, Any], saved: dict[str, Any], action: str, previous: str) -> None:
    log.warning("shop %s: %s webhook was %s: %s", shop_id, mine["topic"], previous, action)
    now = utcnow()
    with db.write(rt.engine) as conn:
        values = {"platform_webhook_id": str(saved.get("id")), "status": str(saved.get("status")), "checked_at": now}
        store.update_webhook(conn, shop_id, mine["topic"], values, now)
        audit.record(
            conn,
            program_id=rt.settings.program.id,
            shop_id=shop_id,
            actor="system:webhook-health",
            action=action,
            target_type="webhook",
            target_id=str(saved.get("id")),
            details={"topic": mine["topic"], "previous_status": previous, "previous_id": mine["platform_webhook_id"]},
        )


def _touch(rt: Runtime, shop_id: str, topic: str) -> None:
    now = utcnow()
    with db.write(rt.engine) as conn:
        store.update_webhook(conn, shop_id, topic, {"status": "active", "checked_at": now}, now)


def check_all(rt: Runtime, now: datetime) -> dict[str, Any]:
    """The periodic job: every connected shop; one shop's failure does not stop the others."""
    rt.reload_shops()
    with db.read(rt.engine) as conn:
        shop_ids = [row["shop_id"] for row in store.connected(conn, rt.settings.program.id)]
    results: dict[str, Any] = {}
    for shop_id in shop_ids:
        try:
            results[shop_id] = check_webhooks(rt, shop_id).__dict__
        except Exception as exc:
            log.warning("webhook health check of shop %s failed: %s", shop_id, exc)
            results[shop_id] = {"error": str(exc)}
    return results
