"""What every report takes and gives (issue 18): one query shape, one result shape, so that the admin API, the CSV
export and the console draw any report the same way.

A report is a function ``build(conn, query) -> Report`` in its own module of ``bridge.reports`` (``program``,
``liability``, ``cohorts``...), listed in ``bridge.reports.catalog``. It reads in the one transaction it is given
and never writes. Its exact definition is the module's docstring and ``docs/reports.md``.

Days are the program's local days (``program.earning.timezone``): ``first`` and ``last`` are both included, and
the instants they stand for are ``day_start(first)`` up to, not including, ``day_start(last + 1 day)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bridge.config import ProgramSettings, ShopSettings
from bridge.reports.days import day_start

Interval = Literal["day", "week", "month"]
INTERVALS: tuple[Interval, ...] = ("day", "week", "month")
MAX_DAYS = 3 * 366 + 1  # a range longer than three years is refused (400): every report stays bounded


@dataclass(frozen=True)
class ReportQuery:
    program: ProgramSettings
    shops: tuple[ShopSettings, ...]  # the shops the report may speak of (currency, minor unit)
    first: date  # first local day, included
    last: date  # last local day, included
    interval: Interval
    now: datetime  # bridge.storage.clock.utcnow() at the request: "active in 30 days" is counted back from it
    shop_id: str | None = None  # None: every shop of the program

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.program.earning.timezone)

    @property
    def start(self) -> datetime:
        """The UTC instant the range begins."""
        return day_start(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The UTC instant the range ends (excluded)."""
        return day_start(self.last + timedelta(days=1), self.zone)

    def periods(self) -> list[Period]:
        """The range cut by ``interval``; the first and last periods are clipped to the range."""
        return list(_periods(self.first, self.last, self.interval, self.zone))


@dataclass(frozen=True)
class Period:
    """One interval of a report: local days ``first``..``last`` (both included) and the UTC instants they span."""

    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """ISO date of the period's first day (clipped to the range): what the CSV and the JSON call it."""
        return self.first.isoformat()


def period_start(day: date, interval: Interval) -> date:
    if interval == "day":
        return day
    if interval == "week":  # ISO weeks: Monday
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_period(day: date, interval: Interval) -> date:
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return period_start(day, "week") + timedelta(days=7)
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _periods(first: date, last: date, interval: Interval, zone: ZoneInfo) -> Iterator[Period]:
    day = first
    while day <= last:
        following = _next_period(day, interval)
        period_last = min(following - timedelta(days=1), last)
        yield Period(day, period_last, day_start(day, zone), day_start(period_last + timedelta(days=1), zone))
        day = following


@dataclass(frozen=True)
class Table:
    """A table of a report, as the CSV export writes it: a header row and rows of plain values (str, int,
    Decimal, date, datetime or None), one file per table."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    name: str
    data: dict[str, Any]  # the JSON body's ``data`` (Decimal for money and rates, ISO strings for dates)
    tables: tuple[Table, ...]  # the CSV export: the first table unless ``table=`` names another
    method: str = ""  # how it is computed, in a sentence or two: estimates (breakage, CLV, ROI) say so here


Builder = Callable[[Connection, ReportQuery], Report]
