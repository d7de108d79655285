"""Ways to earn in shoppers' words; the issue-3 config keys and their errors; month arithmetic for lots."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.config import load_settings, settings_from
from bridge.errors import ConfigError
from bridge.rules.describe import ways_to_earn
from bridge.storage.clock import add_months
from tests.unit.rules.builders import rules


def test_ways_to_earn_describe_each_active_rule() -> None:
    rs = rules(
        [
            {"id": "base", "type": "per_amount", "points": 1, "per": 10, "minimum_amount": 20},
            {"id": "third", "type": "nth_order", "every": 3, "points": 30},
            {"id": "back", "type": "nth_order", "nth": 2, "within_days": 60, "points": 25, "name": "Come back soon"},
            {"id": "coffee", "type": "multiplier", "categories": ["coffee"], "multiplier": 2},
            {"id": "no-gift", "type": "exclusion", "skus": ["GIFT"]},
            {"id": "weekend", "type": "campaign", "multiplier": 2, "weekdays": ["sat", "sun"]},
            {"id": "off", "type": "first_order", "points": 5, "enabled": False},
            {"id": "daily", "type": "cap", "period": "day", "max_points": 100},
        ]
    )
    ways = {w["id"]: w for w in ways_to_earn(rs, "EUR")}
    assert list(ways) == ["base", "third", "back", "coffee", "weekend"]  # no exclusions, caps or disabled rules
    assert ways["base"]["description"] == "1 point for every 10 EUR spent on orders of 20 EUR or more"
    assert ways["base"]["points"] == "0.1"
    assert ways["third"]["description"] == "A bonus on every 3rd order"
    assert ways["back"]["title"] == "Come back soon"
    assert ways["back"]["description"] == "A bonus on your 2nd order within 60 days of the previous one"
    assert ways["coffee"]["description"] == "2x points on coffee" and ways["coffee"]["points"] is None
    assert ways["weekend"]["description"] == "2x points on sat, sun"


@pytest.mark.parametrize(
    ("program", "key"),
    [
        ({"timezone": "Mars/Olympus"}, "program.timezone"),
        ({"membership": {"policy": "vip"}}, "program.membership.policy"),
        ({"earn": {"release": "later"}}, "program.earn.release"),
        ({"earn": {"hold_days": -1}}, "program.earn.hold_days"),
        ({"earn": {"expiry": {"mode": "sometimes"}}}, "program.earn.expiry.mode"),
        ({"earn": {"tier_multipliers": {"gold": "-1"}}}, "program.earn.tier_multipliers.gold"),
        ({"earn": {"rules": [{"id": "c", "type": "cap", "period": "day", "max_points": 5, "rules": ["x"]}]}}, "rules"),
        ({"earn": {"rules": [{"id": "w", "type": "campaign", "weekdays": ["caturday"], "points": 1}]}}, "weekdays"),
        ({"earn": {"rules": [{"id": "w", "type": "campaign"}]}}, "program.earn.rules[w]"),
        ({"earn": {"rules": [{"id": "n", "type": "nth_order", "points": 1}]}}, "program.earn.rules[n]"),
    ],
)
def test_bad_earning_settings_stop_the_config_with_their_key(program: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        settings_from({"program": program})


def test_earning_settings_come_from_the_environment_too() -> None:
    settings = load_settings(
        None, environ={"BRIDGE_PROGRAM__EARN__HOLD_DAYS": "3", "BRIDGE_PROGRAM__EARN__EXPIRY__MODE": "lot"}
    )
    assert settings.program.earning.hold_days == 3 and settings.program.earning.expiry.mode == "lot"


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (datetime(2026, 1, 31, 8, tzinfo=UTC), 1, datetime(2026, 2, 28, 8, tzinfo=UTC)),
        (datetime(2027, 12, 15, tzinfo=UTC), 2, datetime(2028, 2, 15, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 12, datetime(2029, 2, 28, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), -1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 10, tzinfo=UTC), -13, datetime(2024, 12, 10, tzinfo=UTC)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start: datetime, months: int, end: datetime) -> None:
    assert add_months(start, months) == end


def test_ways_the_bridge_describes_carry_message_keys_and_numbers_for_the_widget() -> None:
    """The widget says them in the shopper's language; the owner's own words are shown as written."""
    rs = rules(
        [
            {"id": "base", "type": "per_amount", "points": 1, "per": 10, "minimum_amount": 20},
            {"id": "welcome", "type": "first_order", "points": 100, "name": "Welcome gift"},
            {"id": "coffee", "type": "multiplier", "categories": ["coffee"], "multiplier": "1.5"},
            {"id": "own", "type": "nth_order", "every": 3, "points": 30, "name": "Loyal", "description": "Mine"},
        ]
    )
    ways = {w["id"]: w for w in ways_to_earn(rs, "EUR")}
    assert ways["base"]["i18n"] == {
        "title": "way_shop",
        "description": "way_per_amount_min",
        "vars": {"points": 1, "amount": "10", "minimum": "20"},
    }
    assert ways["welcome"]["i18n"]["title"] is None  # the owner named it
    assert ways["welcome"]["i18n"]["description"] == "way_first_order_text"
    assert ways["coffee"]["i18n"]["vars"] == {"multiplier": 1.5, "what": "coffee"}
    assert "i18n" not in ways["own"]
