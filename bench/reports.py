"""Reports benchmark (issue 18): every report module over a 12-month range on a big club.

    .venv/bin/python bench/reports.py [--db postgresql|sqlite|both] [--members 1000000] [--runs 5]
    .venv/bin/python bench/reports.py --db postgresql --keep /tmp/reports-1m     # seed, time, keep the database
    .venv/bin/python bench/reports.py --db postgresql --reuse /tmp/reports-1m    # time again without seeding
    .venv/bin/python bench/reports.py --reuse /tmp/reports-1m --only clv,roi --explain  # plans of their statements

Seeds a throwaway database with ``bench/console.py``'s club (``--members`` members joined evenly over two years,
2 orders and about 10 ledger entries each: 1M members give 2M orders and 10M entries) plus, for the analytics
reports, a used 5.00-off coupon (``redemption``) for every third member and a tier (``member_tier``) for every
member. PostgreSQL is loaded with COPY (``bench.common.copy_tables``), SQLite with batched inserts. Then it runs
the report rollup and the nightly segment scoring once (``bridge.segments.jobs.run_scoring``, which also takes
the month's segment snapshot) and times each report module that exists (``bridge.reports.<name>.build``; the
ones another branch has not brought yet are skipped) over the last 12 months, p50 / p95 of ``--runs`` runs after
one warm run.

``--keep DIR`` keeps the seeded database in ``DIR`` (a PostgreSQL cluster or a SQLite file, with the seeding
instant) and ``--reuse DIR`` times it again without seeding (several minutes at 1M): migrations still run, so a
new migration's backfill is timed on the big data set too.

Targets: < 2 s each on PostgreSQL at 1M members, < 5 s each on SQLite at 100k members.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, select  # noqa: E402

from bench import console  # noqa: E402
from bench.common import copy_tables, databases  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.reports import analytics, rollup  # noqa: E402
from bridge.reports.base import Builder, ReportQuery  # noqa: E402
from bridge.reports.days import local_day  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.segments.jobs import run_scoring  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.storage import tables as t  # noqa: E402
from bridge.storage.clock import utcnow  # noqa: E402
from tests.support.postgres import PostgresCluster, find_bindir  # noqa: E402

REPORTS = (
    "program",
    "liability",
    "redemption",
    "referrals",
    "members_vs_others",
    "cohorts",
    "rfm",
    "clv",
    "roi",
)
TARGET = {"PostgreSQL": 2.0, "SQLite (WAL)": 5.0}
TIERS = ("bronze", "silver", "gold")

REDEMPTION_COLUMNS = [
    "program_id", "shop_id", "member_id", "request_key", "reward_id", "reward_type", "title", "points", "value",
    "code", "state", "coupon_body", "order_id", "channel", "actor", "attempts", "next_attempt_at", "expires_at",
    "created_at", "updated_at", "issued_at", "closed_at",
]  # fmt: skip
TIER_COLUMNS = ["member_id", "program_id", "tier_id", "source", "since", "updated_at"]


def redemption_rows(members: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    for m in range(3, members + 1, 3):
        at = console.joined_at(m, members, now) + timedelta(days=10)
        used = at + timedelta(days=3)
        yield (
            console.PROGRAM, console.SHOP, m, f"r{m}", "five-off", "fixed_cart", "5 off", 500, "5.00", f"C{m}",
            "used", "{}", f"{m}-1", "widget", "", 1, at, at + timedelta(days=90), at, used, at, used,
        )  # fmt: skip


def tier_rows(members: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    for m in range(1, members + 1):
        at = console.joined_at(m, members, now)
        yield (m, console.PROGRAM, TIERS[m % 3], "earned", at, at)


def tables(members: int, now: datetime) -> list[tuple[str, list[str], Iterator[tuple[Any, ...]]]]:
    return [
        ("member", console.MEMBER_COLUMNS, console.member_rows(members, now)),
        ("member_identity", console.IDENTITY_COLUMNS, console.identity_rows(members, now)),
        ("order_state", console.ORDER_COLUMNS, console.order_rows(members, now)),
        ("ledger_entry", console.LEDGER_COLUMNS, console.ledger_rows(members, now)),
        ("redemption", REDEMPTION_COLUMNS, redemption_rows(members, now)),
        ("member_tier", TIER_COLUMNS, tier_rows(members, now)),
    ]


def insert_tables(rt: Runtime, members: int, now: datetime, batch: int = 20_000) -> float:
    """SQLite: batched Core inserts (the column types turn datetimes and JSON into what the bridge stores)."""
    started = time.perf_counter()
    for name, columns, rows in tables(members, now):
        table = t.metadata.tables[name]
        json_columns = {c for c in columns if c in ("meta", "coupon_body")}
        chunk: list[dict[str, Any]] = []
        for row in rows:
            values = dict(zip(columns, row, strict=True))
            for c in json_columns:
                values[c] = json.loads(values[c])
            chunk.append(values)
            if len(chunk) >= batch:
                with db.write(rt.engine) as conn:
                    conn.execute(insert(table), chunk)
                chunk = []
        if chunk:
            with db.write(rt.engine) as conn:
                conn.execute(insert(table), chunk)
        sys.stdout.write(f"  {name}: loaded at {time.perf_counter() - started:.0f} s\n")
        sys.stdout.flush()
    with rt.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def builders() -> dict[str, Builder]:
    found: dict[str, Builder] = {}
    for name in REPORTS:
        try:
            module = importlib.import_module(f"bridge.reports.{name}")
        except ImportError:
            sys.stdout.write(f"  {name}: not on this branch, skipped\n")
            continue
        found[name] = module.build
    return found


def baseline(conn: Any, query: ReportQuery) -> object:
    """One pass over the range's paid orders (count, net sum): the least any exact report over them reads. The
    reports' times are also given as a multiple of it, which the machine's load changes much less than seconds."""
    cur = analytics.money(query, conn)
    analytics.tune(conn)
    stmt = select(func.count(), func.sum(analytics.net_minor(cur))).where(
        analytics.paid(query.program.id, cur, query.start, query.end)
    )
    return conn.execute(stmt).one()


def timed(
    label: str, runs: int, target: float, call: Callable[[], object], base: float | None = None
) -> tuple[float, float]:
    started = time.perf_counter()
    call()  # warm: plans cached, pages in memory
    warm = time.perf_counter() - started
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    p50 = statistics.median(seconds)
    p95 = sorted(seconds)[max(0, round(0.95 * runs) - 1)]
    verdict = "met" if p95 < target else "NOT met"
    ratio = f"{p50 / base:5.1f} x baseline" if base else " " * 14
    sys.stdout.write(
        f"  {label:<18} p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms   first {warm * 1000:8.1f} ms   {ratio}   "
        f"(target < {target:.0f} s: {verdict}; {runs} runs)\n"
    )
    sys.stdout.flush()
    return p50, p95


def seed(rt: Runtime, database_url: str, members: int, now: datetime) -> None:
    if database_url.startswith("postgresql"):
        seconds = copy_tables(rt, tables(members, now))
    else:
        seconds = insert_tables(rt, members, now)
    sys.stdout.write(f"  seeded {members:,} members in {seconds:.0f} s\n")
    program = rt.settings.program
    started = time.perf_counter()
    days = rollup.roll_up(rt.engine, program.id, program.earning.timezone, now)
    sys.stdout.write(f"  rollup job: {days} days derived in {time.perf_counter() - started:.1f} s\n")
    started = time.perf_counter()
    counts = run_scoring(rt, now)
    sys.stdout.write(
        f"  segment scoring (with the month's snapshot): {sum(n for s, n in counts.items()):,} memberships "
        f"in {time.perf_counter() - started:.1f} s\n"
    )


def vacuum(rt: Runtime) -> None:
    started = time.perf_counter()
    with rt.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM ANALYZE" if rt.engine.dialect.name == "postgresql" else "ANALYZE"
        )
    sys.stdout.write(f"  vacuum / analyze: {time.perf_counter() - started:.1f} s\n")


def run(label: str, database_url: str, data_dir: Path, members: int, args: argparse.Namespace) -> None:
    rt = Runtime.build(console.settings_for(database_url, data_dir))
    started = time.perf_counter()
    prepare_database(rt, migrate_schema=True)
    sys.stdout.write(f"  migrations: {time.perf_counter() - started:.1f} s\n")
    stamp = data_dir / f"seeded_at.{rt.engine.dialect.name}"
    if args.reuse:
        now = datetime.fromisoformat(stamp.read_text().strip())
        sys.stdout.write(f"  reusing the database seeded at {now.isoformat()}\n")
        vacuum(rt)  # as the seeding does: a migration may have rewritten a table since
    else:
        now = utcnow()
        seed(rt, database_url, members, now)
        stamp.write_text(now.isoformat())
    program = rt.settings.program
    runs = args.runs
    today = local_day(now, program.earning.zone)
    query = ReportQuery(
        program=program,
        shops=rt.settings.shops,
        first=today - timedelta(days=364),
        last=today,
        interval="month",
        now=now,
    )
    with open("/proc/loadavg") as load:
        sys.stdout.write(f"  load average before timing: {load.read().split()[:3]}\n")

    def scan() -> object:
        with db.read(rt.engine) as conn:
            return baseline(conn, query)

    only = set(args.only.split(",")) if args.only else None
    base, _ = timed("baseline (scan)", runs, TARGET[label], scan)
    for name, build in builders().items():
        if only is not None and name not in only:
            continue
        if args.explain:
            explain(rt, build, query)

        def call(build: Builder = build) -> object:
            with db.read(rt.engine) as conn:
                return build(conn, query)

        timed(name, runs, TARGET[label], call, base)
        with open("/proc/loadavg") as load:
            sys.stdout.write(f"    load average: {load.read().split()[:3]}\n")
    rt.close()


def explain(rt: Runtime, build: Builder, query: ReportQuery) -> None:
    """Print each statement a report runs with its plan and timing (``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL,
    ``EXPLAIN QUERY PLAN`` and a timed run on SQLite)."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "SET")):
            statements.append((statement, parameters))

    event.listen(rt.engine, "before_cursor_execute", capture)
    try:
        with db.read(rt.engine) as conn:
            build(conn, query)
    finally:
        event.remove(rt.engine, "before_cursor_execute", capture)
    postgres = rt.engine.dialect.name == "postgresql"
    with db.read(rt.engine) as conn:  # one transaction, as the report's: its SET LOCALs hold for what follows
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith("SET"):
                cursor.execute(statement, parameters)
                continue
            started = time.perf_counter()
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            cursor.execute(prefix + statement, parameters)
            plan = "\n".join(" | ".join(str(v) for v in row) for row in cursor.fetchall())
            if not postgres:
                started = time.perf_counter()
                cursor.execute(statement, parameters)
                cursor.fetchall()
            seconds = time.perf_counter() - started
            sys.stdout.write(f"\n---- {seconds * 1000:.0f} ms\n{statement}\n{plan}\n")
    sys.stdout.flush()


