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

from sqlalchemy import Connection, String, case, func, literal, select, union_all

from bridge.reports import analytics as a
from bridge.reports.base import Report, ReportQuery, Table
from bridge.reports.days import day_start
from bridge.storage import tables as t

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
    policy = query.program.earning.membership.policy
    after = query.last + timedelta(days=1)
    year_ago = day_start(years_before(after, 1), query.zone)
    two_years_ago = day_start(years_before(after, 2), query.zone)
    end = query.end

    def between(lo: datetime, hi: datetime) -> Any:
        return (o.paid_at >= lo) & (o.paid_at < hi)

    in_range = between(query.start, end)
    per_member = (
        select(
            o.member_id.label("member_id"),
            func.sum(case((in_range, 1), else_=0)).label("orders"),
            func.sum(case((in_range, a.net_minor(cur)), else_=0)).label("revenue"),
            func.max(case((between(two_years_ago, year_ago), 1), else_=0)).label("was_buyer"),
            func.max(case((between(year_ago, end), 1), else_=0)).label("is_buyer"),
        )
        .where(a.paid(program_id, cur, min(query.start, two_years_ago), end), o.member_id.is_not(None))
        .group_by(o.member_id)
        .cte("per_member")
    )
    everyone = a.selectable_members(program_id, policy, end).subquery()
    mis, mt = t.member_in_segment.c, t.member_tier.c
    groups = union_all(
        select(literal("all", String(16)).label("kind"), literal("all", String(64)).label("grp"), everyone.c.member_id),
        select(literal("segment", String(16)), mis.segment_id, mis.member_id).where(mis.program_id == program_id),
        select(literal("tier", String(16)), mt.tier_id, mt.member_id).where(
            mt.program_id == program_id, mt.tier_id.is_not(None)
        ),
    ).subquery("groups")
    g, p = groups.c, per_member.c
    was, now = func.coalesce(p.was_buyer, 0), func.coalesce(p.is_buyer, 0)
    stmt = (
        select(
            g.kind,
            g.grp,
            func.count(),
            func.coalesce(func.sum(p.orders), 0),
            func.coalesce(func.sum(p.revenue), 0),
            func.sum(was),
            func.sum(case(((was == 1) & (now == 0), 1), else_=0)),
        )
        .select_from(groups.outerjoin(per_member, p.member_id == g.member_id))
        .group_by(g.kind, g.grp)
    )
    found = {(str(kind), str(grp)): tuple(int(v or 0) for v in rest) for kind, grp, *rest in conn.execute(stmt)}

    keys = [("all", "all")] + [("segment", s) for s in query.program.segments.ids()]
    tiers = query.program.tiers
    keys += [("tier", tier.id) for tier in tiers.levels] if tiers is not None else []
    keys += sorted(key for key in found if key not in keys)  # a segment or tier no longer configured
    years = Decimal((end - query.start) / timedelta(days=1)) / 365
    rows = [_figures(kind, grp, _name(query, kind, grp), found.get((kind, grp)), cur, years) for kind, grp in keys]
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


def _name(query: ReportQuery, kind: str, grp: str) -> str:
    if kind == "segment":
        return query.program.segments.name(grp)
    if kind == "tier" and query.program.tiers is not None:
        for tier in query.program.tiers.levels:
            if tier.id == grp:
                return str(tier.name)
    return grp


def _figures(
    kind: str, grp: str, name: str, found: tuple[int, ...] | None, cur: a.Money, years: Decimal
) -> dict[str, Any]:
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
