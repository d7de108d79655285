"""Awards for custom events the shop does not send as webhooks (issue 19): a review written, a social follow, an
in-store visit, posted by the owner's systems to ``POST /admin/v1/events``.

Pure like every rule: the caller counts what the rule already awarded the member today (``awarded_today``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge.rules.base import Award, in_segments


@dataclass(frozen=True)
class EventRule:
    """``{type: event, event: review, points: 20, max_per_day: 1}``: ``points`` for each event of that type, at most
    ``max_per_day`` awards per member and day of the program's time zone (None: no limit)."""

    id: str
    event: str
    points: int
    max_per_day: int | None = None
    name: str = ""
    description: str = ""
    segments: frozenset[str] = frozenset()  # issue 16: only for members in one of these

    def award_for_event(self, event_type: str, awarded_today: int) -> Award | None:
        if event_type != self.event or self.points <= 0:
            return None
        if self.max_per_day is not None and awarded_today >= self.max_per_day:
            return None
        return Award(self.id, self.points, f"{event_type} event")


def evaluate_event(
    rules: tuple[EventRule, ...],
    event_type: str,
    awarded_today: Mapping[str, int],
    member_segments: frozenset[str] = frozenset(),
) -> tuple[list[Award], list[str]]:
    """The awards an event earns, and the ids of the rules that would have awarded but hit their daily limit.
    A rule for some segments only passes over a member in none of them (``member_segments``)."""
    awards: list[Award] = []
    capped: list[str] = []
    for rule in rules:
        if rule.event != event_type or not in_segments(rule.segments, member_segments):
            continue
        award = rule.award_for_event(event_type, awarded_today.get(rule.id, 0))
        if award is None:
            capped.append(rule.id)
        else:
            awards.append(award)
    return awards, capped
