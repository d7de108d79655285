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
from bridge.storage.secretbox import SecretBox, box_for

log = logging.getLogger(__name__)


def with_connected_shops(settings: Settings, engine: Engine) -> Settings:
    """``settings`` with the connected shops merged in (unchanged when there are none or no schema yet)."""
    try:
        with db.read(engine) as conn:
            rows = store.connected(conn, settings.program.id)
    except SQLAlchemyError:  # schema not migrated yet (`bridge db upgrade` builds a runtime first)
        return settings
    if not rows:
        return settings
    box = box_for(settings, create=False)
    if box is None:
        log.error("shops are connected but no secret key exists to decrypt their credentials: run bridge connect")
        return settings
    shops = {shop.id: shop for shop in settings.shops}
    for row in rows:
        shops[row["shop_id"]] = _connected_shop(row, box, shops.get(row["shop_id"]))
    return dataclasses.replace(settings, shops=tuple(shops.values()))


def _connected_shop(row: dict[str, Any], box: SecretBox, configured: ShopSettings | None) -> ShopSettings:
    secrets = box.open(row["credentials"])
    currency = str(secrets.get("currency") or "USD")  # read from the shop by `bridge connect`
    parts = urlsplit(row["url"])
    return ShopSettings(
        id=row["shop_id"],
        platform=row["platform"],
        url=row["url"],
        consumer_key=str(secrets["consumer_key"]),
        consumer_secret=str(secrets["consumer_secret"]),
        webhook_secret=str(secrets["webhook_secret"]),
        currency=configured.currency if configured else currency,
        minor_unit=configured.minor_unit if configured else currency_minor_unit(currency),
        widget_secret=configured.widget_secret if configured else "",
        allowed_origins=configured.allowed_origins if configured else (f"{parts.scheme}://{parts.netloc}",),
    )
