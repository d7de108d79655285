"""The shop's client refuses to call out while this thread holds a database write transaction (issue 12, §3).

The test suite runs with ``write_guard.strict`` on (tests/conftest.py): any code path that calls the shop inside
``db.write`` fails its tests. In production the call goes on and the log says where the rule is broken.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from bridge import write_guard
from bridge.connectors.woocommerce.api import WooClient
from bridge.storage import db
from bridge.storage.db import make_engine
from tests.support.woo_rest import SHOP_URL, FakeWooShop


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def client() -> WooClient:
    return WooClient(SHOP_URL, "ck_test", "cs_test")


def test_a_shop_call_inside_a_write_transaction_raises_before_reaching_the_shop(
    woo_shop: FakeWooShop, client: WooClient, engine: Engine
) -> None:
    woo_shop.products[10] = {"id": 10, "categories": []}
    with db.write(engine), pytest.raises(write_guard.NetworkInWriteTransaction, match="GET products/10"):
        client.get_product(10)
    with db.raw_write(engine), pytest.raises(write_guard.NetworkInWriteTransaction):
        client.get_product(10)
    assert woo_shop.calls == []
    # before, after and beside a write (a read transaction holds no write lock) the call goes out
    with db.read(engine) as conn:
        conn.execute(text("SELECT 1"))
        client.get_product(10)
    client.get_product(10)
    assert woo_shop.calls_to("GET", r"products/10") == 2


def test_another_threads_write_does_not_stop_this_threads_call(
    woo_shop: FakeWooShop, client: WooClient, engine: Engine
) -> None:
    woo_shop.products[10] = {"id": 10, "categories": []}
    inside, done = threading.Event(), threading.Event()

    def writer() -> None:
        with db.write(engine):
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(10)
        client.get_product(10)  # the other thread holds the write: this one may call the shop
    finally:
        done.set()
        thread.join(10)
    assert woo_shop.calls_to("GET", r"products/10") == 1


def test_outside_the_test_suite_a_violation_is_logged_and_the_call_goes_on(
    woo_shop: FakeWooShop,
    client: WooClient,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(write_guard, "strict", False)
    woo_shop.products[10] = {"id": 10, "categories": []}
    with caplog.at_level(logging.ERROR, logger="bridge.write_guard"), db.write(engine):
        client.get_product(10)
    assert woo_shop.calls_to("GET", r"products/10") == 1
    assert "GET products/10 while a database write transaction is open" in caplog.text
    assert "ck_test" not in caplog.text and "cs_test" not in caplog.text
