"""The inbox: every acknowledged delivery, raw, until the worker has applied it."""

from __future__ import annotations

import functools
import threading
import weakref
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
    """``add`` in a write transaction committed when this returns: the webhook's hot path.

    Deliveries arriving at the same moment in this process share the transaction (``GroupCommit``): one commit,
    one fsync under ``synchronous=FULL``.

    The same INSERT and the same parameter processing (the column types' bind processors), compiled once per
    dialect and run on the pooled DBAPI connection: SQLAlchemy's per-execution work (connection, execution
    context and result objects, events) was more than half the cost of storing a delivery.
    """
    values = _new_row(program_id, shop_id, topic, resource_id, platform_delivery_id, headers, body, now)
    statement = _raw_add(engine.dialect)
    return group_commit(engine).add(engine, statement.sql, statement.parameters(values))


class _Waiting:
    """One delivery's INSERT waiting for a group commit: its parameters, then its id or its error."""

    __slots__ = ("done", "error", "parameters", "row_id", "woken")

    def __init__(self, parameters: Any) -> None:
        self.parameters = parameters
        self.woken = threading.Event()
        self.done = False
        self.row_id: int | None = None  # set once the transaction holding the row has committed
        self.error: BaseException | None = None


class GroupCommit:
    """Concurrent deliveries of one process share one transaction, so one commit and one fsync.

    With ``synchronous=FULL`` each commit waits for the disk (about 1 ms here) while holding SQLite's only write
    lock: commits one by one capped the intake near one delivery per fsync. Here the thread that finds nobody
    committing leads: once it holds the write lock it takes every INSERT waiting at that moment (its own included),
    commits them together, wakes their threads with their ids, and hands the lead to the first one that arrived
    meanwhile. Nobody is
    answered before the transaction holding their row has committed. If the shared transaction fails, each row
    is tried again alone, so one bad row fails only its own delivery.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._leading = False

    @property
    def waiting(self) -> int:
        """How many INSERTs wait for the commit in progress to finish (they will share the next one)."""
        with self._guard:
            return len(self._waiting)

    def add(self, engine: Engine, sql: str, parameters: Any) -> int:
        """INSERT one row (``sql`` returns its id) in a transaction committed before this returns the id."""
        mine = _Waiting(parameters)
        with self._guard:
            self._waiting.append(mine)
            follow = self._leading
            self._leading = True
        if follow:
            mine.woken.wait()
        if not mine.done:  # leading: the batch taken below holds this row
            self._lead(engine, sql)
        if mine.error is not None:
            raise mine.error
        assert mine.row_id is not None
        return mine.row_id

    def _lead(self, engine: Engine, sql: str) -> None:
        batch: list[_Waiting] = []
        try:
            try:
                with db.raw_write(engine) as cursor:
                    # Taken once the write lock is ours: what arrived while another writer (the other web
                    # process, most often) held it rides along.
                    batch = self._take()
                    ids = []
                    for item in batch:
                        cursor.execute(sql, item.parameters)
                        ids.append(int(cursor.fetchone()[0]))
                for item, row_id in zip(batch, ids, strict=True):  # committed: only now may anyone be answered
                    item.row_id = row_id
            except Exception as exc:
                batch = batch or self._take()
                self._one_by_one(engine, sql, batch, exc)
        finally:
            batch = batch or self._take()
            for item in batch:
                if item.row_id is None and item.error is None:  # interrupted (the process is stopping)
                    item.error = RuntimeError("the delivery could not be stored: the web process is stopping")
                item.done = True
                item.woken.set()
            with self._guard:
                if self._waiting:
                    self._waiting[0].woken.set()  # not done: it leads the next batch
                else:
                    self._leading = False

    def _take(self) -> list[_Waiting]:
        with self._guard:
            batch, self._waiting = self._waiting, []
        return batch

    @staticmethod
    def _one_by_one(engine: Engine, sql: str, batch: list[_Waiting], error: Exception) -> None:
        """The shared transaction failed: each row alone, so one bad row fails only itself."""
        if len(batch) == 1:
            batch[0].error = error
            return
        for item in batch:
            try:
                with db.raw_write(engine) as cursor:
                    cursor.execute(sql, item.parameters)
                    row_id = int(cursor.fetchone()[0])
                item.row_id = row_id
            except Exception as exc:
                item.error = exc


_GROUPS: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_GROUPS_GUARD = threading.Lock()


def group_commit(engine: Engine) -> GroupCommit:
    """The process's group commit for ``engine``'s database."""
    with _GROUPS_GUARD:
        group = _GROUPS.get(engine)
        if group is None:
            group = _GROUPS[engine] = GroupCommit()
        return group


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


def request_id_of(conn: Connection, delivery_id: int, header: str) -> str:
    """The id of the request that stored the delivery (kept with its headers), or ""."""
    headers = conn.scalar(select(t.inbox_delivery.c.headers).where(t.inbox_delivery.c.id == delivery_id))
    return str(headers.get(header, "")) if isinstance(headers, dict) else ""


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
