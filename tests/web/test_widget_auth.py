"""Shopper tokens: the only identity the widget API accepts; CORS only for the shop's own origins."""

from __future__ import annotations

import time

import jwt
import pytest
from flask import Blueprint, jsonify

from bridge.config import Settings
from bridge.web.widget_auth import WidgetUnauthorized, current_shopper, issue_token, require_shopper, verify_token
from tests.support.client import SHOP, WIDGET_SECRET, Bridge

NOW = 1_800_000_000.0


@pytest.fixture
def settings(make_settings) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings()


def test_a_token_signed_by_the_shop_names_the_customer(settings: Settings) -> None:
    shop = settings.shop(SHOP)
    assert shop is not None
    token = issue_token(shop, "2", "carol@example.test", now=NOW)
    shopper = verify_token(token, settings.shop, now=NOW + 60)
    assert (shopper.shop_id, shopper.customer_id, shopper.email) == (SHOP, "2", "carol@example.test")


@pytest.mark.parametrize(
    ("claims", "secret", "code"),
    [
        ({"shop": SHOP, "sub": "2", "iat": NOW - 3000, "exp": NOW - 100}, WIDGET_SECRET, "token_expired"),
        (
            {"shop": SHOP, "sub": "2", "iat": NOW, "exp": NOW + 300},
            "another-secret-of-enough-length-000",
            "token_invalid",
        ),
        ({"shop": "elsewhere", "sub": "2", "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_wrong_shop"),
        ({"shop": SHOP, "sub": "2", "iat": NOW, "exp": NOW + 86400}, WIDGET_SECRET, "token_lifetime"),
        ({"shop": SHOP, "sub": "2", "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": "0", "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        # issue 12: NaN compared false to every bound, so this token never expired
        ({"shop": SHOP, "sub": "2", "iat": NOW, "exp": float("nan")}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": "2", "iat": float("nan"), "exp": float("nan")}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": "2", "iat": NOW, "exp": float("inf")}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": "2", "iat": NOW, "exp": NOW + 300.5}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": "2", "iat": NOW, "exp": str(NOW + 300)}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": "2", "iat": True, "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": True, "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": 0, "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": 2**64, "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": "7" * 65, "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": {"id": 2}, "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        ({"shop": SHOP, "sub": "2", "email": "a" * 300, "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_invalid"),
        ({"shop": "s" * 65, "sub": "2", "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, "token_wrong_shop"),
    ],
)
def test_bad_tokens_are_refused_with_a_precise_code(settings: Settings, claims: dict, secret: str, code: str) -> None:
    token = jwt.encode(claims, secret, algorithm="HS256")
    with pytest.raises(WidgetUnauthorized) as caught:
        verify_token(token, settings.shop, now=NOW)
    assert caught.value.code == code


def test_unsigned_tokens_are_refused(settings: Settings) -> None:
    token = jwt.encode({"shop": SHOP, "sub": "2", "iat": NOW, "exp": NOW + 300}, None, algorithm="none")
    with pytest.raises(WidgetUnauthorized) as caught:
        verify_token(token, settings.shop, now=NOW)
    assert caught.value.code == "token_invalid"


@pytest.fixture
def widget_bridge(make_bridge) -> Bridge:  # type: ignore[no-untyped-def]
    bridge: Bridge = make_bridge()
    probe = Blueprint("probe", __name__)

    @probe.get("/widget/v1/_whoami")
    @require_shopper
    def whoami():  # type: ignore[no-untyped-def]
        return jsonify(customer=current_shopper().customer_id)

    bridge.app.register_blueprint(probe)
    return bridge


def test_the_widget_api_needs_a_bearer_token(widget_bridge: Bridge) -> None:
    response = widget_bridge.client.get("/widget/v1/_whoami")
    assert response.status_code == 401
    assert response.json == {"error": {"code": "token_missing", "message": response.json["error"]["message"]}}
    shop = widget_bridge.rt.settings.shop(SHOP)
    assert shop is not None
    ok = widget_bridge.client.get(
        "/widget/v1/_whoami", headers={"Authorization": f"Bearer {issue_token(shop, '2', '', now=time.time())}"}
    )
    assert ok.status_code == 200 and ok.json == {"customer": "2"}


def test_cors_answers_only_the_shops_own_origin(widget_bridge: Bridge) -> None:
    own = "http://127.0.0.1:8080"
    preflight = widget_bridge.client.options(
        "/widget/v1/_whoami", headers={"Origin": own, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == own
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    foreign = widget_bridge.client.get("/widget/v1/_whoami", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    admin = widget_bridge.client.get("/healthz", headers={"Origin": own})
    assert "Access-Control-Allow-Origin" not in admin.headers


@pytest.mark.parametrize("sub", [2, "2", " 2 "])
def test_a_numeric_sub_names_the_customer_as_text(settings: Settings, sub: object) -> None:
    """Many JWT libraries emit the customer id as a number: it is the same customer."""
    token = jwt.encode({"shop": SHOP, "sub": sub, "iat": NOW, "exp": NOW + 300}, WIDGET_SECRET, algorithm="HS256")
    assert verify_token(token, settings.shop, now=NOW).customer_id == "2"


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({"shop": SHOP, "iat": NOW, "exp": NOW + 300}, "'sub'"),
        ({"shop": SHOP, "sub": "2", "iat": NOW}, "'exp'"),
        ({"shop": SHOP, "sub": False, "iat": NOW, "exp": NOW + 300}, "sub"),
        ({"shop": SHOP, "sub": "2", "iat": NOW, "exp": float("nan")}, "exp"),
    ],
)
def test_a_wrong_claim_is_named_not_called_a_bad_signature(settings: Settings, claims: dict, named: str) -> None:
    token = jwt.encode(claims, WIDGET_SECRET, algorithm="HS256")
    with pytest.raises(WidgetUnauthorized) as caught:
        verify_token(token, settings.shop, now=NOW)
    assert named in str(caught.value)
    assert "signature" not in str(caught.value)
