"""Every captured delivery verifies and parses; every way a signature can be wrong is caught."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bridge.connectors.base import EventKind
from bridge.connectors.woocommerce import webhooks
from bridge.connectors.woocommerce.connector import WooCommerceConnector
from bridge.errors import InvalidSignature, MalformedPayload
from tests.support import woo

SIGNED = sorted(p.stem for p in woo.FIXTURES.glob("*.json") if woo.load(p.stem).get("headers") and p.stem != "ping")
PARSED = [name for name in SIGNED if woo.load(name)["headers"]["X-WC-Webhook-Topic"] in webhooks.SUPPORTED_TOPICS]


@pytest.mark.parametrize("name", SIGNED)
def test_every_captured_delivery_verifies_with_the_shop_secret(name: str) -> None:
    fixture = woo.load(name)
    assert fixture["signature_valid"] is True
    webhooks.verify_signature(woo.raw_body(name), woo.headers_of(name), woo.SECRET)
    assert webhooks.signature_for(woo.raw_body(name), woo.SECRET) == fixture["expected_signature"]


@pytest.mark.parametrize("name", PARSED)
def test_every_supported_delivery_parses_into_a_shop_event(name: str) -> None:
    topic = woo.load(name)["headers"]["X-WC-Webhook-Topic"]
    event = WooCommerceConnector().parse_event(topic, woo.raw_body(name))
    assert event.topic == topic
    assert event.resource_id == str(woo.payload(name)["id"])
    if event.kind is EventKind.ORDER:
        assert event.order is not None and event.order.status == woo.payload(name)["status"]
    else:
        assert event.customer is not None and event.customer.email == woo.CAROL


def test_an_order_keeps_its_money_as_decimals_and_refunds_as_positive_amounts() -> None:
    order = webhooks.parse_order(woo.payload("order.updated.fully-refunded"))
    assert order.total == Decimal("42.90")
    assert [li.total for li in order.line_items] == [Decimal("35.00")]
    assert {r.refund_id: r.amount for r in order.refunds} == {"14": Decimal("32.90"), "13": Decimal("10.00")}
    assert order.customer_id == "2"
    assert order.email == woo.CAROL
    assert order.coupon_codes == ("loyalty-1795473173",)
    assert order.date_paid is not None and order.date_paid.tzinfo is not None


def test_a_guest_order_has_no_customer_id() -> None:
    data = woo.payload("order.updated.completed") | {"customer_id": 0}
    assert webhooks.parse_order(data).customer_id is None


def test_the_creation_ping_is_recognised_and_signed_deliveries_are_not() -> None:
    ping = woo.load("ping")
    assert webhooks.is_ping(ping["raw_body"].encode(), ping["headers"])
    assert not webhooks.is_ping(woo.raw_body("order.updated.completed"), woo.headers_of("order.updated.completed"))


NAME = "order.updated.completed"


def test_missing_signature_header_is_rejected() -> None:
    headers = woo.headers_of(NAME)
    del headers["X-WC-Webhook-Signature"]
    with pytest.raises(InvalidSignature, match="missing"):
        webhooks.verify_signature(woo.raw_body(NAME), headers, woo.SECRET)


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        webhooks.verify_signature(woo.raw_body(NAME), woo.headers_of(NAME), "another-secret")


def test_body_altered_by_one_byte_is_rejected() -> None:
    body = woo.raw_body(NAME).replace(b'"total":"42.90"', b'"total":"42.91"')
    assert len(body) == len(woo.raw_body(NAME))
    with pytest.raises(InvalidSignature):
        webhooks.verify_signature(body, woo.headers_of(NAME), woo.SECRET)


def test_reserialised_json_is_rejected_because_the_shop_signed_its_own_bytes() -> None:
    body = json.dumps(json.loads(woo.raw_body(NAME))).encode()
    with pytest.raises(InvalidSignature):
        webhooks.verify_signature(body, woo.headers_of(NAME), woo.SECRET)


def test_an_empty_secret_fails_closed() -> None:
    with pytest.raises(RuntimeError):
        webhooks.verify_signature(woo.raw_body(NAME), woo.headers_of(NAME), "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "abc"}, "id must be an integer"),
        ({"total": "forty"}, "total must be an amount"),
        ({"refunds": "none"}, "refunds must be a list"),
        ({"date_modified_gmt": "yesterday"}, "bad GMT date"),
    ],
)
def test_malformed_order_fields_are_reported_clearly(change: dict[str, object], message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        webhooks.parse_order(woo.payload(NAME) | change)
