"""The audit log: who changed what, for every manual or admin action."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from bridge.storage import tables as t
from bridge.storage.clock import utcnow


def record(
    conn: Connection,
    *,
    program_id: str,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
    shop_id: str | None = None,
) -> None:
    conn.execute(
        insert(t.audit_log).values(
            program_id=program_id,
            shop_id=shop_id,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details,
            created_at=utcnow(),
        )
    )


def page(
    conn: Connection,
    program_id: str,
    *,
    before_id: int | None,
    limit: int,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first, ``limit`` entries older than ``before_id`` (keyset pagination: never OFFSET)."""
    c = t.audit_log.c
    stmt = select(t.audit_log).where(c.program_id == program_id)
    for column, value in ((c.actor, actor), (c.action, action), (c.target_type, target_type), (c.target_id, target_id)):
        if value:
            stmt = stmt.where(column == value)
    if before_id is not None:
        stmt = stmt.where(c.id < before_id)
    return [dict(row) for row in conn.execute(stmt.order_by(c.id.desc()).limit(limit)).mappings()]
