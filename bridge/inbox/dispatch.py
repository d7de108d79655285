"""One parsed event -> the service that applies it. Table-driven, explicit about what it ignores."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from bridge.connectors.base import EventKind, ShopEvent, ShopOrder
from bridge.members.signup import apply_customer
from bridge.orders.service import ShopContext, apply_order, apply_order_deleted

OrderObserver = Callable[[Connection, ShopContext, ShopOrder], None]

ORDER_OBSERVERS: list[OrderObserver] = []
"""Called with every order snapshot after the points are settled, in the same transaction: redemption marks
its coupons used, referrals attribute orders. An observer must be idempotent (snapshots repeat and reorder)."""


PageObserver = Callable[[Connection, ShopContext, Sequence[ShopOrder]], None]

PAGE_FORMS: dict[OrderObserver, PageObserver] = {}
"""An observer's form for a page of snapshots (backfill, reconciliation): the same effects as calling it for
each in turn, in fewer statements. Observers work on their own tables, so one may take the page before the next."""


def observe_order(conn: Connection, ctx: ShopContext, order: ShopOrder) -> None:
    """Tell every observer of this applied (not stale) snapshot."""
    for observe in ORDER_OBSERVERS:
        observe(conn, ctx, order)


def observe_orders(conn: Connection, ctx: ShopContext, orders: Sequence[ShopOrder]) -> None:
    """Tell every observer of these applied snapshots, in order: by its page form when it has one."""
    for observe in ORDER_OBSERVERS:
        page_form = PAGE_FORMS.get(observe)
        if page_form is not None:
            page_form(conn, ctx, orders)
            continue
        for order in orders:
            observe(conn, ctx, order)


def _order(conn: Connection, ctx: ShopContext, event: ShopEvent) -> str:
    assert event.order is not None
    outcome = apply_order(conn, ctx, event.order)
    if outcome != "stale":
        observe_order(conn, ctx, event.order)
    return outcome


def _order_deleted(conn: Connection, ctx: ShopContext, event: ShopEvent) -> str:
    return apply_order_deleted(conn, ctx, event.resource_id)


def _customer_created(conn: Connection, ctx: ShopContext, event: ShopEvent) -> str:
    assert event.customer is not None
    return apply_customer(conn, ctx, event.customer, created=True)


def _customer_updated(conn: Connection, ctx: ShopContext, event: ShopEvent) -> str:
    assert event.customer is not None
    return apply_customer(conn, ctx, event.customer, created=False)


def _ignored(conn: Connection, ctx: ShopContext, event: ShopEvent) -> str:
    # Replaced by bridge.privacy.hooks (issue 19: the account's member is pseudonymised) once features are loaded.
    return "ignored"


def _product_changed(conn: Connection, ctx: ShopContext, event: ShopEvent) -> str:
    """Drop the product's cached categories in this worker (issue 3); other workers' copies age out (TTL)."""
    forget = getattr(ctx.categories_of, "forget", None)
    if forget is None:
        return "ignored"  # no rule reads categories: nothing is cached
    forget(event.resource_id)
    return "forgotten"


HANDLERS: dict[EventKind, Callable[[Connection, ShopContext, ShopEvent], str]] = {
    EventKind.ORDER: _order,
    EventKind.ORDER_DELETED: _order_deleted,
    EventKind.CUSTOMER_CREATED: _customer_created,
    EventKind.CUSTOMER_UPDATED: _customer_updated,
    EventKind.CUSTOMER_DELETED: _ignored,
    EventKind.PRODUCT_CHANGED: _product_changed,
}


def apply_event(conn: Connection, ctx: ShopContext, event: ShopEvent) -> str:
    return HANDLERS[event.kind](conn, ctx, event)
