"""What the benchmarks share: settings over a throwaway database, and the databases to run on."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bridge.config import Settings, load_settings
from tests.support.postgres import PostgresCluster, find_bindir

UNUSED_REDIS = "redis://127.0.0.1:1/0"  # the benchmarks call the services directly: Redis is never reached


def bench_settings(database_url: str, data_dir: Path, overrides: dict[str, Any]) -> Settings:
    """Settings from an empty config file, on ``database_url``, with ``overrides`` merged in."""
    config = data_dir / "config.yaml"
    config.write_text("{}\n")
    base = {"data_dir": str(data_dir), "database_url": database_url, "redis_url": UNUSED_REDIS}
    return load_settings(path=config, environ={}, overrides={**base, **overrides})


def databases(choice: str, data_dir: Path) -> Iterator[tuple[str, str]]:
    """(label, URL) for ``sqlite``, ``postgresql`` or ``both``; PostgreSQL is a throwaway cluster, stopped after."""
    if choice in ("sqlite", "both"):
        yield "SQLite (WAL)", f"sqlite:///{data_dir / 'bench.db'}"
    if choice not in ("postgresql", "both"):
        return
    bindir = find_bindir()
    if bindir is None:
        sys.stdout.write("PostgreSQL: no server binaries (scripts/bootstrap --dev installs them)\n")
        return
    cluster = PostgresCluster(bindir).start()
    try:
        yield "PostgreSQL", cluster.create_database("bench")
    finally:
        cluster.stop()


def copy_tables(rt: Any, tables: Iterable[tuple[str, list[str], Iterator[tuple[Any, ...]]]]) -> float:
    """Load PostgreSQL with COPY, table by table, each with its plain indexes dropped and built again after
    (constraints stay); then the member id sequence, and VACUUM ANALYZE (visibility map for index-only scans,
    statistics for the planner). Returns the seconds it took."""
    started = time.perf_counter()
    raw = rt.engine.raw_connection()
    try:
        pg = raw.driver_connection
        assert pg is not None
        with pg.cursor() as cur:
            for table, columns, rows in tables:
                _copy_without_indexes(cur, table, columns, rows)
                sys.stdout.write(f"  {table}: loaded at {time.perf_counter() - started:.0f} s\n")
                sys.stdout.flush()
            cur.execute("SELECT setval('member_id_seq', (SELECT max(id) FROM member))")
        pg.commit()
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        pg.autocommit = False  # back to the pool as the bridge's transactions expect it
    finally:
        raw.close()
    return time.perf_counter() - started


def _copy_without_indexes(cur: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        (table,),
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    for _, definition in indexes:
        cur.execute(definition)
