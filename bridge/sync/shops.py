"""The shops a process serves: those in ``config.yaml`` plus those connected with ``bridge connect``.

A connected shop's URL, API keys and webhook secret live encrypted in the database (``shop_connection``); an entry
with the same id in ``config.yaml`` may add what connect does not manage (``widget_secret``, ``allowed_origins``,
``minor_unit``), and its own URL and secrets are superseded by the connection's.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bridge.config import Settings, ShopSettings, currency_minor_unit
from bridge.storage import connections as store
from bridge.storage import db
from bridge.storage.secretbox import SecretBox, SecretKeyError, box_for

log = logging.getLogger(__name__)


def with_connected_shops(settings: Settings, engine: Engine) -> Settings:
    """``settings`` with the connected shops merged in (unchanged when there are none or no schema yet)."""
    rows = connected_rows(engine, settings.program.id)
    return (merged(settings, rows) if rows else None) or settings


def connected_rows(engine: Engine, program_id: str) -> list[dict[str, Any]] | None:
    """The stored connections (few, small rows); None when the database cannot say (no schema yet, down)."""
    try:
        with db.read(engine) as conn:
            return store.connected(conn, program_id)
    except SQLAlchemyError as exc:  # schema not migrated yet (`bridge db upgrade` builds a runtime first)
        log.debug("connected shops not readable: %s", exc)
        return None


def fingerprint(rows: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Changes with every connect, reconnect (a rotated secret re-seals the credentials) and disconnect, even when
    the clock does not move: the rows themselves are the version."""
    return tuple((r["shop_id"], r["platform"], r["url"], r["credentials"], r["updated_at"]) for r in rows)


def merged(settings: Settings, rows: list[dict[str, Any]]) -> Settings | None:
    """``settings`` with ``rows`` merged over the config entries of the same id; None when the credentials cannot
    be opened (no key yet, or another key): the caller keeps what it has and tries again later."""
    if not rows:
        return settings
    box = box_for(settings, create=False)
    if box is None:
        log.error("shops are connected but no secret key exists to decrypt their credentials: run bridge connect")
        return None
    shops = {shop.id: shop for shop in settings.shops}
    try:
        for row in rows:
            shops[row["shop_id"]] = _connected_shop(row, box, shops.get(row["shop_id"]))
    except SecretKeyError as exc:
        log.error("%s", exc)
        return None
    return dataclasses.replace(settings, shops=tuple(shops.values()))


def _connected_shop(row: dict[str, Any], box: SecretBox, configured: ShopSettings | None) -> ShopSettings:
    secrets = box.open(row["credentials"])
    currency = str(secrets.get("currency") or "USD")  # read from the shop by `bridge connect`
    parts = urlsplit(row["url"])
    if configured and configured.currency:
        currency = configured.currency
    keeps_minor_unit = configured is not None and (configured.currency or configured.minor_unit_given)
    return ShopSettings(
        id=row["shop_id"],
        platform=row["platform"],
        url=row["url"],
        consumer_key=str(secrets["consumer_key"]),
        consumer_secret=str(secrets["consumer_secret"]),
        webhook_secret=str(secrets["webhook_secret"]),
        currency=currency,
        minor_unit=configured.minor_unit if configured and keeps_minor_unit else currency_minor_unit(currency),
        widget_secret=configured.widget_secret if configured else "",
        allowed_origins=(configured.allowed_origins if configured else ()) or (f"{parts.scheme}://{parts.netloc}",),
        minor_unit_given=configured.minor_unit_given if configured else False,
    )
