"""Segments in SQL (issue 16): the nightly RFM scoring and the segments' members, set-based.

Scoring is three statements whatever the number of members: the program's buyers' facts (last paid order, paid
orders, spend net of refunds) grouped from ``order_state``, ranked into quintiles with ``NTILE(5)`` (ties broken by
member id, so a run is deterministic), named by the RFM map as a ``CASE``, written with ``INSERT ... SELECT``.
Spend is summed as a float here: it only ranks members (and is stored in hundredths); no point or coupon is ever
computed from it.

Who is in which RFM segment (``member_in_segment``) is then brought in line with the scores by its differences
only: the memberships the scores no longer give are deleted, the new ones inserted (two anti-joins). Most members
keep their segment from one night to the next, so a nightly run writes a few rows instead of deleting and
inserting every buyer's; the first run inserts them all. The owner's segments are refilled whole.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
    tuple_,
)

from bridge.ledger.model import EntryState
from bridge.segments.settings import RFM_SEGMENTS, CustomSegment, SegmentSettings
from bridge.storage import tables as t
from bridge.storage.tables import UtcDateTime
from bridge.storage.tiers import NOT_SPENDING, tune_bulk

o = t.order_state.c
ms = t.member_segment.c
mis = t.member_in_segment.c


# PostgreSQL: the grouping of 1M buyers (about 200 MB of hash table) and the three NTILE sorts in memory; the
# default, 4MB, spills each of them to temporary files (for the scoring's transaction only).
SCORING_WORK_MEM = "256MB"


def score(conn: Connection, program_id: str, now: datetime) -> int:
    """Score every buyer of the program now (RFM quintiles and segment); returns how many were scored."""
    tune_bulk(conn, SCORING_WORK_MEM)
    spent = func.sum(cast(o.total, Float) - cast(func.coalesce(o.refunded_total, "0"), Float))
    facts = (
        select(
            o.member_id.label("member_id"),
            func.max(o.paid_at).label("last_order_at"),
            func.count().label("order_count"),
            spent.label("spent"),
        )
        .where(
            o.program_id == program_id,
            o.member_id.is_not(None),
            o.paid_at.is_not(None),
            o.status.not_in(NOT_SPENDING),
        )
        .group_by(o.member_id)
        .cte("facts")
    )
    f = facts.c
    scored = select(
        f.member_id,
        f.last_order_at,
        f.order_count,
        f.spent,
        func.ntile(5).over(order_by=(f.last_order_at, f.member_id)).label("r"),
        func.ntile(5).over(order_by=(f.order_count, f.member_id)).label("f"),
        func.ntile(5).over(order_by=(f.spent, f.member_id)).label("m"),
    ).cte("scored")
    s = scored.c
    fm = (s.f + s.m + 1) // 2  # the mean, halves rounded up (floor division on both databases)
    segment = case(
        (and_(s.r >= 4, fm >= 4), "champions"),
        (and_(s.r >= 4, fm >= 2), "potential_loyalist"),
        (s.r >= 4, "new"),
        (and_(s.r == 3, fm >= 4), "loyal"),
        (and_(s.r == 3, fm >= 2), "potential_loyalist"),
        (s.r == 3, "hibernating"),
        (fm == 5, "cant_lose"),
        (fm >= 3, "at_risk"),
        (fm == 2, "hibernating"),
        else_="lost",
    )
    rows = select(
        s.member_id,
        literal(program_id, String(64)),
        s.r,
        s.f,
        s.m,
        segment,
        s.last_order_at,
        s.order_count,
        cast(func.round(s.spent * 100), BigInteger),
        literal(now, UtcDateTime()),
    ).order_by(s.member_id)  # in the key's order (the window's order is the last quintile's): see ``fill``
    conn.execute(delete(t.member_segment).where(ms.program_id == program_id))
    columns = [
        "member_id",
        "program_id",
        "recency",
        "frequency",
        "monetary",
        "segment",
        "last_order_at",
        "order_count",
        "spent_hundredths",
        "scored_at",
    ]
    conn.execute(insert(t.member_segment).from_select(columns, rows))
    if conn.dialect.name == "postgresql":
        # statistics of the rows just written (counted though not committed), for the plans of ``fill``'s anti-join
        # and the snapshot's: planned from last night's figures, or none, a probe of them could become a rescan
        conn.exec_driver_sql("ANALYZE member_segment")
    return int(conn.scalar(select(func.count()).where(ms.program_id == program_id)) or 0)


def fill(conn: Connection, program_id: str, settings: SegmentSettings, now: datetime) -> None:
    """Bring who is in which segment in line: the RFM segments with the scores (differences only), then each
    owner's segment refilled (a segment no longer configured is emptied)."""
    # Both differences are set differences (EXCEPT), each side read whole once: a NOT EXISTS anti-join was planned
    # from an empty table's statistics (a first run) as a rescan of the table per row, while the insert grew it:
    # quadratic, 368 s at 200k members. (ON CONFLICT DO NOTHING instead costs a speculative insertion per row:
    # twice a plain insert's time, for every member on a first run.)
    rfm_ids = list(RFM_SEGMENTS)
    known = t.member_in_segment.alias("known")  # not correlated with the DELETE's own table
    there = select(known.c.segment_id, known.c.member_id).where(
        known.c.program_id == program_id, known.c.segment_id.in_(rfm_ids)
    )
    scored = select(ms.segment, ms.member_id).where(ms.program_id == program_id)
    stale = tuple_(mis.segment_id, mis.member_id).in_(there.except_(scored))
    conn.execute(delete(t.member_in_segment).where(mis.program_id == program_id, mis.segment_id.in_(rfm_ids), stale))
    added = scored.except_(there).subquery()
    # in the key's order: the index pages are filled one after the other (the set difference comes out in its
    # hash's order: inserted so, 1M rows took 8.3 s instead of 4.2 s)
    new = select(literal(program_id, String(64)), *added.c).order_by(*added.c)
    conn.execute(insert(t.member_in_segment).from_select(["program_id", "segment_id", "member_id"], new))
    # custom segment ids never take an RFM segment's (the config's schema refuses them)
    conn.execute(delete(t.member_in_segment).where(mis.program_id == program_id, mis.segment_id.not_in(rfm_ids)))
    for segment in settings.custom:
        members = select(literal(program_id, String(64)), literal(segment.id, String(64)), t.member.c.id)
        members = _matching(members, program_id, segment, now)
        conn.execute(insert(t.member_in_segment).from_select(["program_id", "segment_id", "member_id"], members))


