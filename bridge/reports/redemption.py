"""What members do with their points: redemption rate, rewards by popularity, coupon use, the orders they brought
and the discount they cost.

Definitions (days are the program's local days; the range is ``from``..``to``, both included):

- ``redemption_rate``: points ``redeemed / issued`` over the range, as ``bridge.reports.overview.Flow`` defines
  both (redeemed net of points given back); 4 decimals, None when nothing was issued.
- ``rewards``: redemptions created in the range that produced or may still produce a coupon (every state but
  ``failed``), by reward: ``count`` and ``points`` spent; most redeemed first (then most points, then the id).
- ``coupons``: coupons issued in the range (``issued_at`` within it, whatever became of them since):
  ``issued``, and of those ``used`` (an order carries the code), ``expired``, ``cancelled``, still ``open``;
  ``use_rate = used / issued`` (4 decimals, None when none was issued).
- ``revenue`` and ``discount``: the discount given in the range, as ``bridge.reports.discounts`` defines it for
  this report and the roi report alike: the used coupons whose carrying order was paid in the range.
  ``revenue``: those orders (each once; ``orders`` counts them), net of refunds. ``discount.amount``: amount-off
  (fixed and variable) coupons at their value, percent-off coupons at ``total x p / (100 - p)`` of the carrying
  order (an estimate: the shop applies the percentage to lines the bridge does not see); ``percent_used`` counts
  the percent coupons; free-shipping coupons have no stored worth and are counted in ``free_shipping_used``.
- Money is summed per currency (``bridge.reports.money``). With ``shop``: that shop's coupons and orders.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, func, select

from bridge.redemption.model import State
from bridge.reports import analytics, discounts, flows, money
from bridge.reports.base import Period, Report, ReportQuery, Table
from bridge.reports.overview import Flow
from bridge.reports.program import rate
from bridge.storage import tables as t

r = t.redemption.c


def build(conn: Connection, query: ReportQuery) -> Report:
    analytics.tune(conn)  # the coupons' orders hashed in memory (a year of used coupons: 282k orders at 1M)
    rolled = flows.rolled_until(conn, query)
    whole = Period(query.first, query.last, query.start, query.end)
    flow = Flow.of(flows.movements(conn, query, [whole], rolled))
    rewards = _rewards(conn, query)
    coupons = _coupons(conn, query)
    revenue, orders, discount = _given(conn, query)
    data = {
        "redemption_rate": flow.redemption_rate,
        "points": {"issued": flow.issued, "redeemed": flow.redeemed},
        "rewards": rewards,
        "coupons": coupons,
        "revenue": {**revenue, "orders": orders},
        "discount": discount,
    }
    summary = [
        ("points_issued", flow.issued),
        ("points_redeemed", flow.redeemed),
        ("redemption_rate", flow.redemption_rate),
        *((f"coupons_{key}", value) for key, value in coupons.items()),
        ("revenue_currency", revenue["currency"]),
        ("revenue_amount", revenue["amount"]),
        ("revenue_orders", orders),
        ("discount_currency", discount["currency"]),
        ("discount_amount", discount["amount"]),
        ("percent_coupons_used", discount["percent_used"]),
        ("free_shipping_coupons_used", discount["free_shipping_used"]),
    ]
    return Report(
        name="redemption",
        data=data,
        tables=(
            Table(
                "rewards",
                ("reward_id", "title", "count", "points"),
                [(x["reward_id"], x["title"], x["count"], x["points"]) for x in rewards],
            ),
            Table("summary", ("figure", "value"), summary),
        ),
        method=(
            "Exact counts of redemptions, coupons and orders; the discount of percent-off coupons is estimated "
            "from the carrying order's total (bridge.reports.discounts)."
        ),
    )


def _shop(query: ReportQuery) -> list[Any]:
    return [r.shop_id == query.shop_id] if query.shop_id is not None else []


def _rewards(conn: Connection, query: ReportQuery) -> list[dict[str, Any]]:
    stmt = (
        select(r.reward_id, func.max(r.title), func.count(), func.sum(r.points))
        .where(r.program_id == query.program.id, r.created_at >= query.start, r.created_at < query.end)
        .where(r.state != State.FAILED, *_shop(query))
        .group_by(r.reward_id)
    )
    rows = [(str(rid), str(title), int(n), int(points or 0)) for rid, title, n, points in conn.execute(stmt)]
    rows.sort(key=lambda row: (-row[2], -row[3], row[0]))
    return [{"reward_id": rid, "title": title, "count": n, "points": points} for rid, title, n, points in rows]


def _issued_in_range(query: ReportQuery) -> list[Any]:
    return [
        r.program_id == query.program.id,
        r.issued_at >= query.start,
        r.issued_at < query.end,
        *_shop(query),
    ]


def _coupons(conn: Connection, query: ReportQuery) -> dict[str, Any]:
    stmt = select(r.state, func.count()).where(*_issued_in_range(query)).group_by(r.state)
    by_state: dict[str, int] = defaultdict(int, {str(state): int(n) for state, n in conn.execute(stmt)})
    issued = sum(by_state.values())
    used = by_state[State.USED]
    return {
        "issued": issued,
        "used": used,
        "expired": by_state[State.EXPIRED],
        "cancelled": by_state[State.CANCELLED],
        "open": by_state[State.ISSUED],
        "use_rate": rate(used, issued),
    }


def _given(conn: Connection, query: ReportQuery) -> tuple[dict[str, Any], int, dict[str, Any]]:
    """(revenue, orders, discount) of the discount given in the range (``bridge.reports.discounts``)."""
    shops = [s for s in query.shops if query.shop_id is None or s.id == query.shop_id]
    minor_of = {s.id: s.minor_unit for s in shops}
    given = discounts.given(conn, query.program.id, shops, query.start, query.end)
    revenue = money.by_currency(query, [(shop, g.revenue(minor_of[shop])) for shop, g in given.items()])
    discount = {
        **money.by_currency(query, [(shop, g.amount(minor_of[shop])) for shop, g in given.items()]),
        "percent_used": sum(g.percent for g in given.values()),
        "free_shipping_used": sum(g.free_shipping for g in given.values()),
    }
    return revenue, sum(g.orders for g in given.values()), discount