@contextlib.contextmanager
def kept_databases(choice: str, directory: Path, reuse: bool) -> Iterator[list[tuple[str, str]]]:
    """The databases of ``--keep`` / ``--reuse``: a SQLite file and a PostgreSQL cluster under ``directory``,
    stopped (not removed) at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    found: list[tuple[str, str]] = []
    if choice in ("sqlite", "both"):
        found.append(("SQLite (WAL)", f"sqlite:///{directory / 'bench.db'}"))
    cluster = None
    if choice in ("postgresql", "both"):
        bindir = find_bindir()
        assert bindir is not None, "no PostgreSQL server binaries (scripts/bootstrap --dev installs them)"
        cluster = KeptCluster(bindir, directory / "pg")
        found.append(("PostgreSQL", cluster.open(reuse)))
    try:
        yield found
    finally:
        if cluster is not None:
            cluster.close()


class KeptCluster(PostgresCluster):
    """A PostgreSQL cluster in a directory of our choosing that outlives the run."""

    def __init__(self, bindir: Path, root: Path) -> None:
        super().__init__(bindir)
        shutil.rmtree(self.root, ignore_errors=True)  # the temporary directory the parent made
        self.root, self.data, self.socket_dir = root, root / "data", root / "sock"

    def open(self, reuse: bool) -> str:
        if not reuse:
            if self.root.exists():
                shutil.rmtree(self.root)
            self.start()
            return self.create_database("bench")
        options = f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self.url("bench")

    def close(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="postgresql")
    parser.add_argument("--members", type=int, default=None, help="default: 1M on PostgreSQL, 100k on SQLite")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="seed into this directory and keep it")
    parser.add_argument("--reuse", type=Path, help="time the database kept by --keep in this directory")
    parser.add_argument("--only", help="comma-separated report names")
    parser.add_argument("--explain", action="store_true", help="print each statement's plan before timing")
    args = parser.parse_args()
    kept = args.keep or args.reuse
    if kept:
        with kept_databases(args.db, kept, bool(args.reuse)) as chosen:
            for label, url in chosen:
                measure(label, url, kept, args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        for label, url in databases(args.db, Path(tmp)):
            measure(label, url, Path(tmp), args)


def measure(label: str, url: str, data_dir: Path, args: argparse.Namespace) -> None:
    members = args.members or (1_000_000 if label == "PostgreSQL" else 100_000)
    sys.stdout.write(f"{label}, {members:,} members, 12 months:\n")
    run(label, url, data_dir, members, args)


if __name__ == "__main__":
    main()
