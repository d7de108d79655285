"""Wiring of tiers into the worker: the order observer (up at once) and the nightly review (down fairly)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection

from bridge.connectors.base import ShopOrder
from bridge.inbox.dispatch import ORDER_OBSERVERS
from bridge.jobs.schedule import PeriodicJob, register
from bridge.orders.service import ShopContext
from bridge.runtime import Runtime, active_runtime
from bridge.storage import db
from bridge.storage import tiers as store
from bridge.storage.clock import utcnow
from bridge.tiers import service
from bridge.tiers.service import ReviewOutcome

log = logging.getLogger(__name__)

REVIEW_BATCH = 5000  # members per transaction: a few statements each, whatever the size
REVIEW_INTERVAL_SECONDS = 86400.0  # nightly: year ends and rolling windows are read by date, not by run


def observe_order(conn: Connection, ctx: ShopContext, order: ShopOrder) -> None:
    """A paid order may lift its member to a higher tier, in the transaction that applied it."""
    rt = active_runtime()
    if rt is None or rt.settings.program.tiers is None or order.status not in ctx.paid_statuses:
        return
    member_id = store.order_member(conn, ctx.shop_id, order.order_id)
    if member_id is not None:
        service.qualify(conn, rt.settings.program, member_id, utcnow(), {"shop": ctx.shop_id, "order": order.order_id})


def run_review(rt: Runtime, now: datetime) -> dict[str, int]:
    """Review every member with a tier, a keyset page per transaction (a killed run repeats only a page)."""
    program = rt.settings.program
    total = ReviewOutcome()
    if program.tiers is None:
        return asdict(total)
    after: int | None = 0
    while after is not None:
        with db.write(rt.engine) as conn:
            after, outcome = service.review_batch(conn, program, after, REVIEW_BATCH, now)
        for key, value in asdict(outcome).items():
            setattr(total, key, getattr(total, key) + value)
    if total.down or total.up or total.warned or total.overrides_ended:
        log.info("tier review: %s", asdict(total))
    return asdict(total)


if observe_order not in ORDER_OBSERVERS:
    ORDER_OBSERVERS.append(observe_order)
register(
    PeriodicJob(
        "tiers.review",
        lambda rt: REVIEW_INTERVAL_SECONDS if rt.settings.program.tiers is not None else 0,
        run_review,
    )
)
