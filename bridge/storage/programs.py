"""Programs and shops: the configuration is the source of truth, mirrored into rows that others reference."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from bridge.config import Settings
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.storage.db import insert_or_ignore


def sync_from_settings(conn: Connection, settings: Settings) -> None:
    """Create or update the configured program and shops (never deletes: rows are history)."""
    now = utcnow()
    program = settings.program
    if not insert_or_ignore(conn, t.program, {"id": program.id, "name": program.name, "created_at": now}, ["id"]):
        conn.execute(update(t.program).where(t.program.c.id == program.id).values(name=program.name))
    for shop in settings.shops:
        values = {
            "program_id": program.id,
            "platform": shop.platform,
            "base_url": shop.url,
            "currency": shop.currency,
            "minor_unit": shop.minor_unit,
            "updated_at": now,
        }
        row = {"id": shop.id, "created_at": now, "connection_state": "configured", **values}
        if not shop.url:  # an entry completed by `bridge connect`, not connected (or readable) yet: keep its row
            values = {"program_id": program.id, "updated_at": now}
        if not insert_or_ignore(conn, t.shop, row, ["id"]):
            conn.execute(update(t.shop).where(t.shop.c.id == shop.id).values(**values))


def shop_ids(conn: Connection) -> list[str]:
    return list(conn.scalars(select(t.shop.c.id).order_by(t.shop.c.id)))
