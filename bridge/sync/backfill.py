"""``bridge backfill``: import a shop's past customers and orders, resumably and politely.

Two phases, customers then orders, each read oldest first (``orderby=id&order=asc``) so new records only append
to the last pages. After each page its effects and the page number are committed together: an interrupted run
(Ctrl-C, a crash, the shop going away) resumes at the next page, and every ledger write is keyed on its cause,
so a page read twice changes nothing. ``--award`` lets past orders earn under today's rules (each order once,
ever); ``--history-only`` builds members and order history without points, and marks those orders so that no
later delivery of them earns either.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge.connectors.woocommerce.api import Page, WooClient
from bridge.errors import BridgeError
from bridge.runtime import Runtime, runs_with_runtime
from bridge.storage import connections as store
from bridge.storage import db
from bridge.storage.clock import utcnow
from bridge.sync import apply

log = logging.getLogger(__name__)

KIND = "backfill"
PER_PAGE = 100
PHASES = ("customers", "orders")
AWARD = "award"
HISTORY_ONLY = "history-only"


class BackfillConflict(BridgeError):
    code = "backfill_conflict"
    status = 409


@dataclass
class Progress:
    phase: str
    done: int  # records applied in this phase
    total: int  # as the shop counts them (X-WP-Total); moves while the shop changes


@dataclass
class BackfillReport:
    shop_id: str
    mode: str
    since: str
    resumed: bool = False
    already_done: bool = False
    requests: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {p: Counter() for p in PHASES})

    def as_dict(self) -> dict[str, Any]:
        return {
            "shop": self.shop_id,
            "mode": self.mode,
            "since": self.since,
            "resumed": self.resumed,
            "already_done": self.already_done,
            "requests": self.requests,
            **{phase: dict(counts) for phase, counts in self.counts.items()},
        }


class Throttle:
    """At most ``rate`` requests per second (0: unbounded), so a backfill never looks like an attack."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.next_at = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


@runs_with_runtime
def backfill(
    rt: Runtime,
    shop_id: str,
    *,
    since: datetime,
    mode: str,
    restart: bool = False,
    signup_bonus: bool = False,
    rate: float | None = None,
    client: WooClient | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> BackfillReport:
    if mode not in (AWARD, HISTORY_ONLY):
        raise ValueError(f"mode must be {AWARD} or {HISTORY_ONLY}")
    ctx = rt.shop_context(shop_id)
    shop = rt.settings.shop(shop_id)
    assert shop is not None
    client = client or WooClient.for_shop(shop, timeout=rt.settings.sync.shop_timeout_seconds)
    options = {"since": since.strftime("%Y-%m-%dT%H:%M:%S"), "mode": mode, "signup_bonus": signup_bonus}
    report = BackfillReport(shop_id, mode, str(options["since"]))
    phase, page = _start(rt, shop_id, options, restart, report)
    if report.already_done:
        return report
    throttle = Throttle(rt.settings.sync.backfill_requests_per_second if rate is None else rate)
    for current in PHASES[PHASES.index(phase) :]:
        start_page = page + 1 if current == phase else 1
        done = (start_page - 1) * PER_PAGE
        number = start_page
        while True:
            throttle.wait()
            result = _fetch(client, current, number, str(options["since"]))
            report.requests += 1
            page_ctx = apply.with_categories_for(ctx, result.items) if current == "orders" else ctx  # before the write
            with db.write(rt.engine) as conn:
                report.counts[current].update(_apply(conn, page_ctx, current, result, options, mode))
                _save(rt, conn, shop_id, {"phase": current, "page": number})
            done += len(result.items)
            if on_progress:
                on_progress(Progress(current, done, max(result.total, done)))
            if number >= result.total_pages or not result.items:
                break
            number += 1
    with db.write(rt.engine) as conn:
        _save(rt, conn, shop_id, {"state": "done", "finished_at": utcnow(), "stats": report.as_dict()})
    log.info("backfill of shop %s finished: %s", shop_id, report.as_dict())
    return report


def _start(
    rt: Runtime, shop_id: str, options: dict[str, Any], restart: bool, report: BackfillReport
) -> tuple[str, int]:
    """Where to begin: the saved page of a run with the same options, or the beginning."""
    with db.write(rt.engine) as conn:
        state = store.sync_state(conn, shop_id, KIND, lock=True)
        same = state is not None and state["options"] == options
        if state and not restart:
            if state["state"] == "running" and not same:
                raise BackfillConflict(
                    f"an interrupted backfill with other options is pending ({state['options']}): run it again "
                    "with those options to finish it, or add --restart to start over"
                )
            if state["state"] == "running":
                report.resumed = True
                return state["phase"] or PHASES[0], int(state["page"] or 0)
            if state["state"] == "done" and same:
                report.already_done = True
                return PHASES[-1], 0
        values = {"state": "running", "phase": PHASES[0], "page": 0, "options": options, "started_at": utcnow()}
        values.update(finished_at=None, stats={}, last_error=None)
        _save(rt, conn, shop_id, values)
    return PHASES[0], 0


def _fetch(client: WooClient, phase: str, number: int, since: str) -> Page:
    if phase == "customers":
        # The customers endpoint has no date filter: read them all by id, keep those created since (in _apply).
        return client.page("customers", number, PER_PAGE, orderby="id", order="asc", role="all")
    return client.page(
        "orders", number, PER_PAGE, after=since, dates_are_gmt="true", orderby="id", order="asc", status="any"
    )


def _apply(conn: Any, ctx: Any, phase: str, result: Page, options: dict[str, Any], mode: str) -> Counter[str]:
    if phase == "customers":
        since = options["since"]
        recent = [c for c in result.items if isinstance(c, dict) and str(c.get("date_created_gmt") or "") >= since]
        # Existing accounts get the sign-up bonus only when the owner asks for it (--signup-bonus), once per member.
        return apply.apply_customers(conn, ctx, recent, award_signup=mode == AWARD and bool(options["signup_bonus"]))
    return apply.apply_orders(conn, ctx, result.items, source=KIND, history_only=mode == HISTORY_ONLY)


def _save(rt: Runtime, conn: Any, shop_id: str, values: dict[str, Any]) -> None:
    store.save_sync_state(
        conn, program_id=rt.settings.program.id, shop_id=shop_id, kind=KIND, values=values, now=utcnow()
    )
