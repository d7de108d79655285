"""Point-life benchmark: the daily release and expiry jobs over a 1,000,000-entry ledger (target < 60 s).

    .venv/bin/python bench/point_life.py [--db postgresql|sqlite] [--members 50000]

Builds a ledger of ``--members`` x 20 entries with COPY (PostgreSQL, throwaway cluster) or executemany
(SQLite), shaped like a program a year old: per member 4 lots past their expiry date, 10 younger lots, 4
spends, and 2 orders completed 20 days ago whose points are still pending (hold: 14 days). Then it runs the
jobs' own functions, as the scheduler does, and checks what they wrote:

- **release** (``bridge.ledger.jobs.run_release``): every due order's pending points become available
  (2 entries each);
- **expiry** (``run_expiry``, per-lot mode, 12 months, 30-day warning): each member's expired lots, after the
  spends consumed the oldest first, become one expire entry; "expiring soon" events are recorded;
- a second run of both, which must write nothing (idempotent), timed too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.common import bench_settings, databases  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.config import Settings  # noqa: E402
from bridge.ledger.jobs import run_expiry, run_release  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.storage import tables as t  # noqa: E402
from bridge.storage.clock import (  # noqa: E402
    add_months,
    utcnow,
)

TARGET_SECONDS = 60.0
SHOP = "bench"
PROGRAM = "default"

LEDGER_COLUMNS = [
    "program_id",
    "shop_id",
    "member_id",
    "points",
    "kind",
    "state",
    "available_at",
    "expires_at",
    "cause_type",
    "cause_id",
    "rule_id",
    "refund_id",
    "idempotency_key",
    "note",
    "meta",
    "created_at",
]
ORDER_COLUMNS = [
    "program_id",
    "shop_id",
    "order_id",
    "member_id",
    "status",
    "total",
    "refunded_total",
    "date_modified",
    "cycle",
    "updated_at",
    "paid_at",
    "completed_at",
]


def settings_for(database_url: str, data_dir: Path) -> Settings:
    earn = {"release": "after_hold", "hold_days": 14, "expiry": {"mode": "lot", "months": 12, "warn_days": 30}}
    shop = {"id": SHOP, "url": "http://127.0.0.1:8080", "webhook_secret": "s", "currency": "USD"}
    return bench_settings(database_url, data_dir, {"program": {"earn": earn}, "shops": [shop]})


def rows(members: int, now: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    member_rows, ledger_rows, order_rows = [], [], []
    for m in range(1, members + 1):
        member_rows.append((m, PROGRAM, f"m{m}@example.test", SHOP, now))

        def entry(points: int, kind: str, state: str, at: datetime, key: str, cause: str = "", m: int = m) -> None:
            meta = json.dumps({"cycle": 1, "order_total": "50"})
            source = ("order", cause, "per_amount") if cause else ("bench", key, "")
            ledger_rows.append((PROGRAM, SHOP, m, points, kind, state, at, None, *source, "", key, "", meta, at))

        for lot in range(4):  # past their date
            entry(20, "adjust", "available", add_months(now, -13 - lot), f"m{m}:old:{lot}")
        for lot in range(10):  # younger lots, one expiring within the warning window
            entry(15, "adjust", "available", add_months(now, -11 + lot) - timedelta(days=20), f"m{m}:new:{lot}")
        for spend in range(4):
            entry(-10, "spend", "available", add_months(now, -12 + spend), f"m{m}:spend:{spend}")
        completed = now - timedelta(days=20)
        for order in range(2):
            order_id = f"{m}-{order}"
            entry(40, "earn", "pending", completed, f"{SHOP}:order:{order_id}:per_amount", cause=order_id)
            order_rows.append(
                (PROGRAM, SHOP, order_id, m, "completed", "50", "0", completed, 1, completed, completed, completed)
            )
    return member_rows, ledger_rows, order_rows


def load(rt: Runtime, members: int, now: datetime) -> float:
    member_rows, ledger_rows, order_rows = rows(members, now)
    started = time.perf_counter()
    if rt.engine.dialect.name == "postgresql":
        raw = rt.engine.raw_connection()
        try:
            pg = raw.driver_connection
            assert pg is not None
            with pg.cursor() as cur:
                _copy(cur, "member", ["id", "program_id", "email", "first_shop_id", "created_at"], member_rows)
                _copy(cur, "ledger_entry", LEDGER_COLUMNS, ledger_rows)
                _copy(cur, "order_state", ORDER_COLUMNS, order_rows)
                cur.execute("SELECT setval('member_id_seq', (SELECT max(id) FROM member))")
                cur.execute("ANALYZE")
            pg.commit()
        finally:
            raw.close()
    else:
        with db.write(rt.engine) as conn:
            conn.execute(
                insert(t.member),
                [
                    dict(zip(["id", "program_id", "email", "first_shop_id", "created_at"], r, strict=True))
                    for r in member_rows
                ],
            )
            conn.execute(
                insert(t.ledger_entry),
                [dict(zip(LEDGER_COLUMNS, (*r[:14], json.loads(r[14]), r[15]), strict=True)) for r in ledger_rows],
            )
            conn.execute(insert(t.order_state), [dict(zip(ORDER_COLUMNS, r, strict=True)) for r in order_rows])
    return time.perf_counter() - started


def _copy(cur: Any, table: str, columns: list[str], data: list[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in data:
            copy.write_row(row)


def count(rt: Runtime, *where: Any) -> int:
    with db.read(rt.engine) as conn:
        return int(conn.scalar(select(func.count()).select_from(t.ledger_entry).where(*where)) or 0)


def run(database_url: str, data_dir: Path, members: int) -> None:
    rt = Runtime.build(settings_for(database_url, data_dir))
    prepare_database(rt, migrate_schema=True)
    now = utcnow()
    loaded = load(rt, members, now)
    entries = count(rt)
    sys.stdout.write(f"  ledger: {entries:,} entries for {members:,} members, loaded in {loaded:.1f} s\n")

    started = time.perf_counter()
    released = run_release(rt, now)
    release_s = time.perf_counter() - started
    started = time.perf_counter()
    expired = run_expiry(rt, now)
    expiry_s = time.perf_counter() - started
    sys.stdout.write(
        f"  release: {released['orders']:,} orders, {released['points']:,} points in {release_s:.1f} s\n"
        f"  expiry:  {expired['members']:,} members, {expired['expired']:,} points expired, "
        f"{expired['warned']:,} warned in {expiry_s:.1f} s\n"
    )
    e = t.ledger_entry.c
    assert released["orders"] == 2 * members and count(rt, e.kind == "release") == 4 * members
    assert expired["expired"] == members * (4 * 20 - 4 * 10), expired  # the spends consumed the oldest lots
    assert count(rt, e.state == "pending") == 4 * members  # +40 -40 per order: pending sums to 0
    started = time.perf_counter()
    again = (run_release(rt, now), run_expiry(rt, now))
    rerun_s = time.perf_counter() - started
    assert again[0]["orders"] == 0 and again[1]["expired"] == 0 and again[1]["warned"] == 0, again
    total = release_s + expiry_s
    sys.stdout.write(
        f"  both jobs: {total:.1f} s over {entries:,} entries (target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if total < TARGET_SECONDS else 'NOT met'}); second run, nothing to do: {rerun_s:.1f} s\n"
    )
    rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-life-") as tmp:
        for label, url in databases(args.db, Path(tmp)):
            sys.stdout.write(f"{label}:\n")
            run(url, Path(tmp), args.members)


if __name__ == "__main__":
    main()
