"""Bounded, typed input everywhere: a clear 400/404/409/413/422, never a 500, never a wrong award, on both databases.

Each row of a table is a case seen in a probe of the running bridge (issue 12, section 4). The deliveries are
signed the way the shop signs them: they pass the signature check and reach the parser, which parks a payload it
refuses as ``failed`` at the first attempt (never retried as if the fault were passing).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from werkzeug.test import TestResponse

from bridge.web.widget_auth import issue_token
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import SHOP, Bridge

PAID = "order.updated.processing-paid"  # Carol's order 12: 35 points
SIGNUP_POINTS = 50
ORDER_POINTS = 35
PAST_64_BITS = 2**64
MIB = 1024 * 1024


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _signed_raw(body: bytes, name: str = PAID) -> tuple[bytes, dict[str, str]]:
    headers = woo.headers_of(name)
    headers["X-WC-Webhook-Signature"] = woo.signature_for(body, woo.SECRET)
    return body, headers


def _chunked(bridge: Bridge, body: bytes, headers: dict[str, str]) -> TestResponse:
    """A body sent without Content-Length, as gunicorn hands it over (``wsgi.input_terminated``)."""
    response = bridge.client.post(
        f"/webhooks/woocommerce/{SHOP}",
        input_stream=io.BytesIO(body),
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    response.close()  # as the server does once the answer is sent: runs the route's after-send work
    return response


def _padded_order(size: int) -> tuple[bytes, dict[str, str]]:
    data = woo.payload(PAID)
    data["padding"] = "x" * size
    return woo.signed(PAID, data)


def _token(bridge: Bridge, customer_id: str = "2") -> str:
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    return issue_token(shop, customer_id, woo.CAROL)


def _nan_token(bridge: Bridge) -> str:
    """A token whose ``exp`` and ``iat`` are NaN: it compared false to every bound, so it never expired."""
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None and shop.widget_secret
    claims = {"shop": SHOP, "sub": "2", "email": woo.CAROL, "iat": float("nan"), "exp": float("nan")}
    return jwt.encode(claims, shop.widget_secret, algorithm="HS256")


def _widget(bridge: Bridge) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(bridge)}"}


def _json(body: bytes) -> dict[str, Any]:
    return {"data": body, "content_type": "application/json"}


# -- requests refused at the edge ---------------------------------------------------------------------------------
Send = Callable[[Bridge], TestResponse]

REFUSED: list[tuple[str, Send, int, str]] = [
    ("webhook: JSON nested 1000 deep", lambda b: b.post_webhook(*_signed_raw(_deep(1000))), 400, "malformed_payload"),
    (
        "webhook: NaN for an amount",
        lambda b: b.post_webhook(*_signed_raw(b'{"id":12,"total":NaN}')),
        400,
        "malformed_payload",
    ),
    (
        "webhook: a lone surrogate",
        lambda b: b.post_webhook(*_signed_raw(b'{"id":12,"billing":{"first_name":"\\ud800"}}')),
        400,
        "malformed_payload",
    ),
    ("webhook: chunked body over 1 MiB", lambda b: _chunked(b, *_padded_order(MIB)), 413, "payload_too_large"),
    (
        "referral claim (no auth): JSON nested 1000 deep",
        lambda b: b.client.post("/widget/v1/referrals/claim", **_json(_deep(1000))),
        400,
        "malformed_payload",
    ),
    (
        "admin adjustment: JSON nested 1000 deep",
        lambda b: b.admin("POST", "/admin/v1/members/1/adjustments", **_json(_deep(1000))),
        400,
        "malformed_payload",
    ),
    (
        "admin rules preview: JSON nested 1000 deep",
        lambda b: b.admin("POST", "/admin/v1/rules/preview", **_json(_deep(1000))),
        400,  # read as JSON like every other body (it was read as "no body": 422, order missing)
        "malformed_payload",
    ),
    (
        "widget redeem: JSON nested 1000 deep",
        lambda b: b.client.post(
            "/widget/v1/redemptions", headers={**_widget(b), "Idempotency-Key": "k1"}, **_json(_deep(1000))
        ),
        400,
        "malformed_payload",
    ),
    (
        "webhook: a NUL character escaped in the JSON",
        lambda b: b.post_webhook(*_signed_raw(b'{"id":12,"billing":{"email":"a\\u0000@example.test"}}')),
        400,
        "malformed_payload",
    ),
    (
        "referral claim (no auth): a NUL character in the code",
        lambda b: b.client.post("/widget/v1/referrals/claim", json={"code": "AB\x00CDEF", "email": "f@example.test"}),
        400,
        "malformed_payload",
    ),
    (
        "referral link (no auth): a NUL character in the code",
        lambda b: b.client.get("/r/AB%00CDEF"),
        400,
        "malformed_payload",
    ),
    (
        "referral offer (no auth): a NUL character in the query",
        lambda b: b.client.get("/widget/v1/referral/offer?code=AB%00CD"),
        400,
        "malformed_payload",
    ),
    ("admin member id past 64 bits", lambda b: b.admin("GET", f"/admin/v1/members/{PAST_64_BITS}"), 404, "not_found"),
    (
        "admin ledger id past 64 bits",
        lambda b: b.admin("GET", f"/admin/v1/members/{PAST_64_BITS}/ledger"),
        404,
        "not_found",
    ),
    (
        "admin ledger ?before= past 64 bits",
        lambda b: b.admin("GET", "/admin/v1/members/1/ledger", query_string={"before": PAST_64_BITS}),
        422,
        "validation_failed",
    ),
    (
        "admin redemptions ?member= past 64 bits",
        lambda b: b.admin("GET", "/admin/v1/redemptions", query_string={"member": PAST_64_BITS}),
        422,
        "validation_failed",
    ),
    (
        "admin inbox ?before= past 64 bits",
        lambda b: b.admin("GET", "/admin/v1/inbox", query_string={"before": 10**40}),
        422,
        "validation_failed",
    ),
    (
        "admin replay id past 64 bits",
        lambda b: b.admin("POST", f"/admin/v1/inbox/{PAST_64_BITS}/replay"),
        404,
        "not_found",
    ),
    (
        "widget redemption id past 64 bits",
        lambda b: b.client.get(f"/widget/v1/redemptions/{PAST_64_BITS}", headers=_widget(b)),
        404,
        "not_found",
    ),
    (
        "admin adjustment: Idempotency-Key of 129 characters",
        lambda b: b.admin(
            "POST",
            "/admin/v1/members/1/adjustments",
            json={"points": 5, "reason": "x"},
            headers={"Idempotency-Key": "k" * 129},
        ),
        400,
        "malformed_payload",
    ),
    (
        "admin redemption: an Idempotency-Key that would not fit once prefixed with admin:",
        lambda b: b.admin(
            "POST",
            "/admin/v1/members/1/redemptions",
            json={"reward_id": "r1"},
            headers={"Idempotency-Key": "k" * 125},
        ),
        400,
        "malformed_payload",
    ),
    (
        "admin adjustment: 1.5 points",
        lambda b: b.admin("POST", "/admin/v1/members/1/adjustments", json={"points": 1.5, "reason": "x"}),
        422,
        "validation_failed",
    ),
    (
        "admin adjustment: points past 64 bits",
        lambda b: b.admin("POST", "/admin/v1/members/1/adjustments", json={"points": PAST_64_BITS, "reason": "x"}),
        422,
        "validation_failed",
    ),
    (
        "widget token: exp and iat NaN",
        lambda b: b.client.get("/widget/v1/panel", headers={"Authorization": f"Bearer {_nan_token(b)}"}),
        401,
        "token_invalid",
    ),
    (
        "widget token: a customer id longer than any id",
        lambda b: b.client.get("/widget/v1/panel", headers={"Authorization": f"Bearer {_token(b, '7' * 65)}"}),
        401,
        "token_invalid",
    ),
]


@pytest.mark.parametrize(("send", "status", "code"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(
    bridge: Bridge, send: Send, status: int, code: str
) -> None:
    bridge.deliver_ok("customer.created")  # Carol, member 1, 50 points
    bridge.drain()
    response = send(bridge)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code
    bridge.drain()
    assert bridge.balance() == {"available": SIGNUP_POINTS, "pending": 0, "lifetime": SIGNUP_POINTS}
    assert bridge.inbox_count() == 1  # only the sign-up: nothing refused was stored


def test_a_chunked_body_under_the_limit_is_accepted(bridge: Bridge) -> None:
    response = _chunked(bridge, *_padded_order(MIB // 2))
    assert response.status_code == 200, response.get_data(as_text=True)
    bridge.drain()
    assert bridge.available() == ORDER_POINTS


# -- deliveries the parser refuses: parked at once, nothing credited -------------------------------------------------
def _line_total(total: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["line_items"][0]["total"] = total

    return change


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.__setitem__(key, value)


def _huge_but_valid_lines(data: dict[str, Any]) -> None:
    """Amounts within bounds whose award (one point per unit) is past what one ledger entry may move."""
    for line in data["line_items"]:
        line["subtotal"] = line["total"] = "100000000000000"


PARKED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("an award past the most one entry may move", _huge_but_valid_lines, "PointsOutOfRange"),
    ('"id": 1.5 (was order 1)', _set("id", 1.5), "MalformedPayload"),
    ("an id of 80 digits", _set("id", "1" * 80), "MalformedPayload"),
    ("an id past 64 bits", _set("id", PAST_64_BITS), "MalformedPayload"),
    ("a line total of 5e18", _line_total("5000000000000000000"), "MalformedPayload"),
    ("a line total of 5e18 as a number", _line_total(5e18), "MalformedPayload"),
    ("an order total of 1e308", _set("total", 1e308), "MalformedPayload"),
    ("a 40-digit amount", _set("total", "1" * 40), "MalformedPayload"),
    ("a customer id past 64 bits", _set("customer_id", PAST_64_BITS), "MalformedPayload"),
    ("a status longer than any status", _set("status", "processing" * 4), "MalformedPayload"),
    ("a quantity of 1.5", lambda data: data["line_items"][0].__setitem__("quantity", 1.5), "MalformedPayload"),
]


@pytest.mark.parametrize(("change", "error"), [r[1:] for r in PARKED], ids=[r[0] for r in PARKED])
def test_a_payload_the_parser_refuses_is_parked_at_once_and_awards_nothing(
    bridge: Bridge, change: Callable[[dict[str, Any]], None], error: str
) -> None:
    bridge.deliver_ok("customer.created")
    data = woo.payload(PAID)
    change(data)
    bridge.send_ok(*woo.signed(PAID, data))
    bridge.drain()

    failed = bridge.admin("GET", "/admin/v1/inbox", query_string={"state": "failed"}).get_json()["deliveries"]
    assert [(d["state"], d["attempts"]) for d in failed] == [("failed", 1)]  # permanent: no retry scheduled
    assert failed[0]["last_error"].startswith(error)
    assert bridge.balance() == {"available": SIGNUP_POINTS, "pending": 0, "lifetime": SIGNUP_POINTS}

    bridge.deliver_ok(PAID)  # the real order still earns, exactly once
    bridge.drain()
    assert bridge.available() == SIGNUP_POINTS + ORDER_POINTS


# -- admin Idempotency-Key ---------------------------------------------------------------------------------------
def _adjust(bridge: Bridge, key: str, points: int = 5, reason: str = "goodwill") -> TestResponse:
    return bridge.admin(
        "POST",
        "/admin/v1/members/1/adjustments",
        json={"points": points, "reason": reason},
        headers={"Idempotency-Key": key},
    )


def test_an_adjustment_key_is_never_truncated_and_a_changed_replay_is_a_conflict(bridge: Bridge) -> None:
    bridge.deliver_ok("customer.created")
    bridge.drain()
    long_key = "k" * 100  # longer than the 64-character id columns: fine on PostgreSQL too
    first = _adjust(bridge, long_key)
    assert first.status_code == 201, first.get_data(as_text=True)
    replay = _adjust(bridge, long_key)
    assert replay.status_code == 200
    assert replay.get_json()["entry"]["id"] == first.get_json()["entry"]["id"]

    for changed in (_adjust(bridge, long_key, reason="another reason"), _adjust(bridge, long_key, points=6)):
        assert changed.status_code == 409
        assert changed.get_json()["error"]["code"] == "idempotency_conflict"

    # two keys past 128 characters that share their first 128: both refused, neither taken for the other
    for key in ("x" * 128 + "1", "x" * 128 + "2"):
        response = _adjust(bridge, key)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.get_json()["error"]["message"]
    assert bridge.available() == SIGNUP_POINTS + 5


# -- widget tokens: numeric sub --------------------------------------------------------------------------------------
def test_a_token_with_a_numeric_sub_opens_the_panel(bridge: Bridge) -> None:
    bridge.deliver_ok("customer.created")
    bridge.drain()
    shop = bridge.rt.settings.shop(SHOP)
    assert shop is not None
    token = issue_token(shop, "2", woo.CAROL)  # then re-signed with "sub" as the integer a JWT library emits
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = int(claims["sub"])
    numeric = jwt.encode(claims, shop.widget_secret, algorithm="HS256")
    response = bridge.client.get("/widget/v1/panel", headers={"Authorization": f"Bearer {numeric}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_data())["member"]["available"] == SIGNUP_POINTS
