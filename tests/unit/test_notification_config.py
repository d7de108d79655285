"""The ``notifications:`` section: a contract (every key round-trips), refused with the key and the reason."""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

import pytest

from bridge.config import Settings
from bridge.config_schema import dump
from bridge.errors import ConfigError

FULL: dict[str, Any] = {
    "email": {
        "host": "smtp.example",
        "port": 465,
        "security": "tls",
        "username": "u",
        "password": "p" * 12,
        "from_address": "Club <club@shop.example>",
    },
    "sms": {"provider": "kavenegar", "api_key": "k" * 20, "sender": "1000"},
    "webhooks": [
        {"id": "crm", "url": "https://crm.example/hook", "secret": "whsec_" + "A" * 32, "events": ["points_earned"]}
    ],
    "events": {"points_earned": {"channels": ["email", "sms"], "delay_days": 1}, "tier_up": {"enabled": False}},
    "quiet_hours": {"start": "22:30", "end": "08:00"},
    "max_per_member_per_day": 2,
    "locale": "fa",
    "occasions": [{"id": "nowruz", "calendar": "jalali", "month": 1, "day": 1}],
}


def _load(notifications: dict[str, Any]) -> Settings:
    from pathlib import Path

    from bridge import config_schema

    return config_schema.load({"notifications": notifications}, "config.yaml", Path())


def test_the_whole_section_loads_and_round_trips() -> None:
    loaded = _load(FULL)
    n = loaded.notifications
    assert n.quiet_hours is not None and (n.quiet_hours.start, n.quiet_hours.end) == (time(22, 30), time(8, 0))
    assert n.event("points_earned") is not None and n.event("tier_up") is None  # the list of events is open
    assert n.webhooks[0].wants("points_earned") and not n.webhooks[0].wants("thank_you")
    again = _load(dump(loaded)["notifications"])
    assert dataclasses.replace(again, source=loaded.source) == loaded
    assert "p" * 12 not in repr(loaded) and "k" * 20 not in repr(loaded) and "A" * 32 not in repr(loaded)


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        ({"quiet_hours": {"start": "25:00"}}, "notifications.quiet_hours.start", "time of day"),
        (
            {"webhooks": [{"id": "x", "url": "ftp://x", "secret": "whsec_" + "A" * 32}]},
            "notifications.webhooks[0].url",
            "http",
        ),
        (
            {"webhooks": [{"id": "x", "url": "https://x", "secret": "short"}]},
            "notifications.webhooks[0].secret",
            "whsec_",
        ),
        ({"events": {"points_earned": {"channels": ["fax"]}}}, "notifications.events.points_earned.channels", "one of"),
        ({"email": {"host": ""}}, "notifications.events", "points_earned is sent by email, which is not configured"),
        (
            {"occasions": [{"id": "x", "calendar": "jalali", "month": 13, "day": 1}]},
            "notifications.occasions[0].day",
            "day of the year",
        ),
        ({"colour": "blue"}, "notifications.colour", "unknown key"),
    ],
)
def test_mistakes_name_the_key_and_the_reason(change: dict[str, Any], key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load({**FULL, **change})
    assert caught.value.key == key and reason in caught.value.reason, caught.value
