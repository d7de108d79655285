"""The WordPress plugin signs tokens the bridge accepts: its PHP run for real (scripts/bootstrap installs php-cli)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bridge.config import Settings
from bridge.web.widget_auth import WidgetUnauthorized, verify_token
from tests.support.client import SHOP, WIDGET_SECRET

PLUGIN = Path(__file__).resolve().parents[2] / "widgets" / "wordpress" / "loyalty-bridge" / "loyalty-bridge.php"

# Just enough of WordPress for the plugin file to load outside it: hooks are no-ops, JSON as WordPress encodes it.
DRIVER = """<?php
define('ABSPATH', '/');
function add_action() {}
function add_filter() {}
function wp_json_encode($data) { return json_encode($data); }
require $argv[1];
echo loyalty_bridge_sign_token($argv[2], $argv[3], $argv[4], $argv[5], (int) $argv[6], (int) $argv[7]);
"""

php = shutil.which("php")


def _sign(tmp_path: Path, secret: str, ttl: int = 900, now: int | None = None, shop: str = SHOP) -> str:
    driver = tmp_path / "driver.php"
    driver.write_text(DRIVER)
    issued = int(time.time()) if now is None else now
    args = [str(driver), str(PLUGIN), shop, "42", "dana@example.test", secret, str(ttl), str(issued)]
    assert php is not None, "php is missing: scripts/bootstrap --dev installs php-cli"
    return subprocess.run([php, *args], check=True, capture_output=True, text=True, timeout=30).stdout


@pytest.fixture
def settings(make_settings) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings()


def test_the_plugin_file_is_valid_php() -> None:
    assert php is not None, "php is missing: scripts/bootstrap --dev installs php-cli"
    result = subprocess.run([php, "-l", str(PLUGIN)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_token_signed_in_php_names_the_customer(settings: Settings, tmp_path: Path) -> None:
    shopper = verify_token(_sign(tmp_path, WIDGET_SECRET), settings.shop)
    assert (shopper.shop_id, shopper.customer_id, shopper.email) == (SHOP, "42", "dana@example.test")


def test_php_tokens_with_the_wrong_secret_or_a_long_life_are_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(WidgetUnauthorized) as forged:
        verify_token(_sign(tmp_path, "not-the-widget-secret-0123456789abcdef"), settings.shop)
    assert forged.value.code == "token_invalid"
    # The plugin caps the lifetime at one hour, so even a mistaken TTL yields a token the bridge accepts.
    capped = verify_token(_sign(tmp_path, WIDGET_SECRET, ttl=86400), settings.shop)
    assert capped.customer_id == "42"
    with pytest.raises(WidgetUnauthorized) as expired:
        verify_token(_sign(tmp_path, WIDGET_SECRET, now=int(time.time()) - 2000), settings.shop)
    assert expired.value.code == "token_expired"
