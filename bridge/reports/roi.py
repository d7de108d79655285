"""``roi``: what the club brings in beyond what it gives away, an estimate with its method.

Members who got in before the range ends (``bridge.reports.analytics``) are split by join cohort (the local month
they got in; the ``COHORT_MONTHS`` months up to the range's last month each a cohort, everyone earlier one
``earlier`` cohort) and by engagement (redeemed at least once before the range ends). Revenue is their paid
orders in the range, net of refunds, in one currency.

- Per cohort with both engaged (E members, revenue R_E) and not engaged members (N, R_N):
  ``incremental = (R_E / E - R_N / N) x E``: what the engaged members bought beyond what as many members of the
  same cohort who never redeemed bought. A cohort without one of the two groups has no comparison and adds
  nothing; ``engaged_compared`` says how many engaged members had one.
- ``incremental_revenue``: the sum over the cohorts (so each cohort weighs by its engaged members).
- ``discount_cost``: the coupons members used in the range (``redemption`` ``used``, ``closed_at`` in the range,
  of the currency's shops): an amount-off coupon (``fixed_cart``, ``variable``) at its ``value``; a ``percent``
  coupon at ``total x p / (100 - p)`` of the order that carried it (the order's total is after the discount, so
  this is the discount on its pre-discount amount, shipping and tax included: an estimate), 0 when that order is
  unknown; a free-shipping coupon has no stored worth and is counted in ``unvalued_coupons`` instead.
- ``net = incremental_revenue - discount_cost``; ``return_on_discount = net / discount_cost`` (4 decimals).

An estimate, not a measurement: members who redeem may be better customers to begin with, and revenue is not
margin. Points still outstanding (the liability report) are not a cost here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, Numeric, and_, case, cast, func, literal, select, union_all

from bridge.reports import analytics as a
from bridge.reports.base import Report, ReportQuery, Table
from bridge.storage import tables as t

o, r = a.o, a.r
COHORT_MONTHS = 36
AMOUNT_OFF = ("fixed_cart", "variable")
COLUMNS = (
    "cohort",
    "engaged",
    "engaged_revenue",
    "not_engaged",
    "not_engaged_revenue",
    "incremental",
    "currency",
)


def build(conn: Connection, query: ReportQuery) -> Report:
    cur = a.money(query, conn)
    a.tune(conn)
    program_id = query.program.id
    policy = query.program.earning.membership.policy
    last_month = query.last.replace(day=1)
    months = [a.add_months(last_month, -n) for n in range(COHORT_MONTHS - 1, -1, -1)]
    everyone = a.selectable_members(program_id, policy, query.end).subquery("everyone")
    e = everyone.c
    # each member's cohort and engagement once (a CTE used twice: PostgreSQL materialises it), then the members
    # and their orders' values summed by (cohort, engaged) straight away: no per-member grouping of the orders
    keyed = select(
        e.member_id,
        a.month_index(e.joined_at, months, query).label("cohort"),
        case((a.engaged(e.member_id, query.end), 1), else_=0).label("engaged"),
    ).cte("keyed")
    k = keyed.c
    both = union_all(
        select(k.cohort, k.engaged, literal(1, BigInteger).label("member"), literal(0, BigInteger).label("net")),
        select(k.cohort, k.engaged, literal(0, BigInteger), a.net_minor(cur))
        .select_from(keyed.join(t.order_state, o.member_id == k.member_id))
        .where(a.paid(program_id, cur, query.start, query.end)),
    ).subquery("both")
    b = both.c
    stmt = select(b.cohort, b.engaged, func.sum(b.member), func.sum(b.net)).group_by(b.cohort, b.engaged)
    cells: dict[int, dict[int, tuple[int, int]]] = {}
    for cohort, is_engaged, members, minor in conn.execute(stmt):
        cells.setdefault(int(cohort), {})[int(is_engaged)] = (int(members), int(minor or 0))

    rows: list[tuple[Any, ...]] = []
    cohorts: list[dict[str, Any]] = []
    incremental_minor = Decimal(0)
    engaged_total = compared = 0
    for index in sorted(cells):
        (engaged, r_e), (others, r_n) = cells[index].get(1, (0, 0)), cells[index].get(0, (0, 0))
        engaged_total += engaged
        label = "earlier" if index < 0 else months[index].isoformat()[:7]
        gain = None
        if engaged and others:
            gain_minor = Decimal(r_e) - Decimal(r_n) * engaged / others
            incremental_minor += gain_minor
            compared += engaged
            gain = _minor(gain_minor, cur)
        cohorts.append(
            {
                "cohort": label,
                "engaged": engaged,
                "engaged_revenue": cur.amount(r_e),
                "not_engaged": others,
                "not_engaged_revenue": cur.amount(r_n),
                "incremental": gain,
            }
        )
        rows.append((*cohorts[-1].values(), cur.currency))
    cost = discount_cost(conn, program_id, cur, query)
    incremental = _minor(incremental_minor, cur)
    net = incremental - cost["amount"]
    data = {
        "currency": cur.currency,
        "incremental_revenue": incremental,
        "discount_cost": cost["amount"],
        "net": net,
        "return_on_discount": (
            (net / cost["amount"]).quantize(Decimal("0.0001"), ROUND_HALF_UP) if cost["amount"] else None
        ),
        "engaged_members": engaged_total,
        "engaged_compared": compared,
        "used_coupons": cost["used_coupons"],
        "unvalued_coupons": cost["unvalued_coupons"],
        "cohorts": cohorts,
    }
    method = (
        "Estimate: per join cohort, (revenue per engaged member - revenue per never-redeeming member) x engaged "
        "members, summed over cohorts having both; minus the discounts of coupons used in the range (amount-off at "
        "value, percent at total x p / (100 - p) of the carrying order). Correlation, not a controlled experiment."
    )
    return Report("roi", data, (Table("cohorts", COLUMNS, rows),), method)


def _minor(minor: Decimal, cur: a.Money) -> Decimal:
    quantum = Decimal(1).scaleb(-cur.minor_unit)
    return (minor.scaleb(-cur.minor_unit)).quantize(quantum, ROUND_HALF_UP)


def discount_cost(conn: Connection, program_id: str, cur: a.Money, query: ReportQuery) -> dict[str, Any]:
    """The discounts of the coupons used in the range (see the module's docstring)."""
    scale = 10**cur.minor_unit
    value = cast(func.coalesce(func.nullif(r.value, ""), "0"), Numeric())
    total = cast(func.coalesce(func.nullif(o.total, ""), "0"), Numeric())
    percent_off = case((value < 100, total * value / (100 - value)), else_=total)
    worth = case(
        (r.reward_type.in_(AMOUNT_OFF), value),
        (r.reward_type == "percent", func.coalesce(percent_off, 0)),
        else_=0,
    )
    stmt = (
        select(
            func.count(),
            func.coalesce(func.sum(cast(func.round(worth * scale), BigInteger)), 0),
            func.sum(case((r.reward_type.in_((*AMOUNT_OFF, "percent")), 0), else_=1)),
        )
        .select_from(t.redemption.outerjoin(t.order_state, and_(o.shop_id == r.shop_id, o.order_id == r.order_id)))
        .where(
            r.program_id == program_id,
            r.state == "used",
            r.shop_id.in_(cur.shop_ids),
            r.closed_at >= query.start,
            r.closed_at < query.end,
        )
    )
    used, minor, unvalued = conn.execute(stmt).one()
    return {"amount": cur.amount(int(minor or 0)), "used_coupons": int(used), "unvalued_coupons": int(unvalued or 0)}
