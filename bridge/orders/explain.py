"""Explain an order: the same evaluation the worker runs, with the member's current context, writing nothing.

Used by ``bridge rules explain`` and ``POST /admin/v1/rules/preview``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from bridge.connectors.base import ShopOrder
from bridge.members.service import normalize_email
from bridge.orders.context import order_context
from bridge.orders.service import ShopContext
from bridge.rules import explain_order
from bridge.runtime import Runtime
from bridge.storage import members as member_store


def explain(
    rt: Runtime, conn: Connection, shop_id: str, order: ShopOrder, ctx: ShopContext | None = None
) -> dict[str, Any]:
    """``ctx``: another program's rules (a draft's preview, issue 14); default: the published program's."""
    ctx = ctx or rt.shop_context(shop_id)
    member_id = _existing_member(conn, rt.settings.program.id, shop_id, order)
    rule_ctx = order_context(
        conn,
        ctx.rules,
        order,
        shop_id=shop_id,
        minor_unit=ctx.minor_unit,
        member_id=member_id,
        categories_of=ctx.categories_of,
    )
    evaluation = explain_order(order, ctx.rules, rule_ctx)
    pays = order.status in ctx.paid_statuses
    return {
        "shop_id": shop_id,
        "order_id": order.order_id,
        "status": order.status,
        "earns_now": pays,  # the worker posts these awards when the order is (or was) paid
        "points_state": "available" if ctx.earning.release == "on_payment" else "pending",
        "hold_days": ctx.earning.hold_days if ctx.earning.release == "after_hold" else 0,
        "member": {
            "id": member_id,
            "joined": rule_ctx.member.joined,
            "tier": rule_ctx.member.tier,
            "paid_orders_before": rule_ctx.member.paid_orders_before,
            "earned_in_cap_windows": dict(rule_ctx.member.earned),
            # issue 16: what rules for some segments were judged by (read only when a rule names segments)
            "segments": sorted(rule_ctx.member.segments) if ctx.rules.needs_segments else None,
        },
        "evaluated_at": rule_ctx.at.isoformat(),
        **evaluation.as_dict(),
    }


def _existing_member(conn: Connection, program_id: str, shop_id: str, order: ShopOrder) -> int | None:
    """The member the worker would credit, without creating one (explaining writes nothing)."""
    if order.customer_id:  # an account's order is its account's, never its billing e-mail's (issue 12)
        return member_store.by_identity(conn, shop_id, order.customer_id)
    email = normalize_email(order.email)
    return member_store.by_email(conn, program_id, email) if email else None