def _matching(stmt: Any, program_id: str, segment: CustomSegment, now: datetime) -> Any:
    m = t.member.c
    stmt = (
        stmt.select_from(t.member)
        .outerjoin(t.member_segment, ms.member_id == m.id)
        .outerjoin(t.member_tier, t.member_tier.c.member_id == m.id)
        .outerjoin(t.member_profile, t.member_profile.c.member_id == m.id)
        .where(m.program_id == program_id)
    )
    orders = func.coalesce(ms.order_count, 0)
    if segment.tiers:
        stmt = stmt.where(t.member_tier.c.tier_id.in_(segment.tiers))
    if segment.min_orders is not None:
        stmt = stmt.where(orders >= segment.min_orders)
    if segment.max_orders is not None:
        stmt = stmt.where(orders <= segment.max_orders)
    if segment.min_spent is not None:
        hundredths = int((segment.min_spent * 100).to_integral_value())
        stmt = stmt.where(func.coalesce(ms.spent_hundredths, 0) >= hundredths)
    if segment.ordered_within_days is not None:
        stmt = stmt.where(ms.last_order_at >= now - timedelta(days=segment.ordered_within_days))
    if segment.not_ordered_for_days is not None:  # bought before, not lately
        stmt = stmt.where(ms.last_order_at < now - timedelta(days=segment.not_ordered_for_days))
    if segment.birthday_months:
        month = cast(extract("month", t.member_profile.c.birthday), Integer)
        stmt = stmt.where(month.in_(segment.birthday_months))
    if segment.min_balance:
        e = t.ledger_entry.c
        available = (
            select(e.member_id)
            .where(e.program_id == program_id, e.state == str(EntryState.AVAILABLE))
            .group_by(e.member_id)
            .having(func.sum(e.points) >= segment.min_balance)
        )
        stmt = stmt.where(m.id.in_(available))
    return stmt


def counts(conn: Connection, program_id: str) -> dict[str, int]:
    stmt = select(mis.segment_id, func.count()).where(mis.program_id == program_id).group_by(mis.segment_id)
    return {str(segment): int(n) for segment, n in conn.execute(stmt)}


def members(conn: Connection, program_id: str, segment_id: str, after_member_id: int, limit: int) -> list[int]:
    """A keyset page of the segment's member ids (ascending)."""
    stmt = (
        select(mis.member_id)
        .where(mis.program_id == program_id, mis.segment_id == segment_id, mis.member_id > after_member_id)
        .order_by(mis.member_id)
        .limit(limit)
    )
    return [int(member_id) for member_id in conn.scalars(stmt)]


def of_member(conn: Connection, member_id: int) -> frozenset[str]:
    """The member's segments (a member belongs to one program)."""
    stmt = select(mis.segment_id).where(mis.member_id == member_id)
    return frozenset(conn.scalars(stmt))


def scores(conn: Connection, member_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(t.member_segment).where(ms.member_id == member_id)).mappings().first()
    if row is None:
        return None
    return {
        "recency": row["recency"],
        "frequency": row["frequency"],
        "monetary": row["monetary"],
        "segment": row["segment"],
        "last_order_at": row["last_order_at"].isoformat() if row["last_order_at"] else None,
        "order_count": row["order_count"],
        "spent": str(Decimal(row["spent_hundredths"]) / 100),
    }
