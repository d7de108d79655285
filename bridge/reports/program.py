"""Is the club used: members, participation, engagement and the points moved, per period.

Definitions (days are the program's local days; the range is ``from``..``to``, both included):

- ``members.total``: member rows of the program created before the range's end (everyone the club knows, as on
  the Overview); ``members.joined``: created within the range (and per period). With ``shop``: members whose
  first shop is that shop.
- ``members.active_30_days`` / ``active_90_days``: members with an activity entry (an earn or referral award, or a
  spend) in the 30 / 90 days before the request's ``now`` (the Overview's "active"); program-wide.
- ``participation``: ``members_ordering / customers_seen`` over the range. ``customers_seen``: the orders the
  bridge saw paid in the range (``order_state.paid_at`` within it, not cancelled, refunded, failed or deleted
  since), counted by customer: each distinct member once, plus every such order with no member (a guest order
  with no e-mail) as a customer of its own. ``members_ordering``: the distinct members among them who are in the
  club: every member in an open program; in a closed or invite-only program those let in (``joined_at``) by the
  range's end.
- ``engagement``: ``members_redeemed / members.total``: members with at least one redemption created before the
  range's end that is ``issued`` or ``used`` (``bridge.reports.analytics.ENGAGED_STATES``: the analytics reports'
  "engaged"; a reserved, failed, expired or cancelled coupon gave its points back or never reached the shop).
- ``totals`` and ``periods``: points ``issued``, ``released``, ``redeemed``, ``expired``, ``reversed`` and
  ``adjusted`` exactly as ``bridge.reports.overview.Flow`` defines them, by the entries' ``created_at``; read
  from the day rollups before ``rolled_until`` and the raw ledger after, so they equal a recount of the ledger.
- Rates are ``Decimal`` with 4 decimals, ``None`` when the denominator is 0.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from bridge.reports import analytics, flows, overview
from bridge.reports.analytics import ENGAGED_STATES
from bridge.reports.base import Report, ReportQuery, Table
from bridge.reports.overview import Flow
from bridge.storage import tables as t
from bridge.storage.life import UNPAID_AFTER_ALL

FLOW_COLUMNS = ("issued", "released", "redeemed", "expired", "reversed", "adjusted")


def rate(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def build(conn: Connection, query: ReportQuery) -> Report:
    analytics.tune(conn)  # index-only scans of members and orders, the year of orders hashed or sorted in memory
    rolled = flows.rolled_until(conn, query)
    periods = query.periods()
    moved = flows.movements(conn, query, periods, rolled)
    joined = flows.counts_by_period(conn, t.member.c.created_at, _member_filter(query), periods)
    total_members = _members_before(conn, query, query.end)
    program_id = query.program.id
    active_30 = overview.active_members(conn, program_id, query.now - timedelta(days=30), rolled)
    active_90 = overview.active_members(conn, program_id, query.now - timedelta(days=90), rolled)
    ordering, seen = _participation(conn, query)
    redeemed_members = _members_redeemed(conn, query)
    totals = Flow.of(moved)
    rows = [
        (period.label, joined[i], *flows.flow_dict(Flow.of([moved[i]])).values()) for i, period in enumerate(periods)
    ]
    data: dict[str, Any] = {
        "members": {
            "total": total_members,
            "joined": sum(joined),
            "active_30_days": active_30,
            "active_90_days": active_90,
        },
        "participation": {"members_ordering": ordering, "customers_seen": seen, "rate": rate(ordering, seen)},
        "engagement": {
            "members_redeemed": redeemed_members,
            "members": total_members,
            "rate": rate(redeemed_members, total_members),
        },
        "redemption_rate": totals.redemption_rate,
        "totals": flows.flow_dict(totals),
        "periods": [dict(zip(("period", "joined", *FLOW_COLUMNS), row, strict=True)) for row in rows],
    }
    summary = [
        ("members_total", total_members),
        ("members_joined", sum(joined)),
        ("active_30_days", active_30),
        ("active_90_days", active_90),
        ("customers_seen", seen),
        ("members_ordering", ordering),
        ("participation_rate", data["participation"]["rate"]),
        ("members_redeemed", redeemed_members),
        ("engagement_rate", data["engagement"]["rate"]),
        ("redemption_rate", totals.redemption_rate),
        *flows.flow_dict(totals).items(),
    ]
    return Report(
        name="program",
        data=data,
        tables=(
            Table("periods", ("period", "joined", *FLOW_COLUMNS), rows),
            Table("summary", ("figure", "value"), summary),
        ),
        method="Exact counts from the ledger, the members and the orders (see docs/reports.md#program).",
    )


def _member_filter(query: ReportQuery) -> list[ColumnElement[bool]]:
    m = t.member.c
    where: list[ColumnElement[bool]] = [m.program_id == query.program.id]
    if query.shop_id is not None:
        where.append(m.first_shop_id == query.shop_id)
    return where


def _members_before(conn: Connection, query: ReportQuery, moment: datetime) -> int:
    m = t.member.c
    return int(conn.scalar(select(func.count()).where(*_member_filter(query), m.created_at < moment)) or 0)


def paid_in_range(query: ReportQuery) -> list[ColumnElement[bool]]:
    """Orders paid within the range and not undone since (``bridge.storage.life.UNPAID_AFTER_ALL``)."""
    o = t.order_state.c
    where: list[ColumnElement[bool]] = [
        o.program_id == query.program.id,
        o.paid_at >= query.start,
        o.paid_at < query.end,
        o.status.not_in(UNPAID_AFTER_ALL),
    ]
    if query.shop_id is not None:
        where.append(o.shop_id == query.shop_id)
    return where


def _participation(conn: Connection, query: ReportQuery) -> tuple[int, int]:
    """(members ordering, customers seen): one pass over the range's paid orders (an index-only scan of
    ``ix_order_state_program_id_member_id_net`` on PostgreSQL) grouped by member, streamed
    (``analytics.by_member``; ``count(DISTINCT ...)`` sorted a year of orders instead), the guest orders being
    the group of no member; a closed program's members are those let in before the range's end."""
    o, pr = t.order_state.c, t.member_profile.c
    per_member = analytics.by_member(
        select(o.member_id.label("member_id"), func.count().label("n"))
        .where(*paid_in_range(query))
        .group_by(o.member_id),
        "per_member",
    )
    p = per_member.c
    guests = func.sum(case((p.member_id.is_(None), p.n), else_=0))
    if query.program.earning.membership.policy == "open":
        stmt = select(func.count(p.member_id), guests, func.count(p.member_id))
    else:
        let_in = and_(pr.member_id == p.member_id, pr.joined_at.is_not(None), pr.joined_at < query.end)
        stmt = select(func.count(p.member_id), guests, func.count(pr.member_id)).select_from(
            per_member.outerjoin(t.member_profile, let_in)
        )
    members_seen, guest_orders, ordering = conn.execute(stmt).one()
    return int(ordering or 0), int(members_seen or 0) + int(guest_orders or 0)


def _members_redeemed(conn: Connection, query: ReportQuery) -> int:
    r = t.redemption.c
    redeemers = select(r.member_id).where(
        r.program_id == query.program.id, r.state.in_(ENGAGED_STATES), r.created_at < query.end
    )
    if query.shop_id is not None:
        redeemers = redeemers.where(r.shop_id == query.shop_id)
    # counted by grouping (a hash aggregate), not count(DISTINCT ...), which sorts every redemption on PostgreSQL
    return int(conn.scalar(select(func.count()).select_from(redeemers.group_by(r.member_id).subquery())) or 0)
