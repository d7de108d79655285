"""`bridge connect` / `disconnect` / status against the model of the shop's REST API."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bridge.cli import cli
from bridge.connectors.woocommerce.webhooks import signature_for
from bridge.storage import db
from bridge.storage import tables as t
from bridge.sync.connect import ConnectError, disconnect
from bridge.sync.webhook_plan import CORE_TOPICS
from tests.support import woo
from tests.support.client import ADMIN_KEY, WIDGET_SECRET
from tests.support.woo_rest import CONSUMER_KEY, CONSUMER_SECRET, SHOP_URL
from tests.sync.conftest import CONNECTED, PUBLIC_URL, Synced

DELIVERY_URL = f"{PUBLIC_URL}/webhooks/woocommerce/{CONNECTED}"


def _shop_owner_webhook(synced: Synced) -> int:
    """A webhook the shop owner made for something else: the bridge must never touch it."""
    synced.shop.webhooks[7] = {
        "id": 7,
        "name": "ERP sync",
        "status": "active",
        "topic": "order.created",
        "delivery_url": "https://erp.example.test/hook",
    }
    return 7


def test_connect_registers_one_active_webhook_per_topic_at_the_public_url(synced: Synced) -> None:
    report = synced.connect()

    hooks = synced.shop.webhooks.values()
    assert sorted(w["topic"] for w in hooks) == sorted(CORE_TOPICS)
    assert all(w["status"] == "active" and w["delivery_url"] == DELIVERY_URL for w in hooks)
    assert report.created == list(CORE_TOPICS) and report.home_url == synced.shop.base_url
    secrets = set(synced.shop.webhook_secrets.values())
    assert len(secrets) == 1 and len(secrets.pop()) >= 32  # one generated secret, set by us in every webhook


def test_connecting_twice_updates_the_same_webhooks_and_keeps_the_secret(synced: Synced) -> None:
    other = _shop_owner_webhook(synced)
    synced.connect()
    ids = {w["id"] for w in synced.shop.webhooks.values()}
    secret = synced.shop.webhook_secrets[max(ids)]

    report = synced.connect(public_url="https://new-host.example.test")

    assert {w["id"] for w in synced.shop.webhooks.values()} == ids  # updated in place, none added
    assert report.updated == list(CORE_TOPICS) and not report.created
    assert synced.shop.webhook_secrets[max(ids)] == secret
    ours = [w for w in synced.shop.webhooks.values() if w["id"] != other]
    assert {w["delivery_url"] for w in ours} == {"https://new-host.example.test/webhooks/woocommerce/main"}
    assert synced.shop.webhooks[other]["delivery_url"] == "https://erp.example.test/hook"  # never touched


def test_connect_finds_its_own_webhooks_again_by_name_when_the_database_lost_them(synced: Synced) -> None:
    synced.connect()
    with db.write(synced.rt.engine) as conn:
        conn.execute(t.shop_webhook.delete())
    synced.connect()
    assert len(synced.shop.webhooks) == len(CORE_TOPICS)


def test_rotating_the_secret_updates_every_webhook(synced: Synced) -> None:
    synced.connect()
    before = set(synced.shop.webhook_secrets.values())
    synced.connect(rotate_secret=True)
    after = set(synced.shop.webhook_secrets.values())
    assert len(after) == 1 and after != before


def test_credentials_are_stored_encrypted(synced: Synced) -> None:
    synced.connect()
    secret = next(iter(synced.shop.webhook_secrets.values()))
    with db.read(synced.rt.engine) as conn:
        row = conn.execute(select(t.shop_connection)).mappings().one()
    stored = json.dumps({k: str(v) for k, v in row.items()})
    for plain in (CONSUMER_KEY, CONSUMER_SECRET, secret):
        assert plain not in stored


def test_a_delivery_signed_with_the_generated_secret_is_accepted(synced: Synced) -> None:
    synced.connect()
    secret = next(iter(synced.shop.webhook_secrets.values()))
    body = woo.raw_body("order.updated.completed")
    headers = {**woo.headers_of("order.updated.completed"), "X-WC-Webhook-Signature": signature_for(body, secret)}

    accepted = synced.bridge.post_webhook(body, headers, shop=CONNECTED)
    forged = synced.bridge.post_webhook(body, woo.headers_of("order.updated.completed"), shop=CONNECTED)

    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert forged.status_code == 401  # signed with the old test secret, not the shop's
    synced.bridge.drain()
    assert synced.balance_of(woo.CAROL) == 35


def test_a_web_process_started_before_connect_learns_the_shop(synced: Synced, make_bridge: Any) -> None:
    other_process = make_bridge()  # built before the shop was connected
    assert other_process.post_webhook(b"webhook_id=1", {"Content-Type": "application/x-www-form-urlencoded"},
                                      shop=CONNECTED).status_code == 404  # fmt: skip
    synced.connect()
    ping = other_process.post_webhook(b"webhook_id=1", {"Content-Type": "application/x-www-form-urlencoded"},
                                      shop=CONNECTED)  # fmt: skip
    assert ping.status_code == 200


README_ENTRY = {"id": CONNECTED, "widget_secret": WIDGET_SECRET}
"""The README's `shops:` entry for a connected shop: only what `bridge connect` does not manage."""


