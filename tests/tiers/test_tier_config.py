"""``program.tiers`` is a contract: its shape loads, dumps back to the same document, refuses what cannot be meant,
and the old ``earn.tier_multipliers`` still loads alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge.errors import ConfigError
from bridge.program import document
from bridge.rules import build_rules

TIERS: dict[str, Any] = {
    "metric": "spend",
    "window": {"rolling_months": 12},
    "grace_days": 30,
    "warn_days": 7,
    "downgrade": "to_qualified",
    "levels": [
        {"id": "silver", "name": "Silver", "threshold": 100},
        {
            "id": "gold",
            "name": {"en": "Gold", "fa": "طلایی"},
            "threshold": "500.50",
            "multiplier": 1.5,
            "entry_points": 200,
            "perks": [{"id": "ship", "type": "free_shipping", "period": "month"}],
        },
    ],
}


def test_the_tiers_document_round_trips_and_feeds_the_multiplier() -> None:
    program = document.parse({"tiers": TIERS})
    assert program.tiers is not None
    assert program.tiers.window == "rolling" and program.tiers.rolling_months == 12
    gold = program.tiers.levels[1]
    assert gold.name.get("fa") == "طلایی" and gold.threshold == Decimal("500.50")  # type: ignore[attr-defined]
    dumped = document.dump(program)
    assert dumped["tiers"]["window"] == {"rolling_months": 12}
    assert dumped["tiers"]["levels"][1]["name"] == {"en": "Gold", "fa": "طلایی"}
    assert document.parse(dumped) == program
    assert build_rules(program).tier_multipliers == {"gold": Decimal("1.5")}
    assert document.dump(document.parse({}))["tiers"] is None


@pytest.mark.parametrize(
    ("tiers", "key", "reason"),
    [
        ({"levels": []}, "program.tiers.levels", "at least one level"),
        ({"metric": "visits"}, "program.tiers.metric", "must be one of points, spend, orders"),
        ({"window": "weekly"}, "program.tiers.window", "must be lifetime, calendar_year or {rolling_months: N}"),
        ({"window": {"rolling_months": 0}}, "program.tiers.window", "must be lifetime"),
        ({"downgrade": "all"}, "program.tiers.downgrade", "must be one of one_level, to_qualified"),
        ({"grace_days": -1}, "program.tiers.grace_days", "must be at least 0"),
    ],
)
def test_bad_tiers_name_the_key(tiers: dict[str, Any], key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as err:
        document.parse({"tiers": {**TIERS, **tiers}})
    assert err.value.key == key and err.value.reason.startswith(reason)


def test_thresholds_must_ascend_and_ids_differ() -> None:
    levels = [{"id": "a", "name": "A", "threshold": 5}, {"id": "b", "name": "B", "threshold": 5}]
    with pytest.raises(ConfigError) as err:
        document.parse({"tiers": {"levels": levels}})
    assert err.value.key == "program.tiers.levels[1].threshold"
    with pytest.raises(ConfigError) as err:
        document.parse({"tiers": {"levels": [levels[0], {**levels[0], "threshold": 6}]}})
    assert err.value.reason == "duplicate tier id 'a'"


def test_a_reward_names_only_known_tiers() -> None:
    reward = {"id": "r", "title": "R", "type": "free_shipping", "points": 10, "tiers": ["diamond"]}
    with pytest.raises(ConfigError) as err:
        document.parse({"tiers": TIERS, "rewards": [reward]})
    assert err.value.key == "program.rewards[0].tiers"


def test_old_tier_multipliers_load_alone_and_are_refused_beside_tiers() -> None:
    old = document.parse({"earn": {"tier_multipliers": {"vip": 2}}})
    assert build_rules(old).tier_multipliers == {"vip": Decimal(2)}
    with pytest.raises(ConfigError) as err:
        document.parse({"earn": {"tier_multipliers": {"gold": 2}}, "tiers": TIERS})
    assert err.value.key == "program.earn.tier_multipliers"
    assert "tiers.levels[].multiplier" in err.value.reason
