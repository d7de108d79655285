"""Configuration: defaults < config.yaml < BRIDGE_* environment; a bad value names the file, key and reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.config import load_settings
from bridge.errors import ConfigError

SHOP = {"id": "main", "url": "https://shop.example", "webhook_secret": "s" * 32, "currency": "usd"}


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_defaults_are_embedded_sqlite_and_redis(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, {"data_dir": str(tmp_path / "d")}), environ={})
    assert settings.database_url == f"sqlite:///{(tmp_path / 'd' / 'bridge.db').resolve()}"
    assert settings.uses_embedded_redis and settings.shops == ()
    assert settings.program.earn.points_per_currency_unit == Decimal(1)
    assert settings.program.earn.paid_statuses == ("processing", "completed")


def test_file_values_and_environment_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, {"shops": [SHOP], "program": {"earn": {"signup_points": 10}}})
    env = {
        "BRIDGE_REDIS_URL": "redis://10.0.0.5:6379/0",
        "BRIDGE_PROGRAM__EARN__SIGNUP_POINTS": "100",
        "BRIDGE_SHOPS__0__WEBHOOK_SECRET": "from-the-environment-0123456789",
        "BRIDGE_ADMIN__API_KEYS": "[key-one-0123456789, key-two-0123456789]",
        "UNRELATED": "ignored",
    }
    settings = load_settings(path, environ=env)
    assert settings.redis_url == "redis://10.0.0.5:6379/0"
    assert settings.program.earn.signup_points == 100
    assert settings.shops[0].webhook_secret == "from-the-environment-0123456789"
    assert settings.shops[0].currency == "USD" and settings.shops[0].minor_unit == 2
    assert settings.admin_api_keys == ("key-one-0123456789", "key-two-0123456789")


def test_config_path_from_the_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, {"log_level": "debug"})
    assert load_settings(environ={"BRIDGE_CONFIG": str(path)}).log_level == "DEBUG"
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(environ={"BRIDGE_CONFIG": str(tmp_path / "missing.yaml")})


def test_zero_decimal_currencies_take_their_minor_unit(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, {"shops": [{**SHOP, "currency": "IRR"}]}), environ={})
    assert settings.shops[0].minor_unit == 0


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        ({"colour": "blue"}, "colour", "unknown key"),
        ({"database_url": "mysql://x"}, "database_url", "sqlite:// or postgresql://"),
        ({"redis_url": "http://x"}, "redis_url", "redis://"),
        ({"admin": {"api_keys": ["short"]}}, "admin.api_keys[0]", "at least 16"),
        (
            {"program": {"earn": {"points_per_currency_unit": -1}}},
            "program.earn.points_per_currency_unit",
            "zero or more",
        ),
        ({"program": {"earn": {"paid_statuses": ["paid"]}}}, "program.earn.paid_statuses", "must be one of"),
        ({"program": {"earn": {"signup_points": "lots"}}}, "program.earn.signup_points", "integer"),
        ({"shops": [{**SHOP, "id": "Main Shop"}]}, "shops[0].id", "lower-case"),
        ({"shops": [SHOP, SHOP]}, "shops[1].id", "duplicate"),
        ({"shops": [{**SHOP, "url": "shop.example"}]}, "shops[0].url", "http"),
        ({"shops": [{**SHOP, "currency": "dollars"}]}, "shops[0].currency", "ISO 4217"),
        ({"shops": [{**SHOP, "widget_secret": "short"}]}, "shops[0].widget_secret", "32"),
        ({"secret_key": "short"}, "secret_key", "32"),
        ({"public_url": "loyalty.example"}, "public_url", "absolute"),
        ({"sync": {"reconcile_interval_seconds": -5}}, "sync.reconcile_interval_seconds", "at least 0"),
    ],
)
def test_a_bad_value_names_file_key_and_reason(tmp_path: Path, data: dict[str, Any], key: str, reason: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.source == str(path) and caught.value.key == key and reason in caught.value.reason


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("shops: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path, environ={})


def test_secrets_never_appear_in_repr(tmp_path: Path) -> None:
    shop = {**SHOP, "consumer_key": "ck_live_secret", "consumer_secret": "cs_live_secret"}
    settings = load_settings(_write(tmp_path, {"shops": [shop], "secret_key": "k" * 40}), environ={})
    text = repr(settings)
    for secret in ("ck_live_secret", "cs_live_secret", "s" * 32, "k" * 40):
        assert secret not in text


def test_the_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    settings = load_settings(example, environ={})
    assert settings.shops[0].id == "demo"


@pytest.mark.parametrize(
    ("data", "key", "suggestion"),
    [
        ({"program": {"earn": {"signup_point": 10}}}, "program.earn.signup_point", "signup_points"),
        ({"program": {"earn": {"hold_day": 7}}}, "program.earn.hold_day", "hold_days"),
        ({"program": {"redemtion": {}}}, "program.redemtion", "redemption"),
        ({"program": {"earn": {"expiry": {"month": 6}}}}, "program.earn.expiry.month", "months"),
        ({"program": {"membership": {"polcy": "open"}}}, "program.membership.polcy", "policy"),
        ({"program": {"referrals": {"referer_points": 5}}}, "program.referrals.referer_points", "referrer_points"),
        ({"inbox": {"batch_sise": 5}}, "inbox.batch_sise", "batch_size"),
        ({"sync": {"shop_timeout": 5}}, "sync.shop_timeout", "shop_timeout_seconds"),
        ({"admin": {"api_key": []}}, "admin.api_key", "api_keys"),
        ({"webhooks": {"max_body": 5000}}, "webhooks.max_body", "max_body_bytes"),
        ({"shops": [{**SHOP, "webhok_secret": "x"}]}, "shops[0].webhok_secret", "webhook_secret"),
        ({"datadir": "x"}, "datadir", "data_dir"),
        (
            {"program": {"rewards": [{"id": "r", "title": "R", "type": "free_shipping", "points": 5, "limt": {}}]}},
            "program.rewards[0].limt",
            "limit",
        ),
        (
            {"program": {"earn": {"rules": [{"id": "b", "type": "per_amount", "point": 2}]}}},
            "program.earn.rules[0].point",
            "points",
        ),
        (
            {"program": {"earn": {"rules": [{"id": "c", "type": "campaign", "multiplier": 2, "start": "2026-01-01"}]}}},
            "program.earn.rules[0].start",
            "starts",
        ),
    ],
)
def test_an_unknown_key_is_refused_at_every_level_with_the_closest_known_one(
    tmp_path: Path, data: dict[str, Any], key: str, suggestion: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, data), environ={})
    assert caught.value.key == key
    assert f"unknown key; did you mean {suggestion!r}?" in caught.value.reason


def test_a_custom_rule_type_keeps_its_own_options(tmp_path: Path) -> None:
    """Only built-in rule types list their options: a plugin's rule reads whatever it defines."""
    rule = {"id": "mine", "type": "custom", "entry_point": "nowhere", "option": 1}
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, {"program": {"earn": {"rules": [rule]}}}), environ={})
    assert caught.value.key == "program.earn.rules[0].option" and "'options'" in caught.value.reason


