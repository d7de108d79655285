"""Points per currency unit on the order's eligible amount."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from bridge.connectors.base import ShopOrder
from bridge.rules.base import Award, OrderContext, in_segments, quantize_money
from bridge.rules.lines import ONE, ZERO, LineRule, line_weight
from bridge.rules.rounding import to_points


@dataclass(frozen=True)
class Boost:
    """A multiplier applied on top of the amount (a campaign, the member's tier), named for the explanation."""

    source: str
    multiplier: Decimal


@dataclass(frozen=True)
class PerAmountRule:
    """``points`` points per ``per`` currency units of the eligible amount (ratio form: 1 point per 10 units).

    The eligible amount is the line totals after discounts, each weighted by the line rules, plus tax, shipping
    and fees when the program says so. ``minimum_amount`` is compared with the unweighted amount. The result is
    rounded once, after every multiplier, in ``rounding`` mode.
    """

    id: str
    points_per_unit: Decimal
    rounding: str = "down"
    per: Decimal = ONE
    include_tax: bool = False
    include_shipping: bool = False
    include_fees: bool = False
    before_discounts: bool = False
    minimum_amount: Decimal = ZERO
    name: str = ""
    description: str = ""
    line_rules: tuple[LineRule, ...] = field(default=(), compare=False)
    segments: frozenset[str] = frozenset()  # issue 16: only for members in one of these (the engine checks)

    @property
    def rate(self) -> Decimal:
        return _rate(self.points_per_unit, self.per)

    def amounts(self, order: ShopOrder, ctx: OrderContext) -> tuple[Decimal, Decimal, list[str]]:
        """(weighted base, unweighted base, the line rules that applied)."""
        weighted = plain = ZERO
        applied: list[str] = []
        line_tax = ZERO
        lines = self.line_rules
        if any(r.segments for r in lines):  # issue 16: a line rule for some segments weighs their members' lines
            lines = tuple(r for r in lines if in_segments(r.segments, ctx.member.segments))
        for item in order.line_items:
            amount = item.subtotal if self.before_discounts else item.total
            if self.include_tax:
                amount += item.total_tax
            line_tax += item.total_tax
            weight, by = line_weight(item, lines, ctx.categories) if lines else (ONE, ())
            weighted += amount * weight
            plain += amount
            applied.extend(r for r in by if r not in applied)
        extra = ZERO
        if self.include_shipping:
            extra += order.shipping_total
        if self.include_fees:
            extra += order.fee_total
        if self.include_tax and (self.include_shipping or self.include_fees):
            extra += max(order.total_tax - line_tax, ZERO)  # the tax on shipping and fees
        q = ctx.currency_minor_unit
        return (
            quantize_money(max(weighted + extra, ZERO), q),
            quantize_money(max(plain + extra, ZERO), q),
            applied,
        )

    def award_for_order(self, order: ShopOrder, ctx: OrderContext, boosts: tuple[Boost, ...] = ()) -> Award | None:
        base, plain, line_rules = self.amounts(order, ctx)
        if plain < self.minimum_amount:
            return None
        multiplier = ONE
        for boost in boosts:
            multiplier *= boost.multiplier
        points = to_points(base * self.rate * multiplier, self.rounding)
        if points <= 0:
            return None
        detail: dict[str, object] = {"base": str(base), "rate": str(self.rate), "rounding": self.rounding}
        if multiplier != ONE:
            detail["multiplier"] = str(multiplier)
            detail["boosts"] = {b.source: str(b.multiplier) for b in boosts}
        if line_rules:
            detail["line_rules"] = line_rules
        reason = f"{plain_number(self.points_per_unit)} points per {plain_number(self.per)} {order.currency} on {base}"
        if multiplier != ONE:
            reason += f" x{plain_number(multiplier)}"
        return Award(rule_id=self.id, points=points, reason=reason, detail=detail)


@functools.lru_cache(maxsize=64)
def _rate(points: Decimal, per: Decimal) -> Decimal:
    return points / per  # a Decimal division per order adds up at 20,000 orders/s


def plain_number(value: Decimal) -> str:
    """``2`` not ``2.00``, ``1.5`` not ``1.50``: for sentences shown to people."""
    text = format(value.normalize(), "f")
    return text
