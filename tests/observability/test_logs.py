"""Log lines as the bridge's own handler writes them: JSON (opt-in) that parses, a request id from the request to
the job it enqueued, and no full e-mail address in any line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bridge import logs
from tests.redemption.conftest import club_config, seed_member, token_for
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import FakeWooShop

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def bridge_log() -> Iterator[Callable[[], str]]:
    """What the bridge's stderr handler (``bridge.logs.configure``) writes from now on."""
    logs.configure("INFO")  # the handler every app and command sets up (an app made by the test sets its format)
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_bridge", False))
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream.getvalue
    handler.setStream(previous)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_carry_the_request_id_from_the_webhook_to_the_drain(
    make_bridge: Callable[..., Bridge], bridge_log: Callable[[], str]
) -> None:
    bridge = make_bridge(log_format="json")
    headers = {**woo.headers_of("order.created.pending"), "X-Request-ID": "lb-7f3a.42"}
    response = bridge.post_webhook(woo.raw_body("order.created.pending"), headers)
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "lb-7f3a.42"

    bridge.drain()

    lines = _lines(bridge_log())  # every line is one JSON object
    assert lines and all({"time", "level", "pid", "logger", "message", "request_id"} <= set(line) for line in lines)
    drained = [line for line in lines if line["logger"] == "bridge.jobs.drain"]
    assert drained and drained[-1]["message"] == f"drained 1 deliveries for shop {SHOP}"
    assert drained[-1]["request_id"] == "lb-7f3a.42"  # the drain job was enqueued by that request


def test_a_request_logs_under_its_generated_id_which_the_response_names(
    make_bridge: Callable[..., Bridge], bridge_log: Callable[[], str]
) -> None:
    bridge = make_bridge(log_format="json")
    body, headers = woo.signed("order.created.pending", woo.payload("order.created.pending"))
    headers["X-WC-Webhook-Topic"] = "coupon.created"  # a topic the bridge does not handle: it says so in a line
    response = bridge.post_webhook(body, headers)
    assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    rid = response.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(rid)
    ignored = [line for line in _lines(bridge_log()) if "unhandled topic" in line["message"]]
    assert [line["request_id"] for line in ignored] == [rid]


def test_the_text_format_names_the_request_too(bridge: Bridge, bridge_log: Callable[[], str]) -> None:
    body, headers = woo.signed("order.created.pending", woo.payload("order.created.pending"))
    headers.update({"X-WC-Webhook-Topic": "coupon.created", "X-Request-ID": "abc-123"})
    assert bridge.post_webhook(body, headers).status_code == 200
    line = next(line for line in bridge_log().splitlines() if "unhandled topic" in line)
    assert line.endswith(" [request abc-123]")


@pytest.mark.parametrize(
    "sent",
    [
        "x" * 129,  # too long
        "has space",
        'quote"d',
        "<script>",
        "-leading-dash",
        "",
    ],
)
def test_an_unusable_request_id_is_replaced_by_a_fresh_one(bridge: Bridge, sent: str) -> None:
    response = bridge.client.get("/healthz", headers={"X-Request-ID": sent})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_a_sane_request_id_is_echoed_on_every_answer_errors_included(bridge: Bridge) -> None:
    longest = "a" * 128
    assert bridge.client.get("/healthz", headers={"X-Request-ID": longest}).headers["X-Request-ID"] == longest
    not_found = bridge.client.post("/webhooks/woocommerce/nosuchshop", data=b"{}", headers={"X-Request-ID": "r-404"})
    assert not_found.status_code == 404 and not_found.headers["X-Request-ID"] == "r-404"
    body, headers = woo.signed("order.created.pending", woo.payload("order.created.pending"), secret="wrong")
    refused = bridge.post_webhook(body, {**headers, "X-Request-ID": "r-401"})
    assert refused.status_code == 401 and refused.headers["X-Request-ID"] == "r-401"
    first, second = bridge.client.get("/healthz"), bridge.client.get("/healthz")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_full_e_mail_address_reaches_a_log_line(
    make_bridge: Callable[..., Bridge], bridge_log: Callable[[], str], log_format: str
) -> None:
    make_bridge(log_format=log_format)
    log = logging.getLogger("bridge.test")
    log.warning("member %s joined", woo.CAROL)
    try:
        raise ValueError(f"no member with e-mail {woo.CAROL}")
    except ValueError:
        log.exception("lookup failed")
    log.info("contact", extra={"contact": "dave.smith+club@example.org"})  # a field a library added
    log.info("GET customers?email=%s", woo.CAROL.replace("@", "%40"))  # URL-encoded in a logged query
    text = bridge_log()
    assert woo.CAROL not in text and "dave.smith+club@example.org" not in text
    assert "customers?email=c***%40example.test" in text
    assert text.count("c***@example.test") == 2  # the message, and the exception in the traceback
    if log_format == "json":
        lines = _lines(text)
        assert lines[0]["message"] == "member c***@example.test joined"
        assert lines[2]["contact"] == "d***@example.org"


def test_a_redemption_finished_by_a_job_logs_under_the_shoppers_request(
    make_bridge: Callable[..., Bridge], woo_shop: FakeWooShop, bridge_log: Callable[[], str]
) -> None:
    bridge = make_bridge(log_format="json", **club_config(inline_wait_seconds=0))  # the coupon is left to a job
    seed_member(bridge, 600)
    response = bridge.client.post(
        "/widget/v1/redemptions",
        json={"reward_id": "five-off"},
        headers={"Authorization": f"Bearer {token_for(bridge)}", "Idempotency-Key": "k1", "X-Request-ID": "shop-9"},
    )
    assert response.status_code in (201, 202) and response.headers["X-Request-ID"] == "shop-9"
    assert response.get_json()["redemption"]["state"] == "reserved"

    bridge.drain()  # the worker runs the finishing job

    assert len(woo_shop.coupons) == 1
    # (RQ names the job as it takes it from the queue, before the job's own context: that line has no id)
    finished = [line for line in _lines(bridge_log()) if "completed finish redemption" in line["message"]]
    assert [line["request_id"] for line in finished] == ["shop-9"]


def test_a_failing_delivery_is_logged_under_the_request_that_stored_it(
    make_bridge: Callable[..., Bridge], bridge_log: Callable[[], str]
) -> None:
    """One drain applies the deliveries of many requests: its own lines carry the id of the request that enqueued
    it, the line about a delivery that failed carries the id of the request that delivered it."""
    bridge = make_bridge(log_format="json")
    good = {**woo.headers_of("order.created.pending"), "X-Request-ID": "first"}
    assert bridge.post_webhook(woo.raw_body("order.created.pending"), good).status_code == 200  # enqueues the drain
    body, bad = woo.signed("order.updated.completed", {**woo.payload("order.updated.completed"), "line_items": 7})
    assert bridge.post_webhook(body, {**bad, "X-Request-ID": "second"}).status_code == 200  # the same drain's

    bridge.drain()

    lines = _lines(bridge_log())
    [failed] = [line for line in lines if "parked as failed" in line["message"]]
    assert failed["request_id"] == "second" and failed["level"] == "WARNING"
    [drained] = [line for line in lines if line["message"].startswith("drained 2 deliveries")]
    assert drained["request_id"] == "first"
