"""Product, SKU and category multipliers and exclusions: a weight per order line for the amount rules.

Why weights and not awards of their own: "2x on coffee" multiplies the points that the coffee *earns*, so it
must be folded into the amount rules before their one rounding, not rounded separately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from bridge.connectors.base import LineItem

ONE = Decimal(1)
ZERO = Decimal(0)


@dataclass(frozen=True)
class LineRule:
    """``multiplier`` for the lines whose product, variation, SKU or category is listed; 0 excludes them."""

    id: str
    multiplier: Decimal
    products: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()  # lower-case slugs or ids, as the connector reports them
    name: str = ""
    description: str = ""
    segments: frozenset[str] = frozenset()  # issue 16: weighs only the lines of members in one of these

    @property
    def needs_categories(self) -> bool:
        return bool(self.categories)

    def matches(self, item: LineItem, categories: Mapping[str, tuple[str, ...]]) -> bool:
        if item.product_id in self.products or (item.variation_id and item.variation_id in self.products):
            return True
        if item.sku and item.sku in self.skus:
            return True
        if self.categories:
            return any(c.lower() in self.categories for c in categories.get(item.product_id, ()))
        return False


def line_weight(
    item: LineItem, rules: tuple[LineRule, ...], categories: Mapping[str, tuple[str, ...]]
) -> tuple[Decimal, tuple[str, ...]]:
    """The line's weight and the rules that set it: any exclusion wins, else the highest matching multiplier.

    Highest-wins (not a product) so that a product in two promoted categories is not boosted twice by accident.
    """
    matched = [r for r in rules if r.matches(item, categories)]
    if not matched:
        return ONE, ()
    excluded = [r for r in matched if r.multiplier == ZERO]
    if excluded:
        return ZERO, (excluded[0].id,)
    best = max(matched, key=lambda r: r.multiplier)
    return best.multiplier, (best.id,)
