"""The daily life of points (issue 3): release after the hold, expiry, "expiring soon" events, birthdays.

Each job works in small transactions under keys derived from its cause, so two workers running it at once, or
a run killed half-way, only ever cost a repeat of already-done work.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from bridge.jobs.schedule import PeriodicJob, register
from bridge.ledger import expiry
from bridge.members.birthday import run_birthdays
from bridge.orders.release import release_orders
from bridge.runtime import Runtime
from bridge.storage import db, life

log = logging.getLogger(__name__)

RELEASE_BATCH = 1000


def run_release(rt: Runtime, now: datetime) -> dict[str, int]:
    """Release every order completed more than ``hold_days`` ago whose points are still pending."""
    earning = rt.settings.program.earning
    cutoff = now - timedelta(days=earning.hold_days)
    outcome = {"orders": 0, "points": 0}
    while True:
        with db.read(rt.engine) as conn:
            due = life.due_for_release(conn, rt.settings.program.id, cutoff, RELEASE_BATCH)
        by_shop: dict[str, list[str]] = defaultdict(list)
        for shop_id, order_id in due:
            by_shop[shop_id].append(order_id)
        released = 0
        for shop_id, order_ids in by_shop.items():
            with db.write(rt.engine) as conn:  # one transaction per batch and shop
                orders, points = release_orders(conn, rt.shop_context(shop_id), order_ids, now)
            released += orders
            outcome["orders"] += orders
            outcome["points"] += points
        if len(due) < RELEASE_BATCH or released == 0:
            break  # done, or what is left is not ours to release (changed under the lock)
    if outcome["orders"]:
        log.info("released pending points: %s", outcome)
    return outcome


def run_expiry(rt: Runtime, now: datetime) -> dict[str, int]:
    return expiry.run_all(rt.engine, rt.settings.program.id, rt.settings.program.earning, now)


def _interval(seconds: float, enabled: bool = True) -> float:
    return seconds if enabled else 0


register(
    PeriodicJob(
        "points.release",
        # runs in on_payment programs too: points earned while the program held them must still come out
        lambda rt: rt.settings.program.earning.release_interval_seconds,
        run_release,
    )
)
register(
    PeriodicJob(
        "points.expire",
        lambda rt: _interval(
            rt.settings.program.earning.expiry.interval_seconds, rt.settings.program.earning.expiry.mode != "none"
        ),
        run_expiry,
    )
)
register(
    PeriodicJob(
        "points.birthdays",
        lambda rt: _interval(rt.settings.program.earning.birthday_interval_seconds, bool(rt.rules.birthday_rules)),
        run_birthdays,
    )
)
