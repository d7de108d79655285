"""What schemathesis found, each pinned: the answers it showed wrong are right now, whatever the fuzzer draws."""

from __future__ import annotations

import pytest

from bridge import limits
from tests.api.conftest import admin_headers, shopper_headers
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import SHOP, Bridge

PAST_ANY_ID = str(limits.MAX_ROW_ID + 1)


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("PATCH", f"/admin/v1/members/{PAST_ANY_ID}/profile", "admin"),
        ("POST", f"/admin/v1/members/{PAST_ANY_ID}/adjustments", "admin"),
        ("DELETE", f"/widget/v1/redemptions/{PAST_ANY_ID}", "shopper"),
        ("DELETE", f"/widget/v1/redemptions/{'9' * 40}", "shopper"),
    ],
)
def test_an_id_past_64_bits_is_404_not_405_whatever_the_method(
    bridge: Bridge, method: str, path: str, auth: str
) -> None:
    """werkzeug answered 405 (Allow: GET) when the GET rule of the same path had been passed over before the id
    failed its converter, though GET answers that URL with 404 too."""
    headers = admin_headers() if auth == "admin" else shopper_headers(bridge)

    response = bridge.client.open(path, method=method, headers=headers, json={"points": 1, "reason": "x"})

    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("POST", "/restore")])
def test_a_program_version_past_32_bits_is_404_not_a_server_error(bridge: Bridge, method: str, suffix: str) -> None:
    """Version numbers are a 32-bit column: PostgreSQL answered ``integer out of range`` (a 500)."""
    response = bridge.client.open(
        f"/admin/v1/program/versions/{2**31}{suffix}", method=method, headers=admin_headers(), json={}
    )

    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_real_405_still_says_which_methods_answer(bridge: Bridge) -> None:
    response = bridge.client.put("/admin/v1/members/1/profile", headers=admin_headers())

    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/admin/v1/program", {"shop": "s" * (limits.MAX_ID_LENGTH + 1)}, "shop"),
        ("/admin/v1/program", {"shops": SHOP}, "shops"),
        (f"/admin/v1/shops/{SHOP}/status", {"check": "perhaps"}, "check"),
        ("/widget/v1/club", {}, "shop"),
        ("/widget/v1/club", {"shop": SHOP, "lang": "fa"}, "lang"),
        ("/widget/v1/referral/offer", {"shop": SHOP, "code": "C" * 65}, "code"),
    ],
)
def test_a_query_the_document_does_not_allow_is_refused_naming_the_parameter(
    bridge: Bridge, path: str, query: dict[str, str], field: str
) -> None:
    """These routes read their query value by value and let anything through (a 65-character shop id answered
    200); they load the schema the document shows now."""
    response = bridge.client.get(path, query_string=query, headers=admin_headers())

    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]


def test_the_queries_the_widget_sends_are_still_answered(bridge: Bridge) -> None:
    club = bridge.client.get("/widget/v1/club", query_string={"shop": SHOP, "locale": "fa"})
    status = bridge.client.get(
        f"/admin/v1/shops/{SHOP}/status", query_string={"check": "false"}, headers=admin_headers()
    )

    assert club.status_code == 200, club.get_json()
    assert status.status_code == 200, status.get_json()


def test_an_adjustment_has_no_shop_and_the_document_says_it_may_not(bridge: Bridge) -> None:
    """Found by the stateful fuzz on PostgreSQL: an entry no shop caused answers ``shop_id: null``."""
    bridge.deliver_ok("customer.created")
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None
    answer = bridge.admin(
        "POST",
        f"/admin/v1/members/{member['id']}/adjustments",
        json={"points": 5, "reason": "a gift"},
        headers={"Idempotency-Key": "fuzz-shopless"},
    )
    assert answer.status_code == 201 and answer.get_json()["entry"]["shop_id"] is None
    document = bridge.client.get("/openapi.json").get_json()
    shop_id = document["components"]["schemas"]["EntryOut"]["properties"]["shop_id"]
    assert "null" in str(shop_id)
