"""What the owner needs to know about a shop's connection: keys, webhooks, deliveries, backlog, reconciliation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bridge.connectors.woocommerce import api
from bridge.connectors.woocommerce.api import ShopApiError, ShopAuthFailed, WooClient
from bridge.errors import UnknownShop
from bridge.runtime import Runtime
from bridge.storage import connections as store
from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.sync import webhook_plan as plan


def shop_status(
    rt: Runtime, shop_id: str, *, check_shop: bool = True, client: WooClient | None = None
) -> dict[str, Any]:
    rt.reload_shops()
    shop = rt.settings.shop(shop_id)
    if shop is None:
        raise UnknownShop(f"no shop {shop_id!r} is configured or connected")
    now = utcnow()
    with db.read(rt.engine) as conn:
        connection = store.connection(conn, shop_id)
        recorded = store.webhooks(conn, shop_id)
        inbox = _inbox(conn, shop_id)
        reconcile = store.sync_state(conn, shop_id, "reconcile")
        backfill = store.sync_state(conn, shop_id, "backfill")
    connected = bool(connection and connection["state"] == store.CONNECTED)
    status: dict[str, Any] = {
        "shop": shop_id,
        "platform": shop.platform,
        "url": shop.url,
        "connected": connected,
        "connected_at": _iso(connection["connected_at"]) if connected and connection else None,
        "public_url": connection["public_url"] if connected and connection else None,
        "keys": {"present": bool(shop.consumer_key and shop.consumer_secret), "valid": None, "error": None},
        "webhooks": [
            {
                "topic": w["topic"],
                "id": w["platform_webhook_id"],
                "status": w["status"],
                "delivery_url": w["delivery_url"],
            }
            for w in recorded
        ],
        "inbox": inbox,
        "reconcile": _sync(reconcile, now),
        "backfill": _sync(backfill, now),
    }
    if check_shop and status["keys"]["present"]:
        _check_remote(
            rt, shop_id, status, client or WooClient.for_shop(shop, timeout=rt.settings.sync.shop_timeout_seconds)
        )
    return status


def _check_remote(rt: Runtime, shop_id: str, status: dict[str, Any], client: WooClient) -> None:
    """The webhooks as the shop sees them now (this also proves the keys)."""
    try:
        remote = api.list_webhooks(client)
    except ShopAuthFailed as exc:
        status["keys"].update(valid=False, error=str(exc))
        return
    except ShopApiError as exc:
        status["keys"]["error"] = str(exc)
        return
    status["keys"]["valid"] = True
    by_id = {str(w.get("id")): w for w in remote}
    known = {w["id"] for w in status["webhooks"]}
    for webhook in status["webhooks"]:
        found = by_id.get(webhook["id"])
        webhook["status"] = str(found.get("status")) if found else "missing"
    status["unrecorded_bridge_webhooks"] = [
        {"id": str(w.get("id")), "topic": w.get("topic"), "status": w.get("status")}
        for w in remote
        if plan.is_ours(w, shop_id, set()) and str(w.get("id")) not in known
    ]


def _inbox(conn: Any, shop_id: str) -> dict[str, Any]:
    d = t.inbox_delivery.c
    counts = dict(conn.execute(select(d.state, func.count()).where(d.shop_id == shop_id).group_by(d.state)).all())
    last = conn.execute(select(func.max(d.received_at)).where(d.shop_id == shop_id)).scalar()
    oldest = conn.execute(select(func.min(d.received_at)).where(d.shop_id == shop_id, d.state == "pending")).scalar()
    return {
        "last_delivery_at": _iso(last),
        "pending": int(counts.get("pending", 0)),
        "failed": int(counts.get("failed", 0)),
        "oldest_pending_at": _iso(oldest),
    }


def _sync(state: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    if state is None:
        return None
    watermark = state.get("watermark")
    return {
        "state": state["state"],
        "watermark": _iso(watermark),
        "behind_seconds": int((now - watermark).total_seconds()) if watermark else None,
        "last_finished_at": _iso(state.get("finished_at")),
        "last_error": state.get("last_error"),
        "phase": state.get("phase") or None,
        "page": state.get("page"),
        "stats": state.get("stats") or {},
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
