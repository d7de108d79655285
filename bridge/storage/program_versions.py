"""Rows of ``program_version`` (published, append-only) and ``program_draft``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from bridge.storage import tables as t
from bridge.storage.clock import utcnow

_v = t.program_version
_d = t.program_draft


def published_number(conn: Connection, program_id: str) -> int | None:
    """The published version: the highest number (one indexed read: the primary key's prefix)."""
    found = conn.scalar(select(func.max(_v.c.version)).where(_v.c.program_id == program_id))
    return int(found) if found is not None else None


def version(conn: Connection, program_id: str, number: int) -> dict[str, Any] | None:
    row = conn.execute(select(_v).where(_v.c.program_id == program_id, _v.c.version == number)).mappings().first()
    return dict(row) if row else None


def versions(conn: Connection, program_id: str) -> list[dict[str, Any]]:
    """Every version, newest first, without their documents."""
    columns = [c for c in _v.c if c.name != "document"]
    rows = conn.execute(select(*columns).where(_v.c.program_id == program_id).order_by(_v.c.version.desc()))
    return [dict(r) for r in rows.mappings()]


def latest_by(conn: Connection, program_id: str, actor: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(_v).where(_v.c.program_id == program_id, _v.c.actor == actor).order_by(_v.c.version.desc()).limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def insert_version(
    conn: Connection,
    program_id: str,
    number: int,
    document: dict[str, Any],
    *,
    base_version: int | None,
    actor: str,
    reason: str,
) -> None:
    """Raises ``IntegrityError`` when ``number`` exists: another publish took it first."""
    conn.execute(
        insert(_v).values(
            program_id=program_id,
            version=number,
            document=document,
            base_version=base_version,
            actor=actor,
            reason=reason,
            created_at=utcnow(),
        )
    )


def insert_draft(
    conn: Connection, program_id: str, document: dict[str, Any], *, base_version: int | None, actor: str, reason: str
) -> int:
    result = conn.execute(
        insert(_d)
        .values(
            program_id=program_id,
            document=document,
            base_version=base_version,
            actor=actor,
            reason=reason,
            created_at=utcnow(),
        )
        .returning(_d.c.id)
    )
    return int(result.scalar_one())


def draft(conn: Connection, program_id: str, draft_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(_d).where(_d.c.program_id == program_id, _d.c.id == draft_id)).mappings().first()
    return dict(row) if row else None


def mark_published(conn: Connection, draft_id: int, number: int) -> None:
    conn.execute(update(_d).where(_d.c.id == draft_id).values(published_version=number))
