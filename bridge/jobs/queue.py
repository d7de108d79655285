"""Enqueueing drain jobs: at most one pending per shop, and never a reason to fail a webhook.

RQ spends about 20 Redis round trips on every job, so the bridge enqueues one *drain* job per shop while none
is pending (a ``SET NX`` flag) and the job works through the inbox in batches. The flag has a TTL so a lost
job (Redis restarted, worker killed) cannot block a shop forever; the sweeper re-triggers due deliveries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.serializers import JSONSerializer

from bridge.observability import request_id

log = logging.getLogger(__name__)

QUEUE_NAME = "bridge"
DRAIN_JOB = "bridge.jobs.drain.drain_inbox"
DRAIN_FLAG_TTL_SECONDS = 30
DRAIN_JOB_TIMEOUT_SECONDS = 3600
REDIS_BACKOFF_SECONDS = 1.0
"""After Redis fails, skip it this long: an outage costs one failed connect a second, not one per hit."""


def drain_flag(shop_id: str) -> str:
    return f"bridge:drain-pending:{shop_id}"


def make_queue(connection: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=connection, serializer=JSONSerializer)


class DrainTrigger:
    def __init__(self, redis: Callable[[], Redis]) -> None:
        self._redis = redis
        self._skip_until = 0.0
        self._lock = threading.Lock()

    def ensure_drain(self, shop_id: str, *, repair: bool = False) -> bool:
        """Enqueue a drain job for ``shop_id`` unless one is pending; False when Redis is unreachable.

        ``repair`` (the sweeper): a pending flag with an empty queue is stale (its job was taken by a worker that
        was killed before the job cleared the flag), so enqueue anyway rather than wait out the flag's TTL. At
        worst two drains run, which the inbox's claims make harmless.
        """
        if time.monotonic() < self._skip_until:
            return False
        try:
            redis = self._redis()
            if not redis.set(drain_flag(shop_id), "1", nx=True, ex=DRAIN_FLAG_TTL_SECONDS):
                if not repair or make_queue(redis).count > 0:
                    return True
                redis.set(drain_flag(shop_id), "1", ex=DRAIN_FLAG_TTL_SECONDS)
            try:
                make_queue(redis).enqueue_call(
                    DRAIN_JOB,
                    args=(shop_id,),
                    timeout=DRAIN_JOB_TIMEOUT_SECONDS,
                    result_ttl=60,
                    failure_ttl=7 * 24 * 3600,
                    description=f"drain inbox of shop {shop_id}",
                    meta=request_id.job_meta(),
                )
            except BaseException:
                redis.delete(drain_flag(shop_id))
                raise
            return True
        except RedisError as exc:
            with self._lock:
                self._skip_until = time.monotonic() + REDIS_BACKOFF_SECONDS
            log.warning("redis unreachable, delivery stays in the inbox for the sweeper: %s", exc)
            return False

    def clear_pending(self, redis: Redis, shop_id: str) -> None:
        """Called by the drain job before it reads the inbox: later deliveries then enqueue a new drain."""
        redis.delete(drain_flag(shop_id))
