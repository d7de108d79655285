"""What the analytics reports (members_vs_others, cohorts, rfm, clv, roi) share: which orders count, their value,
the currency they are in, who is a member, who is engaged, and local months as UTC instants.

- **Paid order**: an ``order_state`` row of the program with ``paid_at`` set and a status that still spends (not
  cancelled, failed, trash, deleted or refunded: ``bridge.storage.tiers.NOT_SPENDING``, as tiers and segments
  count them). Its moment is ``paid_at``. ``history_only`` orders (imported by ``bridge backfill
  --history-only``) are purchases like any other and count.
- **Net value**: ``total - refunded_total``, never below zero, in the shop's minor unit (summed as integers:
  exact; shown as ``Decimal``).
- **Currency**: a money report speaks of one currency. The shops it covers are ``shop=`` or every shop of the
  program; when those use more than one currency the report is refused (400 ``shop_required``) rather than adding
  up amounts of different currencies.
- **Member** (``joined_at``): in an ``open`` program every member row is a member from ``member.created_at``; in a
  ``closed`` or ``invite_only`` program only a member with ``member_profile.joined_at`` is, from then on (the others
  are customers the bridge knows who never got in).
- **Engaged**: a member who redeemed at least once: a ``redemption`` created before the range ends that is
  ``issued`` or ``used`` (points really spent; reserved, failed, expired and cancelled coupons gave them back or
  never reached the shop).
- **Months** are local calendar months of the program's time zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, and_, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery

from bridge.errors import ShopRequired
from bridge.redemption.model import State
from bridge.reports.base import ReportQuery, period_start
from bridge.reports.days import day_start
from bridge.storage import tables as t
from bridge.storage.tables import UtcDateTime
from bridge.storage.tiers import NOT_SPENDING

o = t.order_state.c
m = t.member.c
mp = t.member_profile.c
r = t.redemption.c

ENGAGED_STATES = (str(State.ISSUED), str(State.USED))
WORK_MEM = "192MB"


@dataclass(frozen=True)
class Money:
    """The currency a report speaks in and the shops whose orders it counts."""

    currency: str
    minor_unit: int
    shop_ids: tuple[str, ...]
    dialect: str = "sqlite"  # the database's: how an order's value is summed exactly and fast

    def amount(self, minor: int | None) -> Decimal:
        """Minor units (an exact integer sum) as a Decimal of the currency."""
        return Decimal(int(minor or 0)).scaleb(-self.minor_unit).quantize(Decimal(1).scaleb(-self.minor_unit))

    def per(self, minor: int | None, count: int | None, places: int | None = None) -> Decimal | None:
        """``minor / count`` in the currency, to the minor unit (or ``places``); None for no count."""
        if not count:
            return None
        quantum = Decimal(1).scaleb(-(self.minor_unit if places is None else places))
        return (Decimal(int(minor or 0)).scaleb(-self.minor_unit) / count).quantize(quantum, ROUND_HALF_UP)


def money(query: ReportQuery, conn: Connection) -> Money:
    """The one currency of the shops the report covers (see the module's docstring)."""
    shops = [s for s in query.shops if query.shop_id is None or s.id == query.shop_id]
    units = {(s.currency, s.minor_unit) for s in shops}
    if len(units) > 1:
        raise ShopRequired("the program's shops use several currencies: choose one shop (shop=)")
    currency, minor_unit = units.pop() if units else ("", 2)
    return Money(currency, minor_unit, tuple(s.id for s in shops), conn.dialect.name)


def tune(conn: Connection) -> None:
    """PostgreSQL, for this read transaction only (``SET LOCAL``): no JIT (compiling these one-off aggregates cost
    more than a second of the report's time on a year of orders); enough ``work_mem`` to hash or sort a year of
    orders by member in memory instead of on disk (cohorts sorted 1M rows through 33 MB of temporary files at
    64 MB); no parallel workers: the planner's parallel hash joins had every worker aggregate the whole year of
    orders again for its own copy of the inner side (three times the work; ``parallel`` allows them where they
    repeat nothing); and ``random_page_cost`` as for
    pages in memory or on SSD, so that a year of orders is read from the covering indexes of
    ``030_reportsperf_order_net`` (index-only, already in member or payment order) rather than by a sequential
    scan of the table (measured with ``bench/reports.py``)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
        conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        conn.exec_driver_sql("SET LOCAL random_page_cost = 1.1")


def by_member(stmt: Select[Any], name: str) -> Subquery:
    """``stmt``, a ``GROUP BY`` of orders whose first key is ``order_state.member_id``, as a subquery whose rows
    come in member order. Why: asked for that order, PostgreSQL reads the orders from the member-ordered covering
    index (``ix_order_state_program_id_member_id_net``) and aggregates them streaming, where it would otherwise
    hash a million members (twice the time: 0.9 s against 1.7 s for a year of 1.7M orders, ``bench/reports.py``),
    and it can merge-join the result with ``member`` by primary key instead of hashing it again."""
    return stmt.order_by(o.member_id).subquery(name)


@contextmanager
def merge_joins(conn: Connection) -> Iterator[None]:
    """PostgreSQL, for the statements run inside: join members and their orders' sums by merging them, both read in
    member order (``member``'s primary key, ``by_member``), not by hashing a million members. The planner
    prices the hash join lower, but on a year of 1.7M orders it took 3.1 s against 1.7 s merged (``EXPLAIN
    ANALYZE`` at 1M members, ``bench/reports.py --explain``). Hashed subplans (``engaged``) are not affected."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
    try:
        yield
    finally:
        if postgres:
            conn.exec_driver_sql("SET LOCAL enable_hashjoin = on")


PARTS = 6  # member id ranges a member-by-member report is split into on PostgreSQL (``member_parts``): a multiple
# of the processes (WORKERS and the connection's own), so that each runs as many parts and none waits for the last
WORKERS = 2  # parallel workers those parts are spread over, besides the connection's own process
NO_PARTIAL_SCAN = "1TB"  # min_parallel_*_scan_size that no table or index reaches: no scan split between workers


def member_parts(conn: Connection, program_id: str) -> list[tuple[int | None, int | None]]:
    """The program's members as ``PARTS`` ranges [lo, hi) of ``member.id`` of equal width (ids are allocated in
    sequence, so about as many members each), or one unbounded range ``(None, None)`` on SQLite or when the
    program has no member.

    Why: a report that sums each member's orders and then joins them to the members is one long serial pass (a
    million members: 3 s and more). Cut by member, each part is the same report over its own members (orders,
    tiers, segments are all per member, so the parts add up exactly) and PostgreSQL runs the parts of one
    ``UNION ALL`` on parallel workers (``parallel``): every member is read once, by one worker, in the one
    snapshot of the statement. SQLite has no parallel workers: one part."""
    if conn.dialect.name != "postgresql":
        return [(None, None)]
    lo, hi = conn.execute(select(func.min(m.id), func.max(m.id)).where(m.program_id == program_id)).one()
    if lo is None:
        return [(None, None)]
    width = -(-(int(hi) - int(lo) + 1) // PARTS)
    return [(lo + n * width, lo + (n + 1) * width) for n in range(PARTS) if lo + n * width <= hi]


def in_part(column: Any, part: tuple[int | None, int | None]) -> list[ColumnElement[bool]]:
    """The conditions keeping ``column`` (a member id) in ``part`` (``member_parts``): none for the whole."""
    lo, hi = part
    return [] if lo is None or hi is None else [column >= lo, column < hi]


@contextmanager
def parallel(conn: Connection, whole_parts: bool = False) -> Iterator[None]:
    """PostgreSQL, for the statements run inside: up to ``WORKERS`` parallel workers, and no setup cost charged
    for them (else the planner keeps a serial plan it prices a little lower and that runs twice as long:
    ``bench/reports.py --explain``). Only for statements whose parallel plan repeats no work (why ``tune`` turns
    workers off otherwise):

    - ``whole_parts``: the parts of a ``UNION ALL`` over ``member_parts``, each run wholly by one process (a
      Parallel Append). No table is scanned by several workers at once then: left to it, the planner split each
      part's members between the workers, and each worker summed all of the part's orders again to join them;
    - otherwise a join whose inner side all workers build once together (a Parallel Hash)."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.exec_driver_sql(f"SET LOCAL max_parallel_workers_per_gather = {WORKERS}")
        conn.exec_driver_sql("SET LOCAL parallel_setup_cost = 0")
        if whole_parts:
            conn.exec_driver_sql(f"SET LOCAL min_parallel_table_scan_size = '{NO_PARTIAL_SCAN}'")
            conn.exec_driver_sql(f"SET LOCAL min_parallel_index_scan_size = '{NO_PARTIAL_SCAN}'")
    try:
        yield
    finally:
        if postgres:
            for setting in (
                "parallel_setup_cost",
                "min_parallel_table_scan_size",
                "min_parallel_index_scan_size",
            ):
                conn.exec_driver_sql(f"SET LOCAL {setting} TO DEFAULT")
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


def joined_strings(column: Any, separator: str, name: str, dialect: str) -> Any:
    """An aggregate: the group's values of ``column`` joined by ``separator`` (in no set order), as ``name``."""
    if dialect == "sqlite":
        return func.group_concat(column, separator).label(name)
    return func.string_agg(column, literal(separator)).label(name)


def ratio(part: int | None, whole: int | None, places: int = 4) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(int(part or 0)) / Decimal(int(whole))).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def paid(program_id: str, cur: Money, start: datetime | None = None, end: datetime | None = None) -> Any:
    """The condition on ``order_state`` of a paid order of ``cur``'s shops, paid in [start, end)."""
    conditions = [
        o.program_id == program_id,
        o.paid_at.is_not(None),
        o.status.not_in(NOT_SPENDING),
        o.shop_id.in_(cur.shop_ids),
    ]
    if start is not None:
        conditions.append(o.paid_at >= start)
    if end is not None:
        conditions.append(o.paid_at < end)
    return and_(*conditions)


def net_minor(cur: Money) -> ColumnElement[int]:
    """An order's net value in minor units: ``round(net_amount x 10^minor_unit)``, where ``net_amount`` is the
    database's generated column ``max(total - refunded_total, 0)`` (``bridge.storage.tables.NET_AMOUNT``).

    Both amounts are decimal strings with at most ``minor_unit`` decimals, read as doubles: their difference is
    within far less than half a minor unit of the true one for any amount below 2^53 minor units, so the rounded
    integer is exact, and summing integers stays exact. Why a generated double and not ``numeric``: parsing text
    was most of a report's time (a year of 500k orders: 310 ms summed as numeric, 190 ms as doubles parsed per
    row, 55 ms to count them); stored once per order write, it is read from the covering index
    ``ix_order_state_program_id_paid_at_net`` on PostgreSQL without touching the table. SQLite has no decimal
    type anyway (there the column is virtual: computed when read)."""
    return cast(func.round(o.net_amount * 10**cur.minor_unit), BigInteger)


def epoch_seconds(column: Any, dialect: str) -> ColumnElement[Any]:
    """A timestamp column as seconds since 1970 (for differences in days)."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return func.extract("epoch", column)


def joined_at(policy: str) -> Any:
    """When a member got in (see the module's docstring): join ``member_profile`` when the program is not open."""
    return m.created_at if policy == "open" else mp.joined_at


def members_from(policy: str) -> Any:
    """``member`` (outer-joined with ``member_profile`` when ``joined_at`` comes from there)."""
    if policy == "open":
        return t.member
    return t.member.outerjoin(t.member_profile, mp.member_id == m.id)


def engaged(
    member_id: Any, program_id: str, before: datetime, part: tuple[int | None, int | None] = (None, None)
) -> ColumnElement[bool]:
    """The member redeemed at least once before ``before`` (see the module's docstring).

    ``IN`` an uncorrelated subquery, not a correlated ``EXISTS``: both databases compute the set once (PostgreSQL
    a hashed subplan, SQLite an ephemeral index) and probe it per row, where ``EXISTS`` looked the member's
    redemptions up again for each of a million rows. ``part``: only the redeemers among those members
    (``member_parts``): the set each part hashes."""
    redeemers = select(r.member_id).where(
        r.program_id == program_id, r.state.in_(ENGAGED_STATES), r.created_at < before, *in_part(r.member_id, part)
    )
    found: ColumnElement[bool] = member_id.in_(redeemers)
    return found


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_starts(first: date, last: date) -> list[date]:
    """First days of the local months from ``first``'s to ``last``'s, both included."""
    months, month = [], period_start(first, "month")
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def month_index(column: Any, months: list[date], query: ReportQuery) -> ColumnElement[int]:
    """Which of ``months`` (local calendar months) the instant ``column`` falls in: 0, 1, ...; -1 before the first,
    ``len(months)`` after the last. ``CASE`` over the months' UTC starts, so DST and odd offsets are exact; nested
    as a binary search (about log2(months) comparisons a row instead of one per month: a year of orders or a
    million members go through it)."""
    zone = query.zone
    bounds = [day_start(month, zone) for month in months] + [day_start(add_months(months[-1], 1), zone)]
    return _bisect(column, bounds, 0, len(bounds))


def _bisect(column: Any, bounds: list[datetime], lo: int, hi: int) -> ColumnElement[int]:
    """The index i - 1 of the first of ``bounds[lo:hi]`` that ``column`` is before (``hi - 1`` if none)."""
    if hi - lo == 1:
        return case((column < literal(bounds[lo], UtcDateTime()), literal(lo - 1)), else_=literal(lo))
    mid = (lo + hi) // 2
    return case(
        (column < literal(bounds[mid], UtcDateTime()), _bisect(column, bounds, lo, mid)),
        else_=_bisect(column, bounds, mid, hi),
    )


def selectable_members(program_id: str, policy: str, before: datetime) -> Any:
    """Members of the program who had got in before ``before``: (member_id, joined_at)."""
    joined = joined_at(policy)
    return (
        select(m.id.label("member_id"), joined.label("joined_at"))
        .select_from(members_from(policy))
        .where(m.program_id == program_id, joined.is_not(None), joined < before)
    )
