"""Rules benchmark: pure evaluation of a 10-rule program, orders per second on one core (target >= 20,000/s).

    .venv/bin/python bench/rules.py [--count 100000]

The program has ten rules of every kind the engine knows (an amount rule in ratio form with tax and shipping, a
category multiplier, a SKU exclusion, first-order and every-3rd-order bonuses, a second-order-within-60-days
bonus, a weekend multiplier campaign, a fixed-bonus campaign window, a daily overall cap and a yearly per-rule
cap) plus a tier multiplier. Orders have 1-5 lines; contexts vary the member's history, tier, caps already
earned and the moment (weekday/weekend, in or out of the campaign window). Contexts are built beforehand: this
measures ``explain_order`` (the worker's call), not the database reads that fill a context.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.config import load_settings  # noqa: E402
from bridge.connectors.base import LineItem, ShopOrder  # noqa: E402
from bridge.rules import MemberContext, OrderContext, build_rules, explain_order  # noqa: E402

TARGET = 20_000.0
RULES = [
    {"id": "base", "type": "per_amount", "points": 1, "per": 2, "include_tax": True, "include_shipping": True},
    {"id": "coffee", "type": "multiplier", "categories": ["coffee", "espresso"], "multiplier": 2},
    {"id": "no-gift", "type": "exclusion", "skus": ["GIFT-25", "GIFT-50"]},
    {"id": "welcome", "type": "first_order", "points": 100},
    {"id": "third", "type": "nth_order", "every": 3, "points": 30},
    {"id": "back-soon", "type": "nth_order", "nth": 2, "within_days": 60, "points": 25},
    {"id": "weekend", "type": "campaign", "multiplier": "1.5", "weekdays": ["sat", "sun"]},
    {"id": "black-friday", "type": "campaign", "points": 50, "starts": "2026-11-27", "ends": "2026-11-30"},
    {"id": "daily", "type": "cap", "period": "day", "max_points": 500},
    {"id": "welcome-cap", "type": "cap", "period": "year", "max_points": 100, "rules": ["welcome"]},
]


def program():  # type: ignore[no-untyped-def]
    settings = load_settings(
        None,
        environ={},
        overrides={
            "program": {
                "timezone": "Europe/Berlin",
                "earn": {"rules": RULES, "tier_multipliers": {"gold": "1.25", "silver": "1.1"}},
            }
        },
    )
    return build_rules(settings.program)


def orders(count: int, rng: random.Random) -> list[tuple[ShopOrder, OrderContext]]:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    made = []
    for i in range(count):
        lines = tuple(
            LineItem(
                str(rng.randint(1, 40)),
                "0",
                rng.choice(["", "GIFT-25", "BEAN-1", "MUG-2"]),
                rng.randint(1, 3),
                Decimal(rng.randint(100, 9000)) / 100,
                Decimal(rng.randint(100, 9000)) / 100,
                Decimal(rng.randint(0, 900)) / 100,
            )
            for _ in range(rng.randint(1, 5))
        )
        subtotal = sum((item.total + item.total_tax for item in lines), Decimal(0))
        at = start + timedelta(minutes=rng.randint(0, 14 * 24 * 60))
        order = ShopOrder(
            order_id=str(i),
            status="processing",
            currency="EUR",
            total=subtotal + Decimal("4.90"),
            total_tax=sum((item.total_tax for item in lines), Decimal(0)),
            shipping_total=Decimal("4.90"),
            discount_total=Decimal(0),
            customer_id=str(i % 1000),
            email=f"s{i}@example.test",
            date_created=at,
            date_modified=at,
            date_paid=at,
            line_items=lines,
            refunds=(),
            coupon_codes=(),
        )
        member = MemberContext(
            member_id=i % 1000,
            tier=rng.choice([None, None, "silver", "gold"]),
            paid_orders_before=rng.randint(0, 7),
            previous_order_at=at - timedelta(days=rng.randint(1, 120)),
            earned={"daily": rng.randint(0, 600), "welcome-cap": rng.choice([0, 0, 100])},
        )
        categories = {item.product_id: (("coffee",) if int(item.product_id) % 4 == 0 else ("tea",)) for item in lines}
        made.append((order, OrderContext("bench", 2, at=at, member=member, categories=categories)))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    rules = program()
    n_rules = len(RULES)
    work = orders(args.count, random.Random(3))
    for order, ctx in work[:1000]:  # warm up
        explain_order(order, rules, ctx)
    started = time.perf_counter()
    points = 0
    for order, ctx in work:
        points += explain_order(order, rules, ctx).points
    elapsed = time.perf_counter() - started
    rate = args.count / elapsed
    sys.stdout.write(
        f"{n_rules} rules, {args.count} orders in {elapsed:.2f} s = {rate:,.0f} orders/s on one core "
        f"({elapsed / args.count * 1e6:.1f} us each; {points} points in all)\n"
        f"target >= {TARGET:,.0f}/s: {'met' if rate >= TARGET else 'NOT met'}\n"
    )


if __name__ == "__main__":
    main()
