"""The drain job: apply a shop's due inbox deliveries, batch after batch, until none is left."""

from __future__ import annotations

import logging

from bridge.inbox.service import process_due
from bridge.runtime import current_runtime

log = logging.getLogger(__name__)


def drain_inbox(shop_id: str) -> int:
    """Returns how many deliveries were attempted.

    Two drains of one shop may run at once (several workers, or a job orphaned by a killed worker): that is
    safe without a Redis lock, which a killed worker would leave behind. PostgreSQL hands each drainer other
    rows (``SKIP LOCKED``) and serialises deliveries of one order on its ``order_state`` row; SQLite runs one
    writer at a time; every ledger write is idempotent on its key.
    """
    rt = current_runtime()
    rt.drains.clear_pending(rt.worker_redis(), shop_id)
    total = 0
    while attempted := process_due(rt, shop_id):
        total += attempted
        rt.reload_shops()  # a long drain follows a `bridge connect` too (cheap: at most every few seconds)
    log.info("drained %s deliveries for shop %s", total, shop_id)
    return total
