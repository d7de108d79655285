"""Feeding orders and customers read from the shop's REST API through the webhook pipeline.

The REST API returns the same representation a webhook delivers, so a fetched order goes through the same parser
and the same ``apply_event`` as a delivery: the idempotency keys make it a no-op when nothing was missed and an
exact repair when something was. An order that fails to apply is put in the inbox (as if it had been delivered),
where the worker retries it with backoff and the owner sees it; a page is never lost for one bad order.

A page is applied set-based when that decides exactly what one by one would (``bridge/orders/batch.py``): a few
statements per page instead of about four per order. If anything in it fails, the page's savepoint is rolled back
and its orders are applied one by one, each under its own savepoint.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection

from bridge.connectors.base import EventKind, ShopEvent, ShopOrder
from bridge.connectors.woocommerce import consts
from bridge.connectors.woocommerce.webhooks import parse_customer, parse_order
from bridge.inbox.dispatch import apply_event
from bridge.members import name_capture
from bridge.members.service import link_account
from bridge.members.signup import apply_customer
from bridge.orders.batch import Applied, apply_page, can_batch
from bridge.orders.context import with_categories_fetched
from bridge.orders.service import ShopContext, paid_or_reversed
from bridge.storage import inbox as inbox_store
from bridge.storage import orders as order_store
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)

MISSED = "missed"  # we had never heard of the order
UPDATED = "updated"  # we knew an older version of it
KNOWN = "known"  # nothing new
HISTORY = "history"  # imported without points (backfill --history-only)
QUEUED = "queued"  # could not be applied now: left in the inbox for the worker


def with_categories_for(ctx: ShopContext, orders: Iterable[Mapping[str, Any]]) -> ShopContext:
    """``ctx`` with the product categories of these orders fetched from the shop: call it *before* opening the
    write transaction they are applied in, never inside (``bridge.orders.context.with_categories_fetched``).
    An order whose categories the shop could not give fails to apply and is queued in the inbox."""
    if ctx.categories_of is None:
        return ctx
    parsed: list[ShopOrder] = []
    for data in orders:
        try:
            parsed.append(parse_order(data))
        except Exception:  # parsed again when applied, where the failure is handled
            continue
    return with_categories_fetched(ctx, parsed)


def apply_orders(
    conn: Connection, ctx: ShopContext, orders: Iterable[Mapping[str, Any]], *, source: str, history_only: bool = False
) -> Counter[str]:
    """Apply each order snapshot; returns how many were missed, updated, already known (and queued)."""
    batch = [o for o in orders if isinstance(o, Mapping)]
    try:  # the common case: the whole page under one savepoint, no round trips per order for savepoints
        with conn.begin_nested():
            return apply_as_page(conn, ctx, batch, history_only)
    except Exception:
        log.debug("shop %s: an order of the page failed: applying them one by one", ctx.shop_id, exc_info=True)
    return apply_one_by_one(conn, ctx, batch, source=source, history_only=history_only)


def apply_one_by_one(
    conn: Connection, ctx: ShopContext, batch: list[Mapping[str, Any]], *, source: str, history_only: bool
) -> Counter[str]:
    """Each order as its own delivery, under its own savepoint: one that fails is queued, the others apply."""
    known = order_store.known_versions(conn, ctx.shop_id, [str(o.get("id")) for o in batch])
    counts: Counter[str] = Counter()
    for data in batch:
        counts[_apply_one(conn, ctx, data, known, source=source, history_only=history_only)] += 1
    return counts


def apply_as_page(
    conn: Connection, ctx: ShopContext, batch: list[Mapping[str, Any]], history_only: bool
) -> Counter[str]:
    """The page in a few statements (``bridge/orders/batch.py``) when that decides the same, else order by order."""
    parsed = [parse_order(data) for data in batch]
    if can_batch(parsed):
        return Counter(
            _classify(a, order)
            for a, order in zip(apply_page(conn, ctx, parsed, history_only=history_only), parsed, strict=True)
        )
    known = order_store.known_versions(conn, ctx.shop_id, [order.order_id for order in parsed])
    return Counter(_outcome(conn, ctx, data, known, history_only) for data in batch)


def _classify(applied: Applied, order: ShopOrder) -> str:
    if applied.outcome == "history":
        return HISTORY
    if applied.new:
        return MISSED
    before = applied.modified_before
    if before is None or (order.date_modified is not None and order.date_modified > before):
        return UPDATED
    return KNOWN


def _apply_one(
    conn: Connection,
    ctx: ShopContext,
    data: Mapping[str, Any],
    known: dict[str, Any],
    *,
    source: str,
    history_only: bool,
) -> str:
    try:
        with conn.begin_nested():
            return _outcome(conn, ctx, data, known, history_only)
    except Exception as exc:  # one bad order must not cost the page: the inbox retries it
        log.warning(
            "shop %s: order %s from %s could not be applied now (%s): queued", ctx.shop_id, data.get("id"), source, exc
        )
        _queue(conn, ctx, data, source)
        return QUEUED


def _outcome(
    conn: Connection, ctx: ShopContext, data: Mapping[str, Any], known: dict[str, Any], history_only: bool
) -> str:
    """Apply one order snapshot; what it was to us: missed, updated, known (or history)."""
    order = parse_order(data)
    if history_only and paid_or_reversed(ctx, order):
        order_store.mark_history_only(conn, ctx.program_id, ctx.shop_id, order.order_id, utcnow())
    event = ShopEvent(EventKind.ORDER, consts.TOPIC_ORDER_UPDATED, order.order_id, order=order)
    outcome = apply_event(conn, ctx, event)
    return _classify(Applied(outcome, order.order_id not in known, known.get(order.order_id)), order)


def _queue(conn: Connection, ctx: ShopContext, data: Mapping[str, Any], source: str) -> None:
    now = utcnow()
    inbox_store.add(
        conn,
        program_id=ctx.program_id,
        shop_id=ctx.shop_id,
        topic=consts.TOPIC_ORDER_UPDATED,
        resource_id=str(data.get("id", ""))[:64],
        platform_delivery_id=f"{source}:{now.isoformat()}"[:128],
        headers={"X-Bridge-Source": source},
        body=json.dumps(data).encode(),
        now=now,
    )


def apply_customers(
    conn: Connection, ctx: ShopContext, customers: Iterable[Mapping[str, Any]], *, award_signup: bool
) -> Counter[str]:
    """Members for imported shop accounts; the sign-up bonus only when awarding (once per member, ever)."""
    counts: Counter[str] = Counter()
    for data in customers:
        with conn.begin_nested():
            customer = parse_customer(data)
            if award_signup:
                counts[apply_customer(conn, ctx, customer, created=True)] += 1
            else:
                member_id = link_account(conn, ctx.program_id, ctx.shop_id, customer.customer_id, customer.email)
                name_capture.capture(conn, ctx.program_id, [(member_id, name_capture.from_customer(customer))])
                counts["linked"] += 1
    return counts
