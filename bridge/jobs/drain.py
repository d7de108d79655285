"""The drain job: apply a shop's due inbox deliveries, batch after batch, until none is left."""

from __future__ import annotations

import logging

from redis.exceptions import LockError, RedisError

from bridge.inbox.service import process_due
from bridge.runtime import current_runtime

log = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 900


def drain_inbox(shop_id: str) -> int:
    """Returns how many deliveries were attempted. Safe to run twice at once: rows are applied idempotently.

    The per-shop lock only avoids two drainers contending for the same rows; correctness never depends on it.
    """
    rt = current_runtime()
    redis = rt.worker_redis()
    rt.drains.clear_pending(redis, shop_id)
    lock = redis.lock(
        f"bridge:drain-lock:{shop_id}", timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=LOCK_TIMEOUT_SECONDS
    )
    lock.acquire()
    total = 0
    try:
        while attempted := process_due(rt, shop_id):
            total += attempted
    finally:
        try:
            lock.release()
        except (LockError, RedisError) as exc:
            log.info("drain lock for %s already gone: %s", shop_id, exc)
    log.info("drained %s deliveries for shop %s", total, shop_id)
    return total
