"""Fixed bonuses that depend on the member's order history: the first order, every n-th or a quick repeat."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bridge.connectors.base import ShopOrder
from bridge.rules.base import Award, OrderContext
from bridge.rules.lines import ZERO


@dataclass(frozen=True)
class FirstOrderRule:
    id: str
    points: int
    minimum_amount: Decimal = ZERO
    name: str = ""
    description: str = ""
    segments: frozenset[str] = frozenset()  # issue 16: only for members in one of these (the engine checks)

    def award_for_order(self, order: ShopOrder, ctx: OrderContext) -> Award | None:
        if ctx.member.paid_orders_before != 0 or order.total < self.minimum_amount or self.points <= 0:
            return None
        return Award(self.id, self.points, "first order bonus", {"order_number": 1})


@dataclass(frozen=True)
class NthOrderRule:
    """``every``: every n-th paid order (3 -> the 3rd, 6th, ...). ``nth``: exactly the n-th paid order.

    ``within_days``: and only when it comes at most that many days after the member's previous paid order
    ("the 2nd order within 60 days" is ``nth: 2, within_days: 60``).
    """

    id: str
    points: int
    every: int | None = None
    nth: int | None = None
    within_days: int | None = None
    name: str = ""
    description: str = ""
    segments: frozenset[str] = frozenset()  # issue 16: only for members in one of these (the engine checks)

    def award_for_order(self, order: ShopOrder, ctx: OrderContext) -> Award | None:
        number = ctx.member.paid_orders_before + 1
        if self.every is not None and number % self.every != 0:
            return None
        if self.nth is not None and number != self.nth:
            return None
        if self.within_days is not None:
            previous = ctx.member.previous_order_at
            if previous is None or (ctx.at - previous).total_seconds() > self.within_days * 86400:
                return None
        if self.points <= 0:
            return None
        return Award(self.id, self.points, f"order number {number} bonus", {"order_number": number})
