"""The configuration schema: the one description of every key (bridge/config_schema.py).

What an owner relies on: a config round-trips through the schema unchanged, a typo or a wrong type anywhere is
refused with its dotted key and what was meant, an environment override's error names the variable, and the
README's reference table is the schema's (generated, so it cannot drift).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bridge.cli import cli
from bridge.config import Settings, load_settings, settings_from
from bridge.config_schema import dump, reference_markdown
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.yaml"
SHOP = {"id": "main", "url": "https://shop.example", "webhook_secret": "s" * 32, "currency": "usd"}
REWARD = {"id": "r", "title": "R", "type": "free_shipping", "points": 5}


def _leaves(node: Any, path: str = "") -> dict[str, Any]:
    """{dotted key: value} of every leaf (list items by index, empty mappings and lists as leaves)."""
    if isinstance(node, dict) and node:
        return {
            k: v for key, value in node.items() for k, v in _leaves(value, f"{path}.{key}" if path else key).items()
        }
    if isinstance(node, list) and node:
        return {k: v for i, value in enumerate(node) for k, v in _leaves(value, f"{path}[{i}]").items()}
    return {path: node}


def _again(settings: Settings) -> Settings:
    """Dump, then load what was dumped (as a mapping: no file, no environment)."""
    return dataclasses.replace(settings_from(dump(settings)), source=settings.source)


def test_every_key_of_the_example_round_trips() -> None:
    settings = load_settings(EXAMPLE, environ={})
    dumped = dump(settings)
    example_keys = set(_leaves(yaml.safe_load(EXAMPLE.read_text())))
    missing = {key for key in example_keys if key not in _leaves(dumped)}
    assert not missing, f"keys of config.example.yaml the dump lost: {sorted(missing)}"
    assert _again(settings) == settings
    # each key alone, too: the example's value, set on the defaults, loads back equal through a dump
    example = yaml.safe_load(EXAMPLE.read_text())
    for section in ("inbox", "sync", "admin", "webhooks"):
        one = settings_from({section: example[section]})
        assert _again(one) == one


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"shops": [{"id": "connected", "widget_secret": "w" * 32}]},  # completed by `bridge connect`
        {"shops": [{**SHOP, "minor_unit": 3, "allowed_origins": ["https://a.example", "http://localhost:8080"]}]},
        {"shops": [{**SHOP, "currency": "JPY"}]},  # minor unit from ISO 4217, not given
        {
            "program": {
                "timezone": "Europe/Berlin",
                "membership": {"policy": "closed", "qualifying_total": "25.50"},
                "earn": {
                    "tier_multipliers": {"gold": "1.25"},
                    "expiry": {"mode": "lot", "months": 6},
                    "rules": [
                        {"id": "base", "type": "per_amount", "points": "0.5", "per": 10, "include_tax": True},
                        {"id": "weekend", "type": "campaign", "multiplier": 2, "weekdays": ["sat", "sun"]},
                        {"id": "daily", "type": "cap", "period": "day", "max_points": 100, "rules": ["weekend"]},
                        {"id": "off", "type": "first_order", "points": 5, "enabled": False, "name": "Welcome"},
                    ],
                },
                "rewards": [
                    {**REWARD, "limit": {"count": 1, "period_days": 30}, "product_ids": [3, 4]},
                    {
                        "id": "v",
                        "title": "V",
                        "type": "variable",
                        "step": 10,
                        "max_points": 100,
                        "currency_per_point": 1,
                    },
                ],
                "referrals": {
                    "enabled": True,
                    "hold_days": 3,
                    "link_base": "https://club.example/",
                    "friend_reward": {"type": "percent", "value": 15},
                    "shops": {"main": {"landing_path": "/join"}},
                },
            }
        },
    ],
)
def test_settings_round_trip_through_the_schema(data: dict[str, Any]) -> None:
    settings = settings_from(data)
    assert _again(settings) == settings


TYPOS = [
    ({"program": {"earn": {"signup_point": 10}}}, "program.earn.signup_point", "signup_points"),
    ({"program": {"earn": {"points_per_currency": 2}}}, "program.earn.points_per_currency", "points_per_currency_unit"),
    ({"program": {"earn": {"paid_status": ["completed"]}}}, "program.earn.paid_status", "paid_statuses"),
    ({"program": {"earn": {"roundng": "up"}}}, "program.earn.roundng", "rounding"),
    ({"program": {"earn": {"expiry": {"warn_day": 3}}}}, "program.earn.expiry.warn_day", "warn_days"),
    ({"program": {"earn": {"tier_multiplier": {}}}}, "program.earn.tier_multiplier", "tier_multipliers"),
    ({"program": {"earn": {"rule": []}}}, "program.earn.rule", "rules"),
    ({"program": {"nam": "Club"}}, "program.nam", "name"),
    ({"program": {"time_zone": "UTC"}}, "program.time_zone", "timezone"),
    ({"program": {"reward": []}}, "program.reward", "rewards"),
    ({"program": {"referral": {}}}, "program.referral", "referrals"),
    ({"program": {"rewards": [{**REWARD, "titel": "x"}]}}, "program.rewards[0].titel", "title"),
    ({"program": {"rewards": [{**REWARD, "validity_day": 3}]}}, "program.rewards[0].validity_day", "validity_days"),
    (
        {"program": {"rewards": [{**REWARD, "limit": {"count": 1, "period": 3}}]}},
        "program.rewards[0].limit.period",
        "period_days",
    ),
    ({"program": {"redemption": {"code_lenght": 12}}}, "program.redemption.code_lenght", "code_length"),
    ({"program": {"redemption": {"rate_limit": 5}}}, "program.redemption.rate_limit", "rate_limit_per_minute"),
    ({"program": {"referrals": {"friend_reward": {"valeu": 5}}}}, "program.referrals.friend_reward.valeu", "value"),
    (
        {"program": {"referrals": {"shops": {"main": {"link_bas": "https://x"}}}}},
        "program.referrals.shops.main.link_bas",
        "link_base",
    ),
    ({"program": {"referrals": {"enable": True}}}, "program.referrals.enable", "enabled"),
    (
        {"program": {"earn": {"rules": [{"id": "m", "type": "multiplier", "multiplier": 2, "category": ["x"]}]}}},
        "program.earn.rules[0].category",
        "categories",
    ),
    (
        {"program": {"earn": {"rules": [{"id": "n", "type": "nth_order", "points": 1, "evry": 3}]}}},
        "program.earn.rules[0].evry",
        "every",
    ),
    (
        {"program": {"earn": {"rules": [{"id": "c", "type": "cap", "period": "day", "max_point": 5}]}}},
        "program.earn.rules[0].max_point",
        "max_points",
    ),
    (
        {"program": {"earn": {"rules": [{"id": "b", "type": "per_amount", "enable": False}]}}},
        "program.earn.rules[0].enable",
        "enabled",
    ),
    ({"shops": [{**SHOP, "webhok_secret": "x"}]}, "shops[0].webhok_secret", "webhook_secret"),
    ({"shops": [SHOP, {**SHOP, "id": "two", "curency": "EUR"}]}, "shops[1].curency", "currency"),
    ({"shops": [{**SHOP, "allowed_origin": []}]}, "shops[0].allowed_origin", "allowed_origins"),
    ({"shops": [{**SHOP, "widget_secrets": "w" * 32}]}, "shops[0].widget_secrets", "widget_secret"),
    ({"inbox": {"max_attempt": 3}}, "inbox.max_attempt", "max_attempts"),
    ({"sync": {"reconcile_interval": 60}}, "sync.reconcile_interval", "reconcile_interval_seconds"),
    ({"clock": {"offset": 5}}, "clock.offset", "offset_seconds"),
    ({"admin": {"apikeys": []}}, "admin.apikeys", "api_keys"),
    ({"redis": "embedded"}, "redis", "redis_url"),
    ({"log_levle": "INFO"}, "log_levle", "log_level"),
    ({"public_ulr": "https://x.example"}, "public_ulr", "public_url"),
]


@pytest.mark.parametrize(("data", "key", "meant"), TYPOS, ids=[t[1] for t in TYPOS])
def test_a_typo_is_refused_with_its_key_and_the_key_meant(data: dict[str, Any], key: str, meant: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(data)
    assert caught.value.key == key
    assert f"unknown key; did you mean {meant!r}?" in caught.value.reason


WRONG_TYPES = [
    ({"program": {"earn": {"signup_points": "lots"}}}, "program.earn.signup_points", "must be an integer"),
    ({"program": {"earn": {"signup_points": 2.5}}}, "program.earn.signup_points", "must be an integer"),
    ({"program": {"earn": {"hold_days": -1}}}, "program.earn.hold_days", "at least 0"),
    ({"program": {"earn": {"points_per_currency_unit": "much"}}}, "program.earn.points_per_currency_unit", "number"),
    ({"program": {"earn": {"paid_statuses": "completed"}}}, "program.earn.paid_statuses", "non-empty list of"),
    ({"program": {"earn": {"rounding": "sideways"}}}, "program.earn.rounding", "down, nearest, up"),
    ({"program": {"earn": {"expiry": "never"}}}, "program.earn.expiry", "must be a mapping"),
    ({"program": {"earn": {"tier_multipliers": {"gold": "x"}}}}, "program.earn.tier_multipliers.gold", "number"),
    ({"program": {"earn": {"rules": "all"}}}, "program.earn.rules", "must be a list"),
    ({"program": {"earn": {"rules": ["x"]}}}, "program.earn.rules[0]", "must be a mapping"),
    (
        {"program": {"earn": {"rules": [{"id": "f", "type": "first_order", "points": "5"}]}}},
        "program.earn.rules[f].points",
        "integer",
    ),
    (
        {"program": {"earn": {"rules": [{"id": "b", "type": "per_amount", "include_tax": "yes"}]}}},
        "program.earn.rules[b].include_tax",
        "true or false",
    ),
    (
        {
            "program": {
                "earn": {
                    "rules": [{"id": "a", "type": "signup", "points": 1}, {"id": "a", "type": "birthday", "points": 1}]
                }
            }
        },
        "program.earn.rules[1].id",
        "duplicate",
    ),
    ({"program": {"membership": {"policy": "vip"}}}, "program.membership.policy", "open, closed, invite_only"),
    ({"program": {"rewards": [{**REWARD, "points": "many"}]}}, "program.rewards[0].points", "integer"),
    ({"program": {"rewards": [{**REWARD, "enabled": "no"}]}}, "program.rewards[0].enabled", "true or false"),
    ({"program": {"rewards": [{**REWARD, "product_ids": [0]}]}}, "program.rewards[0].product_ids[0]", "at least 1"),
    ({"program": {"rewards": [{**REWARD, "title": None}]}}, "program.rewards[0].title", "must be a string"),
    (
        {"program": {"rewards": [{"id": "r", "type": "free_shipping", "points": 5}]}},
        "program.rewards[0].title",
        "required",
    ),
    ({"program": {"redemption": {"inline_wait_seconds": "soon"}}}, "program.redemption.inline_wait_seconds", "number"),
    ({"program": {"referrals": {"landing_path": "join"}}}, "program.referrals.landing_path", "starting with /"),
    (
        {"program": {"referrals": {"shops": {"main": {"link_base": "club.example"}}}}},
        "program.referrals.shops.main.link_base",
        "http",
    ),
    (
        {"program": {"referrals": {"friend_reward": {"type": "percent", "value": 150}}}},
        "program.referrals.friend_reward.value",
        "at most 100",
    ),
    ({"shops": {"id": "main"}}, "shops", "must be a list"),
    ({"shops": [{**SHOP, "minor_unit": -1}]}, "shops[0].minor_unit", "at least 0"),
    ({"shops": [{**SHOP, "demo": "yes"}]}, "shops[0].demo", "true or false"),
    ({"shops": [{**SHOP, "allowed_origins": ["https://a.example/path"]}]}, "shops[0].allowed_origins[0]", "origin"),
    ({"shops": [{key: value for key, value in SHOP.items() if key != "currency"}]}, "shops[0].currency", "string"),
    ({"inbox": {"batch_size": 0}}, "inbox.batch_size", "at least 1"),
    ({"webhooks": {"max_body_bytes": 10}}, "webhooks.max_body_bytes", "at least 1024"),
    ({"clock": {"offset_seconds": "1h"}}, "clock.offset_seconds", "within ten years"),
    ({"clock": {"offset_seconds": 10**10}}, "clock.offset_seconds", "within ten years"),
    ({"log_level": "loud"}, "log_level", "DEBUG, INFO, WARNING, ERROR"),
    ({"admin": {"api_keys": "one-key-of-sixteen-chars"}}, "admin.api_keys", "must be a list"),
    ({"trusted_proxies": True}, "trusted_proxies", "must be an integer"),
]


@pytest.mark.parametrize(("data", "key", "reason"), WRONG_TYPES, ids=[f"{t[1]}:{t[2]}" for t in WRONG_TYPES])
def test_a_wrong_type_or_value_is_refused_with_its_key_and_what_is_expected(
    data: dict[str, Any], key: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(data)
    assert (caught.value.source, caught.value.key) == ("<mapping>", key)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("variable", "value", "key", "reason"),
    [
        ("BRIDGE_PROGRAM__EARN__SIGNUP_POINT", "10", "program.earn.signup_point", "did you mean 'signup_points'?"),
        ("BRIDGE_PROGRAM__EARN__SIGNUP_POINTS", "lots", "program.earn.signup_points", "integer"),
        ("BRIDGE_SHOPS__0__URL", "shop.example", "shops[0].url", "http"),
        ("BRIDGE_SHOPS__0__WEBHOK_SECRET", "x", "shops[0].webhok_secret", "did you mean 'webhook_secret'?"),
        ("BRIDGE_PROGRAM__REDEMPTION__CODE_LENGTH", "4", "program.redemption.code_length", "at least 10"),
        ("BRIDGE_PROGRAM__EARN__EXPIRY__MODE", "sometimes", "program.earn.expiry.mode", "must be one of"),
        ("BRIDGE_ADMIN__API_KEYS", "[short]", "admin.api_keys[0]", "at least 16"),
        ("BRIDGE_INBOX", "5", "inbox", "must be a mapping"),
    ],
)
def test_an_environment_override_error_names_the_variable(
    tmp_path: Path, variable: str, value: str, key: str, reason: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"shops": [SHOP]}))
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={variable: value})
    assert caught.value.key == key and reason in caught.value.reason
    assert caught.value.source.startswith(f"{variable} (environment, over {path}")


def test_an_override_of_a_shop_the_file_does_not_have_adds_it() -> None:
    settings = settings_from({}, environ={"BRIDGE_SHOPS__0__ID": "main", "BRIDGE_SHOPS__0__WIDGET_SECRET": "w" * 32})
    assert [shop.id for shop in settings.shops] == ["main"]


def _readme_reference() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- config-reference:start")
    start = text.index("\n", start) + 1
    return text[start : text.index("<!-- config-reference:end -->")]


def test_the_readme_reference_table_is_the_schemas() -> None:
    assert _readme_reference() == reference_markdown(), (
        "README.md's configuration table differs from the schema's: "
        "paste `bridge config reference` between the config-reference markers"
    )


def test_the_reference_names_every_key_of_the_example() -> None:
    table = reference_markdown()
    for key in _leaves(yaml.safe_load(EXAMPLE.read_text())):
        generic = re.sub(r"\[\d+\]", "[]", re.sub(r"\[\d+\]$", "", key))  # shops[0].id: shops[].id
        assert f"`{generic}`" in table or f"`{generic}[]`" in table, key


def test_bridge_config_reference_prints_it() -> None:
    result = CliRunner().invoke(cli, ["config", "reference"])
    assert result.exit_code == 0 and result.output == reference_markdown()
