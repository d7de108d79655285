"""``bridge connect`` / ``bridge disconnect``: check the keys, register our webhooks, remember them encrypted.

Connecting twice updates the bridge's webhooks in place; the shop's other webhooks are never touched. The webhook
secret is generated here (the shop never returns it) and kept across reconnects unless rotated, so deliveries
in flight during a reconnect still verify.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bridge.config import currency_minor_unit
from bridge.connectors.woocommerce import api
from bridge.connectors.woocommerce.api import ShopApiError, ShopAuthFailed, ShopNotFound, ShopUnavailable, WooClient
from bridge.errors import BridgeError
from bridge.runtime import Runtime
from bridge.storage import audit, db
from bridge.storage import connections as store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.storage.db import insert_or_ignore
from bridge.storage.secretbox import box_for
from bridge.sync import webhook_plan as plan

log = logging.getLogger(__name__)


class ConnectError(BridgeError):
    """Connecting cannot go on; the message says what to fix (never carries a key)."""

    code = "connect_failed"
    status = 400


@dataclass(frozen=True)
class ConnectRequest:
    shop_id: str
    url: str
    consumer_key: str
    consumer_secret: str
    public_url: str
    with_products: bool = False
    rotate_secret: bool = False

    def __repr__(self) -> str:
        return f"ConnectRequest(shop_id={self.shop_id!r}, url={self.url!r}, public_url={self.public_url!r})"


@dataclass
class ConnectReport:
    shop_id: str
    home_url: str = ""
    currency: str = ""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def connect(rt: Runtime, req: ConnectRequest, client: WooClient | None = None) -> ConnectReport:
    url = _checked_url(req.url, "--url")
    public_url = _checked_url(req.public_url, "--public-url (or public_url in the config)")
    client = client or WooClient(
        url, req.consumer_key, req.consumer_secret, timeout=rt.settings.sync.shop_timeout_seconds
    )
    report = ConnectReport(shop_id=req.shop_id)
    status = _probe(client, url)
    report.home_url = str(status.get("environment", {}).get("home_url", "")).rstrip("/")
    if report.home_url and report.home_url != url:
        raise ConnectError(
            f"the shop's home URL is {report.home_url}, not {url}: use --url {report.home_url} (the shop signs and "
            "checks requests against its exact home URL)"
        )
    report.currency = str(status.get("settings", {}).get("currency") or "").upper() or _configured_currency(rt, req)
    if urlsplit(public_url).scheme != "https":
        report.warnings.append(
            f"{public_url} is not https: a live shop may refuse to deliver webhooks to it (WordPress blocks unusual"
            " hosts and ports); use the bridge's public https URL"
        )
    webhook_secret = _save_connection(rt, req, url, public_url, report.currency)
    _register_webhooks(rt, client, req, public_url, webhook_secret, report)
    rt.changed("shops")
    return report


def disconnect(rt: Runtime, shop_id: str, client: WooClient | None = None) -> list[str]:
    """Remove exactly the webhooks connect made, then forget the credentials. Returns the topics removed."""
    rt.reload_shops(force=True)
    shop = rt.settings.shop(shop_id)
    with db.read(rt.engine) as conn:
        row = store.connection(conn, shop_id)
        recorded = store.webhooks(conn, shop_id)
    if row is None or row["state"] != store.CONNECTED or shop is None:
        raise ConnectError(f"shop {shop_id!r} is not connected")
    client = client or WooClient.for_shop(shop, timeout=rt.settings.sync.shop_timeout_seconds)
    known = {str(w["platform_webhook_id"]) for w in recorded}
    removed = []
    for webhook in api.list_webhooks(client):
        if plan.is_ours(webhook, shop_id, known):
            api.delete_webhook(client, webhook["id"])
            removed.append(str(webhook.get("topic")))
    now = utcnow()
    with db.write(rt.engine) as conn:
        for w in recorded:
            store.forget_webhook(conn, shop_id, w["topic"])
        store.update_connection(conn, shop_id, {"state": store.DISCONNECTED, "credentials": ""}, now)
        conn.execute(
            t.shop.update().where(t.shop.c.id == shop_id).values(connection_state="disconnected", updated_at=now)
        )
        audit.record(
            conn,
            program_id=rt.settings.program.id,
            shop_id=shop_id,
            actor="cli",
            action="shop.disconnected",
            target_type="shop",
            target_id=shop_id,
            details={"webhooks_removed": sorted(removed)},
        )
    rt.changed("shops")
    return sorted(removed)


def _checked_url(url: str, option: str) -> str:
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConnectError(f"{option} must be an absolute http:// or https:// URL, got {url or 'nothing'!r}")
    return url


def _probe(client: WooClient, url: str) -> dict[str, Any]:
    """Read the shop's status with the keys: the first proof that they work, and its home URL."""
    try:
        return api.system_status(client)
    except ShopAuthFailed as exc:
        if client.uses_oauth:
            raise ConnectError(
                "the shop refused the keys (401). Over http the shop only accepts OAuth 1.0a signatures made on its "
                "exact home URL: check the consumer key and secret, and that --url is exactly the shop's Site "
                "Address (localhost and 127.0.0.1 differ); better, use the https URL"
            ) from exc
        raise ConnectError(
            "the shop refused the keys (401): check the consumer key and secret (WooCommerce → Settings → "
            "Advanced → REST API)"
        ) from exc
    except ShopNotFound as exc:
        raise ConnectError(
            f"no WooCommerce REST API at {url}/wp-json/wc/v3: is WooCommerce active and are permalinks enabled?"
        ) from exc
    except ShopUnavailable as exc:
        raise ConnectError(f"the shop cannot be reached or answered with an error: {exc}") from exc
    except ShopApiError as exc:
        raise ConnectError(f"the shop answered something unexpected: {exc}") from exc


