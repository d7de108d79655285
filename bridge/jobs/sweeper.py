"""The sweeper: finds due deliveries that no queued job will pick up, and triggers a drain for their shop.

That covers deliveries stored while Redis was down, retries whose backoff has passed, and jobs lost with a
killed worker or a restarted Redis. Runs in every worker process (a thread) and as ``bridge inbox sweep``.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import inbox as store
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)


def sweep(rt: Runtime) -> list[str]:
    """Trigger a drain for every shop with due deliveries; returns the shops triggered."""
    with db.read(rt.engine) as conn:
        shops = store.shops_with_due(conn, utcnow())
    return [shop for shop in shops if rt.settings.shop(shop) and rt.drains.ensure_drain(shop, repair=True)]


class Sweeper(threading.Thread):
    def __init__(self, rt: Runtime) -> None:
        super().__init__(name="inbox-sweeper", daemon=True)
        self.rt = rt
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                sweep(self.rt)
            except SQLAlchemyError:
                log.exception("inbox sweep failed; trying again")
            self.stopping.wait(self.rt.settings.inbox.sweep_interval_seconds)

    def stop(self) -> None:
        self.stopping.set()
