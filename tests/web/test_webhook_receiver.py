"""The receiver: what it answers to each kind of request, and that only verified deliveries are stored."""

from __future__ import annotations

import json

from flask import jsonify

from bridge.jobs.queue import drain_flag
from tests.support import woo
from tests.support.client import SHOP, Bridge


def test_a_verified_delivery_is_stored_pending_and_answered_200(bridge: Bridge) -> None:
    response = bridge.deliver("order.updated.completed")
    assert response.status_code == 200
    assert response.get_json()["status"] == "accepted"
    assert bridge.inbox_count("pending") == 1


def test_the_creation_ping_is_answered_exactly_200_and_nothing_is_stored(bridge: Bridge) -> None:
    ping = woo.load("ping")
    response = bridge.post_webhook(ping["raw_body"].encode(), woo.headers_of("ping"))
    assert response.status_code == 200
    assert bridge.inbox_count() == 0


def test_a_wrong_signature_is_401_json_and_nothing_is_stored(bridge: Bridge) -> None:
    headers = woo.headers_of("order.updated.completed")
    headers["X-WC-Webhook-Signature"] = "AAAA" + headers["X-WC-Webhook-Signature"][4:]
    response = bridge.post_webhook(woo.raw_body("order.updated.completed"), headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert bridge.inbox_count() == 0


def test_a_missing_signature_is_401(bridge: Bridge) -> None:
    headers = woo.headers_of("order.updated.completed")
    del headers["X-WC-Webhook-Signature"]
    response = bridge.post_webhook(woo.raw_body("order.updated.completed"), headers)
    assert response.status_code == 401
    assert bridge.inbox_count() == 0


def test_a_reserialised_body_is_401(bridge: Bridge) -> None:
    body = json.dumps(woo.payload("order.updated.completed")).encode()
    response = bridge.post_webhook(body, woo.headers_of("order.updated.completed"))
    assert response.status_code == 401
    assert bridge.inbox_count() == 0


def test_an_unknown_shop_is_404(bridge: Bridge) -> None:
    response = bridge.deliver("order.updated.completed", shop="nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_shop"
    assert bridge.inbox_count() == 0


def test_a_body_over_one_mebibyte_is_413(bridge: Bridge) -> None:
    body = b'{"id": 1, "pad": "' + b"x" * (1024 * 1024) + b'"}'
    body, headers = woo.signed("order.updated.completed", json.loads(body))
    response = bridge.post_webhook(body, headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert bridge.inbox_count() == 0


def test_signed_but_malformed_json_is_400(bridge: Bridge) -> None:
    from bridge.connectors.woocommerce.webhooks import signature_for

    body = b'{"id": 12, "status": '
    headers = woo.headers_of("order.updated.completed")
    headers["X-WC-Webhook-Signature"] = signature_for(body, woo.SECRET)
    response = bridge.post_webhook(body, headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_payload"
    assert bridge.inbox_count() == 0


def test_an_unhandled_topic_is_200_and_not_stored(bridge: Bridge) -> None:
    response = bridge.deliver("coupon.created")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    assert bridge.inbox_count() == 0


def test_a_delivery_for_another_shop_does_not_verify_with_this_shops_secret(make_bridge) -> None:  # type: ignore[no-untyped-def]
    bridge = make_bridge(shops=[
        {"id": "shop1", "url": "http://127.0.0.1:8080", "webhook_secret": woo.SECRET, "currency": "USD"},
        {"id": "shop2", "url": "http://127.0.0.1:8081", "webhook_secret": "other-secret", "currency": "USD"},
    ])  # fmt: skip
    assert bridge.deliver("order.updated.completed", shop="shop2").status_code == 401
    assert bridge.deliver("order.updated.completed", shop="shop1").status_code == 200


def test_the_accepted_answer_is_what_jsonify_would_send(bridge: Bridge) -> None:
    response = bridge.deliver("order.updated.completed")
    with bridge.app.app_context():
        expected = jsonify({"status": "accepted", "delivery_id": response.get_json()["delivery_id"]})
    assert response.get_data() == expected.get_data()
    assert response.headers["Content-Type"] == expected.headers["Content-Type"] == "application/json"


def test_each_delivery_after_a_finished_drain_triggers_a_new_one(bridge: Bridge) -> None:
    redis = bridge.rt.redis()
    for name in ("order.created.pending", "order.updated.after-create", "order.updated.processing-paid"):
        bridge.deliver_ok(name)
        assert redis.exists(drain_flag(SHOP)), f"no drain pending after {name}"
        bridge.drain()  # clears the flag, then applies everything in the inbox
        assert bridge.inbox_count("pending") == 0
