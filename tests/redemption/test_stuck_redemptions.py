"""A redemption always ends: an unreachable shop, a shop that cannot make coupons, an owner ending a stuck one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
import responses
from click.testing import CliRunner
from requests import PreparedRequest
from sqlalchemy import select

from bridge.cli import cli
from bridge.connectors.woocommerce.api import REDEMPTION_META_KEY
from bridge.redemption.jobs import run_orphan_checks, run_recover
from bridge.redemption.readiness import NO_API_ACCESS
from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from tests.redemption.conftest import Club, club_config, seed_member, token_for
from tests.support import woo
from tests.support.client import SHOP, WIDGET_SECRET, Bridge
from tests.support.woo_rest import SHOP_URL, FakeWooShop, Reply

GIVE_UP_SECONDS = 3600
DEMO_SHOP = {
    "id": SHOP,
    "url": SHOP_URL,
    "webhook_secret": woo.SECRET,
    "widget_secret": WIDGET_SECRET,
    "currency": "USD",
}
"""Like the demo's shop: it earns (webhooks), but has no REST API keys to make coupons with."""


class UnreachableWooShop(FakeWooShop):
    """A shop whose host refuses connections while ``down``: no request reaches it, no answer comes back."""

    down = False

    def _dispatch(self, request: PreparedRequest) -> Reply:
        if self.down:
            raise requests.ConnectionError("[Errno 111] Connection refused (scripted)")
        return super()._dispatch(request)


@pytest.fixture
def make_down_club(make_bridge: Callable[..., Bridge]) -> Iterator[Callable[..., Club]]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        shop = UnreachableWooShop(rsps).install()

        def build(**redemption: Any) -> Club:
            bridge = make_bridge(**club_config(**{"inline_wait_seconds": 0.1, **redemption}))
            return Club(bridge, shop, seed_member(bridge, 2000), token_for(bridge))

        yield build


def _as_if_reserved_ago(club: Club, redemption_id: int, seconds: float) -> None:
    """Move the redemption back in time (reserved ``seconds`` ago, its next attempt due now)."""
    now = utcnow()
    with db.write(club.bridge.rt.engine) as conn:
        conn.execute(
            t.redemption.update()
            .where(t.redemption.c.id == redemption_id)
            .values(created_at=now - timedelta(seconds=seconds), next_attempt_at=now - timedelta(seconds=1))
        )


def _audit(club: Club) -> list[Any]:
    a = t.audit_log.c
    with db.read(club.bridge.rt.engine) as conn:
        return list(conn.execute(select(a.action, a.details).order_by(a.id)))


def test_an_unreachable_shop_holds_the_points_visibly_then_gives_up_once_it_answers(make_down_club: Any) -> None:
    club = make_down_club(give_up_after_seconds=GIVE_UP_SECONDS)
    club.shop.down = True

    # the shop refuses connections: the answer is 202, the points are set aside and the shopper is told so
    response = club.redeem("five-off")
    assert response.status_code == 202
    red = response.get_json()["redemption"]
    assert club.available() == 1500
    club.bridge.drain()  # the finishing job: still unreachable
    polled = club.widget("GET", f"/widget/v1/redemptions/{red['id']}").get_json()["redemption"]
    assert polled["state"] == "reserved" and polled["code"] is None
    assert "not answering" in polled["message"] and "500 points are set aside" in polled["message"]
    panel = club.widget("GET", "/widget/v1/panel").get_json()
    assert panel["member"]["available"] == 1500

    # past the give-up time, with the shop still down, it ends all the same: the points come back at once
    _as_if_reserved_ago(club, red["id"], GIVE_UP_SECONDS + 60)
    run_recover(club.bridge.rt, utcnow())
    ended = club.redemption(red["id"])
    assert ended.state == "failed" and "could not be asked" in (ended.failure_reason or "")
    assert club.available() == 2000 and ended.orphan_check_at is not None
    assert run_orphan_checks(club.bridge.rt, utcnow()) == {"later": 1}  # still down: asked again later

    # when the shop answers again, the code is looked up once; no coupon of ours: nothing more to do
    club.shop.down = False
    club.shop.calls.clear()
    assert run_orphan_checks(club.bridge.rt, utcnow() + timedelta(days=1)) == {"clear": 1}
    assert club.shop.calls == [("GET", "coupons")] and club.shop.coupons == {}
    assert club.redemption(red["id"]).orphan_check_at is None
    assert run_orphan_checks(club.bridge.rt, utcnow() + timedelta(days=2)) == {}
    assert club.available() == 2000