def _signed(secret: str, name: str = "order.updated.completed") -> tuple[bytes, dict[str, str]]:
    body = woo.raw_body(name)
    return body, {**woo.headers_of(name), "X-WC-Webhook-Signature": signature_for(body, secret)}


def test_a_readme_entry_is_completed_by_connect_in_a_process_started_before(make_bridge: Any, woo_shop: Any) -> None:
    # given a web process running with the README's entry (no url, keys or secret) and another that connects
    running = make_bridge(shops=[README_ENTRY])
    connecting = Synced(make_bridge(shops=[README_ENTRY]), woo_shop)
    early = running.post_webhook(*_signed("not-the-shop-secret-0123456789abcdef"), shop=CONNECTED)
    assert early.status_code == 401

    # when the shop is connected, its first delivery to the running process is accepted (no restart)
    connecting.connect()
    secret = next(iter(woo_shop.webhook_secrets.values()))
    response = running.post_webhook(*_signed(secret), shop=CONNECTED)

    assert response.status_code == 200, response.get_data(as_text=True)
    shop = running.rt.settings.shop(CONNECTED)
    assert (shop.url, shop.consumer_key, shop.currency, shop.minor_unit) == (SHOP_URL, CONSUMER_KEY, "USD", 2)
    assert shop.widget_secret == WIDGET_SECRET  # what the config entry adds stays
    assert shop.allowed_origins == (SHOP_URL,)
    running.drain()
    assert running.available(woo.CAROL) == 35


def test_a_rotated_secret_is_picked_up_by_a_running_process_at_the_first_delivery(
    synced: Synced, make_bridge: Any
) -> None:
    synced.connect()
    running = make_bridge()
    assert running.rt.settings.shop(CONNECTED) is not None
    synced.connect(rotate_secret=True)
    secret = next(iter(synced.shop.webhook_secrets.values()))
    assert running.post_webhook(*_signed(secret), shop=CONNECTED).status_code == 200


def test_reconnecting_rebuilds_the_product_category_cache_with_the_new_keys(synced: Synced) -> None:
    synced.connect()
    before = synced.rt.product_categories(CONNECTED)
    synced.connect(rotate_secret=True)
    assert synced.rt.product_categories(CONNECTED) is not before


def test_wrong_keys_are_refused_with_a_hint_and_nothing_is_stored(synced: Synced) -> None:
    with pytest.raises(ConnectError, match=r"refused the keys.*home URL"):
        synced.connect(consumer_secret="cs_wrong")
    with db.read(synced.rt.engine) as conn:
        assert conn.execute(select(t.shop_connection)).first() is None
    assert not synced.shop.webhooks


def test_https_wrong_keys_name_the_keys(synced: Synced) -> None:
    synced.shop.base_url = "https://shop.example.test"
    synced.shop.install()
    with pytest.raises(ConnectError, match="check the consumer key and secret"):
        synced.connect(url="https://shop.example.test", consumer_secret="cs_wrong")


def test_read_only_keys_are_refused_before_anything_changes(synced: Synced) -> None:
    synced.shop.permissions = "read"
    with pytest.raises(ConnectError, match=r"read-only.*nothing was changed"):
        synced.connect()
    assert not synced.shop.webhooks


def test_a_url_that_is_not_the_shops_home_url_is_refused(synced: Synced) -> None:
    synced.shop.home_url = "http://127.0.0.1:8080/shop"
    with pytest.raises(ConnectError, match=re.escape("home URL is http://127.0.0.1:8080/shop")):
        synced.connect()
    assert not synced.shop.webhooks


