"""Tiers and segments benchmark: the nightly tier review and RFM scoring over many members (target < 60 s together
for 1,000,000 members on PostgreSQL).

    .venv/bin/python bench/tiers.py [--db postgresql|sqlite] [--members 1000000] [--keep DIR] [--profile]

``--keep DIR`` (PostgreSQL, to iterate): the cluster's files stay in ``DIR``; the seeded database is kept there
(one per member count) and each run works on a copy of it (``CREATE DATABASE ... TEMPLATE``: seconds instead of the
minutes of loading). ``--profile``: each statement's total time, slowest first, on stderr.

Builds ``--members`` members each with 2 paid orders (last year and this year) and their earn entries, every
second member holding a tier (a calendar-year program with silver, gold and platinum): with ``COPY`` on
PostgreSQL (``bench.common.copy_tables``, statistics gathered after), with ``INSERT ... SELECT`` over a series of
numbers on SQLite. Then it runs the jobs' own functions as the scheduler does, at a moment
past the year end and its grace, and checks what they wrote:

- **review** (``bridge.tiers.jobs.run_review``): every member with a tier reviewed, those whose year did not reach
  their level moved one level down;
- **scoring** (``bridge.segments.jobs.run_scoring``): every buyer scored into RFM quintiles and segments;
- a second review, which must move nobody (one review per year end), and a second scoring, which must give the
  same segments (what a night costs when little changed: the segments' memberships are written by difference).

The target is the nightly work as a whole: review and scoring together (``total_s``) under 60 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402

from bench.common import bench_settings, copy_tables, databases  # noqa: E402
from bridge import features  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.segments.jobs import run_scoring  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.tiers.jobs import run_review  # noqa: E402
from tests.support.postgres import PostgresCluster, find_bindir  # noqa: E402

TARGET_SECONDS = 60.0
PROGRAM = "default"
SHOP = "bench"
NOW = datetime(2027, 2, 15, 3, 0, tzinfo=UTC)  # after 2026's end and a 30-day grace
TIERS = {
    "metric": "points",
    "window": "calendar_year",
    "grace_days": 30,
    "levels": [
        {"id": "silver", "name": "Silver", "threshold": 100},
        {"id": "gold", "name": "Gold", "threshold": 500, "multiplier": 1.5},
        {"id": "platinum", "name": "Platinum", "threshold": 2000, "multiplier": 2},
    ],
}


def series(dialect: str, n: int) -> str:
    if dialect == "postgresql":
        return f"generate_series(1, {n}) AS s(i)"
    return f"(WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) SELECT i FROM c) AS s"


Y26 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
Y27 = datetime(2027, 1, 20, 10, 0, tzinfo=UTC)
SINCE = datetime(2025, 3, 1, tzinfo=UTC)
TIER_OF = ("silver", "gold", "platinum")  # by member number % 3


def copy_load(rt: Runtime, members: int) -> float:
    """The same rows as ``load``, with COPY (PostgreSQL)."""
    n = range(1, members + 1)
    order_columns = ["program_id", "shop_id", "order_id", "member_id", "status", "total", "refunded_total", "cycle"]
    order_columns += ["updated_at", "paid_at", "history_only"]
    entry_columns = ["program_id", "shop_id", "member_id", "points", "kind", "state", "cause_type", "cause_id"]
    entry_columns += ["rule_id", "refund_id", "idempotency_key", "note", "meta", "created_at"]

    def orders() -> Any:
        for i in n:
            yield (PROGRAM, SHOP, f"a{i}", i, "completed", str(i % 700 + 50), "0", 1, Y26, Y26, False)
            yield (PROGRAM, SHOP, f"b{i}", i, "completed", str(i % 50 + 1), "0", 1, Y27, Y27, False)

    def entries() -> Any:
        for i in n:
            for order, points, at in ((f"a{i}", i % 700 + 50, Y26), (f"b{i}", i % 50 + 1, Y27)):
                key = f"{SHOP}:order:{order}:per_amount"
                yield (
                    PROGRAM,
                    SHOP,
                    i,
                    points,
                    "earn",
                    "available",
                    "order",
                    order,
                    "per_amount",
                    "",
                    key,
                    "",
                    "{}",
                    at,
                )

    tier_columns = ["member_id", "program_id", "tier_id", "source", "since", "earned_tier_id", "updated_at"]
    return copy_tables(
        rt,
        (
            ("member", ["id", "program_id", "email", "first_shop_id", "created_at"],
             ((i, PROGRAM, f"m{i}@bench.invalid", SHOP, Y26) for i in n)),
            ("order_state", order_columns, orders()),
            ("ledger_entry", entry_columns, entries()),
            ("member_tier", tier_columns,
             ((i, PROGRAM, TIER_OF[i % 3], "earned", SINCE, None, Y26) for i in n if i % 2 == 0)),
        ),
    )  # fmt: skip


def load(rt: Runtime, members: int) -> float:
    """Members, their orders and earn entries (2026 and 2027), and a tier for every second member."""
    started = time.perf_counter()
    dialect = rt.engine.dialect.name
    s = series(dialect, members)
    y26, y27 = "'2026-06-01 10:00:00+00:00'", "'2027-01-20 10:00:00+00:00'"
    if dialect == "sqlite":
        y26, y27 = "'2026-06-01 10:00:00.000000'", "'2027-01-20 10:00:00.000000'"
    statements = [
        f"INSERT INTO member (id, program_id, email, first_shop_id, created_at) "
        f"SELECT i, '{PROGRAM}', 'm' || i || '@bench.invalid', '{SHOP}', {y26} FROM {s}",
        # two paid orders per member: one in 2026 (i % 700 + 50 points), one in January 2027 (i % 50)
        f"INSERT INTO order_state (program_id, shop_id, order_id, member_id, status, total, refunded_total, cycle, "
        f"updated_at, paid_at, history_only) "
        f"SELECT '{PROGRAM}', '{SHOP}', 'a' || i, i, 'completed', CAST(i % 700 + 50 AS VARCHAR), '0', 1, {y26}, "
        f"{y26}, false FROM {s}",
        f"INSERT INTO order_state (program_id, shop_id, order_id, member_id, status, total, refunded_total, cycle, "
        f"updated_at, paid_at, history_only) "
        f"SELECT '{PROGRAM}', '{SHOP}', 'b' || i, i, 'completed', CAST(i % 50 + 1 AS VARCHAR), '0', 1, {y27}, "
        f"{y27}, false FROM {s}",
        f"INSERT INTO ledger_entry (program_id, shop_id, member_id, points, kind, state, cause_type, cause_id, "
        f"rule_id, refund_id, idempotency_key, note, meta, created_at) "
        f"SELECT '{PROGRAM}', '{SHOP}', i, i % 700 + 50, 'earn', 'available', 'order', 'a' || i, 'per_amount', '', "
        f"'{SHOP}:order:a' || i || '\\:per_amount', '', '{{}}', {y26} FROM {s}",
        f"INSERT INTO ledger_entry (program_id, shop_id, member_id, points, kind, state, cause_type, cause_id, "
        f"rule_id, refund_id, idempotency_key, note, meta, created_at) "
        f"SELECT '{PROGRAM}', '{SHOP}', i, i % 50 + 1, 'earn', 'available', 'order', 'b' || i, 'per_amount', '', "
        f"'{SHOP}:order:b' || i || '\\:per_amount', '', '{{}}', {y27} FROM {s}",
        # every second member holds a tier since 2025 (by their number: none of the three reached in 2026 by some)
        f"INSERT INTO member_tier (member_id, program_id, tier_id, source, since, earned_tier_id, updated_at) "
        f"SELECT i, '{PROGRAM}', CASE i % 3 WHEN 0 THEN 'silver' WHEN 1 THEN 'gold' ELSE 'platinum' END, 'earned', "
        f"'2025-03-01 00:00:00+00:00', NULL, {y26} FROM {s} WHERE i % 2 = 0",
    ]
    with db.write(rt.engine) as conn:
        for statement in statements:
            conn.execute(text(statement))
    return time.perf_counter() - started


def _progress(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class KeptCluster(PostgresCluster):
    """A cluster whose files stay in ``root`` between runs (``--keep``): started again if already made."""

    def __init__(self, bindir: Path, root: Path) -> None:
        super().__init__(bindir)
        shutil.rmtree(self.root, ignore_errors=True)  # the temporary root the parent made: unused
        self.root, self.data, self.socket_dir = root, root / "data", root / "sock"

    def start(self) -> KeptCluster:
        if not (self.data / "PG_VERSION").exists():
            self.root.mkdir(parents=True, exist_ok=True)
            super().start()
            return self
        options = f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self

    def stop(self) -> None:  # the files stay
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def sql(self, statement: str) -> list[Any]:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(text(statement))
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


@contextmanager
def kept_database(root: Path, members: int, data_dir: Path) -> Iterator[str]:
    """A copy of the kept seeded database of ``members`` members (seeded first if it is not there yet)."""
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL: no server binaries (scripts/bootstrap --dev installs them)")
    cluster = KeptCluster(bindir, root.resolve())
    if (cluster.root / "data" / "postmaster.pid").exists():
        raise SystemExit(f"{root}: its cluster is running (another run, or a stale postmaster.pid)")
    cluster.start()
    try:
        seed = f"seed_{members}"
        if not cluster.sql(f"SELECT 1 FROM pg_database WHERE datname = '{seed}'"):
            cluster.sql(f"CREATE DATABASE {seed}_loading")
            rt = _runtime(cluster.url(f"{seed}_loading"), data_dir)
            try:
                prepare_database(rt, migrate_schema=True)
                _progress(f"{seed}: loaded in {copy_load(rt, members):.1f} s")
            finally:
                rt.close()
            cluster.sql(f"ALTER DATABASE {seed}_loading RENAME TO {seed}")  # only a whole seed is ever kept
        cluster.sql("DROP DATABASE IF EXISTS run")
        cluster.sql(f"CREATE DATABASE run TEMPLATE {seed}")
        yield cluster.url("run")
    finally:
        cluster.stop()


def _runtime(url: str, data_dir: Path) -> Runtime:
    features.load()
    shop = {"id": SHOP, "url": "http://127.0.0.1:9", "currency": "USD", "webhook_secret": "x" * 32}
    return Runtime.build(bench_settings(url, data_dir, {"program": {"id": PROGRAM, "tiers": TIERS}, "shops": [shop]}))


@contextmanager
def profiled(rt: Runtime, enabled: bool) -> Iterator[None]:
    """With ``enabled``: every statement's time, summed by its text, the slowest 15 written to stderr at the end."""
    if not enabled:
        yield
        return
    spent: dict[str, float] = defaultdict(float)

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        spent[" ".join(statement.split())[:160]] += time.perf_counter() - conn.info["bench_started"].pop()

    event.listen(rt.engine, "before_cursor_execute", before)
    event.listen(rt.engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(rt.engine, "before_cursor_execute", before)
        event.remove(rt.engine, "after_cursor_execute", after)
        for statement, seconds in sorted(spent.items(), key=lambda item: -item[1])[:15]:
            _progress(f"  {seconds:7.2f} s  {statement}")


def run(
    label: str, url: str, members: int, data_dir: Path, *, seeded: bool = False, profile: bool = False
) -> dict[str, Any]:
    rt = _runtime(url, data_dir)
    try:
        prepare_database(rt, migrate_schema=True)
        loaded = 0.0
        if not seeded:
            loaded = copy_load(rt, members) if rt.engine.dialect.name == "postgresql" else load(rt, members)
            _progress(f"{label}: {members} members loaded in {loaded:.1f} s")
        started = time.perf_counter()
        with profiled(rt, profile):
            review = run_review(rt, NOW)
        review_seconds = time.perf_counter() - started
        _progress(f"{label}: review {review_seconds:.1f} s {review}")
        started = time.perf_counter()
        again = run_review(rt, NOW)
        again_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with profiled(rt, profile):
            segments = run_scoring(rt, NOW)
        scoring_seconds = time.perf_counter() - started
        _progress(f"{label}: scoring {scoring_seconds:.1f} s")
        started = time.perf_counter()
        with profiled(rt, profile):
            again_segments = run_scoring(rt, NOW)
        again_scoring_seconds = time.perf_counter() - started
        _progress(f"{label}: second scoring {again_scoring_seconds:.1f} s")
    finally:
        rt.close()
    assert review["reviewed"] == members // 2, review
    assert review["down"] > 0 and again["down"] == 0, (review, again)
    assert sum(segments.values()) == members and again_segments == segments, (segments, again_segments)
    return {
        "db": label,
        "members": members,
        "load_s": round(loaded, 1),
        "review_s": round(review_seconds, 1),
        "review": review,
        "second_review_s": round(again_seconds, 1),
        "scoring_s": round(scoring_seconds, 1),
        "segments": segments,
        "second_scoring_s": round(again_scoring_seconds, 1),
        "total_s": round(review_seconds + scoring_seconds, 1),
        "target_s": TARGET_SECONDS,
        "met": review_seconds + scoring_seconds < TARGET_SECONDS,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="postgresql")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="PostgreSQL: keep the cluster and its seeded database in this dir")
    parser.add_argument("--profile", action="store_true", help="each statement's total time, on stderr")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tiers-") as tmp:
        if args.keep is not None:
            with kept_database(args.keep, args.members, Path(tmp)) as url:
                result = run("PostgreSQL", url, args.members, Path(tmp), seeded=True, profile=args.profile)
            sys.stdout.write(json.dumps(result) + "\n")
            return
        for label, url in databases(args.db, Path(tmp)):
            result = run(label, url, args.members, Path(tmp), profile=args.profile)
            sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
