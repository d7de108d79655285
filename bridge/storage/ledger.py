"""Ledger rows. Append-only: this module has no UPDATE and no DELETE on purpose."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge.ledger.model import Balance, Entry, EntryKind, EntryState, NewEntry
from bridge.observability import metrics
from bridge.storage import tables as t
from bridge.storage.db import insert_or_ignore, insert_or_ignore_returning

_LIFETIME_KINDS = (EntryKind.EARN, EntryKind.REVERSE, EntryKind.REFERRAL, EntryKind.ADJUST)


def insert(conn: Connection, entry: NewEntry, now: datetime) -> bool:
    """Insert unless the idempotency key exists; True when this call wrote the row."""
    written = insert_or_ignore(conn, t.ledger_entry, _values(entry, now), ["idempotency_key"])
    if written:
        metrics.ledger_entries(conn, [str(entry.kind)])
    return written


def insert_returning(conn: Connection, entry: NewEntry, now: datetime) -> Entry | None:
    """Insert unless the idempotency key exists; the stored entry when this call wrote it, else None."""
    row = insert_or_ignore_returning(conn, t.ledger_entry, _values(entry, now), ["idempotency_key"])
    if row is None:
        return None
    metrics.ledger_entries(conn, [str(entry.kind)])
    return _entry(row)


def insert_many(conn: Connection, entries: list[NewEntry], now: datetime) -> int:
    """Insert those whose idempotency key is new (issue 3: batch jobs); returns how many were written.

    Keys already present are looked up first (one query), the rest go in one executemany without RETURNING:
    psycopg pipelines it with one prepared statement, where a RETURNING batch becomes huge multi-row statements
    whose parameter parsing dominated the release job (measured). ON CONFLICT still guards a concurrent writer
    (whose rows the count would then include).
    """
    keys = [entry.idempotency_key for entry in entries]
    existing = set(
        conn.scalars(select(t.ledger_entry.c.idempotency_key).where(t.ledger_entry.c.idempotency_key.in_(keys)))
    )
    fresh = [_values(entry, now) for entry in entries if entry.idempotency_key not in existing]
    if fresh:
        conn.execute(_insert_ignore_many(conn.dialect.name), fresh)
        metrics.ledger_entries(conn, [row["kind"] for row in fresh])
    return len(fresh)


@functools.lru_cache(maxsize=4)
def _insert_ignore_many(dialect: str) -> Any:
    insert_ = sqlite_insert if dialect == "sqlite" else pg_insert
    return insert_(t.ledger_entry).on_conflict_do_nothing(index_elements=["idempotency_key"])


def _values(entry: NewEntry, now: datetime) -> dict[str, Any]:
    return {
        "program_id": entry.program_id,
        "shop_id": entry.shop_id,
        "member_id": entry.member_id,
        "points": entry.points,
        "kind": str(entry.kind),
        "state": str(entry.state),
        "available_at": entry.available_at or now,
        "expires_at": entry.expires_at,
        "cause_type": entry.cause_type,
        "cause_id": entry.cause_id,
        "rule_id": entry.rule_id,
        "refund_id": entry.refund_id,
        "idempotency_key": entry.idempotency_key,
        "reverses_entry_id": entry.reverses_entry_id,
        "note": entry.note,
        "meta": entry.meta,
        "created_at": now,
        "program_version": entry.program_version,
    }


def by_key(conn: Connection, key: str) -> Entry | None:
    row = conn.execute(select(t.ledger_entry).where(t.ledger_entry.c.idempotency_key == key)).mappings().first()
    return _entry(row) if row else None


def for_cause(conn: Connection, shop_id: str, cause_type: str, cause_id: str) -> list[Entry]:
    stmt = (
        select(t.ledger_entry)
        .where(
            t.ledger_entry.c.shop_id == shop_id,
            t.ledger_entry.c.cause_type == cause_type,
            t.ledger_entry.c.cause_id == cause_id,
        )
        .order_by(t.ledger_entry.c.id)
    )
    return [_entry(r) for r in conn.execute(stmt).mappings()]


def for_causes(conn: Connection, shop_id: str, cause_type: str, cause_ids: list[str]) -> list[Entry]:
    """Entries of many causes of one shop at once (issue 3: releasing a batch of orders), in id order."""
    stmt = (
        select(t.ledger_entry)
        .where(
            t.ledger_entry.c.shop_id == shop_id,
            t.ledger_entry.c.cause_type == cause_type,
            t.ledger_entry.c.cause_id.in_(cause_ids),
        )
        .order_by(t.ledger_entry.c.id)
    )
    return [_entry(r) for r in conn.execute(stmt).mappings()]


def balance(conn: Connection, member_id: int) -> Balance:
    e = t.ledger_entry.c
    stmt = select(
        func.coalesce(func.sum(case((e.state == EntryState.AVAILABLE, e.points), else_=0)), 0),
        func.coalesce(func.sum(case((e.state == EntryState.PENDING, e.points), else_=0)), 0),
        func.coalesce(func.sum(case((e.kind.in_([str(k) for k in _LIFETIME_KINDS]), e.points), else_=0)), 0),
    ).where(e.member_id == member_id)
    available, pending, lifetime = conn.execute(stmt).one()
    return Balance(available=int(available), pending=int(pending), lifetime=int(lifetime))


def balances(conn: Connection, member_ids: list[int]) -> dict[int, Balance]:
    """``balance`` of many members in one query (issue 17: a dispatch round renders hundreds of messages)."""
    e = t.ledger_entry.c
    stmt = (
        select(
            e.member_id,
            func.coalesce(func.sum(case((e.state == EntryState.AVAILABLE, e.points), else_=0)), 0),
            func.coalesce(func.sum(case((e.state == EntryState.PENDING, e.points), else_=0)), 0),
            func.coalesce(func.sum(case((e.kind.in_([str(k) for k in _LIFETIME_KINDS]), e.points), else_=0)), 0),
        )
        .where(e.member_id.in_(member_ids))
        .group_by(e.member_id)
    )
    found = {int(m): Balance(int(a), int(p), int(lt)) for m, a, p, lt in conn.execute(stmt)}
    return {m: found.get(m, Balance(0, 0, 0)) for m in member_ids}


def history(conn: Connection, member_id: int, limit: int, before_id: int | None) -> list[Entry]:
    stmt = select(t.ledger_entry).where(t.ledger_entry.c.member_id == member_id)
    if before_id is not None:
        stmt = stmt.where(t.ledger_entry.c.id < before_id)
    stmt = stmt.order_by(t.ledger_entry.c.id.desc()).limit(limit)
    return [_entry(r) for r in conn.execute(stmt).mappings()]


def _entry(row: Any) -> Entry:
    return Entry(
        id=row["id"],
        program_id=row["program_id"],
        shop_id=row["shop_id"],
        member_id=row["member_id"],
        points=row["points"],
        kind=row["kind"],
        state=row["state"],
        cause_type=row["cause_type"],
        cause_id=row["cause_id"],
        rule_id=row["rule_id"],
        refund_id=row["refund_id"],
        idempotency_key=row["idempotency_key"],
        reverses_entry_id=row["reverses_entry_id"],
        note=row["note"],
        meta=row["meta"] or {},
        created_at=row["created_at"],
        program_version=row["program_version"],
    )


# --- issue 4: reading spends and what was returned of them --------------------------------------------------------
def by_id(conn: Connection, entry_id: int) -> Entry | None:
    row = conn.execute(select(t.ledger_entry).where(t.ledger_entry.c.id == entry_id)).mappings().first()
    return _entry(row) if row else None


def returned_to(conn: Connection, spend_entry_id: int) -> int:
    e = t.ledger_entry.c
    stmt = select(func.coalesce(func.sum(e.points), 0)).where(
        e.reverses_entry_id == spend_entry_id, e.kind == str(EntryKind.SPEND), e.points > 0
    )
    return int(conn.scalar(stmt) or 0)
