"""Keeping members' display names as the shop tells them (the rules: ``bridge/members/names.py``).

Called by every path that learns a name: a customer resource (``customer.*`` deliveries and the customer backfill,
``bridge/members/signup.py``, ``bridge/sync/apply.py``) and an order's billing name (``apply_order`` one by one,
``apply_page`` a page at a time; webhook, reconciliation and backfill alike). One read for all the members offered,
writes only where a name changes. An erased member gets no name back (a late delivery of an order made before the
erasure still reaches its member through ``order_state``).

The rules are applied to the name read at the start (no lock): two transactions naming one member at the same
moment (a backfill page beside the drain) may leave the second writer's name, not the higher-ranked one, until
that member's next snapshot; an insert that meets the other's row leaves it rather than failing the delivery.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from bridge.connectors.base import ShopCustomer, ShopOrder
from bridge.members.names import ACCOUNT, BILLING, NameSnapshot, clean, replaces, words
from bridge.storage import member_names as store
from bridge.storage.clock import utcnow


def from_customer(customer: ShopCustomer) -> NameSnapshot:
    return NameSnapshot(clean(customer.first_name, customer.last_name), ACCOUNT, customer.date_modified)


def from_order(order: ShopOrder) -> NameSnapshot:
    return NameSnapshot(clean(order.billing_first_name, order.billing_last_name), BILLING, order.date_modified)


def capture(conn: Connection, program_id: str, offers: Iterable[tuple[int | None, NameSnapshot]]) -> int:
    """Offer each (member, name) in turn; returns how many members' names changed."""
    wanted = [(member_id, s) for member_id, s in offers if member_id is not None and s.display_name]
    if not wanted:
        return 0
    held, erased = store.held(conn, [member_id for member_id, _ in wanted])
    existing = set(held)
    changed: dict[int, NameSnapshot] = {}
    for member_id, offered in wanted:
        if member_id in erased:
            continue
        current = changed.get(member_id) or held.get(member_id)
        if replaces(offered, current):
            changed[member_id] = offered
    if not changed:
        return 0
    renamed = {
        member_id: words(s.display_name)
        for member_id, s in changed.items()
        if member_id not in held or held[member_id].display_name != s.display_name
    }
    store.save(conn, program_id, changed, existing, renamed, utcnow())
    return len(changed)
