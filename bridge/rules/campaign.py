"""Campaigns: a multiplier on the amount rules and/or a fixed bonus, within a window and on some weekdays.

Windows and weekdays are read in the program's time zone: "double points this weekend" means the shop's weekend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from bridge.rules.base import Award, in_segments
from bridge.rules.lines import ONE

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Campaign:
    id: str
    multiplier: Decimal = ONE
    points: int = 0
    starts: datetime | None = None  # aware; inclusive
    ends: datetime | None = None  # aware; exclusive
    weekdays: frozenset[int] = frozenset()  # 0 = Monday; empty: every day
    name: str = ""
    description: str = ""
    segments: frozenset[str] = frozenset()  # issue 16: only members in one of these segments; empty: everyone

    def applies_to(self, member_segments: frozenset[str]) -> bool:
        return in_segments(self.segments, member_segments)

    def active(self, at: datetime, tz: tzinfo) -> bool:
        if self.starts is not None and at < self.starts:
            return False
        if self.ends is not None and at >= self.ends:
            return False
        return not self.weekdays or at.astimezone(tz).weekday() in self.weekdays

    def bonus(self) -> Award | None:
        if self.points <= 0:
            return None
        return Award(self.id, self.points, f"campaign bonus: {self.name or self.id}", {"campaign": self.id})