def test_a_bad_environment_override_names_the_variable(tmp_path: Path) -> None:
    path = _write(tmp_path, {"shops": [SHOP]})
    cases = {
        "BRIDGE_PROGRAM__EARN__SIGNUP_POINTS": ("lots", "program.earn.signup_points"),
        "BRIDGE_SHOPS__0__URL": ("shop.example", "shops[0].url"),
        "BRIDGE_PROGRAM__EARN__HOLD_DAY": ("3", "program.earn.hold_day"),
    }
    for name, (value, key) in cases.items():
        with pytest.raises(ConfigError) as caught:
            load_settings(path, environ={name: value})
        assert caught.value.key == key and name in str(caught.value)
    # A bad value in the file, with an unrelated override, still blames the file.
    bad = _write(tmp_path, {"shops": [{**SHOP, "url": "ftp://x"}]})
    with pytest.raises(ConfigError) as caught:
        load_settings(bad, environ={"BRIDGE_LOG_LEVEL": "debug"})
    assert caught.value.source == str(bad)


def test_a_relative_data_dir_is_read_from_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    path = clone / "config.yaml"
    path.write_text(yaml.safe_dump({"data_dir": "./data"}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(path, environ={})
    assert settings.data_dir == clone / "data"
    assert settings.database_url == f"sqlite:///{clone / 'data' / 'bridge.db'}"


def test_a_shop_entry_without_url_waits_for_its_connection(tmp_path: Path) -> None:
    # the README's entry for a shop set up with `bridge connect`: url, keys, secret and currency come from it
    entry = {"id": "main", "widget_secret": "w" * 32}
    shop = load_settings(_write(tmp_path, {"shops": [entry]}), environ={}).shops[0]
    assert (shop.url, shop.consumer_key, shop.webhook_secret, shop.currency) == ("", "", "", "")
    assert shop.widget_secret == "w" * 32 and shop.allowed_origins == ()
    with pytest.raises(ConfigError, match=r"shops\[0\]\.url: must start with http"):
        load_settings(_write(tmp_path, {"shops": [{**entry, "url": "shop.example"}]}), environ={})
    with pytest.raises(ConfigError, match=r"shops\[0\]\.minor_unit_given: unknown key"):  # internal, not a setting
        load_settings(_write(tmp_path, {"shops": [{**entry, "minor_unit_given": True}]}), environ={})
