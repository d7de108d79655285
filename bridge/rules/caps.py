"""Caps: at most N points per member per day, week, month or year, for some rules or for all order awards.

The engine is pure, so it cannot count what the member already earned: the caller sums the member's earn
entries since ``window_start`` for each cap and passes the totals in ``MemberContext.earned[cap.id]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

PERIODS = ("day", "week", "month", "year")


@dataclass(frozen=True)
class Cap:
    id: str
    period: str
    max_points: int
    rule_ids: frozenset[str] = frozenset()  # empty: every order award (an overall cap)
    name: str = ""
    description: str = ""

    def covers(self, rule_id: str) -> bool:
        return not self.rule_ids or rule_id in self.rule_ids

    def window_start(self, at: datetime, tz: tzinfo) -> datetime:
        """The start of the period containing ``at``, in the program's zone (weeks start on Monday), as UTC."""
        local = at.astimezone(tz)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.period == "week":
            day -= timedelta(days=day.weekday())
        elif self.period == "month":
            day = day.replace(day=1)
        elif self.period == "year":
            day = day.replace(month=1, day=1)
        # re-attach the zone so a DST change inside the period resolves to the right offset
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
