"""Engines and transactions.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` for write transactions: a writer takes the lock up front and
waits ``busy_timeout`` for it, instead of failing half-way when a read lock cannot be upgraded; and with
``synchronous=FULL``, so what was committed (and acknowledged) survives a power loss.
"""

from __future__ import annotations

import functools
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url

from bridge.write_guard import writing

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_SYNCHRONOUS = "FULL"
"""Every commit is on disk before it returns. Under WAL, ``NORMAL`` skips the fsync at commit, so a power loss
could take back the last commits: a webhook delivery we answered 200 (WooCommerce never sends it again), a
redemption whose coupon the shop already holds, an owner's adjustment. One fsync of the WAL per commit is the
price (bench/README.md, Ingest); the drain commits once per batch, so it barely pays it."""


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for ``database_url`` (``postgresql://`` means psycopg 3)."""
    url = make_url(database_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url.render_as_string(hide_password=False), **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (so BEGIN IMMEDIATE works).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            _begin_immediate(conn.connection.dbapi_connection)
        else:
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _begin_immediate(dbapi_connection: Any) -> None:
    """``BEGIN IMMEDIATE``, waiting for another *process*'s writer in short steps.

    SQLite's own busy handler sleeps in growing steps of up to 100 ms: two web processes writing at once turned
    a few ms of contention into a 70 ms p99. Here the wait is polled every 0.1-2 ms (with jitter) until the same
    overall timeout. Once the write lock is held, WAL lets the rest of the transaction run without waiting.
    """
    cursor = dbapi_connection.cursor()
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.0001
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.5, 0.002)
    finally:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()


_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()


def _sqlite_writer_lock(engine: Engine) -> threading.Lock:
    """One in-process queue per SQLite file.

    SQLite admits one writer; the others wait in its busy handler, which *sleeps* in growing steps (up to
    100 ms) and so turned a few ms of contention between a web process's threads into 80 ms p99 latencies.
    Threads of one process queue on this lock instead (woken at once); only other processes still meet the
    busy handler.
    """
    key = str(engine.url)
    with _SQLITE_WRITERS_GUARD:
        return _SQLITE_WRITERS.setdefault(key, threading.Lock())


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed on success, rolled back on any exception.

    No network call inside (``bridge.write_guard``, which the shop's client checks): on SQLite this holds the
    whole database's write lock, on PostgreSQL row locks that intake or a drainer may wait for.
    """
    if engine.dialect.name == "sqlite":
        with (
            writing(),
            _sqlite_writer_lock(engine),
            engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
            conn.begin(),
        ):
            yield conn
        return
    with writing(), engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        yield conn


@contextmanager
def raw_write(engine: Engine) -> Iterator[Any]:
    """``write`` on the pooled DBAPI connection itself: yields a DBAPI cursor, commits on success.

    The same lock, ``BEGIN IMMEDIATE`` and pool as ``write``, without SQLAlchemy's per-transaction objects and
    events: for the webhook's single INSERT, where those were a third of the store's time.
    """
    sqlite = engine.dialect.name == "sqlite"
    with writing(), _sqlite_writer_lock(engine) if sqlite else nullcontext():
        dbapi_connection = engine.raw_connection()
        try:
            if sqlite:
                _begin_immediate(dbapi_connection)  # PostgreSQL: the driver begins on the first statement
            cursor = dbapi_connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            dbapi_connection.commit()
        except BaseException:
            dbapi_connection.rollback()
            raise
        finally:
            dbapi_connection.close()  # back to the pool


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (a consistent snapshot)."""
    with engine.connect() as conn, conn.begin():
        yield conn


def is_sqlite(conn_or_engine: Connection | Engine) -> bool:
    return conn_or_engine.dialect.name == "sqlite"


def insert_or_ignore(conn: Connection, table: Table, values: dict[str, Any], conflict: list[str]) -> bool:
    """INSERT unless a row with the same ``conflict`` columns exists; True when a row was inserted."""
    stmt = _insert_or_ignore_stmt(conn.dialect.name, table, tuple(conflict))
    # Values go as execution parameters, not ``.values()``: literal values would make SQLAlchemy build a new
    # cache key over every value of every row (measured: half the drain's CPU time went there).
    # RETURNING, not rowcount: drivers disagree on rowcount for a skipped INSERT (psycopg may say -1).
    return conn.execute(stmt, values).first() is not None


def insert_or_ignore_returning(
    conn: Connection, table: Table, values: dict[str, Any], conflict: list[str]
) -> RowMapping | None:
    """Like ``insert_or_ignore``, returning the whole inserted row (None when it existed): saves a read-back."""
    stmt = _insert_or_ignore_full_stmt(conn.dialect.name, table, tuple(conflict))
    return conn.execute(stmt, values).mappings().first()


@functools.lru_cache(maxsize=64)
def _insert_or_ignore_full_stmt(dialect: str, table: Table, conflict: tuple[str, ...]) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(*table.columns)


@functools.lru_cache(maxsize=64)
def _insert_or_ignore_stmt(dialect: str, table: Table, conflict: tuple[str, ...]) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(*table.primary_key.columns)
