"""Local days of the program's time zone, as UTC instants: the rollups and the reports count by them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo


def day_start(day: date, zone: tzinfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone`` (a DST day is 23 or 25 hours long: fine)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def each_day(first: date, end: date) -> Iterator[date]:
    """``first`` up to, not including, ``end``."""
    day = first
    while day < end:
        yield day
        day += timedelta(days=1)
