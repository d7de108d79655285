"""What the rules engine is told about an order besides the order: one builder for the worker, explain and preview.

Reads only (member history, profile, earned totals for caps) plus the injected product-category lookup, so the
explanation shows exactly what the worker would award at this moment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from bridge.connectors.base import ShopOrder
from bridge.rules import MemberContext, OrderContext, RuleSet
from bridge.storage import life
from bridge.storage.clock import utcnow

CategoryLookup = Callable[[str], tuple[str, ...]]


def order_moment(order: ShopOrder) -> datetime:
    """The moment rules are evaluated at (campaign windows, cap periods): when it was paid, else created."""
    return order.date_paid or order.date_created or utcnow()


def member_context(
    conn: Connection, rules: RuleSet, member_id: int | None, at: datetime, state_id: int = 0
) -> MemberContext:
    open_program = rules.membership.policy == "open"
    if member_id is None:
        return MemberContext(joined=open_program)
    count, previous = life.paid_orders_before(conn, member_id, at, state_id)
    profile = life.profile(conn, member_id)
    earned = {
        cap.id: life.earned_since(conn, member_id, cap.window_start(at, rules.timezone), cap.rule_ids or None)
        for cap in rules.caps
    }
    return MemberContext(
        member_id=member_id,
        joined=open_program or profile.joined_at is not None,
        tier=profile.tier,
        paid_orders_before=count,
        previous_order_at=previous,
        earned=earned,
        birthday=profile.birthday,
    )


def order_context(
    conn: Connection,
    rules: RuleSet,
    order: ShopOrder,
    *,
    shop_id: str,
    minor_unit: int,
    member_id: int | None,
    categories_of: CategoryLookup | None,
    state_id: int = 0,
) -> OrderContext:
    at = order_moment(order)
    categories: dict[str, tuple[str, ...]] = {}
    if rules.needs_categories and categories_of is not None:
        # Only when a rule names categories: the lookup may call the shop (cached in the connector).
        for product_id in {item.product_id for item in order.line_items}:
            categories[product_id] = categories_of(product_id)
    return OrderContext(
        shop_id=shop_id,
        currency_minor_unit=minor_unit,
        at=at,
        member=member_context(conn, rules, member_id, at, state_id),
        categories=categories,
    )
