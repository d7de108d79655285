"""Reconciliation: read what the shop changed since the last watermark and feed it through the pipeline.

WooCommerce never retries a failed delivery (docs/connectors/woocommerce.md), so listening alone loses orders. Every
``sync.reconcile_interval_seconds`` (and by hand with ``bridge reconcile``), each shop with API keys is asked for
its orders modified in the window ``[watermark - overlap, now]``; each is applied as a delivery would be.

Paging is by modification time, not page number: after each page the window's start moves to the last order seen
(minus a second, the API's bound is exclusive), so orders modified while we page cannot shift an unseen order
onto a page we already read. The cursor is saved with each page's effects in one transaction: a crash resumes
exactly where it stopped; the watermark moves only when the whole window has been read.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.connectors.woocommerce.api import WooClient
from bridge.runtime import Runtime, runs_with_runtime
from bridge.storage import connections as store
from bridge.storage import db
from bridge.storage.clock import utcnow
from bridge.sync import apply

log = logging.getLogger(__name__)

KIND = "reconcile"
PER_PAGE = 100
RUNNING = "running"
IDLE = "idle"


@dataclass
class ReconcileReport:
    shop_id: str
    window_start: datetime
    window_end: datetime
    resumed: bool = False
    pages: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def repaired(self) -> int:
        return self.counts[apply.MISSED] + self.counts[apply.UPDATED]

    def as_dict(self) -> dict[str, Any]:
        return {
            "shop": self.shop_id,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "resumed": self.resumed,
            "pages": self.pages,
            "orders": sum(self.counts.values()),
            "repaired": self.repaired,
            **{k: self.counts[k] for k in (apply.MISSED, apply.UPDATED, apply.KNOWN, apply.QUEUED)},
        }


@runs_with_runtime
def reconcile(
    rt: Runtime,
    shop_id: str,
    *,
    since: datetime | None = None,
    client: WooClient | None = None,
    on_page: Callable[[ReconcileReport], None] | None = None,
) -> ReconcileReport:
    """One reconciliation run (or the rest of an interrupted one, unless ``since`` starts a new window)."""
    ctx = rt.shop_context(shop_id)
    shop = rt.settings.shop(shop_id)
    assert shop is not None
    client = client or WooClient.for_shop(shop, timeout=rt.settings.sync.shop_timeout_seconds)
    report, cursor = _open_window(rt, shop_id, since)
    while True:
        params = {
            "modified_after": _iso(cursor[0]),
            "modified_before": _iso(report.window_end),
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "status": "any",
        }
        page = client.page("orders", cursor[1], PER_PAGE, **params)
        next_cursor = _advance(cursor, page.items)
        page_ctx = apply.with_categories_for(ctx, page.items)  # the shop is called here, not inside the write
        with db.write(rt.engine) as conn:
            report.counts.update(apply.apply_orders(conn, page_ctx, page.items, source=KIND))
            _save(rt, conn, shop_id, {"options": {"after": _iso(next_cursor[0]), "page": next_cursor[1]}})
        report.pages += 1
        if on_page:
            on_page(report)
        if len(page.items) < PER_PAGE or page.page >= page.total_pages:
            break
        cursor = next_cursor
    _close_window(rt, shop_id, report)
    log.info("reconciled shop %s: %s", shop_id, report.as_dict())
    return report


def _open_window(rt: Runtime, shop_id: str, since: datetime | None) -> tuple[ReconcileReport, tuple[datetime, int]]:
    now = utcnow()
    with db.write(rt.engine) as conn:
        state = store.sync_state(conn, shop_id, KIND, lock=True) or {}
        if since is None and state.get("state") == RUNNING and state.get("window_end"):
            options = state.get("options") or {}
            after = _gmt(options.get("after")) or state["window_start"]
            report = ReconcileReport(shop_id, state["window_start"], state["window_end"], resumed=True)
            return report, (after, int(options.get("page") or 1))
        start = since or _default_start(rt, store.connection(conn, shop_id), state, now)
        values = {
            "state": RUNNING,
            "window_start": start,
            "window_end": now,
            "options": {"after": _iso(start), "page": 1},
            "started_at": now,
            "last_error": None,
        }
        _save(rt, conn, shop_id, values)
    return ReconcileReport(shop_id, start, now), (start, 1)


def _default_start(rt: Runtime, connection: dict[str, Any] | None, state: dict[str, Any], now: datetime) -> datetime:
    """After the last window; a shop's first window starts when it was connected, because orders from before
    are the backfill's to import (``--award`` or ``--history-only``: the owner's choice, not ours). A shop
    configured by hand, with no connection, looks back ``reconcile_initial_lookback_hours``."""
    watermark: datetime | None = state.get("watermark")
    if watermark is not None:
        return watermark - timedelta(seconds=rt.settings.sync.reconcile_overlap_seconds)
    if connection is not None and connection["state"] == store.CONNECTED:
        connected_at: datetime = connection["connected_at"]
        return min(connected_at, now)
    return now - timedelta(hours=rt.settings.sync.reconcile_initial_lookback_hours)


def _advance(cursor: tuple[datetime, int], items: list[Any]) -> tuple[datetime, int]:
    """Start the next page after the last order seen; page on within one second only if a whole page shares it."""
    last = max((d for d in (_gmt(o.get("date_modified_gmt")) for o in items if isinstance(o, dict)) if d), default=None)
    if last is None:
        return cursor[0], cursor[1] + 1
    after = last - timedelta(seconds=1)  # `modified_after` is exclusive, and ties within a second must be re-read
    if after > cursor[0]:
        return after, 1
    return cursor[0], cursor[1] + 1


def _close_window(rt: Runtime, shop_id: str, report: ReconcileReport) -> None:
    stats = {**report.as_dict(), "finished": utcnow().isoformat()}
    with db.write(rt.engine) as conn:
        state = store.sync_state(conn, shop_id, KIND, lock=True) or {}
        watermark = state.get("watermark")
        if watermark is None or report.window_end > watermark:
            watermark = report.window_end
        _save(rt, conn, shop_id, {"state": IDLE, "watermark": watermark, "finished_at": utcnow(), "stats": stats})


def record_failure(rt: Runtime, shop_id: str, exc: Exception) -> None:
    with db.write(rt.engine) as conn:
        _save(rt, conn, shop_id, {"last_error": f"{type(exc).__name__}: {exc}"[:2000]})


def _save(rt: Runtime, conn: Any, shop_id: str, values: dict[str, Any]) -> None:
    store.save_sync_state(
        conn, program_id=rt.settings.program.id, shop_id=shop_id, kind=KIND, values=values, now=utcnow()
    )


def _gmt(value: Any) -> datetime | None:
    """A WooCommerce ``*_gmt`` field ("2026-11-20T10:00:00", no suffix) or our own cursor, as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def reconcile_all(rt: Runtime, now: datetime) -> dict[str, Any]:
    """The periodic job: every shop that has API keys; one shop's failure does not stop the others."""
    rt.reload_shops()
    results: dict[str, Any] = {}
    for shop in rt.settings.shops:
        if not (shop.consumer_key and shop.consumer_secret):
            continue
        started = time.monotonic()
        try:
            results[shop.id] = reconcile(rt, shop.id).as_dict()
        except Exception as exc:
            log.warning("reconciliation of shop %s failed: %s", shop.id, exc)
            record_failure(rt, shop.id, exc)
            results[shop.id] = {"error": str(exc)}
        log.debug("reconcile %s took %.2fs", shop.id, time.monotonic() - started)
    return results
