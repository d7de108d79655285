"""What we last knew of each shop order, to turn "the order now looks like this" into changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from bridge.storage import tables as t
from bridge.storage.db import insert_or_ignore


@dataclass(frozen=True)
class OrderState:
    id: int
    member_id: int | None
    status: str
    date_modified: datetime | None
    cycle: int
    history_only: bool = False


def lock_or_create(conn: Connection, program_id: str, shop_id: str, order_id: str, now: datetime) -> OrderState:
    """The order's state row, created empty if new, locked for the rest of the transaction."""
    values = {
        "program_id": program_id,
        "shop_id": shop_id,
        "order_id": order_id,
        "status": "",
        "total": "0",
        "refunded_total": "0",
        "cycle": 1,
        "updated_at": now,
    }
    insert_or_ignore(conn, t.order_state, values, ["shop_id", "order_id"])
    o = t.order_state.c
    stmt = (
        select(o.id, o.member_id, o.status, o.date_modified, o.cycle, o.history_only)
        .where(o.shop_id == shop_id, o.order_id == order_id)
        .with_for_update()
    )
    row = conn.execute(stmt).mappings().one()
    return OrderState(**row)


def save(conn: Connection, state_id: int, **values: Any) -> None:
    conn.execute(update(t.order_state).where(t.order_state.c.id == state_id).values(**values))


def known_versions(conn: Connection, shop_id: str, order_ids: list[str]) -> dict[str, datetime | None]:
    """``date_modified`` of the snapshot we last applied, per order id we know (reconciliation compares)."""
    o = t.order_state.c
    rows = conn.execute(select(o.order_id, o.date_modified).where(o.shop_id == shop_id, o.order_id.in_(order_ids)))
    return {order_id: modified for order_id, modified in rows}


def mark_history_only(conn: Connection, program_id: str, shop_id: str, order_id: str, now: datetime) -> None:
    """An imported past order: it builds history (member, status, totals) and never earns or reverses points."""
    lock_or_create(conn, program_id, shop_id, order_id, now)
    o = t.order_state.c
    conn.execute(
        update(t.order_state)
        .where(o.shop_id == shop_id, o.order_id == order_id, o.cycle == 1, o.status == "")
        .values(history_only=True)
    )
