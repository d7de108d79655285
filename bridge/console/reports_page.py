"""The Reports pages (issue 18): every report of ``bridge.reports.catalog`` for a range of days, drawn from the
same ``Report`` the admin API answers with: its tables as HTML tables (readable without JavaScript), the first
table of periods as a chart (uPlot), and each table as a CSV download for the signed-in viewer.

The figures and their definitions are the report modules'; this module only reads the query and renders them.
Column and figure names are translated here (``label``); a name without a label is shown as it is, and the
console's tests fail for any column or figure of a report that has none.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, render_template, request
from markupsafe import Markup

from bridge.console.i18n import digits, gettext, points
from bridge.console.routing import Role, console_route
from bridge.reports import catalog
from bridge.reports.base import Report, ReportQuery
from bridge.reports.export import csv_bytes, csv_filename, pick_table
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage.clock import utcnow

CHART_FIRST_COLUMNS = ("period", "month", "cohort")  # a table whose first column is one of these is a time series
MAX_CHART_SERIES = 8


@console_route("/reports", role=Role.VIEWER)
def reports() -> str:
    return render_template("console/reports.html", names=list(catalog.REPORTS), titles=titles())


@console_route("/reports/<name>", role=Role.VIEWER)
def report(name: str) -> str:
    report, query = _build(name)
    return render_template(
        "console/report.html",
        report=report,
        query=query,
        names=list(catalog.REPORTS),
        titles=titles(),
        shops=current_runtime().settings.shops,
        label=label,
        show=show,
        chart=chart_data(report),
        args={k: v for k, v in request.args.items() if k in ("from", "to", "interval", "shop") and v},
    )


@console_route("/reports/<name>/csv", role=Role.VIEWER)
def report_csv(name: str) -> Response:
    report, query = _build(name)
    table = pick_table(report, request.args.get("table") or None)
    response = Response(csv_bytes(table), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{csv_filename(report, table, query)}"'
    return response


def _build(name: str) -> tuple[Report, ReportQuery]:
    build = catalog.builder(name)  # unknown: 404 page
    rt = current_runtime()
    args = request.args
    query = catalog.parse_query(
        rt.settings,
        utcnow(),
        first=_bounded(args.get("from")),
        last=_bounded(args.get("to")),
        interval=_bounded(args.get("interval")),
        shop=_bounded(args.get("shop")),
    )
    with db.read(rt.engine) as conn:
        return build(conn, query), query


def _bounded(value: str | None) -> str | None:
    """A query value cut to a length no valid one exceeds: the parser then refuses it with its own message."""
    return value[:80] if value else None


def chart_data(report: Report) -> dict[str, Any] | None:
    """What ``static/reports.js`` draws: the first table of periods, its numeric columns as series, the periods'
    first days as UTC midnights in seconds (uPlot's x). ``None``: the report has no such table."""
    for table in report.tables:
        if not table.rows or table.columns[0] not in CHART_FIRST_COLUMNS:
            continue
        numeric = [
            i
            for i in range(1, len(table.columns))
            if all(isinstance(row[i], int | Decimal | float | type(None)) for row in table.rows)
            and not all(isinstance(row[i], type(None)) for row in table.rows)
        ][:MAX_CHART_SERIES]
        days = [_epoch_day(row[0]) for row in table.rows]
        if not numeric or None in days:
            continue
        return {
            "table": table.name,
            "x": days,
            "series": [
                {"label": str(label(table.columns[i])), "values": [_number(row[i]) for row in table.rows]}
                for i in numeric
            ],
        }
    return None


def _epoch_day(value: Any) -> int | None:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return None
    if not isinstance(value, date):
        return None
    return (value.toordinal() - date(1970, 1, 1).toordinal()) * 86400


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def show(value: Any, name: str = "") -> Markup | str:
    """A cell as the console shows it: integers grouped in the language's digits, decimals exact, rates (a column
    or figure whose name ends in ``rate``) as percentages, dates ISO."""
    if value is None:
        return "\u2013"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int):
        return points(value)
    if isinstance(value, Decimal):
        if name.endswith("rate"):
            return digits(f"{value * 100:.1f} %")
        return digits(format(value, "f"))
    if isinstance(value, datetime | date):
        return digits(value.isoformat())
    return str(value)


