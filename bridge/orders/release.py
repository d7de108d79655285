"""Pending -> available: an order's points become spendable once it is completed and the hold has passed.

Append-only, like everything in the ledger: a release is a pair of entries under keys derived from the earn
entry (``<earn key>:release:out`` takes the rest off ``pending``, ``<earn key>:release`` puts it on
``available``), posted in one transaction under the order's row lock, so it cannot interleave with a refund
of the same order. What is released is what the earn entry still holds after refunds during the hold.

Orders are released in batches (one lock query, one read of their entries, one insert, one update per batch):
the daily run over a large ledger is dominated by round trips otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Connection

from bridge.ledger import service as ledger
from bridge.ledger.model import Entry, EntryState, NewEntry, release_pair
from bridge.notifications import outbox
from bridge.orders.service import CAUSE_ORDER, ShopContext, group_order_entries, lot_expiry
from bridge.storage import ledger as ledger_store
from bridge.storage import life


def release_orders(conn: Connection, ctx: ShopContext, order_ids: list[str], now: datetime) -> tuple[int, int]:
    """Release the pending points of those orders whose hold is over; returns (orders released, points moved)."""
    due = now - timedelta(days=ctx.earning.hold_days)
    locked = [
        o
        for o in life.lock_orders(conn, ctx.shop_id, order_ids)
        # re-checked under the lock: released meanwhile by another worker, or restored into a new cycle
        if o.released_at is None and o.completed_at is not None and o.completed_at <= due
    ]
    if not locked:
        return 0, 0
    by_order: dict[str, list[Entry]] = defaultdict(list)
    for entry in ledger_store.for_causes(conn, ctx.shop_id, CAUSE_ORDER, [o.order_id for o in locked]):
        by_order[entry.cause_id].append(entry)
    entries: list[NewEntry] = []
    events: list[outbox.NewEvent] = []
    moved = 0
    for order in locked:
        current = group_order_entries(by_order.get(order.order_id, []), order.cycle)
        order_points = 0
        for earn in current.earns:
            if earn.state != EntryState.PENDING or earn.id in current.released:
                continue
            rest = earn.points - current.reversed_points.get(earn.id, 0)
            if rest > 0:
                entries += _release_pair(ctx, earn, rest, now, order.completed_at)
                moved += rest
                order_points += rest
        if order_points:
            first = current.earns[0]
            payload = {"order_id": order.order_id, "points": order_points}
            key = f"{first.idempotency_key}:points_released"
            events.append(
                outbox.NewEvent(ctx.program_id, "points_released", key, first.member_id, payload, ctx.shop_id)
            )
    ledger.post_many(conn, entries)
    outbox.add_many(conn, events)  # issue 17: in the release's transaction
    life.mark_released(conn, [o.state_id for o in locked], now)
    return len(locked), moved


def release_order(conn: Connection, ctx: ShopContext, order_id: str, now: datetime) -> int:
    """One order (see ``release_orders``); returns the points moved."""
    return release_orders(conn, ctx, [order_id], now)[1]


def _release_pair(
    ctx: ShopContext, earn: Entry, rest: int, now: datetime, completed_at: datetime | None
) -> list[NewEntry]:
    done = f"{completed_at:%Y-%m-%d}" if completed_at else "?"
    pair = release_pair(
        earn,
        rest,
        now=now,
        expires_at=lot_expiry(ctx.earning, now),
        note=f"available: order completed {done}, hold {ctx.earning.hold_days} days",
        meta={"cycle": earn.meta.get("cycle", 1)},
    )
    return list(pair)
