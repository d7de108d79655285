"""What the rules engine is told about an order besides the order: one builder for the worker, explain and preview.

Reads only (member history, profile, earned totals for caps) plus the injected product-category lookup, so the
explanation shows exactly what the worker would award at this moment.

The category lookup may call the shop, so whoever applies orders inside a write transaction fetches their
categories first, before the transaction opens (``with_categories_fetched``): inside it the rules read what was
fetched and never wait for the shop while holding the write lock (issue 12, section 3; ``bridge.write_guard``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from bridge.connectors.base import ShopOrder
from bridge.rules import MemberContext, OrderContext, RuleSet
from bridge.storage import life
from bridge.storage import segments as segment_store
from bridge.storage.clock import utcnow
from bridge.write_guard import NetworkInWriteTransaction

if TYPE_CHECKING:
    from bridge.orders.service import ShopContext

CategoryLookup = Callable[[str], tuple[str, ...]]


class CategoriesNotFetched(RuntimeError):
    """An order needs a product's categories that were not fetched before the write: retry it later."""


def product_ids(orders: Iterable[ShopOrder]) -> list[str]:
    """The products whose categories the rules may read for these orders, each once, in order of appearance."""
    return list(dict.fromkeys(item.product_id for order in orders for item in order.line_items))


@dataclass(frozen=True)
class FetchedCategories:
    """Product categories fetched from the shop before a write transaction opened: the lookup used inside it.

    A product that was not fetched raises ``CategoriesNotFetched`` (with why, when the shop failed) instead of
    calling the shop, so its order is retried rather than earning without its categories.
    """

    found: Mapping[str, tuple[str, ...]]
    source: CategoryLookup  # the process's cache in front of the shop
    error: str = ""  # why the rest could not be fetched ("" when nothing failed)

    def __call__(self, product_id: str) -> tuple[str, ...]:
        try:
            return self.found[product_id]
        except KeyError:
            why = self.error or "it was not among the products fetched before the write"
            raise CategoriesNotFetched(f"the categories of product {product_id} are not known: {why}") from None

    def missing(self, order: ShopOrder) -> CategoriesNotFetched | None:
        """Why ``order`` cannot be decided now (a product it needs was not fetched), or None when it can."""
        for item in order.line_items:
            try:
                self(item.product_id)
            except CategoriesNotFetched as exc:
                return exc
        return None

    def forget(self, product_id: str) -> None:
        """A ``product.updated`` delivery: the process's cache reads the product again next time."""
        forget = getattr(self.source, "forget", None)
        if forget is not None:
            forget(product_id)


def with_categories_fetched(
    ctx: ShopContext, orders: Iterable[ShopOrder], *, forget: Iterable[str] = ()
) -> ShopContext:
    """``ctx`` whose category lookup answers from categories fetched now, for ``orders``.

    Call it *before* opening the write transaction the orders are applied in: this is where the shop is called
    (through the process's cache). ``forget``: products to drop from the cache first (``product.updated``
    deliveries of the same batch), so the orders read them fresh. When the shop fails, the products not fetched
    yet are not asked for any more (a hanging shop costs one timeout per batch, not one per product) and their
    orders raise ``CategoriesNotFetched`` when applied. Unchanged when no rule reads categories.
    """
    lookup = ctx.categories_of
    if lookup is None or not ctx.rules.needs_categories:
        return ctx
    if isinstance(lookup, FetchedCategories):
        lookup = lookup.source
    drop = getattr(lookup, "forget", None)
    for product_id in forget:
        if drop is not None:
            drop(product_id)
    found: dict[str, tuple[str, ...]] = {}
    error = ""
    for product_id in product_ids(orders):
        try:
            found[product_id] = lookup(product_id)
        except NetworkInWriteTransaction:
            raise
        except Exception as exc:  # the shop failing: the orders that need the rest are retried later
            error = f"{type(exc).__name__}: {exc}"
            break
    return replace(ctx, categories_of=FetchedCategories(found, lookup, error))


def order_moment(order: ShopOrder) -> datetime:
    """The moment rules are evaluated at (campaign windows, cap periods): when it was paid, else created."""
    return order.date_paid or order.date_created or utcnow()


