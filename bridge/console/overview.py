"""The Overview page (``console.overview``, the console's home): the club's figures as cards, the last 90 days
as charts (uPlot, vendored in ``static/vendor/uplot``) and as a table, so the page reads without JavaScript.

The figures and their definitions are ``bridge.reports.overview``'s; this module only renders them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import render_template

from bridge.console.i18n import NONE, digits, gettext
from bridge.console.routing import Role, console_route
from bridge.reports import overview as report
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage.clock import utcnow


@console_route("/", role=Role.VIEWER)
def overview() -> str:
    rt = current_runtime()
    program = rt.settings.program
    with db.read(rt.engine) as conn:
        figures = report.overview(
            conn,
            program_id=program.id,
            timezone=program.earning.timezone,
            rewards=program.rewards,
            shops=rt.settings.shops,
            now=utcnow(),
        )
    return render_template(
        "console/overview.html",
        o=figures,
        percent=percent,
        problem=problem,
        chart=chart_data(figures),
        active_days=report.ACTIVE_DAYS,
        period_days=report.PERIOD_DAYS,
        series_days=report.SERIES_DAYS,
    )


def percent(rate: Decimal | None) -> str:
    """``0.1234`` -> ``12.3 %`` (language's digits); an en dash when there is no rate."""
    if rate is None:
        return NONE
    return digits(f"{rate * 100:.1f} %")


def chart_data(figures: report.Overview) -> dict[str, Any]:
    """What ``static/overview.js`` draws: one column per series, days as UTC midnights in seconds (uPlot's x)."""
    days = [int(d.day.toordinal() - 719163) * 86400 for d in figures.series]  # 719163: 1970-01-01's ordinal
    return {
        "days": days,
        "issued": [d.issued for d in figures.series],
        "redeemed": [d.redeemed for d in figures.series],
        "joined": [d.joined for d in figures.series],
    }


def problem(found: report.Problem) -> str:
    """A shop's problem in the page's language."""
    details = found.details
    match found.code:
        case "not_connected":
            return gettext("Not connected: run bridge connect for this shop.")
        case "webhook":
            return gettext("The {topic} webhook is {status} in the shop.", **details)
        case "failed_deliveries":
            return gettext("{count} deliveries failed: see the inbox.", **details)
        case "reconcile_failed":
            return gettext("Reconciliation failed: {error}", **details)
        case "reconcile_behind":
            return gettext("Reconciliation is {hours} hours behind.", **details)
    return found.code
