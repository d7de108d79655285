"""Tiers and segments benchmark: the nightly tier review and RFM scoring over many members (target < 60 s together
for 1,000,000 members on PostgreSQL).

    .venv/bin/python bench/tiers.py [--db postgresql|sqlite] [--members 1000000]

Builds ``--members`` members each with 2 paid orders (last year and this year) and their earn entries, every
second member holding a tier (a calendar-year program with silver, gold and platinum): with ``COPY`` on
PostgreSQL (``bench.common.copy_tables``, statistics gathered after), with ``INSERT ... SELECT`` over a series of
numbers on SQLite. Then it runs the jobs' own functions as the scheduler does, at a moment
past the year end and its grace, and checks what they wrote:

- **review** (``bridge.tiers.jobs.run_review``): every member with a tier reviewed, those whose year did not reach
  their level moved one level down;
- **scoring** (``bridge.segments.jobs.run_scoring``): every buyer scored into RFM quintiles and segments;
- a second review, which must move nobody (one review per year end).

The target is the nightly work as a whole: review and scoring together (``total_s``) under 60 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.common import bench_settings, copy_tables, databases  # noqa: E402
from bridge import features  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.segments.jobs import run_scoring  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.tiers.jobs import run_review  # noqa: E402

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


def run(label: str, url: str, members: int, data_dir: Path) -> dict[str, Any]:
    features.load()
    shop = {"id": SHOP, "url": "http://127.0.0.1:9", "currency": "USD", "webhook_secret": "x" * 32}
    settings = bench_settings(url, data_dir, {"program": {"id": PROGRAM, "tiers": TIERS}, "shops": [shop]})
    rt = Runtime.build(settings)
    try:
        prepare_database(rt, migrate_schema=True)
        loaded = copy_load(rt, members) if rt.engine.dialect.name == "postgresql" else load(rt, members)
        _progress(f"{label}: {members} members loaded in {loaded:.1f} s")
        started = time.perf_counter()
        review = run_review(rt, NOW)
        review_seconds = time.perf_counter() - started
        _progress(f"{label}: review {review_seconds:.1f} s {review}")
        started = time.perf_counter()
        again = run_review(rt, NOW)
        again_seconds = time.perf_counter() - started
        started = time.perf_counter()
        segments = run_scoring(rt, NOW)
        scoring_seconds = time.perf_counter() - started
        _progress(f"{label}: scoring {scoring_seconds:.1f} s")
    finally:
        rt.close()
    assert review["reviewed"] == members // 2, review
    assert review["down"] > 0 and again["down"] == 0, (review, again)
    assert sum(segments.values()) == members, segments
    return {
        "db": label,
        "members": members,
        "load_s": round(loaded, 1),
        "review_s": round(review_seconds, 1),
        "review": review,
        "second_review_s": round(again_seconds, 1),
        "scoring_s": round(scoring_seconds, 1),
        "segments": segments,
        "total_s": round(review_seconds + scoring_seconds, 1),
        "target_s": TARGET_SECONDS,
        "met": review_seconds + scoring_seconds < TARGET_SECONDS,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="postgresql")
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tiers-") as tmp:
        for label, url in databases(args.db, Path(tmp)):
            result = run(label, url, args.members, Path(tmp))
            sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
