"""Tier moments reach the notification outbox (issues 16 and 17): ``tier_up`` in the order's transaction,
``tier_downgrade_warning`` and ``tier_down`` from the review — once each — and their messages render in en and fa."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bridge.notifications import service as notifications
from bridge.storage import db
from bridge.storage import tables as t
from bridge.tiers.jobs import run_review
from tests.support.client import Bridge
from tests.tiers.conftest import carol, order


def events(bridge: Bridge) -> list[dict[str, Any]]:
    e = t.domain_event.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(e.type, e.member_id, e.payload).where(e.type.like("tier%")).order_by(e.id))
        return [dict(r) for r in rows.mappings()]


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def test_tier_moments_are_events_once_each_and_render(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered(window={"rolling_months": 1}, grace_days=10, warn_days=5)
    order(bridge, 501)  # silver
    order(bridge, 502)  # gold
    order(bridge, 502)  # delivered again: nothing new
    member_id = carol(bridge)
    assert [(e["type"], e["payload"]["to_tier"], e["payload"]["tier_name"]) for e in events(bridge)] == [
        ("tier_up", "silver", "Silver"),
        ("tier_up", "gold", "Gold"),
    ]

    run_review(bridge.rt, at(2026, 12, 27))  # the November points left the window: below gold from today
    run_review(bridge.rt, at(2027, 1, 1))  # 5 days before the end of the grace: warned
    run_review(bridge.rt, at(2027, 1, 2))  # not twice
    run_review(bridge.rt, at(2027, 1, 6))  # down one level
    found = events(bridge)[2:]
    assert [(e["type"], e["member_id"]) for e in found] == [
        ("tier_downgrade_warning", member_id),
        ("tier_down", member_id),
    ]
    assert found[0]["payload"]["tier"] == "gold" and found[0]["payload"]["needed"] == "60"
    assert (found[1]["payload"]["from_tier"], found[1]["payload"]["to_tier"]) == ("gold", "silver")

    for event in ("tier_up", "tier_down", "tier_downgrade_warning"):
        for locale in ("en", "fa"):
            message = notifications.preview(
                bridge.rt, event_type=event, member_id=member_id, channel="email", locale=locale
            )
            assert message["subject"] and "{{" not in message["text"], (event, locale, message)
