"""An erased delivery keeps what the ledger needs and nothing personal (issue 19): checked on real deliveries."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bridge.connectors.woocommerce.webhooks import parse_customer, parse_order
from bridge.privacy.scrub import SCRUBBED_HEADER, scrub_body, scrub_headers
from tests.support import woo

ORDERS = [*woo.ORDER_12_SEQUENCE, "order.created.on-hold", "order.updated.cancelled"]
PERSONAL = ("carol", "poe", "oak ave", "555-0199", "62701", "springfield", "127.0.0.1", "mozilla")


@pytest.mark.parametrize("name", ORDERS)
def test_a_scrubbed_order_parses_to_the_same_figures_without_the_person(name: str) -> None:
    original = parse_order(woo.payload(name))
    body = scrub_body(woo.headers_of(name)["X-WC-Webhook-Topic"], woo.raw_body(name))
    scrubbed = parse_order(json.loads(body))
    personal = {
        "email": "",
        "billing_phone": "",
        "billing_address": "",
        "billing_first_name": "",
        "billing_last_name": "",
    }
    # a refund's reason is free text: it goes; its id and amount stay (the ledger's refund keys and figures)
    refunds = tuple(dataclasses.replace(r, reason="") for r in original.refunds)
    assert scrubbed == dataclasses.replace(original, refunds=refunds, **personal)
    text = body.decode().lower()
    assert not [p for p in PERSONAL if p in text]


def test_a_scrubbed_customer_keeps_its_id_only() -> None:
    body = scrub_body("customer.created", woo.raw_body("customer.created"))
    customer = parse_customer(json.loads(body))
    assert (customer.customer_id, customer.email, customer.first_name, customer.last_name) == ("2", "", "", "")
    assert not [p for p in PERSONAL if p in body.decode().lower()]


def test_a_body_that_is_not_json_becomes_empty_and_the_signature_goes() -> None:
    assert scrub_body("order.updated", b"carol@example.test") == b"{}"
    headers = scrub_headers(woo.headers_of("order.updated.completed"), "anon-1")
    assert "X-WC-Webhook-Signature" not in headers and headers[SCRUBBED_HEADER] == "anon-1"
    assert headers["X-WC-Webhook-Topic"] == "order.updated"
