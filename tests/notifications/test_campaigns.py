"""Messages to a segment at a scheduled time, and occasions with a gift for some segments (issue 17, with issue 16's
segments): each member of the segments gets the message and the gift once; nobody else; nothing after its day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.config import settings_from
from bridge.errors import ConfigError
from bridge.notifications import periodic
from bridge.notifications import service as notifications_service
from bridge.segments.jobs import run_scoring
from tests.notifications.conftest import events, notifications, paid_order
from tests.support import woo
from tests.support.client import Bridge
from tests.support.clock import TEST_NOW
from tests.support.mailbox import Mailbox

BIG = {"id": "big", "name": "Big buyers", "min_spent": 10}  # Carol's order (42.90) makes her one
CAMPAIGN = {
    "id": "yalda-offer",
    "at": "2026-12-20T21:00:00+00:00",
    "subject": {"en": "A Yalda gift", "fa": "هدیهٔ یلدا"},
    "text": {"en": "Double points tonight.", "fa": "امشب امتیاز دوبرابر."},
    "segments": ["big"],
    "points": 25,
}


def gifts(bridge: Bridge, email: str = woo.CAROL) -> list[dict[str, Any]]:
    member = bridge.member(email)
    assert member is not None
    return [e for e in bridge.ledger(member["id"]) if e["cause"]["type"] in ("campaign", "occasion")]


def test_a_campaign_reaches_its_segment_once_with_its_gift_and_renders_per_locale(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox
) -> None:
    config = notifications(mailbox, campaigns=[CAMPAIGN])
    bridge = make_bridge(program={"segments": {"custom": [BIG]}}, notifications=config)
    paid_order(bridge)
    bridge.deliver_ok("customer.created")  # nobody else is in the segment: only Carol bought
    run_scoring(bridge.rt, TEST_NOW)
    at = datetime(2026, 12, 20, 21, 0, tzinfo=UTC)

    assert periodic.campaigns(bridge.rt, at - timedelta(minutes=1)) == 0  # not yet
    assert periodic.campaigns(bridge.rt, at + timedelta(minutes=5)) == 1
    assert periodic.campaigns(bridge.rt, at + timedelta(hours=3)) == 0  # once
    assert periodic.campaigns(bridge.rt, at + timedelta(days=2)) == 0  # its day is over
    [event] = [e for e in events(bridge) if e["type"] == "campaign"]
    assert event["payload"]["campaign"] == "yalda-offer" and event["payload"]["points"] == 25
    assert [(g["points"], g["cause"]["id"]) for g in gifts(bridge)] == [(25, "yalda-offer")]

    member_id = bridge.member(woo.CAROL)["id"]  # type: ignore[index]
    for locale, subject in (("en", "A Yalda gift"), ("fa", "هدیهٔ یلدا")):
        message = notifications_service.preview(
            bridge.rt, event_type="campaign", member_id=member_id, channel="email", locale=locale
        )
        assert message["subject"] == subject and ("25" in message["text"] or "۲۵" in message["text"])


def test_an_occasion_gift_goes_to_its_segments_once_a_year(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox
) -> None:
    occasion = {"id": "yalda", "calendar": "jalali", "month": 9, "day": 30, "points": 40, "segments": ["big"]}
    bridge = make_bridge(
        program={"timezone": "Asia/Tehran", "segments": {"custom": [BIG]}},
        notifications=notifications(mailbox, occasions=[occasion]),
    )
    paid_order(bridge)
    run_scoring(bridge.rt, TEST_NOW)
    assert periodic.occasions(bridge.rt, datetime(2026, 12, 21, 12, 0, tzinfo=UTC)) == 1  # 30 Azar 1405
    assert periodic.occasions(bridge.rt, datetime(2026, 12, 21, 13, 0, tzinfo=UTC)) == 0  # once
    assert [(g["points"], g["cause"]["id"]) for g in gifts(bridge)] == [(40, "yalda:1405")]


def test_a_campaign_for_an_unknown_segment_stops_the_start() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({"notifications": {"campaigns": [{**CAMPAIGN, "segments": ["bigg"]}]}})
    assert caught.value.key == "notifications.campaigns[0].segments" and "unknown segment 'bigg'" in caught.value.reason
