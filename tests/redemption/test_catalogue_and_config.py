"""Pure parts: codes, pricing, the catalogue order, and the configuration's refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge.config import RewardSettings, load_settings, settings_from
from bridge.errors import ConfigError
from bridge.redemption import catalogue
from bridge.redemption.codes import ALPHABET, new_code
from bridge.redemption.model import InvalidPoints, RewardNotFound


def test_codes_are_long_lower_case_and_never_ambiguous() -> None:
    codes = {new_code("club-", 12) for _ in range(2000)}
    assert len(codes) == 2000
    assert all(c.startswith("club-") and len(c) == 17 and set(c[5:]) <= set(ALPHABET) for c in codes)
    assert not set("0o1li") & set(ALPHABET) and ALPHABET.lower() == ALPHABET


VARIABLE = RewardSettings(
    id="v",
    title="Points as money",
    type="variable",
    step=100,
    min_points=200,
    max_points=1000,
    currency_per_point=Decimal("0.0125"),
)


def test_variable_prices_round_down_to_the_currency_unit() -> None:
    assert catalogue.price(VARIABLE, 300, 2).value == Decimal("3.75")
    assert catalogue.price(VARIABLE, 300, 0).value == Decimal("3")
    for bad in (None, 100, 250, 1100):
        with pytest.raises(InvalidPoints):
            catalogue.price(VARIABLE, bad, 2)


def test_disabled_and_unknown_rewards_are_not_found() -> None:
    off = RewardSettings(id="off", title="Off", type="fixed_cart", points=10, value=Decimal(1), enabled=False)
    with pytest.raises(RewardNotFound):
        catalogue.find((off,), "off")
    with pytest.raises(RewardNotFound):
        catalogue.find((off,), "nope")
    assert catalogue.for_member((off, VARIABLE), 0, 2)[0]["points_needed"] == 200


def _load(rewards: Any = None, **redemption: Any) -> Any:
    program: dict[str, Any] = {"redemption": redemption}
    if rewards is not None:
        program["rewards"] = rewards
    return settings_from({"program": program})


@pytest.mark.parametrize(
    ("rewards", "key"),
    [
        ([{"id": "a", "title": "A", "type": "fixed_cart", "points": 100}], "program.rewards[0].value"),
        ([{"id": "a", "title": "A", "type": "percent", "points": 100, "value": 150}], "program.rewards[0].value"),
        ([{"id": "a", "title": "A", "type": "cash", "points": 1}], "program.rewards[0].type"),
        ([{"id": "A B", "title": "A", "type": "free_shipping", "points": 1}], "program.rewards[0].id"),
        ([{"id": "a", "title": "A", "type": "free_shipping", "points": 0}], "program.rewards[0].points"),
        (
            [{"id": "a", "title": "A", "type": "free_shipping", "points": 1, "colour": "red"}],
            "program.rewards[0].colour",
        ),
        (
            [
                {
                    "id": "a",
                    "title": "A",
                    "type": "variable",
                    "step": 100,
                    "min_points": 150,
                    "max_points": 500,
                    "currency_per_point": "0.01",
                }
            ],
            "program.rewards[0].min_points",
        ),
        (
            [
                {"id": "a", "title": "A", "type": "free_shipping", "points": 1},
                {"id": "a", "title": "B", "type": "free_shipping", "points": 2},
            ],
            "program.rewards[1].id",
        ),
        (
            [{"id": "a", "title": "A", "type": "free_shipping", "points": 1, "limit": {"count": 0, "period_days": 1}}],
            "program.rewards[0].limit.count",
        ),
    ],
)
def test_bad_rewards_stop_start_up_naming_the_key(
    rewards: Any, key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        _load(rewards)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("redemption", "key"),
    [
        ({"code_length": 8}, "program.redemption.code_length"),
        ({"code_prefix": "Club!"}, "program.redemption.code_prefix"),
        ({"refund_returns_points": "yes"}, "program.redemption.refund_returns_points"),
        ({"inline_wait": 3}, "program.redemption.inline_wait"),
    ],
)
def test_bad_redemption_settings_stop_start_up(
    redemption: Any, key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        _load(None, **redemption)
    assert caught.value.key == key


def test_defaults_and_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, environ={"BRIDGE_PROGRAM__REDEMPTION__REFUND_RETURNS_POINTS": "true"})
    r = settings.program.redemption
    assert settings.program.rewards == ()
    assert (r.code_length, r.inline_wait_seconds, r.return_points_on_expiry, r.refund_returns_points) == (
        12,
        3.0,
        True,
        True,
    )
