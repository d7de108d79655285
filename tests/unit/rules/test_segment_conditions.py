"""``segments: [at_risk]`` on earning rules (issue 16): every rule type with conditions is for the members of any
of the listed segments only, is explained when it passes a member over, and names only known segments."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bridge.config import settings_from
from bridge.errors import ConfigError
from bridge.rules import evaluate_birthday, explain_order
from bridge.rules.base import MemberContext
from bridge.rules.describe import ways_to_earn
from bridge.rules.events import evaluate_event
from tests.unit.rules.builders import ctx, line, order, rules

AT_RISK = frozenset({"at_risk"})
OTHER = frozenset({"champions", "loyal"})

# (rule, what it earns a member in its segments on a 10.00 order of product 10 at 1 point per unit, w/o them)
RULES: list[tuple[dict[str, Any], int, int]] = [
    ({"id": "back", "type": "per_amount", "points": 3}, 30, 10),  # replaces the shorthand: 0 without the segment
    ({"id": "first", "type": "first_order", "points": 50}, 60, 10),
    ({"id": "every", "type": "nth_order", "every": 1, "points": 7}, 17, 10),
    ({"id": "coffee", "type": "multiplier", "multiplier": 4, "products": ["10"]}, 40, 10),
    ({"id": "nocoffee", "type": "exclusion", "products": ["10"]}, 0, 10),
    ({"id": "winback", "type": "campaign", "multiplier": 2, "points": 5}, 25, 10),
]


@pytest.mark.parametrize(("rule", "inside", "outside"), RULES, ids=[r[0]["type"] for r in RULES])
def test_a_rule_for_some_segments_awards_only_their_members(rule: dict[str, Any], inside: int, outside: int) -> None:
    rule_set = rules([{**rule, "segments": ["at_risk", "hibernating"]}])
    assert rule_set.needs_segments
    if rule["type"] == "per_amount":
        outside = 0  # the only amount rule: a member outside its segments earns nothing from it
    in_it = explain_order(order(line("10")), rule_set, ctx(segments=AT_RISK | {"new"}))
    out_of_it = explain_order(order(line("10")), rule_set, ctx(segments=OTHER))
    assert (in_it.points, out_of_it.points) == (inside, outside)


def test_explain_says_which_segments_a_rule_is_for() -> None:
    rule_set = rules(
        [
            {"id": "first", "type": "first_order", "points": 50, "segments": ["at_risk"]},
            {"id": "winback", "type": "campaign", "multiplier": 2, "segments": ["at_risk", "lost"]},
        ]
    )
    outcomes = {o.rule_id: o for o in explain_order(order(), rule_set, ctx(segments=OTHER)).outcomes}
    assert outcomes["first"].points == 0 and outcomes["first"].note == "only for members in at_risk"
    assert outcomes["winback"].note == "only for members in at_risk or lost"
    assert outcomes["per_amount"].points == 10


def test_the_member_segments_are_read_only_when_a_rule_needs_them() -> None:
    assert not rules([{"id": "first", "type": "first_order", "points": 50}]).needs_segments
    for rule in (
        {"id": "b", "type": "birthday", "points": 5},
        {"id": "e", "type": "event", "event": "review", "points": 5},
        {"id": "m", "type": "multiplier", "multiplier": 2, "skus": ["A"]},
    ):
        assert rules([{**rule, "segments": ["lost"]}]).needs_segments, rule


def test_birthday_and_event_rules_for_some_segments() -> None:
    rule_set = rules(
        [
            {"id": "bday", "type": "birthday", "points": 20, "segments": ["at_risk"]},
            {"id": "bday_all", "type": "birthday", "points": 5},
            {"id": "review", "type": "event", "event": "review", "points": 9, "segments": ["at_risk"]},
        ]
    )
    born = date(1990, 11, 25)
    today = date(2026, 11, 25)
    inside = evaluate_birthday(rule_set, MemberContext(birthday=born, segments=AT_RISK), today)
    outside = evaluate_birthday(rule_set, MemberContext(birthday=born, segments=OTHER), today)
    assert [a.rule_id for a in inside] == ["bday", "bday_all"] and [a.rule_id for a in outside] == ["bday_all"]
    awards, capped = evaluate_event(rule_set.event_rules, "review", {}, AT_RISK)
    assert [a.points for a in awards] == [9] and capped == []
    assert evaluate_event(rule_set.event_rules, "review", {}, OTHER) == ([], [])


@pytest.mark.parametrize("rule_type", ["per_amount", "first_order", "nth_order", "birthday", "event", "exclusion"])
def test_an_unknown_segment_stops_the_config_with_the_rules_path(rule_type: str) -> None:
    options = {
        "nth_order": {"every": 2, "points": 1},
        "event": {"event": "review", "points": 1},
        "exclusion": {"skus": ["A"]},
    }.get(rule_type, {"points": 1})
    with pytest.raises(ConfigError) as err:
        settings_from(
            {"program": {"earn": {"rules": [{"id": "r", "type": rule_type, "segments": ["vip"], **options}]}}}
        )
    assert err.value.key == "program.earn.rules[r].segments"
    assert "unknown segment 'vip'" in err.value.reason


def test_owner_segments_are_known_and_signup_rules_take_no_segments() -> None:
    custom = {"custom": [{"id": "vip", "name": "VIP", "min_spent": 500}]}
    settings = settings_from(
        {
            "program": {
                "segments": custom,
                "earn": {"rules": [{"id": "r", "type": "first_order", "points": 5, "segments": ["vip"]}]},
            }
        }
    )
    assert settings.program.earning.rules[0].options["segments"] == ("vip",)
    with pytest.raises(ConfigError) as err:
        settings_from(
            {"program": {"earn": {"rules": [{"id": "s", "type": "signup", "points": 5, "segments": ["lost"]}]}}}
        )
    assert "segments" in err.value.key and "unknown key" in err.value.reason


def test_the_owner_sees_the_segments_of_a_rule_and_a_shopper_only_the_rules_meant_for_them() -> None:
    rule_set = rules(
        [
            {"id": "first", "type": "first_order", "points": 50},
            {"id": "winback", "type": "campaign", "multiplier": 2, "segments": ["at_risk", "lost"]},
            {"id": "coffee", "type": "multiplier", "multiplier": 3, "products": ["10"], "segments": ["champions"]},
        ]
    )
    owner = {w["id"]: w for w in ways_to_earn(rule_set, "USD")}
    assert owner["winback"]["segments"] == ["at_risk", "lost"] and owner["coffee"]["segments"] == ["champions"]
    assert "segments" not in owner["first"]

    shopper = ways_to_earn(rule_set, "USD", AT_RISK)
    assert [w["id"] for w in shopper] == ["per_amount", "first", "winback"]
    assert all("segments" not in w for w in shopper)  # a shopper is never told their segment
    assert [w["id"] for w in ways_to_earn(rule_set, "USD", frozenset())] == ["per_amount", "first"]
