"""The one place that reads the wall clock (aware UTC), so nothing stores a naive datetime.

Product code asks ``utcnow()``; what it answers is the process's installed clock. ``Runtime.build`` installs the
clock its settings describe (``clock.offset_seconds``: the system clock, shifted), so every process started from
one config — web workers, the worker, scheduler threads, CLI commands — agrees on the time. Tests pin the bridge to
a fixed date through that setting, so no test depends on the day it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware UTC."""
        ...


@dataclass(frozen=True)
class SystemClock:
    """The wall clock, shifted by ``offset`` (zero in production; tests and rehearsals move it)."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


_installed: Clock = SystemClock()


def install(clock: Clock) -> Clock:
    """Make ``clock`` the process's clock; returns the one it replaces (so a test can put it back)."""
    global _installed
    previous, _installed = _installed, clock
    return previous


def utcnow() -> datetime:
    return _installed.now()


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month ``months`` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    next_month = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))
