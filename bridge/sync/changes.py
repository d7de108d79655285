"""How every process hears of a change to the program or the shops at once: a Redis pub/sub signal.

A publish, a restore, an import, a `bridge connect` / `disconnect` or an edit of a shop's settings commits to the
database first, then ``announce``s on the program's channel. Each long-running process (every gunicorn worker, each
``bridge worker`` with its scheduler threads) runs one ``ChangeListener`` thread, which answers a signal by
re-reading the connections and the published version (``Runtime.reload_shops(force=True)``) — off the request
path, so no webhook waits for that read.

The database stays the source and the poll stays the fallback: while the listener is subscribed, requests check
the database every ``SUBSCRIBED_CHECK_SECONDS`` (a lost signal is still picked up); while Redis is down they check
every ``Runtime.SHOPS_CHECK_SECONDS``, as before. A signal carries nothing but the fact of a change, so a forged
or repeated one costs one small read.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from redis import Redis
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from bridge.runtime import Runtime

log = logging.getLogger(__name__)

SUBSCRIBED_CHECK_SECONDS = 30.0
"""The database poll's period while the signal is heard (the safety net for a signal lost in a Redis blip)."""

RECONNECT_SECONDS = (0.5, 1.0, 2.0, 2.0)
"""Back-off between attempts to subscribe again; while unsubscribed the 2 s poll keeps every process current."""


def channel(program_id: str) -> str:
    return f"bridge:{program_id}:changes"


def announce(rt: Runtime, what: str) -> bool:
    """Tell every process that ``what`` changed (after the change committed). False when Redis is unreachable:
    the others then see it at their next database check, within ``Runtime.SHOPS_CHECK_SECONDS``."""
    try:
        rt.redis().publish(channel(rt.program_id), what)
    except RedisError as exc:
        log.info("change not announced (%s); other processes poll for it", exc)
        return False
    return True


class ChangeListener(threading.Thread):
    """One per process: subscribed to the program's channel, reloads the runtime on every signal."""

    def __init__(self, rt: Runtime, url: str) -> None:
        super().__init__(name="change-listener", daemon=True)
        self.rt = rt
        self.url = url
        self.stopping = threading.Event()
        self.subscribed = threading.Event()

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                self._listen()
                failures = 0
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                wait = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                if failures == 1:
                    log.warning("change signal lost (%s); polling the database every few seconds meanwhile", exc)
                self.stopping.wait(wait)
        self.subscribed.clear()

    def _listen(self) -> None:
        client = Redis.from_url(self.url, socket_connect_timeout=2.0, socket_timeout=None, health_check_interval=15)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            pubsub.subscribe(channel(self.rt.program_id))
            # Anything announced while unsubscribed was missed: read the database once now.
            self.subscribed.set()
            self._reload()
            while not self.stopping.is_set():
                # A timeout (not a blocking listen) so a stop is noticed within a second.
                message = pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    self._reload()
        finally:
            client.close()

    def _reload(self) -> None:
        try:
            self.rt.reload_shops(force=True)
        except Exception:  # the thread outlives one failed read: the poll and the next signal try again
            log.exception("reload after a change signal failed")

    def stop(self) -> None:
        self.stopping.set()
        self.join(3.0)
