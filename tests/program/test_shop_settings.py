"""Shop settings connect does not manage — the widget secret and the allowed origins — edited live through the admin
API: validated by the configuration's schema, stored, audited, followed by every process, never shown (issue 14)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bridge.storage import db
from bridge.storage import tables as t
from bridge.web.widget_auth import issue_token
from tests.program.test_change_signal import wait_until
from tests.support import woo
from tests.support.client import SHOP, WIDGET_SECRET, Bridge

SHOP_ORIGIN = "http://127.0.0.1:8080"  # the test shop's url: its default origin
NEW_ORIGIN = "https://shop.example"
NEW_SECRET = "rotated-widget-secret-0123456789abcdef-XYZ"


def settings_of(bridge: Bridge) -> dict[str, Any]:
    response = bridge.admin("GET", f"/admin/v1/shops/{SHOP}/settings")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def patch(bridge: Bridge, body: dict[str, Any]) -> Any:
    return bridge.admin("PATCH", f"/admin/v1/shops/{SHOP}/settings", json=body)


def rewards_status(bridge: Bridge, secret: str, origin: str = SHOP_ORIGIN) -> int:
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    from dataclasses import replace

    token = issue_token(replace(shop, widget_secret=secret), "2", woo.CAROL, now=time.time())
    headers = {"Authorization": f"Bearer {token}", "Origin": origin, "Idempotency-Key": "k-1"}
    # A write: a refused origin is 403 before anything happens; a bad token is 401.
    response = bridge.client.post("/widget/v1/redemptions", json={"reward_id": "nope"}, headers=headers)
    return int(response.status_code)


def test_a_rotated_widget_secret_takes_effect_in_every_process_without_a_restart(
    make_bridge: Callable[..., Bridge],
) -> None:
    web, other = make_bridge(), make_bridge()  # two processes over one database and one Redis
    other.rt.follow_changes()
    assert wait_until(lambda: other.rt._listener is not None and other.rt._listener.subscribed.is_set())
    assert rewards_status(other, WIDGET_SECRET) != 401

    answer = patch(web, {"widget_secret": NEW_SECRET})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["widget_secret"] == {"set": True, "source": "database"}
    assert NEW_SECRET not in answer.get_data(as_text=True)

    assert wait_until(lambda: rewards_status(other, WIDGET_SECRET) == 401)  # the old secret no longer signs
    assert rewards_status(other, NEW_SECRET) not in (401, 403)

    with db.read(web.rt.engine) as conn:
        stored = conn.execute(select(t.shop_setting.c.widget_secret)).scalar_one()
        audit = conn.execute(select(t.audit_log).where(t.audit_log.c.action == "shop.settings_changed")).mappings()
        [entry] = list(audit)
    assert NEW_SECRET not in stored  # sealed at rest
    assert NEW_SECRET not in str(entry["details"]) and entry["actor"]

    back = patch(web, {"widget_secret": None})  # back to config.yaml's
    assert back.get_json()["widget_secret"] == {"set": True, "source": "config"}
    assert wait_until(lambda: rewards_status(other, WIDGET_SECRET) != 401)


def test_allowed_origins_follow_an_edit(bridge: Bridge) -> None:
    assert rewards_status(bridge, WIDGET_SECRET, NEW_ORIGIN) == 403
    answer = patch(bridge, {"allowed_origins": [SHOP_ORIGIN, NEW_ORIGIN + "/"]})
    assert answer.get_json()["allowed_origins"] == {"value": [SHOP_ORIGIN, NEW_ORIGIN], "source": "database"}
    assert rewards_status(bridge, WIDGET_SECRET, NEW_ORIGIN) == 409  # reached the view: not enough points
    assert settings_of(bridge)["updated_by"]

    off = patch(bridge, {"widget_secret": ""})  # as in config.yaml: the shop's widget API is off
    assert off.get_json()["widget_secret"] == {"set": False, "source": "database"}


def test_bad_settings_are_422_with_the_key_and_change_nothing(bridge: Bridge) -> None:
    cases = [
        ({"widget_secret": "short"}, "widget_secret", "at least 32"),
        ({"allowed_origins": ["https://shop.example/path"]}, "allowed_origins[0]", "must be an origin"),
        ({"allowed_origins": "https://shop.example"}, "allowed_origins", "list"),
        ({"widget_secrett": "x" * 40}, "widget_secrett", "widget_secret"),
    ]
    for body, key, why in cases:
        answer = patch(bridge, body)
        assert answer.status_code == 422, (body, answer.get_data(as_text=True))
        fields = answer.get_json()["error"]["fields"]
        assert key in fields and why in fields[key][0], (body, fields)
    assert settings_of(bridge)["widget_secret"]["source"] == "config"
    assert bridge.admin("PATCH", "/admin/v1/shops/nope/settings", json={}).status_code == 404
    assert bridge.client.patch(f"/admin/v1/shops/{SHOP}/settings", json={}).status_code == 401
