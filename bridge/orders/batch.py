"""A page of order snapshots applied together: the same decisions, far fewer round trips. Backfill and
reconciliation pages, and the runs of order snapshots in a drain batch (``bridge/inbox/service.py``).

``apply_order`` costs about four statements per snapshot: create-and-lock the order's state, find the member,
post the earn entry, save the state. A backfill page of 100 past orders was 400 round trips; here it is about
seven whatever the page's size:

* the page's states are created and locked in one statement (``lock_or_create_many``), history-only orders marked
  in one more;
* their members are found or created in three (``resolve_many`` gives what ``resolve`` would, in turn);
* when the rules read a member's past (first / n-th order bonuses, caps, membership, tiers), what they read of the
  page's members is read in a query per kind of fact (``read_member_facts``), not per order;
* ``apply_order`` then decides each order exactly as for a webhook, handed that state and member, and leaves to
  the page the writes nothing later in the page reads: its earn entries when the snapshot reverses nothing (a
  reversal needs the earn's id) and its state save;
* the page's earn entries are written in one executemany (two statements), its saves in one per set of columns;
* then the order observers (coupons used, referrals) are told of the page's orders, in page order, as after a
  delivery (an observer with a page form takes them at once: ``PAGE_FORMS``).

Only where deferring cannot change a decision: a page with the same order twice (the second must see the first's
save) is applied order by order, and when the rules read what a member's earlier orders wrote (first / n-th order
bonuses, caps, membership, tiers) the page is cut into runs where no member comes twice, each written before the
next is decided. ``tests/sync/test_batch_apply.py`` checks that both paths leave the same members, states and
ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from bridge.connectors.base import ShopOrder
from bridge.inbox.dispatch import observe_orders
from bridge.members import name_capture
from bridge.members.service import resolve_many
from bridge.orders.context import MemberFacts, order_moment, read_member_facts
from bridge.orders.page import Page
from bridge.orders.service import ShopContext, apply_order, is_stale, paid_or_reversed
from bridge.storage import ledger as ledger_store
from bridge.storage import orders as order_store
from bridge.storage.clock import utcnow


class Applied(NamedTuple):
    outcome: str  # what apply_order said: applied, stale, history, no-member
    new: bool  # we had never heard of the order
    modified_before: datetime | None  # the order's last applied modification date, before this page


def can_batch(orders: Sequence[ShopOrder]) -> bool:
    """Whether applying ``orders`` as a page decides exactly what applying them one by one would: not when an
    order comes twice (its second snapshot must see what the first one changed)."""
    ids = [order.order_id for order in orders]
    return len(set(ids)) == len(ids)


def apply_page(
    conn: Connection, ctx: ShopContext, orders: Sequence[ShopOrder], *, history_only: bool = False
) -> list[Applied]:
    """Apply ``orders`` (``can_batch`` must hold) as ``apply_event`` would one by one, in page order.

    ``history_only``: the page's paid, refunded or cancelled orders that never earned are marked as history
    first (backfill ``--history-only``), as ``mark_history_only`` does for one order.
    """
    ids = [order.order_id for order in orders]
    states = order_store.lock_or_create_many(conn, ctx.program_id, ctx.shop_id, ids, utcnow())
    if history_only:
        past = [order.order_id for order in orders if paid_or_reversed(ctx, order)]
        for order_id in order_store.mark_history_only_many(conn, ctx.shop_id, past):
            states[order_id] = replace(states[order_id], history_only=True)
    members = _members(conn, ctx, orders, page_states=states)

    def member_of(order: ShopOrder) -> int | None:
        return states[order.order_id].member_id or members.get(order.order_id)

    outcomes: list[str] = []
    for run in _runs(ctx, orders, member_of):
        page = Page(states, members, _facts(conn, ctx, run, member_of))
        done = [apply_order(conn, ctx, order, page) for order in run]
        _write(conn, page)
        observe_orders(conn, ctx, [order for order, outcome in zip(run, done, strict=True) if outcome != "stale"])
        outcomes += done
    # the billing names of the page's orders, in page order (a member's later order is offered after its earlier)
    offers = zip(orders, outcomes, strict=True)
    name_capture.capture(
        conn, ctx.program_id, [(member_of(o), name_capture.from_order(o)) for o, x in offers if x != "stale"]
    )
    return [
        Applied(outcome, states[order_id].fresh, states[order_id].date_modified)
        for order_id, outcome in zip(ids, outcomes, strict=True)
    ]


def _facts(
    conn: Connection, ctx: ShopContext, run: Sequence[ShopOrder], member_of: Callable[[ShopOrder], int | None]
) -> dict[int, MemberFacts]:
    """What the rules read of the run's members, in a query per kind of fact (a member has one order per run)."""
    rules = ctx.rules
    if not (rules.needs_member_history or rules.needs_profile or rules.caps):
        return {}
    moments = {member: order_moment(order) for order in run if (member := member_of(order)) is not None}
    return read_member_facts(conn, rules, moments)


def _runs(
    ctx: ShopContext, orders: Sequence[ShopOrder], member_of: Callable[[ShopOrder], int | None]
) -> list[Sequence[ShopOrder]]:
    """The page cut where a member comes again, when the rules read what a member's earlier orders wrote.

    First-order and n-th-order bonuses read the member's past orders, caps what they earned, membership and tiers
    the profile: the writes of a member's order must be in before the member's next order is decided. Within a
    run every member has at most one order, so deferring the run's writes to its end changes no decision.
    """
    rules = ctx.rules
    if not (rules.needs_member_history or rules.needs_profile or rules.caps):
        return [orders]
    runs: list[Sequence[ShopOrder]] = []
    start, seen = 0, set[int]()
    for index, order in enumerate(orders):
        member = member_of(order)
        if member in seen:
            runs.append(orders[start:index])
            start, seen = index, set()
        if member is not None:
            seen.add(member)
    runs.append(orders[start:])
    return runs


def _members(
    conn: Connection, ctx: ShopContext, orders: Sequence[ShopOrder], page_states: dict[str, order_store.OrderState]
) -> dict[str, int | None]:
    """The member of each order ``apply_order`` would resolve one (not stale, no member yet), by order id."""
    wanted = [o for o in orders if not page_states[o.order_id].member_id and not is_stale(page_states[o.order_id], o)]
    found = resolve_many(conn, ctx.program_id, ctx.shop_id, [(o.customer_id, o.email) for o in wanted])
    return {order.order_id: member_id for order, member_id in zip(wanted, found, strict=True)}


def _write(conn: Connection, page: Page) -> None:
    if any(entry.points == 0 for entry in page.entries):
        raise ValueError("a ledger entry must move points")  # as ``ledger.post`` refuses one
    if page.entries:
        ledger_store.insert_many(conn, page.entries, utcnow())
    order_store.save_many(conn, page.saves)
