"""``cohorts``: monthly join cohorts x months since joining, do members keep buying?

- A **cohort** is the members who got in during one local calendar month of the range: ``member.created_at`` in
  an ``open`` program, ``member_profile.joined_at`` in a ``closed`` / ``invite_only`` one (members who never got
  in belong to no cohort). The range's first and last months count only their days inside the range.
- **Month k** of a cohort is the k-th calendar month after its join month (k = 0: the join month itself), up to
  the range's last month: a cohort of month i has cells k = 0 .. (months in the range - 1 - i).
- In each cell, from the cohort's members' paid orders (``bridge.reports.analytics``: paid, net of refunds, one
  currency) paid in that month and in the range (orders before the join month are not counted):
  ``ordering`` = members with at least one such order, ``share_ordering = ordering / members`` (4 decimals),
  ``orders``, ``revenue`` and ``revenue_per_member = revenue / members`` (every member of the cohort, whether they
  ordered or not; to the minor unit).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from bridge.reports import analytics as a
from bridge.reports.base import Report, ReportQuery, Table
from bridge.storage import tables as t

o = a.o
COLUMNS = (
    "cohort",
    "members",
    "months_since_joining",
    "month",
    "ordering",
    "share_ordering",
    "orders",
    "revenue",
    "revenue_per_member",
    "currency",
)


def build(conn: Connection, query: ReportQuery) -> Report:
    cur = a.money(query, conn)
    a.tune(conn)
    program_id = query.program.id
    policy = query.program.earning.membership.policy
    months = a.month_starts(query.first, query.last)
    joined = a.joined_at(policy)
    cohort_of = (
        select(a.m.id.label("member_id"), a.month_index(joined, months, query).label("cohort"))
        .select_from(a.members_from(policy))
        .where(a.m.program_id == program_id, joined >= query.start, joined < query.end)
        .cte("cohort_of")
    )
    c = cohort_of.c
    sizes = {int(i): int(n) for i, n in conn.execute(select(c.cohort, func.count()).group_by(c.cohort))}
    first_id = select(func.min(c.member_id)).scalar_subquery()
    ordered = (
        select(
            c.cohort.label("cohort"),
            a.month_index(o.paid_at, months, query).label("month"),
            o.member_id.label("member_id"),
            a.net_minor(cur).label("net"),
        )
        .select_from(cohort_of.join(t.order_state, o.member_id == c.member_id))
        # only what the join can keep: no cohort member has an id below the least of theirs (ids grow with time,
        # so on PostgreSQL the member-ordered index skips the orders of everyone who joined before the range)
        .where(a.paid(program_id, cur, query.start, query.end), o.member_id >= first_id)
        .subquery("ordered")
    )
    d = ordered.c
    cells: dict[tuple[int, int], tuple[int, int, int]] = {}
    stmt = (
        select(d.cohort, d.month, func.count(func.distinct(d.member_id)), func.count(), func.sum(d.net))
        .where(d.month >= d.cohort)
        .group_by(d.cohort, d.month)
    )
    for cohort, month, ordering, orders, revenue in conn.execute(stmt):
        cells[(int(cohort), int(month))] = (int(ordering), int(orders), int(revenue or 0))

    rows: list[tuple[Any, ...]] = []
    cohorts: list[dict[str, Any]] = []
    for i, month in enumerate(months):
        members = sizes.get(i, 0)
        series = []
        for k in range(len(months) - i):
            ordering, orders, revenue = cells.get((i, i + k), (0, 0, 0))
            cell = {
                "months_since_joining": k,
                "month": a.add_months(month, k).isoformat()[:7],
                "ordering": ordering,
                "share_ordering": a.ratio(ordering, members),
                "orders": orders,
                "revenue": cur.amount(revenue),
                "revenue_per_member": cur.per(revenue, members),
            }
            series.append(cell)
            rows.append((month.isoformat()[:7], members, *cell.values(), cur.currency))
        cohorts.append({"cohort": month.isoformat()[:7], "members": members, "months": series})
    method = (
        "Members by the local month they got in; per later month, the share of them with a paid order and the "
        "net revenue per cohort member (members who did not order count in the denominator)."
    )
    data = {"currency": cur.currency, "membership": policy, "cohorts": cohorts}
    return Report("cohorts", data, (Table("cohorts", COLUMNS, rows),), method)
