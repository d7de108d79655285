"""Pending -> available: an order's points become spendable once it is completed and the hold has passed.

Append-only, like everything in the ledger: a release is a pair of entries under keys derived from the earn
entry (``<earn key>:release:out`` takes the rest off ``pending``, ``<earn key>:release`` puts it on
``available``), posted in one transaction under the order's row lock, so it cannot interleave with a refund
of the same order. What is released is what the earn entry still holds after refunds during the hold.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from bridge.ledger import service as ledger
from bridge.ledger.model import EntryKind, EntryState, NewEntry
from bridge.orders.service import CAUSE_ORDER, ShopContext, lot_expiry, order_ledger
from bridge.storage import life
from bridge.storage import orders as order_store


def release_order(conn: Connection, ctx: ShopContext, order_id: str, now: datetime) -> int:
    """Release the order's pending points if its hold is over; returns the points moved (0 when not due)."""
    state = order_store.lock_or_create(conn, ctx.program_id, ctx.shop_id, order_id, now)
    moments = life.order_moments(conn, state.id)
    due = now - timedelta(days=ctx.earning.hold_days)
    if moments.released_at is not None or moments.completed_at is None or moments.completed_at > due:
        return 0  # released meanwhile by another worker, or the order changed under us
    current = order_ledger(conn, ctx, order_id, state.cycle)
    moved = 0
    for earn in current.earns:
        if earn.state != EntryState.PENDING or earn.id in current.released:
            continue
        rest = earn.points - current.reversed_points.get(earn.id, 0)
        if rest <= 0:
            continue
        common = {
            "program_id": earn.program_id,
            "shop_id": earn.shop_id,
            "member_id": earn.member_id,
            "kind": EntryKind.RELEASE,
            "cause_type": CAUSE_ORDER,
            "cause_id": earn.cause_id,
            "rule_id": earn.rule_id,
            "reverses_entry_id": earn.id,
            "meta": {"cycle": earn.meta.get("cycle", 1)},
        }
        ledger.post(
            conn,
            NewEntry(
                points=-rest,
                state=EntryState.PENDING,
                idempotency_key=f"{earn.idempotency_key}:release:out",
                note="hold over: no longer pending",
                **common,  # type: ignore[arg-type]
            ),
        )
        ledger.post(
            conn,
            NewEntry(
                points=rest,
                state=EntryState.AVAILABLE,
                available_at=now,
                expires_at=lot_expiry(ctx.earning, now),
                idempotency_key=f"{earn.idempotency_key}:release",
                note=f"available: order completed {moments.completed_at:%Y-%m-%d}, hold {ctx.earning.hold_days} days",
                **common,  # type: ignore[arg-type]
            ),
        )
        moved += rest
    order_store.save(conn, state.id, released_at=now)
    return moved