def test_a_coupon_whose_answer_was_lost_is_deleted_once_the_given_up_shop_answers(make_down_club: Any) -> None:
    club = make_down_club(give_up_after_seconds=GIVE_UP_SECONDS)
    club.shop.fail_next("POST", "coupons", lose_response=True)  # created in the shop, the answer lost
    red = club.redeem("five-off").get_json()["redemption"]
    assert red["state"] == "reserved" and len(club.shop.coupons) == 1
    club.shop.down = True
    _as_if_reserved_ago(club, red["id"], GIVE_UP_SECONDS + 60)
    run_recover(club.bridge.rt, utcnow())
    assert club.redemption(red["id"]).state == "failed" and club.available() == 2000

    club.shop.down = False
    assert run_orphan_checks(club.bridge.rt, utcnow()) == {"deleted": 1}
    assert club.shop.coupons == {}  # no coupon left that the returned points could be spent twice with
    assert club.redemption(red["id"]).state == "failed" and club.available() == 2000


def test_past_the_give_up_time_a_coupon_the_shop_did_create_is_adopted(make_down_club: Any) -> None:
    club = make_down_club(give_up_after_seconds=GIVE_UP_SECONDS)
    club.shop.down = True
    red = club.redeem("five-off").get_json()["redemption"]
    code = club.redemption(red["id"]).code
    club.shop.down = False
    club.shop.coupons[9] = {"id": 9, "code": code, "usage_count": 0, "meta_data": [
        {"key": REDEMPTION_META_KEY, "value": club.redemption(red["id"]).reference}]}  # fmt: skip
    _as_if_reserved_ago(club, red["id"], GIVE_UP_SECONDS + 60)

    run_recover(club.bridge.rt, utcnow())

    assert club.redemption(red["id"]).state == "issued" and club.available() == 1500


def test_the_owner_cancels_a_stuck_redemption_by_force_only_when_the_shop_cannot_be_asked(
    make_down_club: Any,
) -> None:
    club = make_down_club()
    club.shop.down = True
    red = club.redeem("five-off").get_json()["redemption"]
    path = f"/admin/v1/redemptions/{red['id']}/cancel"

    # the shopper still cannot (the coupon may be on its way); the owner is told why nothing changed
    shopper = club.widget("DELETE", f"/widget/v1/redemptions/{red['id']}")
    assert shopper.status_code == 409 and shopper.get_json()["error"]["code"] == "redemption_not_cancellable"
    refused = club.bridge.admin("POST", path)
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "shop_unavailable"
    assert "force" in refused.get_json()["error"]["message"]
    assert club.redemption(red["id"]).state == "reserved" and club.available() == 1500

    forced = club.bridge.admin("POST", path, json={"force": True})

    assert forced.status_code == 200, forced.get_json()
    assert forced.get_json()["redemption"]["state"] == "cancelled"
    assert club.available() == 2000
    assert ("redemption.cancel", {"points": 500, "state": "reserved", "forced": True}) in _audit(club)
    shown = club.widget("GET", f"/widget/v1/redemptions/{red['id']}").get_json()["redemption"]
    assert shown["state"] == "cancelled" and "500 points are back" in shown["message"]
    # a forced cancel twice changes nothing more
    assert club.bridge.admin("POST", path, json={"force": True}).status_code == 200 and club.available() == 2000
    # the owner need not be right: once the shop answers, a coupon of ours under the code is deleted
    club.shop.down = False
    ours = club.redemption(red["id"])
    club.shop.coupons[9] = {"id": 9, "code": ours.code, "usage_count": 0,
                            "meta_data": [{"key": REDEMPTION_META_KEY, "value": ours.reference}]}  # fmt: skip
    assert run_orphan_checks(club.bridge.rt, utcnow()) == {"deleted": 1} and club.shop.coupons == {}
    assert club.redemption(red["id"]).state == "cancelled" and club.available() == 2000


