"""Points per currency unit on the order's eligible amount."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bridge.connectors.base import ShopOrder
from bridge.rules.base import Award, OrderContext, quantize_money
from bridge.rules.rounding import to_points


@dataclass(frozen=True)
class PerAmountRule:
    """``points_per_unit`` points per unit of line-item totals after discounts, tax and shipping excluded."""

    id: str
    points_per_unit: Decimal
    rounding: str = "down"

    def eligible_amount(self, order: ShopOrder, ctx: OrderContext) -> Decimal:
        total = sum((item.total for item in order.line_items), Decimal(0))
        return quantize_money(max(total, Decimal(0)), ctx.currency_minor_unit)

    def award_for_order(self, order: ShopOrder, ctx: OrderContext) -> Award | None:
        base = self.eligible_amount(order, ctx)
        points = to_points(base * self.points_per_unit, self.rounding)
        if points <= 0:
            return None
        return Award(
            rule_id=self.id,
            points=points,
            reason=f"{self.points_per_unit} points per {order.currency} on {base}",
            detail={"base": str(base), "rate": str(self.points_per_unit), "rounding": self.rounding},
        )
