"""Count what committed: a metric recorded inside a transaction moves only when (and if) that transaction commits.

A drain applies a batch under a savepoint and, when one delivery fails, rolls the savepoint back and applies the
batch again one delivery at a time; a ledger write may be undone by the caller's rollback. Counting at the write
would count those twice or count what never happened. ``on_commit(conn, fn)`` keeps ``fn`` with the transaction
(a stack of frames, one per open savepoint, in ``conn.info``): a savepoint's release hands its callbacks to the
enclosing frame, its rollback drops them, the commit runs them all, a rollback drops them all. Listened to on
SQLAlchemy's ``Engine`` class once, so every engine (each app, each test) is covered without a hook in
``make_engine``. Core has no after-commit event: the callbacks run as the COMMIT is sent, so a commit the
database itself then refuses (rare: a serialization failure) would still have counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event

log = logging.getLogger(__name__)

_KEY = "bridge.observability.on_commit"
Frames = list[list[Callable[[], None]]]


def on_commit(conn: Connection, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``conn``'s current transaction commits; never if it (or the savepoint) rolls back."""
    frames: Frames | None = conn.info.get(_KEY)
    if not frames:
        frames = conn.info[_KEY] = [[]]
    frames[-1].append(callback)


def _frames(conn: Connection) -> Frames:
    frames: Frames = conn.info.setdefault(_KEY, [[]])
    return frames


def _begin(conn: Connection) -> None:
    conn.info[_KEY] = [[]]  # nothing left over from a connection's earlier use (the pool reuses DBAPI connections)


def _savepoint(conn: Connection, name: str) -> None:
    _frames(conn).append([])


def _release_savepoint(conn: Connection, name: str, context: Any) -> None:
    frames = _frames(conn)
    if len(frames) > 1:
        done = frames.pop()
        frames[-1].extend(done)


def _rollback_savepoint(conn: Connection, name: str, context: Any) -> None:
    frames = _frames(conn)
    if len(frames) > 1:
        frames.pop()
    else:
        frames[0] = []


def _commit(conn: Connection) -> None:
    frames = conn.info.pop(_KEY, None) or []
    for frame in frames:
        for callback in frame:
            try:
                callback()
            except Exception:  # a metric must never fail a committed transaction's caller
                log.exception("a metric recorded at commit failed")


def _rollback(conn: Connection) -> None:
    conn.info.pop(_KEY, None)


def install() -> None:
    """Listen on every engine (idempotent)."""
    for name, listener in (
        ("begin", _begin),
        ("savepoint", _savepoint),
        ("release_savepoint", _release_savepoint),
        ("rollback_savepoint", _rollback_savepoint),
        ("commit", _commit),
        ("rollback", _rollback),
    ):
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener)
