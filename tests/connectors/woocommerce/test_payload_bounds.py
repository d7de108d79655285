"""The payload parser reads only what fits: every field within ``bridge.limits``, a refusal always ``MalformedPayload``
(a permanent error: the delivery is parked, never retried), never a silently rounded id or a 19-digit award."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bridge import limits
from bridge.connectors.woocommerce import webhooks
from bridge.connectors.woocommerce.connector import WooCommerceConnector
from bridge.errors import MalformedPayload, PermanentError, PointsOutOfRange
from bridge.ledger.model import EntryKind, NewEntry
from tests.support import woo

NAME = "order.updated.processing-paid"


def _order(**changes: Any) -> dict[str, Any]:
    return woo.payload(NAME) | changes


def _with_line(**changes: Any) -> dict[str, Any]:
    data = woo.payload(NAME)
    data["line_items"][0].update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_order(id=1.5), "id must be an integer"),
        (_order(id=True), "id must be an integer"),
        (_order(id="1" * 80), "id must be an integer"),
        (_order(id=2**64), "64 bits"),
        (_order(id=0), "positive"),
        (_order(id=-3), "positive"),
        (_order(customer_id=2**70), "64 bits"),
        (_order(customer_id=-1), "negative"),
        (_order(total="5000000000000000000"), "total must be an amount of at most"),
        (_order(total=1e308), "total must be an amount of at most"),
        (_order(total="1" * 40), "total must be an amount of at most"),
        (_order(total="1e999999"), "total must be an amount"),
        (_order(total=[1]), "total must be an amount"),
        (_order(status="processing" * 4), "status must be at most 32"),
        (_with_line(total="5e18"), "line_items.total must be an amount of at most"),
        (_with_line(quantity=1.5), "quantity must be an integer"),
        (_with_line(quantity=10**12), "quantity must be at most"),
        (_with_line(product_id=2**64), "product_id"),
    ],
)
def test_out_of_bounds_order_fields_are_refused_by_name(data: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        webhooks.parse_order(data)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"id": 12, "a": ' * 1000 + b"1" + b"}" * 1000, "nested more than 64"),
        (b'{"id": 12, "total": NaN}', "NaN is not a JSON number"),
        (b'{"id": 12, "total": Infinity}', "Infinity is not a JSON number"),
        (b'{"id": 12, "billing": {"first_name": "\\ud800"}}', "lone UTF-16 surrogate"),
        (b'{"id": 12, "billing": {"\\udfff": 1}}', "lone UTF-16 surrogate"),
        (b'{"id": 12, "billing": {"email": "a\\u0000@example.test"}}', "NUL"),
        (b'{"id": 12, "note": "caf\xe9"}', "not UTF-8"),
        (b'{"id": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_undecodable_bodies_are_refused_before_any_field_is_read(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        WooCommerceConnector().parse_event("order.updated", body)
    with pytest.raises(MalformedPayload):  # the webhook route reads the id the same way: a 400, never a 500
        WooCommerceConnector().resource_id(body)


def test_refusals_are_permanent_errors() -> None:
    assert issubclass(MalformedPayload, PermanentError)
    assert issubclass(PointsOutOfRange, PermanentError)


def test_depth_is_counted_on_structure_not_on_brackets_inside_strings() -> None:
    text_full_of_brackets = {"id": 12, "note": "[{" * 500, "escaped": '\\"[[[' * 100}
    assert limits.load_json(json.dumps(text_full_of_brackets).encode()) == text_full_of_brackets
    nested: Any = 1
    for _ in range(limits.MAX_JSON_DEPTH):
        nested = [nested]
    assert limits.load_json(json.dumps(nested).encode()) == nested
    with pytest.raises(MalformedPayload, match="nested"):
        limits.load_json(json.dumps([nested]).encode())


def test_a_paired_surrogate_escape_is_text() -> None:
    data = limits.load_json(b'{"first_name": "\\ud83d\\ude00 Carol"}')
    assert data == {"first_name": "\U0001f600 Carol"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42.90", Decimal("42.90")),
        ("5", Decimal(5)),
        (5, Decimal(5)),
        ("-10.00", Decimal("-10.00")),
        (16.363636363636363, Decimal("16.363636")),  # a float artefact: kept to MONEY_DECIMALS places
        ("1e-400", Decimal(0)),
        (None, Decimal(0)),
        ("", Decimal(0)),
        (str(limits.MAX_AMOUNT), limits.MAX_AMOUNT),
    ],
)
def test_amounts_within_bounds_are_read_exactly(value: Any, expected: Decimal) -> None:
    assert webhooks.parse_order(_order(total=value)).total == expected


@pytest.mark.parametrize(("value", "expected"), [(12, "12"), ("12", "12"), (12.0, "12")])
def test_ids_are_whole_numbers_given_as_numbers_or_text(value: Any, expected: str) -> None:
    assert webhooks.parse_order(_order(id=value)).order_id == expected


def test_an_e_mail_longer_than_any_address_is_nobodys() -> None:
    data = woo.payload(NAME)
    data["billing"]["email"] = "a" * 250 + "@example.test"
    order = webhooks.parse_order(data)
    assert order.email == ""
    assert order.customer_id == webhooks.parse_order(woo.payload(NAME)).customer_id


def test_the_resource_id_is_cut_to_its_column_and_judged_by_the_parser() -> None:
    body = json.dumps(_order(id="1" * 80)).encode()
    assert WooCommerceConnector().resource_id(body) == "1" * limits.MAX_ID_LENGTH
    with pytest.raises(MalformedPayload):
        WooCommerceConnector().parse_event("order.updated", body)


@pytest.mark.parametrize("points", [limits.MAX_POINTS + 1, -limits.MAX_POINTS - 1, 5 * 10**18])
def test_no_ledger_entry_moves_more_than_max_points(points: int) -> None:
    with pytest.raises(PointsOutOfRange):
        NewEntry(program_id="p", member_id=1, points=points, kind=EntryKind.EARN, idempotency_key="k")
    assert NewEntry(program_id="p", member_id=1, points=limits.MAX_POINTS, kind=EntryKind.EARN, idempotency_key="k")
