"""Tier perks benchmark: the ``tiers.perks`` job over many members (issue 16).

    .venv/bin/python bench/perks.py [--db postgresql|sqlite|both] [--members 1000000]

Builds, with set-based ``INSERT ... SELECT``, ``--members`` members (each with a first shop) of whom every tenth is
gold (a monthly free-shipping perk) and every hundredth platinum (a yearly one). Then it runs the job's own
function as the scheduler does, with the coupons' hand-over to the finishing job counted instead of enqueued (this
measures the bridge's side: finding the due members and reserving their perks; the coupons are the shop's work):

- **first run** of the month: every gold and platinum member's perk reserved, in pages of ``BATCH``;
- **steady run**: the same month again, which must reserve nothing. This is what every 15-minute run costs
  between tier changes, so it must stay small at any number of members.
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

from bench.common import bench_settings, databases  # noqa: E402
from bench.tiers import series  # noqa: E402
from bridge import features  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db  # noqa: E402
from bridge.tiers.perks import run_perks  # noqa: E402

PROGRAM = "default"
SHOP = "bench"
NOW = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
TIERS = {
    "levels": [
        {"id": "silver", "name": "Silver", "threshold": 100},
        {"id": "gold", "name": "Gold", "threshold": 500, "perks": [{"id": "ship", "period": "month"}]},
        {"id": "platinum", "name": "Platinum", "threshold": 2000, "perks": [{"id": "yearly", "period": "year"}]},
    ],
}


def load(rt: Runtime, members: int) -> float:
    started = time.perf_counter()
    dialect = rt.engine.dialect.name
    s = series(dialect, members)
    at = "'2026-06-01 10:00:00+00:00'" if dialect == "postgresql" else "'2026-06-01 10:00:00.000000'"
    statements = [
        f"INSERT INTO member (id, program_id, email, first_shop_id, created_at) "
        f"SELECT i, '{PROGRAM}', 'm' || i || '@bench.invalid', '{SHOP}', {at} FROM {s}",
        f"INSERT INTO member_tier (member_id, program_id, tier_id, source, since, earned_tier_id, updated_at) "
        f"SELECT i, '{PROGRAM}', CASE WHEN i % 100 = 0 THEN 'platinum' WHEN i % 10 = 0 THEN 'gold' ELSE 'silver' END, "
        f"'earned', {at}, NULL, {at} FROM {s} WHERE i % 2 = 0",
    ]
    with db.write(rt.engine) as conn:
        for statement in statements:
            conn.execute(text(statement))
    if dialect == "postgresql":
        with rt.engine.connect() as conn:
            conn.execute(text("COMMIT"))
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _progress(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def run(label: str, url: str, members: int, data_dir: Path) -> dict[str, Any]:
    features.load()
    shop = {
        "id": SHOP,
        "url": "http://127.0.0.1:9",  # never called: the hand-over below counts instead of enqueueing
        "consumer_key": "ck_bench",
        "consumer_secret": "cs_bench",
        "currency": "USD",
        "webhook_secret": "x" * 32,
    }
    settings = bench_settings(url, data_dir, {"program": {"id": PROGRAM, "tiers": TIERS}, "shops": [shop]})
    rt = Runtime.build(settings)
    handed: list[int] = []
    try:
        prepare_database(rt, migrate_schema=True)
        loaded = load(rt, members)
        _progress(f"{label}: {members} members loaded in {loaded:.1f} s")
        started = time.perf_counter()
        first = run_perks(rt, NOW, hand_over=lambda _rt, rid: handed.append(rid))
        first_seconds = time.perf_counter() - started
        _progress(f"{label}: first run {first_seconds:.1f} s {first}")
        started = time.perf_counter()
        steady = run_perks(rt, NOW, hand_over=lambda _rt, rid: handed.append(rid))
        steady_seconds = time.perf_counter() - started
    finally:
        rt.close()
    expected = members // 10  # every tenth member is gold or platinum (each has one perk)
    assert first["reserved"] == expected == len(handed), (first, expected, len(handed))
    assert steady["reserved"] == 0, steady
    return {
        "db": label,
        "members": members,
        "perks": expected,
        "load_s": round(loaded, 1),
        "first_run_s": round(first_seconds, 2),
        "per_1000_perks_ms": round(first_seconds / max(expected, 1) * 1_000_000, 1),
        "steady_run_s": round(steady_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="postgresql")
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-perks-") as tmp:
        for label, url in databases(args.db, Path(tmp)):
            result = run(label, url, args.members, Path(tmp))
            sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
