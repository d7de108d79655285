"""What the analytics reports read instead of parsing each order's amounts: ``order_state.net_amount``
(``030_reportsperf_order_net``, a column the database generates) and ``analytics.month_index`` (a binary search
of ``CASE``s). Both are checked against a recount written here, after a random workload of order writes: every
order's net value to the minor unit and their sum to the cent, and every instant's local month.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, literal, select

from bridge.reports import analytics
from bridge.reports.days import day_start
from bridge.storage import db
from bridge.storage import orders as order_store
from bridge.storage import tables as t
from bridge.storage.tables import UtcDateTime
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.client import SHOP, Bridge
from tests.support.clock import TEST_NOW

o = t.order_state.c


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def amount(rng: random.Random, cents: int) -> str:
    """A decimal string as the order service writes them (``str(Decimal)``): "12.5", "7", "0.05", "1E+3"..."""
    value = Decimal(rng.randrange(cents)).scaleb(-2)
    return str(value.normalize()) if rng.random() < 0.3 else str(value)


def test_net_amount_is_each_orders_net_value_after_any_writes(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge()
    rng = random.Random(18)
    expected: dict[str, Decimal] = {}
    with db.write(bridge.rt.engine) as conn:
        for n in range(300):  # created empty, then paid, then some refunded (partly, fully, or more than paid)
            order_id = f"o{n}"
            state = order_store.lock_or_create(conn, "club", SHOP, order_id, TEST_NOW)
            total = amount(rng, 10**9 if n % 50 == 0 else 100_000)
            refunded = "0"
            order_store.save(conn, state.id, status="processing", total=total, refunded_total=refunded)
            if rng.random() < 0.4:
                refunded = rng.choice([total, amount(rng, 100_000), "0.01"])
                order_store.save(conn, state.id, status="completed", total=total, refunded_total=refunded)
            expected[order_id] = max(Decimal(total) - Decimal(refunded), Decimal(0))
        cur = analytics.Money("USD", 2, (SHOP,), conn.dialect.name)
        rows = dict(conn.execute(select(o.order_id, analytics.net_minor(cur))).all())
        total_minor = conn.scalar(select(func.sum(analytics.net_minor(cur))))
    assert {k: Decimal(v).scaleb(-2) for k, v in rows.items()} == expected
    assert Decimal(total_minor).scaleb(-2) == sum(expected.values())


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Tehran", "America/New_York"])
def test_month_index_finds_each_instants_local_month(make_bridge: Callable[..., Bridge], timezone: str) -> None:
    """Around every month boundary (DST changes in New York; +03:30 in Tehran), for 1 to 37 months."""
    zone = ZoneInfo(timezone)
    bridge = make_bridge(program={"timezone": timezone})
    query = type("Q", (), {"zone": zone})()
    with db.read(bridge.rt.engine) as conn:
        for count in (1, 2, 3, 12, 13, 37):
            months = [analytics.add_months(date(2024, 1, 1), i) for i in range(count)]
            bounds = [day_start(m, zone) for m in months] + [day_start(analytics.add_months(months[-1], 1), zone)]
            instants = [b + timedelta(seconds=s) for b in bounds for s in (-1, 0, 1)]
            instants.append(datetime(2023, 6, 1, tzinfo=UTC))
            got = [
                conn.scalar(select(analytics.month_index(literal(at, UtcDateTime()), months, query))) for at in instants
            ]
            local = [at.astimezone(zone).date().replace(day=1) for at in instants]
            expected = [months.index(m) if m in months else (-1 if m < months[0] else count) for m in local]
            assert got == expected
