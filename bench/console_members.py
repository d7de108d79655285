"""Members pages benchmark (issue 15): member search, filters and the member page on a big club, on PostgreSQL.

    .venv/bin/python bench/console_members.py [--members 1000000] [--lookups 200]

Seeds a throwaway PostgreSQL cluster with COPY: ``--members`` members (each with a shop customer id, one in ten
with a tier), 10 ledger entries and 2 orders each (1M members: 10M entries, 2M orders), indexes built after,
then ``VACUUM ANALYZE``. Times what the console's pages run (the functions behind ``/console/members`` and
``/console/members/<id>``), p50/p95 over ``--lookups`` random members:

- search by e-mail, by customer id, by member id (``bridge.members.search``: the first page, 50 rows with their
  available balance and last activity);
- the first page of the list (no filter), the tier filter, a balance-range filter (a bounded walk of
  ``SCAN_LIMIT`` members per page);
- the member page: the member, the balance and the first timeline page (``bridge.members.timeline``);
- search by name (issue 15): every member has a first and a last name drawn from lists of English and Persian
  names (a full name selects about one member in 2,250, a first name one in 50): a full name, a last
  name, and the first three letters of a first name (tens of thousands of matches at 1M: the newest 50 shown).

Target: p95 < 150 ms for a search and a member page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_settings, copy_tables, databases  # noqa: E402
from bridge.bootstrap import prepare_database  # noqa: E402
from bridge.config import Settings  # noqa: E402
from bridge.ledger import service as ledger  # noqa: E402
from bridge.members import names, search, timeline  # noqa: E402
from bridge.members import service as members  # noqa: E402
from bridge.runtime import Runtime  # noqa: E402
from bridge.storage import db  # noqa: E402

PROGRAM = "club"
SHOP = "bench"
TARGET = 0.150
ENTRIES_PER_MEMBER = 10
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def settings_for(database_url: str, data_dir: Path) -> Settings:
    shop = {"id": SHOP, "url": "https://shop.bench", "webhook_secret": "whsec-bench-secret", "currency": "USD"}
    return bench_settings(database_url, data_dir, {"program": {"id": PROGRAM, "name": "Bench"}, "shops": [shop]})


def email(m: int) -> str:
    return f"shopper{m}@bench.test"


FIRST_NAMES = (  # noqa: SIM905  (a list of words reads best as words)
    "Carol Caroline Bob Alice Anna Andrew David Daniel Emma Eric Frank George Helen Henry Irene Jack "
    "James Julia Kate Laura Leo Maria Mark Nina Oliver Paul Peter Rachel Sara Tom "
    "علی محمد حسین رضا مهدی زهرا فاطمه مریم سارا نرگس امیر حمید کریم یاسمن نیلوفر پریسا بهار آرش کاوه "
    "سینا "
).split()
LAST_NAMES = (  # noqa: SIM905  (a list of words reads best as words)
    "Poe Smith Jones Brown Taylor Wilson Evans Thomas Johnson Roberts Walker Wright Robinson Thompson "
    "White Hughes Edwards Green Hall Wood Harris Martin Jackson Clarke Lewis Carolson Turner Baker Hill "
    "Moore "
    "رضایی کریمی احمدی محمدی حسینی موسوی جعفری صادقی رحیمی نوری کاظمی طاهری هاشمی عباسی قاسمی "
).split()


def name_of(m: int) -> tuple[str, str]:
    """Member ``m``'s first and last name: every (first, last) pair once in each run of 2,250 members."""
    return FIRST_NAMES[m % len(FIRST_NAMES)], LAST_NAMES[(m // len(FIRST_NAMES)) % len(LAST_NAMES)]


def _rows(members_count: int) -> dict[str, tuple[list[str], Iterator[tuple[Any, ...]]]]:
    def member_rows() -> Iterator[tuple[Any, ...]]:
        for m in range(1, members_count + 1):
            yield (m, PROGRAM, email(m), email(m), SHOP, NOW - timedelta(seconds=members_count - m))

    def identity_rows() -> Iterator[tuple[Any, ...]]:
        for m in range(1, members_count + 1):
            yield (PROGRAM, SHOP, str(100_000 + m), m, NOW)

    def profile_rows() -> Iterator[tuple[Any, ...]]:
        for m in range(10, members_count + 1, 10):
            yield (m, PROGRAM, "gold", NOW)

    def order_rows() -> Iterator[tuple[Any, ...]]:
        for m in range(1, members_count + 1):
            for k in range(2):
                at = NOW - timedelta(days=(m + k * 17) % 700)
                yield (PROGRAM, SHOP, f"{m}-{k}", m, "completed", "40.00", "0", 1, at, at, False)

    def ledger_rows() -> Iterator[tuple[Any, ...]]:
        rng = random.Random(5)
        for m in range(1, members_count + 1):
            for k in range(ENTRIES_PER_MEMBER):
                at = NOW - timedelta(days=(m + k * 31) % 700, seconds=k)
                points = rng.randint(1, 90) if k % 5 else -rng.randint(1, 20)
                kind = "earn" if points > 0 else "adjust"
                key = f"{PROGRAM}:bench:{m}:{k}"
                cause = ("order", f"{m}-{k % 2}") if kind == "earn" else ("admin", f"bench-{m}-{k}")
                yield (PROGRAM, SHOP, m, points, kind, "available", *cause, "", "", key, "", "{}", at)

    def name_rows() -> Iterator[tuple[Any, ...]]:
        for m in range(1, members_count + 1):
            yield (m, PROGRAM, names.clean(*name_of(m)), names.ACCOUNT, NOW, NOW)

    def word_rows() -> Iterator[tuple[Any, ...]]:
        for m in range(1, members_count + 1):
            for word in names.words(names.clean(*name_of(m))):
                yield (m, word, PROGRAM)

    return {
        "member": (["id", "program_id", "email", "email_key", "first_shop_id", "created_at"], member_rows()),
        "member_name": (
            ["member_id", "program_id", "display_name", "source", "source_modified", "updated_at"],
            name_rows(),
        ),
        "member_name_word": (["member_id", "word", "program_id"], word_rows()),
        "member_identity": (
            ["program_id", "shop_id", "platform_customer_id", "member_id", "created_at"],
            identity_rows(),
        ),
        "member_profile": (["member_id", "program_id", "tier", "updated_at"], profile_rows()),
        "order_state": (
            [
                "program_id",
                "shop_id",
                "order_id",
                "member_id",
                "status",
                "total",
                "refunded_total",
                "cycle",
                "paid_at",
                "updated_at",
                "history_only",
            ],
            order_rows(),
        ),
        "ledger_entry": (
            [
                "program_id",
                "shop_id",
                "member_id",
                "points",
                "kind",
                "state",
                "cause_type",
                "cause_id",
                "rule_id",
                "refund_id",
                "idempotency_key",
                "note",
                "meta",
                "created_at",
            ],
            ledger_rows(),
        ),
    }


def seed(rt: Runtime, members_count: int) -> float:
    return copy_tables(rt, ((table, columns, rows) for table, (columns, rows) in _rows(members_count).items()))


def timed(label: str, runs: int, call: Callable[[int], object]) -> None:
    call(0)  # warm: plans cached, pages in memory
    seconds = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        seconds.append(time.perf_counter() - started)
    p50 = statistics.median(seconds)
    p95 = sorted(seconds)[max(0, round(0.95 * runs) - 1)]
    verdict = "met" if p95 < TARGET else "NOT met"
    sys.stdout.write(
        f"  {label:<34} p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms   "
        f"(target p95 < {TARGET * 1000:.0f} ms: {verdict}; {runs} runs)\n"
    )


def run(database_url: str, data_dir: Path, members_count: int, lookups: int) -> None:
    rt = Runtime.build(settings_for(database_url, data_dir))
    prepare_database(rt, migrate_schema=True)
    seconds = seed(rt, members_count)
    sys.stdout.write(
        f"  seeded {members_count:,} members, {members_count * ENTRIES_PER_MEMBER:,} ledger entries, "
        f"{members_count * 2:,} orders in {seconds:.0f} s\n"
    )
    rng = random.Random(11)
    picks = [rng.randint(1, members_count) for _ in range(lookups + 1)]

    def find(query: search.MemberQuery) -> search.MemberPage:
        with db.read(rt.engine) as conn:
            return search.search(conn, PROGRAM, query)

    def by_email(i: int) -> object:
        page = find(search.MemberQuery(text=email(picks[i]).upper()))
        assert [m["id"] for m in page.members] == [picks[i]]
        return page

    def by_customer(i: int) -> object:
        page = find(search.MemberQuery(text=str(100_000 + picks[i])))
        assert picks[i] in [m["id"] for m in page.members]
        return page

    def by_member_id(i: int) -> object:
        return find(search.MemberQuery(text=f"#{picks[i]}"))

    def first_page(i: int) -> object:
        page = find(search.MemberQuery(before=max(picks[i], 51)))
        assert len(page.members) == 50
        return page

    def tier(i: int) -> object:
        return find(search.MemberQuery(tier="gold", before=picks[i]))

    def balance_range(i: int) -> object:
        return find(search.MemberQuery(min_available=300, max_available=320, before=picks[i]))

    def member_page(i: int) -> object:
        with db.read(rt.engine) as conn:
            member = members.get(conn, PROGRAM, picks[i])
            balance = ledger.balance(conn, picks[i])
            page = timeline.timeline(conn, PROGRAM, picks[i], limit=50)
        assert page.items
        return member, balance, page

    def by_full_name(i: int) -> object:
        first, last = name_of(picks[i])
        page = find(search.MemberQuery(text=f"{first} {last}"))
        assert picks[i] in [m["id"] for m in page.members] or len(page.members) == 50
        return page

    def by_last_name(i: int) -> object:
        page = find(search.MemberQuery(text=name_of(picks[i])[1]))
        assert page.members
        return page

    def by_first_letters(i: int) -> object:
        page = find(search.MemberQuery(text=name_of(picks[i])[0][:3]))
        assert len(page.members) == 50 or members_count < 10_000
        return page

    timed("search by name (first last)", lookups, by_full_name)
    timed("search by name (a last name)", lookups, by_last_name)
    timed("search by name (3 letters)", lookups, by_first_letters)
    timed("search by e-mail", lookups, by_email)
    timed("search by customer id", lookups, by_customer)
    timed("search by member id", lookups, by_member_id)
    timed("list, a page (no filter)", lookups, first_page)
    timed("list, tier filter", lookups, tier)
    timed("list, balance range (bounded walk)", lookups, balance_range)
    timed("member page (balance + timeline)", lookups, member_page)
    rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-members-") as tmp:
        for label, url in databases("postgresql", Path(tmp)):
            sys.stdout.write(f"{label}:\n")
            run(url, Path(tmp), args.members, args.lookups)


if __name__ == "__main__":
    main()
