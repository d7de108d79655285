"""The reports the bridge answers, by name, and the one reading of a report request the admin API and the CLI
share (issue 18): which days, cut how, for which shop.

- ``from``/``to``: ISO dates (``YYYY-MM-DD``), local days of the program's time zone, both included. Neither
  given: the last ``DEFAULT_DAYS`` days up to today. Only ``from``: up to today. Only ``to``: the
  ``DEFAULT_DAYS`` days up to it. ``to`` before ``from``, or a range longer than ``base.MAX_DAYS`` days: refused.
- ``interval``: ``day``, ``week`` (ISO weeks, from Monday) or ``month``; by default ``month`` for a range longer
  than ``AUTO_MONTH_AFTER_DAYS`` days, else ``day``.
- ``shop``: one configured shop's figures (its ledger entries, orders, coupons); none: every shop of the program.

Every refusal is a ``BridgeError`` with a stable code: ``invalid_report_query`` (400), ``unknown_report`` (404),
``unknown_shop`` (404).
"""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bridge.config import Settings
from bridge.errors import BridgeError, UnknownShop
from bridge.reports import base, clv, cohorts, liability, members_vs_others, program, redemption, referrals, rfm, roi
from bridge.reports.base import INTERVALS, Builder, Interval, ReportQuery
from bridge.reports.days import local_day

DEFAULT_DAYS = 30
AUTO_MONTH_AFTER_DAYS = 62
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
FIRST_YEAR, LAST_YEAR = 1970, 9998  # a day outside them is no shop's: refused before any date arithmetic overflows

REPORTS: dict[str, Builder] = {
    "program": program.build,
    "liability": liability.build,
    "redemption": redemption.build,
    "referrals": referrals.build,
    "members_vs_others": members_vs_others.build,
    "cohorts": cohorts.build,
    "rfm": rfm.build,
    "clv": clv.build,
    "roi": roi.build,
}


class UnknownReport(BridgeError):
    code = "unknown_report"
    status = 404


class InvalidReportQuery(BridgeError):
    """A report's days, interval or table cannot be used as given; the message says which and why."""

    code = "invalid_report_query"
    status = 400


def builder(name: str) -> Builder:
    found = REPORTS.get(name)
    if found is None:
        raise UnknownReport(f"no report {name[:60]!r}; reports: {', '.join(sorted(REPORTS))}")
    return found


def description(name: str) -> str:
    """The first line of the report module's docstring: its definition in one sentence."""
    doc = sys.modules[REPORTS[name].__module__].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else name


def parse_query(
    settings: Settings,
    now: datetime,
    *,
    first: str | None = None,
    last: str | None = None,
    interval: str | None = None,
    shop: str | None = None,
) -> ReportQuery:
    """The query these request values stand for (see the module's docstring), or ``InvalidReportQuery``."""
    program_settings = settings.program
    shops = settings.shops
    if shop:
        found = settings.shop(shop)
        if found is None:
            raise UnknownShop(f"no shop {shop[:64]!r}")
        shops = (found,)
    today = local_day(now, ZoneInfo(program_settings.earning.timezone))
    first_day = _date("from", first)
    last_day = _date("to", last)
    if last_day is None:
        last_day = today
    if first_day is None:
        first_day = last_day - timedelta(days=DEFAULT_DAYS - 1)
    if last_day < first_day:
        raise InvalidReportQuery(f"to ({last_day}) is before from ({first_day})")
    days = (last_day - first_day).days + 1
    if days > base.MAX_DAYS:
        raise InvalidReportQuery(f"the range has {days} days; at most {base.MAX_DAYS}")
    if interval is None or interval == "":
        chosen: Interval = "month" if days > AUTO_MONTH_AFTER_DAYS else "day"
    elif interval in INTERVALS:
        chosen = interval
    else:
        raise InvalidReportQuery(f"interval must be one of {', '.join(INTERVALS)}")
    return ReportQuery(
        program=program_settings,
        shops=shops,
        first=first_day,
        last=last_day,
        interval=chosen,
        now=now,
        shop_id=shop or None,
    )


def _date(name: str, given: str | None) -> date | None:
    if given is None or given == "":
        return None
    try:
        if not _ISO_DATE.match(given):
            raise ValueError
        day = date.fromisoformat(given)
    except ValueError:
        raise InvalidReportQuery(f"{name} must be an ISO date (YYYY-MM-DD), not {given[:40]!r}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidReportQuery(f"{name} must be a day of the years {FIRST_YEAR} to {LAST_YEAR}")
    return day
