"""WooCommerce's ``customer.deleted`` erases the account's member, in the worker's drain like every other topic.

The webhook path only stores the delivery (fast, as for any topic); the drain applies it here, in the batch's
transaction. Registered by the composition root (``bridge.features``): the inbox's dispatch table knows no feature.
"""

from __future__ import annotations

from sqlalchemy import Connection

from bridge.connectors.base import EventKind, ShopEvent
from bridge.inbox.dispatch import HANDLERS
from bridge.orders.service import ShopContext
from bridge.privacy.erase import erase_account


def customer_deleted(conn: Connection, ctx: ShopContext, event: ShopEvent) -> str:
    """The shop deleted the account: pseudonymise its member (the points stay on the ledger, under a pseudonym)."""
    erased = erase_account(conn, ctx.program_id, ctx.shop_id, event.resource_id, actor=f"shop:{ctx.shop_id}")
    if erased is None:
        return "no-member"
    return "erased" if erased.created else "erased-before"


HANDLERS[EventKind.CUSTOMER_DELETED] = customer_deleted
