"""Storing deliveries (web side) and applying them (worker side)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bridge.connectors import connector_for
from bridge.errors import InboxDeliveryNotFound, PermanentError
from bridge.inbox.dispatch import apply_event
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import inbox as store
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)

KEPT_HEADERS = ("Content-Type", "User-Agent")
"""Besides the platform's own (X-WC-*), the headers worth keeping with a delivery for tracing."""


def receive(
    rt: Runtime,
    shop_id: str,
    topic: str,
    resource_id: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    trigger: bool = True,
) -> int:
    """Store a verified delivery in one short transaction, then make sure a drain job will pick it up.

    ``trigger=False``: the caller calls ``rt.drains.ensure_drain`` itself, after commit (the webhook route does
    it once the 200 is on its way: the Redis round trip is no reason to keep WooCommerce waiting).
    """
    kept = {k: v for k, v in headers.items() if k.lower().startswith("x-wc-") or k in KEPT_HEADERS}
    delivery_id = store.add_committed(
        rt.engine,
        program_id=rt.settings.program.id,
        shop_id=shop_id,
        topic=topic,
        resource_id=resource_id,
        platform_delivery_id=headers.get("X-WC-Webhook-Delivery-ID", "")[:128],
        headers=kept,
        body=body,
        now=utcnow(),
    )
    if trigger:
        rt.drains.ensure_drain(shop_id)  # after commit: the job must find the row
    return delivery_id


class AfterCommitTrigger:
    """``rt.drains.ensure_drain`` after each stored delivery, skipped when a call already covers the delivery.

    One ``ensure_drain`` (Redis ``SET NX``) covers every delivery of the shop committed before the call *started*:
    either the flag was set, so a drain job has not cleared it yet and reads the inbox after clearing it, or the
    call enqueues a new drain job. So when another thread's call for the same shop started after this delivery was
    committed, this delivery's own call would add nothing (under load, about one delivery in five: the Redis round
    trip was a fifth of a delivery's CPU). Nothing is ever skipped because of a call that started before the
    commit: that would be a "drain pending" memo, which let a delivery after a finished drain wait for the sweeper.
    If the covering call finds Redis unreachable, the sweeper picks the delivery up, as it would after its own call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock = 0
        self._last_start: dict[str, int] = {}

    def committed(self) -> int:
        """A ticket for a delivery, taken once its row is committed."""
        with self._lock:
            self._clock += 1
            return self._clock

    def ensure_drain(self, rt: Runtime, shop_id: str, ticket: int) -> None:
        """Make sure a drain job will see the delivery committed with ``ticket``."""
        with self._lock:
            if self._last_start.get(shop_id, 0) > ticket:
                return  # a call that started after this delivery's commit covers it
            self._clock += 1
            self._last_start[shop_id] = self._clock
        rt.drains.ensure_drain(shop_id)


def process_due(rt: Runtime, shop_id: str) -> int:
    """Apply one batch of the shop's due deliveries; returns how many were attempted (0: nothing due).

    The batch is first applied as a whole, under one savepoint, with the deliveries marked done in one
    statement: the common case costs no per-delivery savepoint round trips. If anything in it fails, that
    savepoint is rolled back and the batch is applied again one delivery at a time, each in its own savepoint:
    a delivery that fails is rolled back alone and retried later with backoff (or parked as failed), and never
    blocks the others.
    """
    ctx = rt.shop_context(shop_id)
    connector = connector_for(rt.settings.shop(shop_id).platform)  # type: ignore[union-attr]
    inbox = rt.settings.inbox
    with db.write(rt.engine) as conn:
        batch = store.due_batch(conn, shop_id, utcnow(), inbox.batch_size)
        if not batch:
            return 0
        try:
            with conn.begin_nested():
                for delivery in batch:
                    _apply(conn, ctx, connector, delivery)
                store.mark_done_many(conn, [d.id for d in batch], utcnow())
            return len(batch)
        except Exception:
            log.debug("a delivery of the batch failed: applying them one by one", exc_info=True)
        for delivery in batch:
            try:
                with conn.begin_nested():
                    _apply(conn, ctx, connector, delivery)
                    store.mark_done(conn, delivery.id, utcnow())
            except Exception as exc:
                _record_failure(rt, conn, delivery, exc)
    return len(batch)


def _apply(conn: Any, ctx: Any, connector: Any, delivery: store.Delivery) -> None:
    event = connector.parse_event(delivery.topic, delivery.body)
    outcome = apply_event(conn, ctx, event)
    log.debug("delivery %s (%s %s): %s", delivery.id, delivery.topic, delivery.resource_id, outcome)


def _record_failure(rt: Runtime, conn: Any, delivery: store.Delivery, exc: Exception) -> None:
    attempts = delivery.attempts + 1
    permanent = isinstance(exc, PermanentError)  # retrying cannot fix the payload itself: parked at once
    now = utcnow()
    retry_at = None
    if not permanent and attempts < rt.settings.inbox.max_attempts:
        delay = min(rt.settings.inbox.retry_base_seconds * 2 ** (attempts - 1), rt.settings.inbox.retry_max_seconds)
        retry_at = now + timedelta(seconds=delay)
    error = f"{type(exc).__name__}: {exc}"
    store.mark_attempt_failed(conn, delivery.id, error=error, retry_at=retry_at, now=now)
    log.warning(
        "delivery %s (%s %s) attempt %s failed%s: %s",
        delivery.id,
        delivery.topic,
        delivery.resource_id,
        attempts,
        "" if retry_at else ", parked as failed",
        error,
        exc_info=not permanent,
    )


def replay(rt: Runtime, delivery_id: int) -> dict[str, Any]:
    """Make a delivery (typically a failed one) pending again and trigger a drain."""
    with db.write(rt.engine) as conn:
        found = store.get(conn, rt.settings.program.id, delivery_id)
        if found is None:
            raise InboxDeliveryNotFound(f"no inbox delivery {delivery_id}")
        store.requeue(conn, delivery_id, utcnow())
    rt.drains.ensure_drain(found["shop_id"])
    return found


def listing(
    rt: Runtime, state: str | None, shop_id: str | None, limit: int, before_id: int | None
) -> list[dict[str, Any]]:
    with db.read(rt.engine) as conn:
        return store.listing(conn, rt.settings.program.id, state, shop_id, limit, before_id)
