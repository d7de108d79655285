"""Storing deliveries (web side) and applying them (worker side)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection

from bridge.connectors import connector_for
from bridge.connectors.base import EventKind, ShopEvent
from bridge.errors import InboxDeliveryNotFound, PermanentError
from bridge.inbox.dispatch import apply_event
from bridge.observability import metrics, request_id
from bridge.orders.batch import apply_page
from bridge.orders.context import CategoriesNotFetched, FetchedCategories, with_categories_fetched
from bridge.orders.service import ShopContext
from bridge.runtime import Runtime
from bridge.storage import audit, db
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
    if rid := request_id.current():  # the request that stored it, for the drain's log line if it fails (issue 19)
        kept[request_id.HEADER] = rid
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
    """Apply one batch of the shop's due deliveries (timed, counted: ``bridge_drain_batch_*``); see ``_process_due``."""
    with metrics.drain_batch(shop_id) as taken:
        seen = _process_due(rt, shop_id)
        taken.append(seen)
    return seen


def _process_due(rt: Runtime, shop_id: str) -> int:
    """Apply one batch of the shop's due deliveries; returns how many were attempted (0: nothing due).

    The batch is cut into segments, in delivery order (``_segments``): runs of order snapshots applied as one
    page through the backfill's set-based machinery (``bridge/orders/batch.py``: a few statements per page, not
    about four per order), and every other delivery alone. The whole batch is first applied under one
    savepoint, its deliveries marked done in one statement: the common case costs no per-delivery savepoint.
    If anything in it fails, that savepoint is rolled back and the segments are applied again in turn, a page
    under its own savepoint; a page that fails again is applied one delivery at a time, each in its own
    savepoint: a delivery that fails is rolled back alone and retried later with backoff (or parked as failed),
    and never blocks the others. A delivery whose payload does not parse fails at once, alone.

    No shop call inside the write transaction (on SQLite it holds the whole database's write lock, which every
    webhook needs): when a rule reads product categories, the batch is read, parsed and its categories fetched
    first (``_prepare``); a delivery whose categories the shop could not give is deferred to a retry.
    """
    ctx = rt.shop_context(shop_id)
    connector = connector_for(rt.settings.shop(shop_id).platform)  # type: ignore[union-attr]
    inbox = rt.settings.inbox
    prepared: _Prepared | None = None
    if ctx.categories_of is not None:
        prepared = _prepare(rt, ctx, connector, shop_id)
        if not prepared.events:
            return 0
        ctx = prepared.ctx
    with db.write(rt.engine) as conn:
        batch = store.due_batch(conn, shop_id, utcnow(), inbox.batch_size)
        if not batch:
            return 0
        seen = len(batch)
        _plan_each_statement(conn)
        events: Mapping[int, ShopEvent | None] = {}
        if prepared is not None:
            # Rows that became due since ``_prepare`` read the inbox wait for the next round (and its fetch).
            batch = [d for d in batch if d.id in prepared.events]
            events = prepared.events
            ready = []
            for delivery in batch:
                deferral = prepared.deferral(delivery.id)
                if deferral is None:
                    ready.append(delivery)
                else:  # retried with backoff, like any delivery that failed for a transient reason
                    _record_failure(rt, conn, delivery, deferral)
            batch = ready
        parsed: list[_Parsed] = []
        for index, delivery in enumerate(batch):
            try:
                event = events.get(delivery.id) or _parse(connector, delivery)
            except Exception as exc:  # nothing of it can apply: it fails alone, the batch goes on
                _record_failure(rt, conn, delivery, exc)
                continue
            parsed.append(_Parsed(delivery, event))
            if event.kind == EventKind.CUSTOMER_DELETED and index + 1 < len(batch):
                # Erasing the account's member scrubs its pending deliveries: those after this one are read
                # again by the next batch, as they would be one delivery at a time.
                seen -= len(batch) - index - 1
                break
        segments = _segments(parsed)
        try:
            with conn.begin_nested():
                for segment in segments:
                    _apply_segment(conn, ctx, segment)
                _mark_done(conn, shop_id, parsed)
            return seen
        except Exception:
            log.debug("a delivery of the batch failed: applying its segments one by one", exc_info=True)
        for segment in segments:
            if len(segment) > 1:
                try:
                    with conn.begin_nested():
                        _apply_segment(conn, ctx, segment)
                        _mark_done(conn, shop_id, segment)
                    continue
                except Exception:
                    log.debug("a delivery of a page failed: applying its deliveries one by one", exc_info=True)
            for item in segment:
                try:
                    with conn.begin_nested():
                        _apply(conn, ctx, item)
                        _mark_done(conn, shop_id, [item])
                except Exception as exc:
                    _record_failure(rt, conn, item.delivery, exc)
    return seen


