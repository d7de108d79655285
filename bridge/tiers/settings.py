"""``program.tiers``: the ladder of levels a member climbs by one metric over one window (issue 16). Pure data.

``config.yaml`` shape (a contract)::

    tiers:
      metric: points | spend | orders        # points earned (not spent), spend net of refunds, paid orders
      window: lifetime | calendar_year | {rolling_months: 12}
      grace_days: 30                         # a downgrade waits this long after the period ends (rolling: after
                                             # the member fell below)
      warn_days: 14                          # a tier_downgrade_warning this many days before
      downgrade: one_level | to_qualified
      levels: [{id, name, threshold, multiplier, entry_points, perks}]   # ascending thresholds
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

METRICS = ("points", "spend", "orders")
DOWNGRADES = ("one_level", "to_qualified")
WINDOW_KINDS = ("lifetime", "calendar_year")
PERK_TYPES = ("free_shipping",)
PERK_PERIODS = ("month", "year")


@dataclass(frozen=True)
class Perk:
    """A recurring benefit of a level, given once per ``period`` (e.g. a free-shipping coupon each month)."""

    id: str
    type: str = "free_shipping"
    period: str = "month"


@dataclass(frozen=True)
class TierLevel:
    id: str
    name: str  # a LocalText when given per locale
    threshold: Decimal  # of the metric, over the window
    multiplier: Decimal = Decimal(1)  # on amount rules, for members of this level
    entry_points: int = 0  # a bonus, once per member and level
    perks: tuple[Perk, ...] = ()


@dataclass(frozen=True)
class TierSettings:
    levels: tuple[TierLevel, ...]
    metric: str = "points"
    window: str = "lifetime"  # lifetime | calendar_year | rolling
    rolling_months: int = 0  # with window == "rolling"
    grace_days: int = 0
    warn_days: int = 14
    downgrade: str = "one_level"

    def multipliers(self) -> dict[str, Decimal]:
        return {level.id: level.multiplier for level in self.levels if level.multiplier != 1}

    def index(self, tier_id: str | None) -> int:
        """The level's position (0 = the first level), -1 for no tier or a level no longer configured."""
        for i, level in enumerate(self.levels):
            if level.id == tier_id:
                return i
        return -1

    def level(self, tier_id: str | None) -> TierLevel | None:
        i = self.index(tier_id)
        return self.levels[i] if i >= 0 else None

    def qualified_index(self, metric: Decimal) -> int:
        """The highest level whose threshold ``metric`` reaches (-1: below the first)."""
        found = -1
        for i, level in enumerate(self.levels):
            if metric >= level.threshold:
                found = i
        return found
