"""Worker heartbeats, and the health summary that ``/readyz`` and ``bridge status`` print.

Why a row in the database: it is the one store every process of the bridge shares in every deployment (``bridge
run`` on one machine, or several ``bridge worker`` on other hosts with an external Redis), and it stays readable
while Redis is down, which is when the question matters most. RQ's own worker registry lives in Redis (gone with
it, and emptied by a Redis restart) and a SimpleWorker refreshes it only between jobs, so a long drain would look
like a dead worker.

Each worker process runs a ``Heartbeat`` thread that upserts its row every ``HEARTBEAT_SECONDS``: when it last
beat, and since when it has failed to reach Redis. A worker counts as alive while its last beat is younger than
``STALE_AFTER_SECONDS``; a clean stop marks the row ``stopped_at`` at once, a killed worker simply goes stale.
One small write every few seconds per worker; rows of workers gone for a day are pruned.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from bridge.runtime import Runtime, redis_url
from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 3.0
STALE_AFTER_SECONDS = 10.0
"""No beat for this long: the worker is down (a few missed beats, so a busy database does not flap it)."""
PRUNE_AFTER = timedelta(days=1)


def redis_answers(rt: Runtime) -> bool:
    """Whether a *new* connection to Redis answers a PING. Not the pool's: a connection it already holds can work
    on while every new one fails (a unix socket file deleted under a running server)."""
    try:
        with Redis.from_url(redis_url(rt.settings), socket_connect_timeout=0.5, socket_timeout=1.0) as client:
            client.ping()
    except RedisError:
        return False
    return True


class Heartbeat(threading.Thread):
    """The worker's heartbeat thread: one row in ``worker_heartbeat``, refreshed every ``HEARTBEAT_SECONDS``."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(name="worker-heartbeat", daemon=True)
        self.rt = rt
        self.stopping = threading.Event()
        self.started_at = utcnow()
        host = socket.gethostname()[:200]
        self.row = {"id": f"{host}:{os.getpid()}:{self.started_at:%Y%m%dT%H%M%S}", "hostname": host, "pid": os.getpid()}
        self.redis_down_since: datetime | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            self.beat()
            self.stopping.wait(HEARTBEAT_SECONDS)

    def beat(self, *, stopped: bool = False) -> None:
        if redis_answers(self.rt):
            self.redis_down_since = None
        elif self.redis_down_since is None:
            self.redis_down_since = utcnow()
        now = utcnow()
        values = {
            "beat_at": now,
            "stopped_at": now if stopped else None,
            "redis_down_since": self.redis_down_since,
        }
        h = t.worker_heartbeat.c
        try:
            with db.write(self.rt.engine) as conn:
                found = conn.execute(update(t.worker_heartbeat).where(h.id == self.row["id"]).values(**values))
                if found.rowcount == 0:
                    conn.execute(insert(t.worker_heartbeat).values(**self.row, started_at=self.started_at, **values))
                    conn.execute(delete(t.worker_heartbeat).where(h.beat_at < now - PRUNE_AFTER))
        except SQLAlchemyError as exc:
            log.warning("worker heartbeat not written (trying again): %s", exc)

    def stop(self) -> None:
        self.stopping.set()
        self.join(HEARTBEAT_SECONDS + 1)
        self.beat(stopped=True)


@dataclass(frozen=True)
class Check:
    state: str  # ok | unreachable (database, redis) | ok | down | never_seen (worker)
    since: datetime | None = None  # when it went down, as far as anyone saw
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def as_json(self, now: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state}
        if self.since is not None:
            out["since"] = self.since.isoformat()
            out["down_seconds"] = max(0, int((now - self.since).total_seconds()))
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class Health:
    checked_at: datetime
    database: Check
    redis: Check
    worker: Check

    @property
    def checks(self) -> dict[str, Check]:
        return {"database": self.database, "redis": self.redis, "worker": self.worker}


_seen_redis_down: dict[str, datetime] = {}
"""Per process and Redis URL: when this process first failed to reach Redis (a web process has no heartbeat)."""
_seen_lock = threading.Lock()


def _redis_check(rt: Runtime, now: datetime, workers_saw_down: datetime | None) -> Check:
    key = redis_url(rt.settings)
    answers = redis_answers(rt)
    with _seen_lock:
        if answers:
            _seen_redis_down.pop(key, None)
        else:
            _seen_redis_down.setdefault(key, now)
        seen_here = _seen_redis_down.get(key)
    if answers and workers_saw_down is None:
        return Check("ok")
    if answers:
        return Check("unreachable", workers_saw_down, "the worker cannot reach Redis")
    since = min(d for d in (seen_here, workers_saw_down) if d is not None)
    return Check("unreachable", since)


def _gone(row: Any) -> bool:
    """A worker on this host whose process has ended (killed, or a zombie not yet reaped): down now, not only once
    its beat is stale. Another host's worker is judged by its beat alone."""
    if row.hostname != socket.gethostname()[:200]:
        return False
    try:
        stat = Path(f"/proc/{row.pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:  # no /proc here: the beat's age decides
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _worker_check(rows: list[Any], now: datetime) -> tuple[Check, datetime | None]:
    """The worker check, and since when the live workers have failed to reach Redis (None: they reach it)."""
    live = [
        r
        for r in rows
        if r.stopped_at is None and (now - r.beat_at).total_seconds() < STALE_AFTER_SECONDS and not _gone(r)
    ]
    redis_down = [r.redis_down_since for r in live if r.redis_down_since is not None]
    saw_down = min(redis_down) if redis_down and len(redis_down) == len(live) else None
    if live:
        return Check("ok", detail=f"{len(live)} alive"), saw_down
    if not rows:
        return Check("never_seen", detail="no worker has run on this database"), None
    last = max((r.stopped_at or r.beat_at) for r in rows)
    stopped = any(r.stopped_at == last for r in rows)
    return Check("down", last, "stopped" if stopped else "no heartbeat"), None


def check(rt: Runtime) -> Health:
    """Database, Redis and worker, each with since when it is down."""
    now = utcnow()
    rows: list[Any] = []
    database = Check("ok")
    try:
        with db.read(rt.engine) as conn:
            conn.execute(text("SELECT 1"))
            rows = list(conn.execute(select(t.worker_heartbeat)))
    except SQLAlchemyError as exc:
        database = Check("unreachable", detail=type(exc).__name__)
    if database.ok:
        worker, workers_saw_redis_down = _worker_check(rows, now)
    else:
        worker, workers_saw_redis_down = Check("unknown", detail="the database is unreachable"), None
    return Health(now, database, _redis_check(rt, now, workers_saw_redis_down), worker)
