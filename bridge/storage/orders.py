"""What we last knew of each shop order, to turn "the order now looks like this" into changes."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge.storage import tables as t

UNDONE_STATUSES = ("cancelled", "refunded", "failed", "trash", "deleted")
"""An order in one of these statuses is undone: it takes back whatever it still holds of the ledger, and it counts
as no purchase wherever purchases are counted (first / n-th order bonuses, tier spend and orders, RFM, reports).
``deleted`` is the bridge's own: the shop deleted the order (``order.deleted``). The one list all of them read."""


@dataclass(frozen=True)
class OrderState:
    id: int
    member_id: int | None
    status: str
    date_modified: datetime | None
    cycle: int
    history_only: bool = False
    # issue 3: when the order was paid, completed, and its points released (read with the lock: one round trip)
    paid_at: datetime | None = None
    completed_at: datetime | None = None
    released_at: datetime | None = None
    evaluated_cycle: int | None = None
    fresh: bool = False  # created by this call: nothing was ever applied for this order (no ledger entries)


def lock_or_create(conn: Connection, program_id: str, shop_id: str, order_id: str, now: datetime) -> OrderState:
    """The order's state row, created empty if new, locked for the rest of the transaction."""
    values = _empty_state(program_id, shop_id, order_id, now)
    row = dict(conn.execute(_upsert_locking(conn.dialect.name), values).mappings().one())
    return _state(row, now)


def lock_or_create_many(
    conn: Connection, program_id: str, shop_id: str, order_ids: list[str], now: datetime
) -> dict[str, OrderState]:
    """``lock_or_create`` for a page of distinct orders in one statement: their states by order id.

    Rows are locked in order-id order, as concurrent callers lock them, so two pages never wait on each other in
    a cycle.
    """
    values = [_empty_state(program_id, shop_id, order_id, now) for order_id in sorted(order_ids)]
    if not values:
        return {}
    stmt = _upsert_locking(conn.dialect.name).returning(t.order_state.c.order_id)
    rows = conn.execute(stmt, values).mappings().all()
    return {row["order_id"]: _state({k: v for k, v in row.items() if k != "order_id"}, now) for row in rows}


def _empty_state(program_id: str, shop_id: str, order_id: str, now: datetime) -> dict[str, Any]:
    return {
        "program_id": program_id,
        "shop_id": shop_id,
        "order_id": order_id,
        "status": "",
        "total": "0",
        "refunded_total": "0",
        "cycle": 1,
        "updated_at": now,
    }


def _state(row: dict[str, Any], now: datetime) -> OrderState:
    # The no-op update on conflict keeps the stored updated_at: only a row inserted now carries ``now``.
    row["fresh"] = row.pop("updated_at") == now
    return OrderState(**row)


@functools.lru_cache(maxsize=4)
def _upsert_locking(dialect: str) -> Any:
    """One statement that creates the row if missing and returns it locked.

    ``ON CONFLICT DO UPDATE`` (a no-op update) locks an existing row like ``SELECT ... FOR UPDATE`` would, so
    insert-if-missing, lock and read cost one round trip instead of two. Values go as parameters (cached).
    """
    o = t.order_state.c
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = insert(t.order_state)
    return stmt.on_conflict_do_update(
        index_elements=["shop_id", "order_id"], set_={"updated_at": o.updated_at}
    ).returning(
        o.id,
        o.member_id,
        o.status,
        o.date_modified,
        o.cycle,
        o.history_only,
        o.paid_at,
        o.completed_at,
        o.released_at,
        o.evaluated_cycle,
        o.updated_at,
    )


_SAVE = update(t.order_state).where(t.order_state.c.id == bindparam("state_id"))


def save(conn: Connection, state_id: int, **values: Any) -> None:
    # Values as execution parameters (the SET clause follows their keys): a literal ``.values()`` would make
    # SQLAlchemy build a cache key over every value, on the drain's hot path.
    conn.execute(_SAVE, {"state_id": state_id, **values})


def save_many(conn: Connection, saves: list[tuple[int, dict[str, Any]]]) -> None:
    """``save`` for many states: one executemany per set of columns (psycopg pipelines it: one round trip)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for state_id, values in saves:
        groups.setdefault(tuple(sorted(values)), []).append({"state_id": state_id, **values})
    for params in groups.values():
        conn.execute(_SAVE, params)


def members_of(conn: Connection, shop_id: str, order_ids: list[str]) -> dict[str, int]:
    """The member of each of these orders that has one, by order id."""
    o = t.order_state.c
    stmt = select(o.order_id, o.member_id).where(
        o.shop_id == shop_id, o.order_id.in_(order_ids), o.member_id.is_not(None)
    )
    return {order_id: member_id for order_id, member_id in conn.execute(stmt)}


def known_versions(conn: Connection, shop_id: str, order_ids: list[str]) -> dict[str, datetime | None]:
    """``date_modified`` of the snapshot we last applied, per order id we know (reconciliation compares)."""
    o = t.order_state.c
    rows = conn.execute(select(o.order_id, o.date_modified).where(o.shop_id == shop_id, o.order_id.in_(order_ids)))
    return {order_id: modified for order_id, modified in rows}


def mark_history_only_many(conn: Connection, shop_id: str, order_ids: list[str]) -> set[str]:
    """``mark_history_only`` for rows that exist already (``lock_or_create_many``); the order ids it marked."""
    if not order_ids:
        return set()
    o = t.order_state.c
    stmt = (
        update(t.order_state)
        .where(o.shop_id == shop_id, o.order_id.in_(order_ids), o.cycle == 1, o.status == "")
        .values(history_only=True)
        .returning(o.order_id)
    )
    return set(conn.scalars(stmt))


def mark_history_only(conn: Connection, program_id: str, shop_id: str, order_id: str, now: datetime) -> None:
    """An imported past order: it builds history (member, status, totals) and never earns or reverses points."""
    lock_or_create(conn, program_id, shop_id, order_id, now)
    o = t.order_state.c
    conn.execute(
        update(t.order_state)
        .where(o.shop_id == shop_id, o.order_id == order_id, o.cycle == 1, o.status == "")
        .values(history_only=True)
    )
