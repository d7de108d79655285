"""Custom events (issue 19): one row per accepted request, unique on the caller's idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from bridge.storage import tables as t
from bridge.storage.db import insert_or_ignore_returning

e = t.member_event.c


def add(conn: Connection, values: dict[str, Any]) -> dict[str, Any] | None:
    """The new event's row, or None when its key was taken (a replay, or a concurrent twin)."""
    row = insert_or_ignore_returning(conn, t.member_event, values, ["program_id", "request_key"])
    return dict(row) if row is not None else None


def by_key(conn: Connection, program_id: str, request_key: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(t.member_event).where(e.program_id == program_id, e.request_key == request_key))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def awarded_since(conn: Connection, member_id: int, rule_ids: list[str], since: datetime) -> dict[str, int]:
    """How many event awards each rule gave the member since ``since`` (daily limits)."""
    if not rule_ids:
        return {}
    le = t.ledger_entry.c
    stmt = (
        select(le.rule_id, func.count())
        .where(le.member_id == member_id, le.cause_type == "event", le.rule_id.in_(rule_ids), le.created_at >= since)
        .group_by(le.rule_id)
    )
    return {rule_id: int(n) for rule_id, n in conn.execute(stmt)}


def entries_of(conn: Connection, event_id: int) -> list[dict[str, Any]]:
    le = t.ledger_entry.c
    stmt = select(le.id, le.rule_id, le.points).where(le.cause_type == "event", le.cause_id == str(event_id))
    return [dict(r) for r in conn.execute(stmt.order_by(le.id)).mappings()]
