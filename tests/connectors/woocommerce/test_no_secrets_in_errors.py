"""An http shop is called with its consumer key and an OAuth signature in the query string: neither may reach an
exception, a log line, a traceback or the inbox's last error, even when the shop cannot be reached."""

from __future__ import annotations

import io
import logging
import re
import socket
import traceback
from collections.abc import Callable, Iterator

import pytest
import requests
from sqlalchemy import select

from bridge import logs
from bridge.connectors.woocommerce.api import ShopUnavailable, WooClient
from bridge.storage import db
from bridge.storage import tables as t
from tests.support import woo
from tests.support.client import SHOP, WIDGET_SECRET, Bridge

KEY = "ck_" + "4f" * 20  # shaped like a real WooCommerce REST key
SECRET = "cs_" + "9a" * 20
LEAKS = re.compile(r"ck_4f|cs_9a|oauth_signature=(?!\[redacted\])|oauth_consumer_key=(?!\[redacted\])")


@pytest.fixture
def dead_shop_url() -> str:
    """A loopback port nobody listens on: connecting is refused, as with a shop that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def log_text() -> Iterator[Callable[[], str]]:
    """Everything logged at any level, as the bridge's own stderr handler formats it."""
    logs.install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(logs.FORMAT))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream.getvalue
    root.removeHandler(handler)
    root.setLevel(level)


def test_the_clients_error_carries_method_and_path_but_no_url(dead_shop_url: str) -> None:
    client = WooClient(dead_shop_url, KEY, SECRET, timeout=2)
    with pytest.raises(ShopUnavailable) as caught:
        client.get("orders", search="dave@example.test")
    text = "".join(traceback.format_exception(caught.value))
    assert "GET orders" in str(caught.value) and "ConnectionError" in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None  # requests' error stays behind
    assert not LEAKS.search(text), text


def test_a_log_line_or_traceback_quoting_a_signed_url_is_redacted(
    dead_shop_url: str, log_text: Callable[[], str]
) -> None:
    """The safety net, for code that lets a raw requests error reach a logger."""
    signed = f"{dead_shop_url}/wp-json/wc/v3/orders?oauth_consumer_key={KEY}&oauth_signature=c2lnbmF0dXJl%3D"
    try:
        requests.get(signed, timeout=2)
    except requests.ConnectionError as exc:
        assert KEY in str(exc)  # what requests puts in its own message
        logging.getLogger("bridge.test").warning("calling %s failed", signed, exc_info=True)
    text = log_text()
    assert "calling " in text and "/wp-json/wc/v3/orders?" in text and "Traceback" in text
    assert "oauth_consumer_key=[redacted]" in text and "c2lnbmF0dXJl" not in text
    assert not LEAKS.search(text), text


def test_a_worker_failing_to_reach_an_http_shop_logs_and_stores_no_secret(
    make_bridge: Callable[..., Bridge], dead_shop_url: str, log_text: Callable[[], str]
) -> None:
    """A category rule makes the worker ask the shop for the product's categories; the shop is down."""
    shop = {
        "id": SHOP,
        "platform": "woocommerce",
        "url": dead_shop_url,
        "consumer_key": KEY,
        "consumer_secret": SECRET,
        "webhook_secret": woo.SECRET,
        "widget_secret": WIDGET_SECRET,
        "currency": "USD",
    }
    rule = {"id": "coffee2x", "type": "multiplier", "categories": ["coffee"], "multiplier": 2}
    bridge = make_bridge(shops=[shop], inbox={"max_attempts": 2}, program={"earn": {"rules": [rule]}})
    body, headers = woo.with_order_id("order.updated.processing-paid", 12)
    bridge.send_ok(body, headers)
    bridge.drain()
    with db.read(bridge.rt.engine) as conn:
        errors = [str(e) for e in conn.scalars(select(t.inbox_delivery.c.last_error)) if e]
    text = log_text() + "\n".join(errors)
    assert "products/10" in text  # the failure is told: which call, not with which credentials
    assert not LEAKS.search(text), text
