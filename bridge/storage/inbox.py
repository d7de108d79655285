"""The inbox: every acknowledged delivery, raw, until the worker has applied it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, bindparam, func, insert, select, update

from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.db import is_sqlite

PENDING = "pending"
DONE = "done"
FAILED = "failed"
STATES = (PENDING, DONE, FAILED)


@dataclass(frozen=True)
class Delivery:
    id: int
    program_id: str
    shop_id: str
    topic: str
    resource_id: str
    body: bytes
    attempts: int
    received_at: datetime


def add(
    conn: Connection,
    *,
    program_id: str,
    shop_id: str,
    topic: str,
    resource_id: str,
    platform_delivery_id: str,
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> int:
    values = _new_row(program_id, shop_id, topic, resource_id, platform_delivery_id, headers, body, now)
    # Values as parameters of one cached statement: ``.values(...)`` would make SQLAlchemy hash the whole body
    # into a cache key on every delivery (a third of the receive path's time).
    return int(conn.execute(_ADD, values).scalar_one())


def add_committed(
    engine: Engine,
    *,
    program_id: str,
    shop_id: str,
    topic: str,
    resource_id: str,
    platform_delivery_id: str,
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> int:
    """``add`` in a write transaction of its own, committed when this returns: the webhook's hot path.

    The same INSERT and the same parameter processing (the column types' bind processors), compiled once per
    dialect and run on the pooled DBAPI connection: SQLAlchemy's per-execution work (connection, execution
    context and result objects, events) was more than half the cost of storing a delivery.
    """
    values = _new_row(program_id, shop_id, topic, resource_id, platform_delivery_id, headers, body, now)
    statement = _raw_add(engine.dialect)
    with db.raw_write(engine) as cursor:
        cursor.execute(statement.sql, statement.parameters(values))
        return int(cursor.fetchone()[0])


def _new_row(
    program_id: str,
    shop_id: str,
    topic: str,
    resource_id: str,
    platform_delivery_id: str,
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> dict[str, Any]:
    return {
        "program_id": program_id,
        "shop_id": shop_id,
        "topic": topic,
        "resource_id": resource_id,
        "platform_delivery_id": platform_delivery_id,
        "headers": headers,
        "body": body,
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "received_at": now,
    }


_NEW_ROW_COLUMNS = (
    "program_id",
    "shop_id",
    "topic",
    "resource_id",
    "platform_delivery_id",
    "headers",
    "body",
    "state",
    "attempts",
    "next_attempt_at",
    "received_at",
)
"""The columns ``_new_row`` fills (``add_committed``'s statement binds exactly these)."""
_ADD = insert(t.inbox_delivery).returning(t.inbox_delivery.c.id)


@dataclass(frozen=True)
class _RawStatement:
    """A compiled statement with what turns Python values into the driver's parameters."""

    sql: str
    names: tuple[str, ...] | None  # positional paramstyles (SQLite's qmark): the parameters' order; else None
    processors: dict[str, Callable[[Any], Any]]

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        processed = {name: self.processors[name](v) if name in self.processors else v for name, v in values.items()}
        return processed if self.names is None else tuple(processed[name] for name in self.names)


@functools.lru_cache(maxsize=8)
def _raw_add(dialect: Dialect) -> _RawStatement:
    table = t.inbox_delivery
    stmt = insert(table).values({name: bindparam(name) for name in _NEW_ROW_COLUMNS}).returning(table.c.id)
    compiled = stmt.compile(dialect=dialect)
    processors: dict[str, Callable[[Any], Any]] = {}
    for name in _NEW_ROW_COLUMNS:
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    names = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return _RawStatement(compiled.string, names, processors)


def due_batch(conn: Connection, shop_id: str, now: datetime, limit: int) -> list[Delivery]:
    """Pending deliveries of a shop that are due, in arrival order; locked against other drainers."""
    d = t.inbox_delivery.c
    stmt = (
        select(d.id, d.program_id, d.shop_id, d.topic, d.resource_id, d.body, d.attempts, d.received_at)
        .where(d.shop_id == shop_id, d.state == PENDING, d.next_attempt_at <= now)
        .order_by(d.id)
        .limit(limit)
    )
    if not is_sqlite(conn):
        stmt = stmt.with_for_update(skip_locked=True)
    return [Delivery(**row) for row in conn.execute(stmt).mappings()]


def mark_done(conn: Connection, delivery_id: int, now: datetime) -> None:
    d = t.inbox_delivery.c
    conn.execute(
        update(t.inbox_delivery)
        .where(d.id == delivery_id)
        .values(state=DONE, processed_at=now, attempts=d.attempts + 1, last_error=None)
    )


def mark_done_many(conn: Connection, delivery_ids: list[int], now: datetime) -> None:
    d = t.inbox_delivery.c
    conn.execute(
        update(t.inbox_delivery)
        .where(d.id.in_(delivery_ids))
        .values(state=DONE, processed_at=now, attempts=d.attempts + 1, last_error=None)
    )


def mark_attempt_failed(
    conn: Connection, delivery_id: int, *, error: str, retry_at: datetime | None, now: datetime
) -> None:
    """Record a failed attempt: retried at ``retry_at``, or parked as failed when that is None."""
    d = t.inbox_delivery.c
    values: dict[str, Any] = {"attempts": d.attempts + 1, "last_error": error[:2000]}
    if retry_at is None:
        values.update(state=FAILED, processed_at=now)
    else:
        values.update(next_attempt_at=retry_at)
    conn.execute(update(t.inbox_delivery).where(d.id == delivery_id).values(**values))


def shops_with_due(conn: Connection, now: datetime) -> list[str]:
    d = t.inbox_delivery.c
    stmt = select(d.shop_id).where(d.state == PENDING, d.next_attempt_at <= now).distinct()
    return list(conn.scalars(stmt))


def get(conn: Connection, program_id: str, delivery_id: int) -> dict[str, Any] | None:
    stmt = select(t.inbox_delivery).where(
        t.inbox_delivery.c.id == delivery_id, t.inbox_delivery.c.program_id == program_id
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def listing(
    conn: Connection,
    program_id: str,
    state: str | None,
    shop_id: str | None,
    limit: int,
    before_id: int | None,
) -> list[dict[str, Any]]:
    d = t.inbox_delivery.c
    stmt = select(
        d.id,
        d.shop_id,
        d.topic,
        d.resource_id,
        d.platform_delivery_id,
        d.state,
        d.attempts,
        d.next_attempt_at,
        d.last_error,
        d.received_at,
        d.processed_at,
    ).where(d.program_id == program_id)
    if state:
        stmt = stmt.where(d.state == state)
    if shop_id:
        stmt = stmt.where(d.shop_id == shop_id)
    if before_id is not None:
        stmt = stmt.where(d.id < before_id)
    return [dict(r) for r in conn.execute(stmt.order_by(d.id.desc()).limit(limit)).mappings()]


def requeue(conn: Connection, delivery_id: int, now: datetime) -> None:
    """Make a delivery pending and due now, with a fresh attempt budget (``bridge inbox replay``)."""
    conn.execute(
        update(t.inbox_delivery)
        .where(t.inbox_delivery.c.id == delivery_id)
        .values(state=PENDING, attempts=0, next_attempt_at=now, processed_at=None)
    )


def counts(conn: Connection) -> dict[str, int]:
    d = t.inbox_delivery.c
    rows = conn.execute(select(d.state, func.count()).group_by(d.state)).all()
    return {state: int(n) for state, n in rows}