def _plan_each_statement(conn: Connection) -> None:
    """On PostgreSQL, plan the batch's statements for their parameters (``SET LOCAL``: this transaction only).

    A page's statements look up a few hundred keys (``IN (...)``) in tables the drain itself grows. psycopg
    prepares a statement run five times, and PostgreSQL may then keep a generic plan costed while the tables were
    small: a sequential scan, which a fresh database's first large drain paid for on every batch (the ledger's
    key lookup went from under 1 to 128 ms a batch over 20,000 deliveries, measured). Planning a statement costs
    far less than one such scan.
    """
    if not db.is_sqlite(conn) and (conn.dialect.server_version_info or (0,)) >= (12,):
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


class _Parsed(NamedTuple):
    delivery: store.Delivery
    event: ShopEvent


def _parse(connector: Any, delivery: store.Delivery) -> ShopEvent:
    event: ShopEvent = connector.parse_event(delivery.topic, delivery.body)
    return event


def _segments(parsed: Sequence[_Parsed]) -> list[list[_Parsed]]:
    """The batch cut, in delivery order, into pages of order snapshots and single other deliveries.

    A page ends before a delivery that is not an order snapshot (a customer, a deletion, a product change: it
    may change what a later snapshot decides, so it is applied in its place) and before an order that is already
    in the page (its second snapshot must see what the first one changed: ``can_batch``). Applying the segments
    in turn then decides exactly what applying the deliveries one by one would.
    """
    segments: list[list[_Parsed]] = []
    page: list[_Parsed] = []
    in_page: set[str] = set()
    for item in parsed:
        order = item.event.order if item.event.kind == EventKind.ORDER else None
        if order is None or order.order_id in in_page:
            if page:
                segments.append(page)
            page, in_page = [], set()
        if order is None:
            segments.append([item])
            continue
        page.append(item)
        in_page.add(order.order_id)
    if page:
        segments.append(page)
    return segments


def _apply_segment(conn: Connection, ctx: ShopContext, segment: Sequence[_Parsed]) -> None:
    if len(segment) == 1:
        _apply(conn, ctx, segment[0])
        return
    orders = [item.event.order for item in segment if item.event.order is not None]
    for item, applied in zip(segment, apply_page(conn, ctx, orders), strict=True):
        _log_outcome(item, applied.outcome)


def _apply(conn: Connection, ctx: ShopContext, item: _Parsed) -> None:
    _log_outcome(item, apply_event(conn, ctx, item.event))


def _log_outcome(item: _Parsed, outcome: str) -> None:
    log.debug("delivery %s (%s %s): %s", item.delivery.id, item.delivery.topic, item.delivery.resource_id, outcome)


def _mark_done(conn: Connection, shop_id: str, applied: Sequence[_Parsed]) -> None:
    if applied:
        store.mark_done_many(conn, [item.delivery.id for item in applied], utcnow())
        metrics.deliveries_applied(conn, shop_id, [item.delivery.topic for item in applied])


