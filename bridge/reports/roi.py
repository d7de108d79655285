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
- ``discount_cost``: the discount given in the range by the currency's shops, as ``bridge.reports.discounts``
  defines it for this report and the redemption report alike: the used coupons whose carrying order was paid in
  the range, an amount-off coupon at its value, a percent coupon at ``total x p / (100 - p)`` of its order (an
  estimate); free-shipping coupons have no stored worth and are counted in ``unvalued_coupons``.
- ``net = incremental_revenue - discount_cost``; ``return_on_discount = net / discount_cost`` (4 decimals).

An estimate, not a measurement: members who redeem may be better customers to begin with, and revenue is not
margin. Points still outstanding (the liability report) are not a cost here.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Select, case, func, select, union_all

from bridge.reports import analytics as a
from bridge.reports import discounts
from bridge.reports.base import Report, ReportQuery, Table

o, r = a.o, a.r
COHORT_MONTHS = 36
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
    last_month = query.last.replace(day=1)
    months = [a.add_months(last_month, -n) for n in range(COHORT_MONTHS - 1, -1, -1)]
    # cut by member (analytics.member_parts), each part on its own worker: its members' orders summed first
    # (streamed in member order: analytics.by_member), then each member keyed by cohort and engagement once, with
    # its sum, the two merged in member order (analytics.merge_joins); no CTE of members to join the orders to
    # (SQLite would scan it once per order)
    parts = a.member_parts(conn, program_id)
    stmt = union_all(*(_part(query, cur, months, part) for part in parts))
    cells: dict[int, dict[int, tuple[int, int]]] = {}
    with a.merge_joins(conn), a.parallel(conn, whole_parts=True):
        found = conn.execute(stmt).all()
    for index, engaged_flag, members, minor in found:
        cell = cells.setdefault(int(index), {})
        had_members, had_minor = cell.get(int(engaged_flag), (0, 0))
        cell[int(engaged_flag)] = (had_members + int(members), had_minor + int(minor or 0))

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
        "members, summed over cohorts having both; minus the discount given in the range (coupons used on orders "
        "paid in it: amount-off at value, percent at total x p / (100 - p) of the carrying order). Correlation, "
        "not a controlled experiment."
    )
    return Report("roi", data, (Table("cohorts", COLUMNS, rows),), method)


def _part(query: ReportQuery, cur: a.Money, months: list[date], part: tuple[int | None, int | None]) -> Select[Any]:
    """The members of ``part`` (``analytics.member_parts``) who got in before the range ends, counted and their
    revenue in the range summed, per join cohort (``analytics.month_index`` of ``months``) and engagement."""
    program_id = query.program.id
    policy = query.program.earning.membership.policy
    per_member = a.by_member(
        select(o.member_id.label("member_id"), func.sum(a.net_minor(cur)).label("net"))
        .where(a.paid(program_id, cur, query.start, query.end), o.member_id.is_not(None), *a.in_part(o.member_id, part))
        .group_by(o.member_id),
        "per_member",
    )
    m, joined, p = a.m, a.joined_at(policy), per_member.c
    cohort = a.month_index(joined, months, query).label("cohort")
    is_engaged = case((a.engaged(m.id, program_id, query.end, part), 1), else_=0).label("engaged")
    return (
        select(cohort, is_engaged, func.count(), func.sum(p.net))
        .select_from(a.members_from(policy).outerjoin(per_member, p.member_id == m.id))
        .where(m.program_id == program_id, joined.is_not(None), joined < query.end, *a.in_part(m.id, part))
        .group_by(cohort, is_engaged)
    )


def _minor(minor: Decimal, cur: a.Money) -> Decimal:
    quantum = Decimal(1).scaleb(-cur.minor_unit)
    return (minor.scaleb(-cur.minor_unit)).quantize(quantum, ROUND_HALF_UP)


def discount_cost(conn: Connection, program_id: str, cur: a.Money, query: ReportQuery) -> dict[str, Any]:
    """The discount given in the range by the currency's shops (``bridge.reports.discounts.worth_given``)."""
    shops = [s for s in query.shops if s.id in cur.shop_ids]
    # a year of orders scanned by all workers, joined with one hash of the coupons they build together, and the
    # coupons' worth summed per shop by each worker (the carrying orders, not needed here, are not counted)
    with a.parallel(conn):
        given = discounts.worth_given(conn, program_id, shops, query.start, query.end).values()
    return {
        "amount": cur.amount(sum(g.amount_minor for g in given)),
        "used_coupons": sum(g.coupons for g in given),
        "unvalued_coupons": sum(g.unvalued for g in given),
    }
