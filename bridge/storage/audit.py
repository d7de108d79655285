"""The audit log: who changed what, for every manual or admin action."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

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
