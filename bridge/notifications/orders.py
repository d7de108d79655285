"""Order events (``thank_you``, ``points_earned``): an order observer, in the transaction that applied the order.

Runs after the points are settled (``bridge.inbox.dispatch.ORDER_OBSERVERS``), for a delivery and for a page of
reconciled or backfilled orders alike. Keys derive from the order (and its earning cycle), so a repeated
snapshot writes nothing. An order paid more than ``FRESH_DAYS`` ago (a backfill, a late reconciliation) gets no
message: nobody wants a thank-you for last year's order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Connection

from bridge.connectors.base import ShopOrder
from bridge.ledger.model import EntryKind
from bridge.notifications import outbox
from bridge.orders.service import CAUSE_ORDER, ShopContext, was_paid
from bridge.storage import ledger as ledger_store
from bridge.storage import orders as order_store
from bridge.storage.clock import utcnow

FRESH_DAYS = 7


def observe_order(conn: Connection, ctx: ShopContext, order: ShopOrder) -> None:
    observe_page(conn, ctx, [order])


def observe_page(conn: Connection, ctx: ShopContext, orders: Sequence[ShopOrder]) -> None:
    fresh_since = utcnow() - timedelta(days=FRESH_DAYS)
    paid = [o for o in orders if was_paid(ctx, o) and (o.date_paid or o.date_modified or utcnow()) >= fresh_since]
    if not paid:
        return
    ids = [o.order_id for o in paid]
    members = order_store.members_of(conn, ctx.shop_id, ids)
    earned: dict[tuple[str, int], int] = defaultdict(int)
    for entry in ledger_store.for_causes(conn, ctx.shop_id, CAUSE_ORDER, ids):
        if entry.kind == EntryKind.EARN:
            earned[(entry.cause_id, int(entry.meta.get("cycle", 1)))] += entry.points
    events: list[outbox.NewEvent] = []
    for order in paid:
        member_id = members.get(order.order_id)
        if member_id is None:
            continue  # not a member (closed program, no account): nobody to thank
        base = {"order_id": order.order_id, "total": str(order.total), "currency": order.currency}
        prefix = f"{ctx.shop_id}:order:{order.order_id}"
        events.append(outbox.NewEvent(ctx.program_id, "thank_you", f"{prefix}:thank_you", member_id, base, ctx.shop_id))
        for (order_id, cycle), points in sorted(earned.items()):
            if order_id == order.order_id and points > 0:
                key = f"{prefix}:c{cycle}:points_earned"
                payload = {**base, "points": points}
                events.append(outbox.NewEvent(ctx.program_id, "points_earned", key, member_id, payload, ctx.shop_id))
    outbox.add_many(conn, events)
