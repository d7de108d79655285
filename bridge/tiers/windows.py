"""The windows tiers are measured over, in the program's zone. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from bridge.storage.clock import add_months
from bridge.tiers.settings import TierSettings


def year_bounds(now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The calendar year ``now`` falls in, as [1 January, next 1 January) at midnight in ``zone``."""
    year = now.astimezone(zone).year
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def current(tiers: TierSettings, now: datetime, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the window a member is measured over at ``now`` (``None``: unbounded)."""
    if tiers.window == "calendar_year":
        return year_bounds(now, zone)
    if tiers.window == "rolling":
        return add_months(now, -tiers.rolling_months), None
    return None, None


def previous_year(now: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    start, _ = year_bounds(now, zone)
    return year_bounds(start - timedelta(days=1), zone)
