"""Rows of connected shops (credentials sealed by ``secretbox``), the webhooks we made in them, and the progress
of reconciliation and backfill runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from bridge.storage import tables as t
from bridge.storage.db import insert_or_ignore

CONNECTED = "connected"
DISCONNECTED = "disconnected"


def save_connection(conn: Connection, *, shop_id: str, values: dict[str, Any], now: datetime) -> None:
    row = {"shop_id": shop_id, "connected_at": now, "updated_at": now, **values}
    if not insert_or_ignore(conn, t.shop_connection, row, ["shop_id"]):
        conn.execute(
            update(t.shop_connection).where(t.shop_connection.c.shop_id == shop_id).values(updated_at=now, **values)
        )


def update_connection(conn: Connection, shop_id: str, values: dict[str, Any], now: datetime) -> None:
    c = t.shop_connection.c
    conn.execute(update(t.shop_connection).where(c.shop_id == shop_id).values(updated_at=now, **values))


def connection(conn: Connection, shop_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.shop_connection).where(t.shop_connection.c.shop_id == shop_id)).mappings().first()
    return dict(row) if row else None


def connected(conn: Connection, program_id: str) -> list[dict[str, Any]]:
    c = t.shop_connection.c
    stmt = select(t.shop_connection).where(c.program_id == program_id, c.state == CONNECTED).order_by(c.shop_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def latest_change(conn: Connection) -> tuple[int, datetime | None]:
    """A cheap fingerprint of the connections, to notice that another process connected a shop."""
    from sqlalchemy import func

    c = t.shop_connection.c
    row = conn.execute(select(func.count(), func.max(c.updated_at))).one()
    return int(row[0]), row[1]


# -- webhooks we created in the shop --------------------------------------------------------------------------------
def webhooks(conn: Connection, shop_id: str) -> list[dict[str, Any]]:
    w = t.shop_webhook.c
    return [
        dict(r) for r in conn.execute(select(t.shop_webhook).where(w.shop_id == shop_id).order_by(w.topic)).mappings()
    ]


def save_webhook(
    conn: Connection, *, program_id: str, shop_id: str, topic: str, values: dict[str, Any], now: datetime
) -> None:
    row = {"program_id": program_id, "shop_id": shop_id, "topic": topic, "created_at": now, "updated_at": now}
    if not insert_or_ignore(conn, t.shop_webhook, {**row, **values}, ["shop_id", "topic"]):
        w = t.shop_webhook.c
        conn.execute(
            update(t.shop_webhook).where(w.shop_id == shop_id, w.topic == topic).values(updated_at=now, **values)
        )


def update_webhook(conn: Connection, shop_id: str, topic: str, values: dict[str, Any], now: datetime) -> None:
    w = t.shop_webhook.c
    conn.execute(update(t.shop_webhook).where(w.shop_id == shop_id, w.topic == topic).values(updated_at=now, **values))


def forget_webhook(conn: Connection, shop_id: str, topic: str) -> None:
    w = t.shop_webhook.c
    conn.execute(delete(t.shop_webhook).where(w.shop_id == shop_id, w.topic == topic))


# -- reconciliation / backfill progress -----------------------------------------------------------------------------
def sync_state(conn: Connection, shop_id: str, kind: str, *, lock: bool = False) -> dict[str, Any] | None:
    s = t.sync_state.c
    stmt = select(t.sync_state).where(s.shop_id == shop_id, s.kind == kind)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def save_sync_state(
    conn: Connection, *, program_id: str, shop_id: str, kind: str, values: dict[str, Any], now: datetime
) -> None:
    base = {
        "program_id": program_id,
        "shop_id": shop_id,
        "kind": kind,
        "state": "idle",
        "phase": "",
        "page": 0,
        "options": {},
        "stats": {},
        "updated_at": now,
    }
    if not insert_or_ignore(conn, t.sync_state, {**base, **values}, ["shop_id", "kind"]):
        s = t.sync_state.c
        conn.execute(update(t.sync_state).where(s.shop_id == shop_id, s.kind == kind).values(updated_at=now, **values))