@dataclass(frozen=True)
class MemberFacts:
    """What the rules may read of one member, as stored when the order is decided: their paid orders, profile and
    order earnings (for caps). Read for one member by the worker, for a run of members by a page
    (``read_member_facts``); both ask the same questions of it, so both decide alike."""

    paid_orders: tuple[tuple[int, datetime], ...] = ()  # (state id, paid at), not cancelled since
    profile: life.Profile = field(default_factory=life.Profile)
    earns: tuple[tuple[int, str, datetime], ...] = ()  # (points, rule id, created at) of order earn entries

    def paid_before(self, before: datetime, state_id: int) -> tuple[int, datetime | None]:
        """How many other orders were paid before ``before``, and when the latest of them was."""
        moments = [paid_at for other, paid_at in self.paid_orders if other != state_id and paid_at < before]
        return len(moments), max(moments, default=None)

    def earned_since(self, since: datetime, rule_ids: Iterable[str] | None) -> int:
        """Points the member's orders earned (earn entries, before reversals) since ``since``, by these rules."""
        wanted = None if rule_ids is None else set(rule_ids)
        return sum(p for p, rule, at in self.earns if at >= since and (wanted is None or rule in wanted))


def read_member_facts(conn: Connection, rules: RuleSet, moments: Mapping[int, datetime]) -> dict[int, MemberFacts]:
    """The facts the rules need of each member (by id -> the moment their order is decided at): a query per kind
    of fact the rules read (none when they read none), whatever the number of members."""
    ids = sorted(moments)
    if not ids:
        return {}
    paid: dict[int, list[tuple[int, datetime]]] = {}
    if rules.needs_member_history:
        for member_id, state_id, paid_at in life.paid_orders_of(conn, ids, max(moments.values())):
            paid.setdefault(member_id, []).append((state_id, paid_at))
    profiles = life.profiles(conn, ids) if rules.needs_profile else {}
    earns: dict[int, list[tuple[int, str, datetime]]] = {}
    if rules.caps:
        since = min(cap.window_start(at, rules.timezone) for cap in rules.caps for at in moments.values())
        for member_id, points, rule_id, created_at in life.order_earns_of(conn, ids, since):
            earns.setdefault(member_id, []).append((points, rule_id, created_at))
    return {
        member_id: MemberFacts(
            tuple(paid.get(member_id, ())), profiles.get(member_id, life.Profile()), tuple(earns.get(member_id, ()))
        )
        for member_id in ids
    }


def member_context(
    conn: Connection,
    rules: RuleSet,
    member_id: int | None,
    at: datetime,
    state_id: int = 0,
    facts: MemberFacts | None = None,
) -> MemberContext:
    open_program = rules.membership.policy == "open"
    if member_id is None:
        return MemberContext(joined=open_program)
    if facts is None:
        facts = read_member_facts(conn, rules, {member_id: at})[member_id]
    count, previous = facts.paid_before(at, state_id)
    profile = facts.profile
    earned = {
        cap.id: facts.earned_since(cap.window_start(at, rules.timezone), cap.rule_ids or None) for cap in rules.caps
    }
    return MemberContext(
        member_id=member_id,
        joined=open_program or profile.joined_at is not None,
        tier=profile.tier,
        paid_orders_before=count,
        previous_order_at=previous,
        earned=earned,
        birthday=profile.birthday,
        segments=segment_store.of_member(conn, member_id) if rules.needs_segments else frozenset(),
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
    facts: MemberFacts | None = None,
) -> OrderContext:
    at = order_moment(order)
    categories: dict[str, tuple[str, ...]] = {}
    if rules.needs_categories and categories_of is not None:
        # Only when a rule names categories. Inside a write transaction the lookup is a ``FetchedCategories``
        # (fetched before it opened); explain and preview, which write nothing, may call the shop through it.
        for product_id in product_ids([order]):
            categories[product_id] = categories_of(product_id)
    return OrderContext(
        shop_id=shop_id,
        currency_minor_unit=minor_unit,
        at=at,
        member=member_context(conn, rules, member_id, at, state_id, facts),
        categories=categories,
    )