def test_a_plain_http_public_url_is_a_warning(synced: Synced) -> None:
    report = synced.connect(public_url="http://127.0.0.1:8000")
    assert any("not https" in w for w in report.warnings)


def test_disconnect_removes_exactly_what_connect_made(synced: Synced) -> None:
    other = _shop_owner_webhook(synced)
    synced.connect()
    removed = disconnect(synced.rt, CONNECTED)
    assert sorted(removed) == sorted(CORE_TOPICS)
    assert list(synced.shop.webhooks) == [other]
    body = woo.raw_body("order.updated.completed")
    assert synced.bridge.post_webhook(body, woo.headers_of("order.updated.completed"), CONNECTED).status_code == 404
    with pytest.raises(ConnectError, match="not connected"):
        disconnect(synced.rt, CONNECTED)


def test_status_shows_webhooks_as_the_shop_sees_them(synced: Synced) -> None:
    synced.connect()
    disabled = min(synced.shop.webhooks)
    synced.shop.webhooks[disabled]["status"] = "disabled"
    assert synced.bridge.client.get(f"/admin/v1/shops/{CONNECTED}/status").status_code == 401

    response = synced.bridge.admin("GET", f"/admin/v1/shops/{CONNECTED}/status")

    assert response.status_code == 200
    status = response.get_json()
    assert status["connected"] and status["keys"] == {"present": True, "valid": True, "error": None}
    by_id = {int(w["id"]): w["status"] for w in status["webhooks"]}
    assert by_id[disabled] == "disabled" and list(by_id.values()).count("active") == len(CORE_TOPICS) - 1
    assert status["inbox"]["pending"] == 0 and status["reconcile"] is None
    text = json.dumps(status)
    assert CONSUMER_SECRET not in text and CONSUMER_KEY not in text
    assert synced.bridge.admin("GET", "/admin/v1/shops/nope/status").status_code == 404


def test_status_reports_refused_keys(synced: Synced) -> None:
    synced.connect()
    synced.shop.consumer_secret = "revoked"  # the owner revoked the key in the shop
    status = synced.bridge.admin("GET", f"/admin/v1/shops/{CONNECTED}/status").get_json()
    assert status["keys"]["valid"] is False


def test_cli_connect_status_disconnect(synced: Synced, tmp_path: Path) -> None:
    config = str(tmp_path / "config.yaml")
    runner = CliRunner()
    args = ["--config", config, "connect", "woocommerce", "--shop", CONNECTED, "--url", synced.shop.base_url,
            "--public-url", PUBLIC_URL]  # fmt: skip
    env = {"WC_CONSUMER_KEY": CONSUMER_KEY, "WC_CONSUMER_SECRET": CONSUMER_SECRET}

    connected = runner.invoke(cli, args, env=env, obj={})
    status = runner.invoke(cli, ["--config", config, "status", "--shop", CONNECTED], obj={})
    gone = runner.invoke(cli, ["--config", config, "disconnect", "--shop", CONNECTED], obj={})
    refused = runner.invoke(cli, args, env={**env, "WC_CONSUMER_SECRET": "wrong"}, obj={})

    assert connected.exit_code == 0, connected.output
    assert "webhooks created: order.created" in connected.output
    assert status.exit_code == 0 and "keys: valid" in status.output and "order.updated" in status.output
    assert gone.exit_code == 0 and not synced.shop.webhooks
    assert refused.exit_code == 1 and "refused the keys" in refused.output
    for result in (connected, status, gone, refused):
        assert CONSUMER_SECRET not in result.output and "wrong" not in result.output.replace("wrong keys", "")
    assert ADMIN_KEY not in status.output


def test_category_rules_subscribe_to_product_updates(make_bridge: Any, woo_shop: Any, tmp_path: Path) -> None:
    rules = [{"id": "coffee", "type": "multiplier", "multiplier": 2, "categories": ["coffee"]}]
    make_bridge(program={"earn": {"rules": rules}})
    args = ["--config", str(tmp_path / "config.yaml"), "connect", "woocommerce", "--shop", CONNECTED,
            "--url", woo_shop.base_url, "--public-url", PUBLIC_URL]  # fmt: skip
    env = {"WC_CONSUMER_KEY": CONSUMER_KEY, "WC_CONSUMER_SECRET": CONSUMER_SECRET}
    result = CliRunner().invoke(cli, args, env=env, obj={})
    assert result.exit_code == 0, result.output
    assert sorted(w["topic"] for w in woo_shop.webhooks.values()) == sorted((*CORE_TOPICS, "product.updated"))
