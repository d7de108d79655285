"""``members_vs_others``: do members buy more than the customers who are not in the club?

Orders are paid orders paid in the range, valued net of refunds, in one currency (``bridge.reports.analytics``).
Customers are compared in two groups, by what they were at the end of the range:

- ``closed`` / ``invite_only`` program: ``members`` (``member_profile.joined_at`` set before the range ends) vs
  ``others`` (the customers the bridge knows who never got in, or got in only later). Orders of nobody the bridge
  can identify (a guest order without an e-mail: ``order_state.member_id`` NULL) are ``others``' orders too: they
  count in ``orders``, ``revenue`` and ``average_order_value`` but, since nobody knows whose they are, in no
  per-customer figure; ``unidentified_orders`` says how many there were.
- ``open`` program (every customer is a member): ``engaged`` (redeemed at least once before the range ends) vs
  ``not_engaged`` members. Unidentified orders are left out (``unidentified_orders`` says how many).

For each group, with the counts behind every figure so that nobody over-reads a small sample:

- ``customers``: identified customers of the group with at least one paid order in the range;
- ``orders`` and ``revenue`` (net); ``average_order_value = revenue / orders`` (to the minor unit);
- ``orders_per_customer = identified orders / customers`` (2 decimals);
- ``repeat_customers``: customers with 2 or more orders in the range; ``repeat_rate = repeat_customers /
  customers`` (4 decimals);
- ``gaps``: the intervals between one customer's consecutive orders in the range (a customer with n orders has
  n - 1), and ``mean_days_between_orders`` = the mean of their lengths, ``sum(last - first) / sum(n - 1)`` in days
  (2 decimals); None without a repeat customer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from bridge.reports import analytics as a
from bridge.reports.base import Report, ReportQuery, Table
from bridge.storage import tables as t

o = a.o
UNIDENTIFIED = ""  # the group of the orders of nobody the bridge can identify
COLUMNS = (
    "group",
    "customers",
    "orders",
    "revenue",
    "currency",
    "average_order_value",
    "orders_per_customer",
    "repeat_customers",
    "repeat_rate",
    "gaps",
    "mean_days_between_orders",
)


def build(conn: Connection, query: ReportQuery) -> Report:
    cur = a.money(query, conn)
    a.tune(conn)
    program_id = query.program.id
    policy = query.program.earning.membership.policy
    groups = ("engaged", "not_engaged") if policy == "open" else ("members", "others")
    when = a.paid(program_id, cur, query.start, query.end)
    dialect = conn.dialect.name

    per_customer = a.by_member(
        select(
            o.member_id.label("member_id"),
            func.count().label("n"),
            func.sum(a.net_minor(cur)).label("revenue"),
            (a.epoch_seconds(func.max(o.paid_at), dialect) - a.epoch_seconds(func.min(o.paid_at), dialect)).label(
                "span"
            ),
        )
        .where(when)
        .group_by(o.member_id),  # the unidentified orders too (member_id NULL): one scan of the range's orders
        "per_customer",
    )
    c = per_customer.c
    nobody = c.member_id.is_(None)
    if policy == "open":
        in_first: Any = a.engaged(c.member_id, program_id, query.end)
        source: Any = per_customer
    else:
        in_first = a.mp.joined_at.is_not(None) & (a.mp.joined_at < query.end)
        source = per_customer.outerjoin(t.member_profile, a.mp.member_id == c.member_id)
    key = case((nobody, literal(UNIDENTIFIED)), (in_first, literal(groups[0])), else_=literal(groups[1]))
    keyed = select(key.label("grp"), c.n, c.revenue, c.span).select_from(source).subquery("keyed")
    k = keyed.c
    rows = conn.execute(
        select(
            k.grp,
            func.count(),
            func.sum(k.n),
            func.sum(k.revenue),
            func.sum(case((k.n >= 2, 1), else_=0)),
            func.sum(k.n - 1),
            func.sum(k.span),
        ).group_by(k.grp)
    ).all()
    found = {str(row[0]): tuple(row[1:]) for row in rows}
    _, unidentified, unidentified_revenue, *_ = (int(v or 0) for v in found.get(UNIDENTIFIED, (0,) * 6))

    figures: dict[str, dict[str, Any]] = {}
    for group in groups:
        customers, orders, revenue, repeat, gaps, span = (int(v or 0) for v in found.get(group, (0,) * 6))
        identified_orders = orders
        if group == "others":
            orders += unidentified
            revenue += unidentified_revenue
        figures[group] = {
            "customers": customers,
            "orders": orders,
            "revenue": cur.amount(revenue),
            "average_order_value": cur.per(revenue, orders),
            "orders_per_customer": a.ratio(identified_orders, customers, 2),
            "repeat_customers": repeat,
            "repeat_rate": a.ratio(repeat, customers),
            "gaps": gaps,
            "mean_days_between_orders": ((Decimal(span) / 86400 / gaps).quantize(Decimal("0.01")) if gaps else None),
        }
    data = {
        "currency": cur.currency,
        "membership": policy,
        "comparison": "engaged_vs_not_engaged" if policy == "open" else "members_vs_others",
        "groups": figures,
        "unidentified_orders": unidentified,
    }
    table = Table(
        "groups",
        COLUMNS,
        [
            (
                group,
                f["customers"],
                f["orders"],
                f["revenue"],
                cur.currency,
                f["average_order_value"],
                f["orders_per_customer"],
                f["repeat_customers"],
                f["repeat_rate"],
                f["gaps"],
                f["mean_days_between_orders"],
            )
            for group, f in figures.items()
        ],
    )
    method = (
        "Paid orders in the range, net of refunds; customers grouped by what they were when the range ended "
        + ("(engaged: redeemed at least once)." if policy == "open" else "(members: joined_at set).")
        + " Observed figures, not causal: members may differ from others for reasons other than the club."
    )
    return Report("members_vs_others", data, (table,), method)