@dataclass(frozen=True)
class _Prepared:
    """A batch read and parsed outside the write transaction, with the categories its orders need fetched."""

    ctx: ShopContext  # its category lookup answers from what was fetched (``FetchedCategories``)
    events: Mapping[int, ShopEvent | None]  # by delivery id; None: the payload did not parse (it fails again)

    def deferral(self, delivery_id: int) -> CategoriesNotFetched | None:
        """Why the delivery must wait (an order whose categories the shop did not give), or None."""
        event = self.events.get(delivery_id)
        fetched = self.ctx.categories_of
        if event is None or event.order is None or not isinstance(fetched, FetchedCategories):
            return None
        return fetched.missing(event.order)


def _prepare(rt: Runtime, ctx: ShopContext, connector: Any, shop_id: str) -> _Prepared:
    """Read and parse the due batch, and fetch its orders' categories from the shop: no write transaction open."""
    with db.read(rt.engine) as conn:
        batch = store.due_batch(conn, shop_id, utcnow(), rt.settings.inbox.batch_size)
    events: dict[int, ShopEvent | None] = {}
    for delivery in batch:
        try:
            events[delivery.id] = connector.parse_event(delivery.topic, delivery.body)
        except Exception:  # parsed again when applied, where the failure is recorded
            events[delivery.id] = None
    parsed = [e for e in events.values() if e is not None]
    orders = [e.order for e in parsed if e.order is not None]
    updated = [e.resource_id for e in parsed if e.kind == EventKind.PRODUCT_CHANGED]
    return _Prepared(with_categories_fetched(ctx, orders, forget=updated), events)


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
    metrics.delivery_failed(conn, delivery.shop_id, delivery.topic, parked=retry_at is None)
    # Logged under the id of the request that stored this delivery (a drain applies those of many requests).
    with request_id.bound(store.request_id_of(conn, delivery.id, request_id.HEADER) or request_id.current()):
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


def replay(rt: Runtime, delivery_id: int, *, actor: str | None = None) -> dict[str, Any]:
    """Make a delivery (typically a failed one) pending again and trigger a drain; audited when ``actor`` is
    given (the console names its user)."""
    with db.write(rt.engine) as conn:
        found = store.get(conn, rt.settings.program.id, delivery_id)
        if found is None:
            raise InboxDeliveryNotFound(f"no inbox delivery {delivery_id}")
        store.requeue(conn, delivery_id, utcnow())
        if actor is not None:
            _audit_replay(conn, rt, actor, found["shop_id"], str(delivery_id), {"last_error": found["last_error"]})
    rt.drains.ensure_drain(found["shop_id"])
    return found


REPLAY_BATCH = 500


def replay_failed(rt: Runtime, *, actor: str, shop_id: str | None = None) -> int:
    """Every failed delivery (of one shop, or all) made pending again, in batches of ``REPLAY_BATCH`` (each its own
    short transaction, walking ids downwards: never one huge write); audited once with the count."""
    replayed = 0
    shops: set[str] = set()
    before: int | None = None
    while True:
        with db.write(rt.engine) as conn:
            batch = store.listing(conn, rt.settings.program.id, store.FAILED, shop_id, REPLAY_BATCH, before)
            for row in batch:
                store.requeue(conn, row["id"], utcnow())
                shops.add(row["shop_id"])
            replayed += len(batch)
            if len(batch) < REPLAY_BATCH:
                _audit_replay(conn, rt, actor, shop_id, "failed", {"count": replayed})
                break
        before = batch[-1]["id"]
    for shop in sorted(shops):
        rt.drains.ensure_drain(shop)
    return replayed


def _audit_replay(
    conn: Any, rt: Runtime, actor: str, shop_id: str | None, target: str, details: dict[str, Any]
) -> None:
    audit.record(
        conn,
        program_id=rt.settings.program.id,
        shop_id=shop_id,
        actor=actor,
        action="inbox.replay",
        target_type="inbox_delivery",
        target_id=target,
        details=details,
    )


def listing(
    rt: Runtime, state: str | None, shop_id: str | None, limit: int, before_id: int | None
) -> list[dict[str, Any]]:
    with db.read(rt.engine) as conn:
        return store.listing(conn, rt.settings.program.id, state, shop_id, limit, before_id)