def _configured_currency(rt: Runtime, req: ConnectRequest) -> str:
    shop = rt.settings.shop(req.shop_id)
    return shop.currency if shop else "USD"


def _save_connection(rt: Runtime, req: ConnectRequest, url: str, public_url: str, currency: str) -> str:
    """Store the keys and the webhook secret (sealed) before any webhook exists that would need the secret."""
    box = box_for(rt.settings, create=True)
    assert box is not None
    now = utcnow()
    with db.write(rt.engine) as conn:
        existing = store.connection(conn, req.shop_id)
        secret = ""
        if existing and existing["credentials"] and not req.rotate_secret:
            secret = str(box.open(existing["credentials"]).get("webhook_secret", ""))
        secret = secret or secrets.token_urlsafe(32)
        _save_shop_row(conn, rt.settings.program.id, req.shop_id, url, currency, now)
        sealed = box.seal(
            {
                "consumer_key": req.consumer_key,
                "consumer_secret": req.consumer_secret,
                "webhook_secret": secret,
                "currency": currency,
            }
        )
        values = {
            "program_id": rt.settings.program.id,
            "platform": "woocommerce",
            "url": url,
            "public_url": public_url,
            "credentials": sealed,
            "state": store.CONNECTED,
        }
        store.save_connection(conn, shop_id=req.shop_id, values=values, now=now)
        audit.record(
            conn,
            program_id=rt.settings.program.id,
            shop_id=req.shop_id,
            actor="cli",
            action="shop.connected",
            target_type="shop",
            target_id=req.shop_id,
            details={"url": url, "public_url": public_url, "rotated_secret": bool(existing and req.rotate_secret)},
        )
    return secret


def _save_shop_row(conn: Any, program_id: str, shop_id: str, url: str, currency: str, now: Any) -> None:
    values = {
        "program_id": program_id,
        "platform": "woocommerce",
        "base_url": url,
        "currency": currency,
        "minor_unit": currency_minor_unit(currency),
        "connection_state": "connected",
        "updated_at": now,
    }
    if not insert_or_ignore(conn, t.shop, {"id": shop_id, "created_at": now, **values}, ["id"]):
        conn.execute(t.shop.update().where(t.shop.c.id == shop_id).values(**values))


def _register_webhooks(
    rt: Runtime, client: WooClient, req: ConnectRequest, public_url: str, secret: str, report: ConnectReport
) -> None:
    with db.read(rt.engine) as conn:
        recorded = store.webhooks(conn, req.shop_id)
    known = {str(w["platform_webhook_id"]) for w in recorded}
    ours: dict[str, list[dict[str, Any]]] = {}
    for webhook in api.list_webhooks(client):
        if plan.is_ours(webhook, req.shop_id, known):
            ours.setdefault(str(webhook.get("topic")), []).append(webhook)
    target = plan.delivery_url(public_url, req.shop_id)
    wanted = plan.wanted_topics(req.with_products)
    for topic in wanted:
        body = {
            "name": plan.webhook_name(req.shop_id, topic),
            "topic": topic,
            "delivery_url": target,
            "secret": secret,
            "status": "active",
        }
        existing = sorted(ours.pop(topic, []), key=lambda w: int(w.get("id", 0)))
        try:
            if existing:
                saved = api.update_webhook(client, existing[0]["id"], body)
                report.updated.append(topic)
                for extra in existing[1:]:  # a duplicate left by an interrupted run: one per topic
                    api.delete_webhook(client, extra["id"])
            else:
                saved = api.create_webhook(client, body)
                report.created.append(topic)
        except ShopAuthFailed as exc:
            if api.is_read_only_refusal(exc):
                raise ConnectError(
                    "the keys are read-only: create keys with Read/Write permission (WooCommerce → Settings → "
                    "Advanced → REST API); nothing was changed in the shop"
                    if not (report.created or report.updated)
                    else "the keys lost write permission half-way: fix them and run connect again"
                ) from exc
            raise ConnectError(f"the shop refused to save the {topic} webhook: {exc}") from exc
        _record_webhook(rt, req.shop_id, topic, saved, target)
    for topic, leftovers in ours.items():  # ours, for a topic no longer wanted
        for webhook in leftovers:
            api.delete_webhook(client, webhook["id"])
        report.removed.append(topic)
        with db.write(rt.engine) as conn:
            store.forget_webhook(conn, req.shop_id, topic)


def _record_webhook(rt: Runtime, shop_id: str, topic: str, saved: dict[str, Any], target: str) -> None:
    with db.write(rt.engine) as conn:
        store.save_webhook(
            conn,
            program_id=rt.settings.program.id,
            shop_id=shop_id,
            topic=topic,
            values={
                "platform_webhook_id": str(saved.get("id")),
                "delivery_url": str(saved.get("delivery_url") or target),
                "status": str(saved.get("status") or "active"),
                "checked_at": utcnow(),
            },
            now=utcnow(),
        )
