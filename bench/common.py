"""What the benchmarks share: settings over a throwaway database, and the databases to run on."""

from __future__ import annotations

import sys
from collections.abc import Iterator
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
