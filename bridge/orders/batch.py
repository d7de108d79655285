"""A page of order snapshots (backfill, reconciliation) applied together: the same decisions, far fewer round trips.

``apply_order`` costs about four statements per snapshot: create-and-lock the order's state, find the member,
post the earn entry, save the state. A backfill page of 100 past orders was 400 round trips; here it is about
seven whatever the page's size:

* the page's states are created and locked in one statement (``lock_or_create_many``), history-only orders marked
  in one more;
* their members are found or created in three (``resolve_many`` gives what ``resolve`` would, in turn);
* ``apply_order`` then decides each order exactly as for a webhook, handed that state and member, and leaves to
  the page the writes nothing later in the page reads: its earn entries when the snapshot reverses nothing (a
  reversal needs the earn's id) and its state save;
* the page's earn entries are written in one executemany (two statements), its saves in one per set of columns;
* then the order observers (coupons used, referrals) are told of the page's orders, in page order, as after a
  delivery (an observer with a page form takes them at once: ``PAGE_FORMS``).

Only when deferring cannot change a decision: a page with the same order twice (the second must see the first's
save) or rules that read what earlier orders of the page wrote (member history, profile, caps) is applied order
by order. ``tests/sync/test_batch_apply.py`` checks that both paths leave the same members, states and ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from bridge.connectors.base import ShopOrder
from bridge.inbox.dispatch import observe_orders
from bridge.members.service import resolve_many
from bridge.orders.page import Page
from bridge.orders.service import ShopContext, apply_order, is_stale, paid_or_reversed
from bridge.storage import ledger as ledger_store
from bridge.storage import orders as order_store
from bridge.storage.clock import utcnow


class Applied(NamedTuple):
    outcome: str  # what apply_order said: applied, stale, history, no-member
    new: bool  # we had never heard of the order
    modified_before: datetime | None  # the order's last applied modification date, before this page


def can_batch(ctx: ShopContext, orders: Sequence[ShopOrder]) -> bool:
    """Whether applying ``orders`` as a page decides exactly what applying them one by one would."""
    rules = ctx.rules
    if rules.needs_member_history or rules.needs_profile or rules.caps:
        return False  # an order's award would depend on an earlier order of the page, written only at its end
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
    page = Page(states, _members(conn, ctx, orders, page_states=states))
    outcomes = [apply_order(conn, ctx, order, page) for order in orders]
    _write(conn, page)
    observe_orders(conn, ctx, [order for order, outcome in zip(orders, outcomes, strict=True) if outcome != "stale"])
    return [
        Applied(outcome, states[order_id].fresh, states[order_id].date_modified)
        for order_id, outcome in zip(ids, outcomes, strict=True)
    ]


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
