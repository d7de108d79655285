"""The transactional outbox: a domain event is written in the same transaction as the change that causes it.

A hook is one call, ``add(conn, ...)`` (or ``add_many`` for a batch job), inside the caller's open write
transaction: the event commits with the change or rolls back with it, so there is no event without its change
and no change without its event. Its ``key`` derives from the cause (``<shop>:order:12:c1:points_earned``), so
a replayed delivery, a rerun job or a second worker writes nothing twice. Nothing here talks to the network: the
dispatcher (``bridge.notifications.dispatcher``) sends later, outside any write transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow


@dataclass(frozen=True)
class NewEvent:
    program_id: str
    type: str
    key: str
    member_id: int | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    shop_id: str | None = None


def add(
    conn: Connection,
    *,
    program_id: str,
    type: str,  # the event type, as the table names it
    key: str,
    member_id: int | None,
    payload: Mapping[str, Any] | None = None,
    shop_id: str | None = None,
) -> bool:
    """Record one event in the caller's transaction unless its key was recorded before; True when written now."""
    return add_many(conn, [NewEvent(program_id, type, key, member_id, dict(payload or {}), shop_id)]) == 1


def add_many(conn: Connection, events: Sequence[NewEvent]) -> int:
    """Record events (new or replays) in the caller's transaction; returns how many were new."""
    now = utcnow()
    written = 0
    for event in events:
        values = {
            "program_id": event.program_id,
            "shop_id": event.shop_id,
            "member_id": event.member_id,
            "type": event.type,
            "key": event.key[:255],
            "payload": _plain(event.payload),
            "created_at": now,
            "planned_at": None,
        }
        written += db.insert_or_ignore(conn, t.domain_event, values, ["key"])
    return written


def _plain(payload: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready: datetimes as ISO text, decimals as strings (money is never a float)."""
    out: dict[str, Any] = {}
    for name, value in payload.items():
        if hasattr(value, "isoformat"):
            out[name] = value.isoformat()
        elif isinstance(value, int | float | str | bool | type(None) | list | dict):
            out[name] = value
        else:
            out[name] = str(value)
    return out
