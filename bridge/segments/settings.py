"""``program.segments``: the RFM segments' names and the owner's own segments. Pure data.

The RFM map (recency R and the mean of frequency and monetary FM, each a quintile 1-5 among the program's buyers)::

    R 4-5: FM 4-5 champions, FM 2-3 potential_loyalist, FM 1 new
    R 3:   FM 4-5 loyal,     FM 2-3 potential_loyalist, FM 1 hibernating
    R 1-2: FM 5 cant_lose,   FM 3-4 at_risk,  FM 2 hibernating,  FM 1 lost
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

RFM_SEGMENTS: dict[str, str] = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalist": "Potential loyalist",
    "new": "New",
    "at_risk": "At risk",
    "cant_lose": "Can't lose",
    "hibernating": "Hibernating",
    "lost": "Lost",
}


def rfm_segment(recency: int, frequency: int, monetary: int) -> str:
    """The named segment of one member's scores (the map above; the SQL of the nightly scoring says the same)."""
    fm = (frequency + monetary + 1) // 2  # the mean, halves rounded up
    if recency >= 4:
        return "champions" if fm >= 4 else "potential_loyalist" if fm >= 2 else "new"
    if recency == 3:
        return "loyal" if fm >= 4 else "potential_loyalist" if fm >= 2 else "hibernating"
    if fm == 5:
        return "cant_lose"
    return "at_risk" if fm >= 3 else "hibernating" if fm == 2 else "lost"


@dataclass(frozen=True)
class CustomSegment:
    """An owner's segment: members matching every condition given (None: not a condition)."""

    id: str
    name: str
    tiers: tuple[str, ...] = ()
    min_balance: int | None = None
    min_orders: int | None = None
    max_orders: int | None = None
    min_spent: Decimal | None = None
    ordered_within_days: int | None = None
    not_ordered_for_days: int | None = None
    birthday_months: tuple[int, ...] = ()


@dataclass(frozen=True)
class SegmentSettings:
    names: Mapping[str, str] = field(default_factory=dict)  # RFM segment id -> display name (LocalText)
    custom: tuple[CustomSegment, ...] = ()
    interval_seconds: float = 86400

    def name(self, segment_id: str) -> str:
        for segment in self.custom:
            if segment.id == segment_id:
                return segment.name
        return self.names.get(segment_id) or RFM_SEGMENTS.get(segment_id, segment_id)

    def ids(self) -> list[str]:
        return [*RFM_SEGMENTS, *(s.id for s in self.custom)]