def test_the_owner_cancels_a_stuck_redemption_after_looking_its_code_up(make_down_club: Any) -> None:
    club = make_down_club()
    club.shop.down = True
    absent = club.redeem("five-off").get_json()["redemption"]
    created = club.redeem("ten-percent").get_json()["redemption"]
    club.shop.down = False
    # the second one's coupon was created after all (the answer never came back)
    ours = club.redemption(created["id"])
    club.shop.coupons[9] = {"id": 9, "code": ours.code, "usage_count": 0,
                            "meta_data": [{"key": REDEMPTION_META_KEY, "value": ours.reference}]}  # fmt: skip
    assert club.available() == 2000 - 500 - 800

    first = club.bridge.admin("POST", f"/admin/v1/redemptions/{absent['id']}/cancel")
    second = club.bridge.admin("POST", f"/admin/v1/redemptions/{created['id']}/cancel")

    assert first.status_code == 200 and first.get_json()["redemption"]["state"] == "cancelled"
    assert second.status_code == 200 and second.get_json()["redemption"]["state"] == "cancelled"
    assert club.shop.coupons == {}  # adopted, then deleted in the shop before the points came back
    assert club.available() == 2000


def test_bridge_redemptions_cancel_ends_a_stuck_one(make_down_club: Any, tmp_path: Any) -> None:
    club = make_down_club()
    club.shop.down = True
    red = club.redeem("five-off").get_json()["redemption"]
    runner = CliRunner()
    args = ["--config", str(tmp_path / "config.yaml"), "redemptions", "cancel", str(red["id"])]

    refused = runner.invoke(cli, args, obj={})
    assert refused.exit_code == 1 and "cannot be asked" in refused.output and "--force" in refused.output
    assert club.available() == 1500
    forced = runner.invoke(cli, [*args, "--force"], obj={})

    assert forced.exit_code == 0, forced.output
    assert f"redemption {red['id']}: cancelled; 500 points returned" in forced.output
    assert club.available() == 2000


# -- a shop that cannot make coupons ---------------------------------------------------------------------------
def test_a_shop_without_api_keys_offers_no_redeem_and_debits_nothing(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop
) -> None:
    # the demo shop: a webhook secret, no REST API keys
    bridge = make_bridge(**club_config(), shops=[DEMO_SHOP])
    club = Club(bridge, woo_shop, seed_member(bridge, 2000), token_for(bridge))

    rewards = club.widget("GET", "/widget/v1/panel").get_json()["rewards"]
    assert rewards["redeemable"] is False and rewards["reason"] == "shop_not_connected"
    refused = club.redeem("five-off")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "rewards_unavailable"
    assert club.available() == 2000 and woo_shop.calls == []
    ready = bridge.client.get("/readyz")
    assert ready.status_code == 200 and "rewards" not in ready.get_json()["checks"]  # informative, not a check
    assert ready.get_json()["detail"]["rewards"]["shops"][SHOP] == {"redeemable": False, "reason": NO_API_ACCESS}


def test_a_connected_shop_says_rewards_are_redeemable(club: Club) -> None:
    assert club.widget("GET", "/widget/v1/panel").get_json()["rewards"]["redeemable"] is True
    assert club.bridge.client.get("/readyz").get_json()["detail"]["rewards"]["shops"][SHOP]["redeemable"] is True


def test_check_config_says_which_shops_cannot_redeem(tmp_path: Any) -> None:
    import yaml

    config = tmp_path / "config.yaml"
    connected = {"id": "main", "widget_secret": WIDGET_SECRET}  # the README's entry: completed by `bridge connect`
    data = {"data_dir": str(tmp_path / "data"), "shops": [DEMO_SHOP, connected], **club_config()}
    config.write_text(yaml.safe_dump(data))

    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"], obj={})

    assert result.exit_code == 0, result.output
    assert f"warning: shop {SHOP}: rewards cannot be redeemed: {NO_API_ACCESS}" in result.output
    assert "main woocommerce (url, keys and webhook secret from `bridge connect`)" in result.output
    assert "shop main: rewards" not in result.output


def test_a_shop_that_lost_its_keys_is_not_called_and_the_redemption_waits_for_the_owner(
    make_down_club: Any, make_bridge: Callable[..., Bridge]
) -> None:
    club = make_down_club()
    club.shop.down = True
    red = club.redeem("five-off").get_json()["redemption"]
    club.shop.calls.clear()
    club.shop.down = False
    disconnected = make_bridge(**club_config(), shops=[DEMO_SHOP])  # same database; the shop has no keys any more
    _as_if_reserved_ago(club, red["id"], 60)

    run_recover(disconnected.rt, utcnow())

    waiting = club.redemption(red["id"])
    assert waiting.state == "reserved" and waiting.last_error == NO_API_ACCESS and club.shop.calls == []
    path = f"/admin/v1/redemptions/{red['id']}/cancel"
    assert disconnected.admin("POST", path).status_code == 503
    assert disconnected.admin("POST", path, json={"force": True}).status_code == 200 and club.available() == 2000
