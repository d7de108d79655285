"""Discount given: the one definition the ``redemption`` and ``roi`` reports share.

**Discount given in a range** = the coupons of the bridge's rewards that were used on an order paid in the range:
a ``redemption`` in state ``used`` whose carrying order (``order_state`` by ``shop_id`` and ``order_id``) has
``paid_at`` in [start, end). The moment a discount is given is the carrying order's payment: ``redemption``
keeps no moment of use (``closed_at`` is set when a coupon expires or is cancelled, not when an order uses it),
and an order carries its discount from the moment it is paid. A coupon whose order the bridge has not seen paid
gave nothing yet.

Each coupon is valued in the shop's minor unit, rounded half up, and the values summed per shop:

- ``fixed_cart`` and ``variable`` (points as money): the coupon's ``value``, its face value;
- ``percent`` (p % off): ``total x p / (100 - p)`` of the carrying order, whose ``total`` is after the
  discount: the discount on its pre-discount amount, shipping and tax included, an **estimate** (the shop applies
  the percentage to the lines the coupon allows, which the bridge does not see); the whole ``total`` when
  p >= 100;
- ``free_shipping`` (and any other type): no stored worth: counted in ``unvalued``, valued 0.

``orders`` and ``revenue``: the carrying orders (each once, even with two coupons) and their net value
(``total - refunded_total``, at least 0: ``order_state.net_amount``), per shop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, Numeric, and_, case, cast, func, select

from bridge.config import ShopSettings
from bridge.redemption.model import State
from bridge.storage import tables as t

r = t.redemption.c
o = t.order_state.c
AMOUNT_OFF = ("fixed_cart", "variable")
PERCENT = "percent"


@dataclass(frozen=True)
class Given:
    """One shop's discount given in a range; amounts in the shop's minor units."""

    coupons: int = 0  # used coupons whose carrying order was paid in the range
    amount_minor: int = 0  # their value (unvalued ones count 0)
    percent: int = 0  # of them, percent-off coupons (valued as an estimate)
    free_shipping: int = 0
    unvalued: int = 0  # free shipping and any type without a stored worth
    orders: int = 0  # the carrying orders, each once
    revenue_minor: int = 0  # their net value

    def amount(self, minor_unit: int) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-minor_unit).quantize(Decimal(1).scaleb(-minor_unit))

    def revenue(self, minor_unit: int) -> Decimal:
        return Decimal(self.revenue_minor).scaleb(-minor_unit).quantize(Decimal(1).scaleb(-minor_unit))


def given(
    conn: Connection, program_id: str, shops: Sequence[ShopSettings], start: datetime, end: datetime
) -> dict[str, Given]:
    """Discount given in [start, end) by the coupons of ``shops``, per shop id (see the module's docstring)."""
    if not shops:
        return {}
    coupons = _coupons(program_id, shops, start, end)
    # summed per order (an order carrying two coupons counts once in the revenue), then per shop
    per_order = (
        select(*coupons.columns, func.max(_minor(o.net_amount, shops)).label("net"))
        .select_from(coupons.froms)
        .where(*coupons.where)
        .group_by(r.shop_id, r.order_id)
        .subquery("per_order")
    )
    c = per_order.c
    stmt = select(
        c.shop_id,
        func.sum(c.coupons),
        func.sum(c.worth),
        func.sum(c.percent),
        func.sum(c.free_shipping),
        func.sum(c.unvalued),
        func.count(),
        func.sum(c.net),
    ).group_by(c.shop_id)
    found = {str(row[0]): [int(v or 0) for v in row[1:]] for row in conn.execute(stmt)}
    given: dict[str, Given] = {}
    for shop, (coupons_used, amount, percent, free_shipping, unvalued, orders, revenue) in sorted(found.items()):
        given[shop] = Given(coupons_used, amount, percent, free_shipping, unvalued, orders, revenue)
    return given


def worth_given(
    conn: Connection, program_id: str, shops: Sequence[ShopSettings], start: datetime, end: datetime
) -> dict[str, Given]:
    """``given`` without its carrying orders: the same coupons valued the same way, per shop id, but ``orders``
    and ``revenue_minor`` left 0. Why: counting each carrying order once takes a grouping by order (282k orders
    at 1M members, done after the parallel workers' join: a third of the time); the coupons' worth is a plain
    sum per shop, which each worker can add up for its share."""
    if not shops:
        return {}
    coupons = _coupons(program_id, shops, start, end)
    stmt = select(*coupons.columns).select_from(coupons.froms).where(*coupons.where).group_by(r.shop_id)
    given: dict[str, Given] = {}
    for shop, *figures in sorted(conn.execute(stmt).all(), key=lambda row: str(row[0])):
        coupons_used, amount, percent, free_shipping, unvalued = (int(v or 0) for v in figures)
        given[str(shop)] = Given(coupons_used, amount, percent, free_shipping, unvalued)
    return given


@dataclass(frozen=True)
class _Coupons:
    """The used coupons of a range joined with their carrying orders: columns summed per group, and the join."""

    columns: tuple[Any, ...]
    froms: Any
    where: tuple[Any, ...]


def _minor(amount: Any, shops: Sequence[ShopSettings]) -> Any:
    """``amount`` (a number of the coupon's shop's currency) in its minor units, rounded half up."""
    scale = case({s.id: 10**s.minor_unit for s in shops}, value=r.shop_id, else_=100)
    return cast(func.round(amount * scale), BigInteger)


def _coupons(program_id: str, shops: Sequence[ShopSettings], start: datetime, end: datetime) -> _Coupons:
    value = cast(func.coalesce(func.nullif(r.value, ""), "0"), Numeric())
    total = cast(func.coalesce(func.nullif(o.total, ""), "0"), Numeric())
    percent_off = case((value < 100, total * value / (100 - value)), else_=total)
    worth = case((r.reward_type.in_(AMOUNT_OFF), value), (r.reward_type == PERCENT, percent_off), else_=0)
    columns = (
        r.shop_id.label("shop_id"),
        func.count().label("coupons"),
        func.sum(_minor(worth, shops)).label("worth"),
        func.sum(case((r.reward_type == PERCENT, 1), else_=0)).label("percent"),
        func.sum(case((r.reward_type == "free_shipping", 1), else_=0)).label("free_shipping"),
        func.sum(case((r.reward_type.in_((*AMOUNT_OFF, PERCENT)), 0), else_=1)).label("unvalued"),
    )
    where = (
        r.program_id == program_id,
        r.state == State.USED,
        r.shop_id.in_([s.id for s in shops]),
        o.paid_at >= start,
        o.paid_at < end,
    )
    carried = and_(o.shop_id == r.shop_id, o.order_id == r.order_id)
    return _Coupons(columns, t.redemption.join(t.order_state, carried), where)
