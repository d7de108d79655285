"""``clv``: customer lifetime value per segment and per tier, an estimate from observed behaviour.

``clv = average_order_value x purchase_frequency x expected_lifetime_years``, for each group of members:
``all`` (every member who got in before the range ends: ``bridge.reports.analytics``), each segment
(``member_in_segment``, as the last nightly scoring left it) and each tier (``member_tier.tier_id``, now).

With T the end of the range, and paid orders net of refunds in one currency (``bridge.reports.analytics``):

- ``members``: the group's members; ``orders`` and ``revenue``: their paid orders in the range;
- ``average_order_value = revenue / orders``;
- ``purchase_frequency = orders / members / years``, the orders per member per year, where ``years`` = the
  range's days / 365 (2 decimals shown; the CLV uses the exact value);
- churn, observed over the two years before T (calendar years of local days): ``churn_base`` = the group's members
  with a paid order in the year before last, [T - 2 years, T - 1 year); ``churned`` = those of them with no paid
  order in the last year, [T - 1 year, T); ``churn = churned / churn_base`` (annual churn, 4 decimals shown);
- ``expected_lifetime_years = 1 / churn = churn_base / churned``; None when nobody churned (or nobody was there to
  churn): the data cannot say how long members stay, and no CLV is given rather than an infinite one;
- ``clv``: the product, rounded to the minor unit at the end.

Every input is in the data, so the figure can be recomputed by hand. An estimate: it assumes members keep buying
as they did in the range and leave at the observed rate.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Select, and_, case, func, literal, select, union_all

from bridge.reports import analytics as a
from bridge.reports.base import Report, ReportQuery, Table
from bridge.reports.days import day_start
from bridge.storage import tables as t
from bridge.storage.tables import UtcDateTime

o = a.o
COLUMNS = (
    "kind",
    "group",
    "name",
    "members",
    "orders",
    "revenue",
    "currency",
    "average_order_value",
    "purchase_frequency",
    "churn_base",
    "churned",
    "churn",
    "expected_lifetime_years",
    "clv",
)
SEPARATOR = " "  # between a member's segment ids: ids are lower-case letters, digits, - and _
FORMULA = "clv = average_order_value x purchase_frequency x expected_lifetime_years; lifetime = 1 / annual churn"


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def build(conn: Connection, query: ReportQuery) -> Report:
    cur = a.money(query, conn)
    a.tune(conn)
    program_id = query.program.id
    after = query.last + timedelta(days=1)
    year_ago = day_start(years_before(after, 1), query.zone)
    two_years_ago = day_start(years_before(after, 2), query.zone)
    end = query.end

    window = (min(query.start, two_years_ago), end)
    found: dict[tuple[str, str], list[int]] = {}
    parts = a.member_parts(conn, program_id)
    stmt = union_all(*(_part(query, cur, part, window, year_ago, two_years_ago) for part in parts))
    with a.merge_joins(conn), a.parallel(conn, whole_parts=True):
        rows_found = conn.execute(stmt).all()
    for everyone, tier, segments, *figures in rows_found:
        groups = [("all", "all")] if everyone else []
        groups += [("tier", str(tier))] if tier is not None else []
        groups += [("segment", s) for s in str(segments or "").split(SEPARATOR) if s]
        for key in groups:
            total = found.setdefault(key, [0] * len(figures))
            for n, value in enumerate(figures):
                total[n] += int(value or 0)

    keys = [("all", "all")] + [("segment", s) for s in query.program.segments.ids()]
    tiers = query.program.tiers
    keys += [("tier", tier.id) for tier in tiers.levels] if tiers is not None else []
    keys += sorted(key for key in found if key not in keys)  # a segment or tier no longer configured
    years = Decimal((end - query.start) / timedelta(days=1)) / 365
    rows = [
        _figures(kind, grp, _name(query, kind, grp), tuple(found.get((kind, grp), ())), cur, years)
        for kind, grp in keys
    ]
    data = {
        "currency": cur.currency,
        "formula": FORMULA,
        "churn_window": {
            "base": [two_years_ago.isoformat(), year_ago.isoformat()],
            "churned_if_no_order": [year_ago.isoformat(), end.isoformat()],
        },
        "groups": rows,
    }
    table = Table("clv", COLUMNS, [tuple(cur.currency if c == "currency" else row[c] for c in COLUMNS) for row in rows])
    method = (
        f"{FORMULA}. Purchase frequency = orders per member per year in the range; annual churn = members with a "
        "paid order in the year before last and none in the last year, over those with one in the year before "
        "last. An estimate from observed behaviour, not a forecast."
    )
    return Report("clv", data, (table,), method)


def _part(
    query: ReportQuery,
    cur: a.Money,
    part: tuple[int | None, int | None],
    window: tuple[datetime, datetime],
    year_ago: datetime,
    two_years_ago: datetime,
) -> Select[Any]:
    """The members of ``part`` (``analytics.member_parts``) grouped by what decides their groups: got in before the
    range ends (the ``all`` group), tier, and segments (their ids joined by ``SEPARATOR``: a member may be in
    several; Python adds each such row to every group it names), with their members, orders, revenue, churn base
    and churned. All four joins read in member order and merge (``analytics.merge_joins``)."""
    program_id = query.program.id
    policy = query.program.earning.membership.policy
    # the window ends at the range's end; it starts at the range's start or two years before its end, the earlier
    in_range = o.paid_at >= query.start
    in_churn_window = o.paid_at >= two_years_ago
    first = func.min(o.paid_at) if query.start >= two_years_ago else func.min(o.paid_at).filter(in_churn_window)
    per_member = a.by_member(
        select(
            o.member_id.label("member_id"),
            func.count().filter(in_range).label("orders"),
            func.sum(a.net_minor(cur)).filter(in_range).label("revenue"),
            first.label("first_paid"),  # the first order in the churn window: a buyer of the year before last?
            func.max(o.paid_at).label("last_paid"),  # the last: a buyer of the last year?
        )
        .where(a.paid(program_id, cur, *window), o.member_id.is_not(None), *a.in_part(o.member_id, part))
        .group_by(o.member_id),
        "per_member",
    )
    mis, mt = t.member_in_segment.c, t.member_tier.c
    segments = (
        select(mis.member_id.label("member_id"), a.joined_strings(mis.segment_id, SEPARATOR, "segments", cur.dialect))
        .where(mis.program_id == program_id, *a.in_part(mis.member_id, part))
        .group_by(mis.member_id)
        .order_by(mis.member_id)
        .subquery("segments")
    )
    # the part's bounds on member_tier too: its merge with the members then starts at the part's first member
    tiered = (mt.program_id == program_id, mt.tier_id.is_not(None), *a.in_part(mt.member_id, part))
    m, p, joined = a.m, per_member.c, a.joined_at(policy)
    everyone = case((joined.is_not(None) & (joined < query.end), 1), else_=0).label("everyone")
    since = literal(year_ago, UtcDateTime())
    was, gone = p.first_paid < since, p.last_paid < since  # NULL (no order) counts as neither
    members = (
        a.members_from(policy)
        .outerjoin(per_member, p.member_id == m.id)
        .outerjoin(t.member_tier, and_(mt.member_id == m.id, *tiered))
        .outerjoin(segments, segments.c.member_id == m.id)
    )
    return (
        select(
            everyone,
            mt.tier_id,
            segments.c.segments,
            func.count(),
            func.coalesce(func.sum(p.orders), 0),
            func.coalesce(func.sum(p.revenue), 0),
            func.sum(case((was, 1), else_=0)),
            func.sum(case((was & gone, 1), else_=0)),
        )
        .select_from(members)
        .where(m.program_id == program_id, *a.in_part(m.id, part))
        .group_by(everyone, mt.tier_id, segments.c.segments)
    )


def _name(query: ReportQuery, kind: str, grp: str) -> str:
    if kind == "segment":
        return query.program.segments.name(grp)
    if kind == "tier" and query.program.tiers is not None:
        for tier in query.program.tiers.levels:
            if tier.id == grp:
                return str(tier.name)
    return grp


def _figures(kind: str, grp: str, name: str, found: tuple[int, ...], cur: a.Money, years: Decimal) -> dict[str, Any]:
    members, orders, revenue, base, churned = found or (0, 0, 0, 0, 0)
    aov = cur.amount(revenue) / orders if orders else None
    frequency = Decimal(orders) / members / years if members and years else None
    lifetime = Decimal(base) / churned if churned else None
    clv = aov * frequency * lifetime if aov is not None and frequency is not None and lifetime is not None else None
    quantum = Decimal(1).scaleb(-cur.minor_unit)

    def shown(value: Decimal | None, q: Decimal) -> Decimal | None:
        return None if value is None else value.quantize(q, ROUND_HALF_UP)

    return {
        "kind": kind,
        "group": grp,
        "name": name,
        "members": members,
        "orders": orders,
        "revenue": cur.amount(revenue),
        "average_order_value": shown(aov, quantum),
        "purchase_frequency": shown(frequency, Decimal("0.01")),
        "churn_base": base,
        "churned": churned,
        "churn": a.ratio(churned, base),
        "expected_lifetime_years": shown(lifetime, Decimal("0.01")),
        "clv": shown(clv, quantum),
    }
