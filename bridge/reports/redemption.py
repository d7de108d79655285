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
- ``revenue``: of the coupons issued in the range and used, the orders carrying them (each order once), their
  ``total - refunded_total`` as the bridge last saw them (``order_state``); ``orders`` counts them.
- ``discount``: the value of the used coupons among those issued in the range. ``amount``: fixed amount-off and
  variable (points-as-money) coupons, their face value. Percent-off coupons are not valued (the shop applies the
  percentage to the lines it allows, which the bridge does not see): ``percent_used`` counts them; free-shipping
  coupons likewise (``free_shipping_used``).
- Money is summed per currency (``bridge.reports.money``). With ``shop``: that shop's coupons and orders.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select

from bridge.redemption.model import State
from bridge.reports import flows, money
from bridge.reports.base import Period, Report, ReportQuery, Table
from bridge.reports.overview import Flow
from bridge.reports.program import rate
from bridge.storage import tables as t

r = t.redemption.c
o = t.order_state.c
VALUED_TYPES = ("fixed_cart", "variable")


def build(conn: Connection, query: ReportQuery) -> Report:
    rolled = flows.rolled_until(conn, query)
    whole = Period(query.first, query.last, query.start, query.end)
    flow = Flow.of(flows.movements(conn, query, [whole], rolled))
    rewards = _rewards(conn, query)
    coupons = _coupons(conn, query)
    revenue, orders = _revenue(conn, query)
    discount = _discount(conn, query)
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
        method="Exact counts of redemptions, coupons and orders; percent-off coupons are counted, not valued.",
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


def _revenue(conn: Connection, query: ReportQuery) -> tuple[dict[str, Any], int]:
    used_orders = (
        select(r.shop_id, r.order_id)
        .where(*_issued_in_range(query), r.state == State.USED, r.order_id.is_not(None))
        .distinct()
        .subquery()
    )
    stmt = select(o.shop_id, o.total, o.refunded_total).join(
        used_orders, and_(o.shop_id == used_orders.c.shop_id, o.order_id == used_orders.c.order_id)
    )
    rows = [(str(shop), money.amount(total) - money.amount(refunded)) for shop, total, refunded in conn.execute(stmt)]
    return money.by_currency(query, rows), len(rows)


def _discount(conn: Connection, query: ReportQuery) -> dict[str, Any]:
    stmt = select(r.shop_id, r.reward_type, r.value).where(*_issued_in_range(query), r.state == State.USED)
    valued: list[tuple[str, Decimal]] = []
    counts: dict[str, int] = defaultdict(int)
    for shop, reward_type, value in conn.execute(stmt):
        if reward_type in VALUED_TYPES:
            valued.append((str(shop), money.amount(value)))
        else:
            counts[str(reward_type)] += 1
    return {
        **money.by_currency(query, valued),
        "percent_used": counts["percent"],
        "free_shipping_used": counts["free_shipping"],
    }
