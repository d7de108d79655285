"""Referrals: the funnel from a shared link to a rewarded referrer, and the revenue referred friends bring.

Definitions (days are the program's local days; the range is ``from``..``to``, both included):

- ``funnel`` (the referrals created in the range, followed to their state now): ``clicks`` on referral links in
  the range; ``claims``: referrals that reached the friend (every state but ``claiming`` and ``failed``, as
  ``GET /admin/v1/referrals/stats``); ``ordered``: of those, the friend placed the first order (``ordered_at``
  set); ``qualified``: the referrer was rewarded; ``rejected``: refused with a reason (``rejections`` by
  reason); ``by_state``: the count in each state. ``conversion``: ``qualified / claims`` (4 decimals).
- ``periods``: per period, what happened in it: ``clicks``, ``claims`` (referrals created), ``ordered``
  (``ordered_at`` in it), ``qualified`` (``qualified_at`` in it), ``referred_revenue``.
- ``referred_revenue``: orders paid in the range (as the program report's participation counts them: not
  cancelled, refunded, failed or deleted since) by referred members, the friends of referrals that reached them
  and were not rejected (``invited``, ``ordered``, ``qualified``), whenever they were referred; each order's
  ``total - refunded_total``; ``orders`` counts them. ``qualified_first_orders``: the first orders of the
  referrals qualified in the range (``referral.order_total``, net of refunds), the figure the referral stats show.
- Money is summed per currency (``bridge.reports.money``). With ``shop``: that shop's links, referrals and orders.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from bridge.referrals.model import State
from bridge.reports import flows, money
from bridge.reports.base import Report, ReportQuery, Table
from bridge.reports.program import paid_in_range, rate
from bridge.storage import tables as t

ref = t.referral.c
click = t.referral_click.c
o = t.order_state.c
REACHED = (State.INVITED, State.ORDERED, State.QUALIFIED, State.REJECTED)
REFERRED = (State.INVITED, State.ORDERED, State.QUALIFIED)
PERIOD_COLUMNS = ("period", "clicks", "claims", "ordered", "qualified", "referred_revenue")


def build(conn: Connection, query: ReportQuery) -> Report:
    program_id = query.program.id
    shop = [ref.shop_id == query.shop_id] if query.shop_id is not None else []
    created = [ref.program_id == program_id, ref.created_at >= query.start, ref.created_at < query.end, *shop]
    by_state = {
        str(state): int(n)
        for state, n in conn.execute(select(ref.state, func.count()).where(*created).group_by(ref.state))
    }
    claims = sum(n for state, n in by_state.items() if state in REACHED)
    ordered = int(
        conn.scalar(select(func.count()).where(*created, ref.state.in_(REACHED), ref.ordered_at.is_not(None))) or 0
    )
    rejections = {
        str(reason): int(n)
        for reason, n in conn.execute(
            select(ref.reason, func.count()).where(*created, ref.state == State.REJECTED).group_by(ref.reason)
        )
    }
    clicks = _clicks(conn, query, query.start, query.end)
    orders = _referred_orders(conn, query)
    qualified_rows = conn.execute(
        select(ref.shop_id, ref.order_total).where(
            ref.program_id == program_id,
            ref.state == State.QUALIFIED,
            ref.qualified_at >= query.start,
            ref.qualified_at < query.end,
            *shop,
        )
    ).all()
    qualified_first = money.by_currency(query, [(str(s), money.amount(total)) for s, total in qualified_rows])
    periods = _periods(conn, query, orders)
    funnel = {
        "clicks": clicks,
        "claims": claims,
        "ordered": ordered,
        "qualified": by_state.get(State.QUALIFIED, 0),
        "rejected": by_state.get(State.REJECTED, 0),
        "conversion": rate(by_state.get(State.QUALIFIED, 0), claims),
    }
    revenue = money.by_currency(query, [(shop_id, value) for shop_id, value, _ in orders])
    data = {
        "funnel": funnel,
        "by_state": dict(sorted(by_state.items())),
        "rejections": dict(sorted(rejections.items())),
        "referred_revenue": {**revenue, "orders": len(orders)},
        "qualified_first_orders": {**qualified_first, "orders": len(qualified_rows)},
        "periods": [dict(zip(PERIOD_COLUMNS, row, strict=True)) for row in periods],
    }
    return Report(
        name="referrals",
        data=data,
        tables=(
            Table("periods", PERIOD_COLUMNS, periods),
            Table("funnel", ("stage", "count"), [(k, v) for k, v in funnel.items()]),
        ),
        method="Exact counts of referral links, referrals and orders (see docs/reports.md#referrals).",
    )


def _clicks(conn: Connection, query: ReportQuery, lo: datetime, hi: datetime) -> int:
    stmt = select(func.count()).where(
        click.program_id == query.program.id, click.created_at >= lo, click.created_at < hi
    )
    if query.shop_id is not None:
        stmt = stmt.where(click.shop_id == query.shop_id)
    return int(conn.scalar(stmt) or 0)


def _referred_orders(conn: Connection, query: ReportQuery) -> list[tuple[str, Decimal, datetime]]:
    """(shop, net total, paid at) of the orders paid in the range by referred members."""
    friends = select(ref.friend_member_id).where(
        ref.program_id == query.program.id, ref.state.in_(REFERRED), ref.friend_member_id.is_not(None)
    )
    stmt = select(o.shop_id, o.total, o.refunded_total, o.paid_at).where(
        *paid_in_range(query), o.member_id.in_(friends)
    )
    return [
        (str(shop), money.amount(total) - money.amount(refunded), paid_at)
        for shop, total, refunded, paid_at in conn.execute(stmt)
    ]


def _periods(
    conn: Connection, query: ReportQuery, orders: list[tuple[str, Decimal, datetime]]
) -> list[tuple[Any, ...]]:
    shop = [ref.shop_id == query.shop_id] if query.shop_id is not None else []
    moments = conn.execute(
        select(ref.state, ref.created_at, ref.ordered_at, ref.qualified_at).where(
            ref.program_id == query.program.id, ref.updated_at >= query.start, *shop
        )
    ).all()
    periods = query.periods()
    click_where = [click.program_id == query.program.id]
    if query.shop_id is not None:
        click_where.append(click.shop_id == query.shop_id)
    clicks = flows.counts_by_period(conn, click.created_at, click_where, periods)
    ends = [period.end for period in periods]
    counts: list[dict[str, int]] = [defaultdict(int) for _ in periods]
    revenue = [Decimal(0) for _ in periods]
    for state, created_at, ordered_at, qualified_at in moments:
        for key, moment, counted in (
            ("claims", created_at, state in REACHED),
            ("ordered", ordered_at, state in REACHED),
            ("qualified", qualified_at, state == State.QUALIFIED),
        ):
            index = _period_of(ends, periods[0].start, moment)
            if counted and index is not None:
                counts[index][key] += 1
    for _, value, paid_at in orders:
        index = _period_of(ends, periods[0].start, paid_at)
        if index is not None:
            revenue[index] += value
    rows = [
        (
            period.label,
            clicks[i],
            counts[i]["claims"],
            counts[i]["ordered"],
            counts[i]["qualified"],
            money.single(query, revenue[i]),
        )
        for i, period in enumerate(periods)
    ]
    return rows


def _period_of(ends: list[datetime], start: datetime, moment: datetime | None) -> int | None:
    """The index of the period ``moment`` falls in (periods follow each other up to ``ends``), or None."""
    if moment is None or moment < start or moment >= ends[-1]:
        return None
    return bisect_right(ends, moment)