def titles() -> dict[str, Markup]:
    return {
        "program": gettext("Program"),
        "liability": gettext("Liability"),
        "redemption": gettext("Redemption"),
        "referrals": gettext("Referrals"),
        "members_vs_others": gettext("Members vs others"),
        "cohorts": gettext("Cohorts"),
        "rfm": gettext("RFM segments"),
        "clv": gettext("Customer lifetime value"),
        "roi": gettext("Return on investment"),
    }


def label(name: str) -> Markup | str:
    """A table's, column's or figure's name in this request's language; unknown names as they are."""
    english = LABELS.get(name)
    return gettext(english) if english is not None else name


# Names of tables, columns and figures -> English; translated through the catalogue (i18n/fa/reports.json).
LABELS: dict[str, str] = {
    "periods": "Periods",
    "summary": "Summary",
    "journal": "Journal",
    "rewards": "Rewards by popularity",
    "funnel": "Funnel",
    "period": "Period",
    "joined": "Joined",
    "issued": "Issued",
    "released": "Released",
    "redeemed": "Redeemed",
    "expired": "Expired",
    "reversed": "Reversed",
    "adjusted": "Adjusted",
    "opening": "Opening",
    "closing": "Closing",
    "figure": "Figure",
    "value": "Value",
    "reward_id": "Reward",
    "title": "Title",
    "count": "Count",
    "points": "Points",
    "clicks": "Clicks",
    "claims": "Claims",
    "ordered": "Ordered",
    "qualified": "Qualified",
    "referred_revenue": "Referred revenue",
    "stage": "Stage",
    "rejected": "Rejected",
    "conversion": "Conversion",
    "members_total": "Members at the end",
    "members_joined": "Members joined",
    "customers_seen": "Customers seen",
    "members_ordering": "Members with a paid order",
    "participation_rate": "Participation rate",
    "members_redeemed": "Members who redeemed",
    "engagement_rate": "Engagement rate",
    "redemption_rate": "Redemption rate",
    "available": "Available points",
    "pending": "Pending points",
    "currency": "Currency",
    "amount": "Amount",
    "point_value": "Value of a point",
    "breakage_rate": "Expected breakage rate",
    "breakage_points": "Expected breakage (points)",
    "points_issued": "Points issued",
    "points_redeemed": "Points redeemed",
    "revenue_currency": "Revenue currency",
    "revenue_amount": "Revenue of orders using a reward",
    "revenue_orders": "Orders using a reward",
    "discount_currency": "Discount currency",
    "discount_amount": "Discount given",
    "percent_coupons_used": "Percent coupons used",
    "free_shipping_coupons_used": "Free-shipping coupons used",
    "active_30_days": "Active in 30 days",
    "active_90_days": "Active in 90 days",
    "coupons_cancelled": "Coupons cancelled",
    "coupons_expired": "Coupons expired",
    "coupons_issued": "Coupons issued",
    "coupons_open": "Coupons not yet used",
    "coupons_use_rate": "Coupon use rate",
    "coupons_used": "Coupons used",
    "average_order_value": "Average order value",
    "churn": "Churn",
    "churn_base": "Customers at the start",
    "churned": "Churned",
    "cohort": "Cohort",
    "customers": "Customers",
    "engaged": "Engaged members",
    "engaged_revenue": "Revenue of engaged members",
    "expected_lifetime_years": "Expected lifetime (years)",
    "from_segment": "From segment",
    "gaps": "Gaps between orders",
    "group": "Group",
    "groups": "Groups",
    "history": "History",
    "incremental": "Incremental revenue",
    "kind": "Kind",
    "mean_days_between_orders": "Mean days between orders",
    "members": "Members in it",
    "month": "Month of",
    "months_since_joining": "Months since joining",
    "movement": "Movement between segments",
    "name": "Name of it",
    "not_engaged": "Members not engaged",
    "not_engaged_revenue": "Revenue of members not engaged",
    "ordering": "Still ordering",
    "orders": "Orders placed",
    "orders_per_customer": "Orders per customer",
    "purchase_frequency": "Orders per member per year",
    "repeat_customers": "Repeat customers",
    "repeat_rate": "Repeat-purchase rate",
    "revenue": "Revenue",
    "revenue_per_member": "Revenue per member",
    "segment": "Segment",
    "segments": "Segments by size",
    "share": "Share",
    "share_ordering": "Share still ordering",
    "to_segment": "To segment",
    "clv": "Lifetime value",
    "cohorts": "Cohorts by month joined",
}
