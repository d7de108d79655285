"""A coupon's life after it is issued: used by an order (or released again), expired, refunded.

``observe_order`` is an order observer (``bridge.inbox.dispatch.ORDER_OBSERVERS``): it runs in the worker's
transaction for every order snapshot, so it is idempotent and order-independent like the rest of the pipeline.
"""

from __future__ import annotations

import logging
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import Connection

from bridge.connectors.base import ShopOrder
from bridge.inbox.dispatch import ORDER_OBSERVERS
from bridge.orders.service import ShopContext
from bridge.redemption import codes, issuer
from bridge.redemption.model import Redemption, State
from bridge.runtime import active_runtime
from bridge.storage import redemptions as store
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)

RELEASING_STATUSES = frozenset({"cancelled", "failed", "trash"})
"""The shop releases a coupon's usage when the order using it is cancelled or fails."""


def _refunds_return_points() -> bool:
    """The program's policy (no runtime at all: the safe default, no)."""
    rt = active_runtime()
    return rt.settings.program.redemption.refund_returns_points if rt is not None else False


def observe_order(conn: Connection, ctx: ShopContext, order: ShopOrder) -> None:
    for code in {c.strip().lower() for c in order.coupon_codes}:
        if not codes.could_be_ours(code):
            continue  # the shop's own coupon: no lookup (this runs for every snapshot of every order)
        red = store.by_code(conn, ctx.shop_id, code)
        if red is None or red.program_id != ctx.program_id:
            continue  # not one of ours
        red = _track_use(conn, red, order)
        if red.state == State.USED and red.order_id == order.order_id and _refunds_return_points():
            _return_refunded(conn, red, order)


def _track_use(conn: Connection, red: Redemption, order: ShopOrder) -> Redemption:
    now = utcnow()
    if order.status in RELEASING_STATUSES:
        if red.state == State.USED and red.order_id == order.order_id:
            store.transition(conn, red.id, (State.USED,), state=State.ISSUED, order_id=None, updated_at=now)
            log.info("redemption %s: order %s released the coupon", red.id, order.order_id)
    elif red.state == State.ISSUED:
        store.transition(conn, red.id, (State.ISSUED,), state=State.USED, order_id=order.order_id, updated_at=now)
    elif red.state in (State.EXPIRED, State.CANCELLED):
        log.warning("redemption %s is %s but order %s carries its code", red.id, red.state, order.order_id)
    current = store.get(conn, red.id)
    assert current is not None
    return current


def _return_refunded(conn: Connection, red: Redemption, order: ShopOrder) -> None:
    """Refunds give back the spent points pro rata of the order's total, one entry per refund (its own key)."""
    if order.total <= 0 or not order.refunds:
        return
    refunded = Decimal(0)
    returned_so_far = 0
    for refund in sorted(order.refunds, key=lambda r: (len(r.refund_id), r.refund_id)):
        refunded += refund.amount
        share = min(refunded / order.total, Decimal(1))
        cumulative = int((share * red.points).to_integral_value(rounding=ROUND_DOWN))
        points = cumulative - returned_so_far
        returned_so_far = cumulative
        if points > 0:
            issuer.give_back(
                conn,
                red,
                f"{red.program_id}:redeem:{red.id}:refund:{refund.refund_id}",
                f"order {order.order_id} refunded; points of the reward returned pro rata",
                points=points,
            )


def register() -> None:
    if observe_order not in ORDER_OBSERVERS:
        ORDER_OBSERVERS.append(observe_order)
