"""Redemption rows. Every state change is a conditional UPDATE (``WHERE state = <expected>``): two processes
racing on one redemption cannot both move it, the loser sees that it lost and does nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge.observability import metrics
from bridge.redemption.model import OPEN_STATES, Redemption
from bridge.storage import tables as t

r = t.redemption.c


def insert(conn: Connection, values: dict[str, Any]) -> Redemption | None:
    """Insert unless this member already used the request key; the new row, or None when it existed."""
    # Values go as execution parameters, not into the statement: SQLAlchemy then compiles it once, not per call.
    row = conn.execute(_INSERT[conn.dialect.name], values).mappings().first()
    if row is None:
        return None
    metrics.redemption_moved(conn, str(row["state"]))
    return _model(row)


_INSERT = {
    name: dialect_insert(t.redemption)
    .on_conflict_do_nothing(index_elements=["member_id", "request_key"])
    .returning(*t.redemption.columns)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many redemptions in one statement (insertmanyvalues), skipping a member's used request key; the ids
    of those inserted (the tier perks' pages: one round trip, not one per member)."""
    if not rows:
        return []
    ids = [int(row.id) for row in conn.execute(_INSERT_IDS[conn.dialect.name], rows)]
    for _ in ids:
        metrics.redemption_moved(conn, str(rows[0]["state"]))
    return ids


_INSERT_IDS = {
    name: dialect_insert(t.redemption)
    .on_conflict_do_nothing(index_elements=["member_id", "request_key"])
    .returning(r.id)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


def lock_member(conn: Connection, program_id: str, member_id: int) -> str | None:
    """Lock the member row (serialises a member's redemptions) and return its e-mail; None: no such member."""
    m = t.member.c
    stmt = select(m.email).where(m.id == member_id, m.program_id == program_id).with_for_update()
    email: str | None = conn.scalar(stmt)
    return email


def get(conn: Connection, redemption_id: int) -> Redemption | None:
    row = conn.execute(select(t.redemption).where(r.id == redemption_id)).mappings().first()
    return _model(row) if row else None


def by_request_key(conn: Connection, member_id: int, request_key: str) -> Redemption | None:
    stmt = select(t.redemption).where(r.member_id == member_id, r.request_key == request_key)
    row = conn.execute(stmt).mappings().first()
    return _model(row) if row else None


_BY_CODE = select(t.redemption).where(r.shop_id == bindparam("shop_id"), r.code == bindparam("code"))


def by_code(conn: Connection, shop_id: str, code: str) -> Redemption | None:
    # One cached statement: this runs for every coupon of every order snapshot (the order observer).
    row = conn.execute(_BY_CODE, {"shop_id": shop_id, "code": code}).mappings().first()
    return _model(row) if row else None


def count_recent(conn: Connection, member_id: int, reward_id: str, since: datetime) -> int:
    stmt = select(func.count()).where(
        r.member_id == member_id,
        r.reward_id == reward_id,
        r.created_at >= since,
        r.state.in_([str(s) for s in OPEN_STATES]),
    )
    return int(conn.scalar(stmt) or 0)


def for_member(
    conn: Connection, member_id: int, states: tuple[str, ...] | None, limit: int, channel: str | None = None
) -> list[Redemption]:
    stmt = select(t.redemption).where(r.member_id == member_id)
    if channel is not None:  # issue 16: a member's perk coupons (channel "perk")
        stmt = stmt.where(r.channel == channel)
    if states:
        stmt = stmt.where(r.state.in_(states))
    rows = conn.execute(stmt.order_by(r.id.desc()).limit(limit)).mappings()
    return [_model(row) for row in rows]


def listing(
    conn: Connection, program_id: str, member_id: int | None, state: str | None, limit: int, before: int | None
) -> list[Redemption]:
    stmt = select(t.redemption).where(r.program_id == program_id)
    if member_id is not None:
        stmt = stmt.where(r.member_id == member_id)
    if state is not None:
        stmt = stmt.where(r.state == state)
    if before is not None:
        stmt = stmt.where(r.id < before)
    rows = conn.execute(stmt.order_by(r.id.desc()).limit(limit)).mappings()
    return [_model(row) for row in rows]


def due_reserved(conn: Connection, now: datetime, created_before: datetime, limit: int) -> list[int]:
    """Reserved redemptions nobody is working on: their lease ran out and they are old enough."""
    stmt = (
        select(r.id)
        .where(r.state == "reserved", r.next_attempt_at <= now, r.created_at <= created_before)
        .order_by(r.next_attempt_at, r.id)
        .limit(limit)
    )
    return [int(i) for i in conn.scalars(stmt)]


def expired_issued(conn: Connection, now: datetime, limit: int) -> list[int]:
    stmt = select(r.id).where(r.state == "issued", r.expires_at <= now).order_by(r.expires_at, r.id).limit(limit)
    return [int(i) for i in conn.scalars(stmt)]


def orphan_checks_due(conn: Connection, now: datetime, limit: int) -> list[Redemption]:
    rows = conn.execute(
        select(t.redemption).where(r.orphan_check_at <= now).order_by(r.orphan_check_at, r.id).limit(limit)
    ).mappings()
    return [_model(row) for row in rows]


def set_orphan_check(conn: Connection, redemption_id: int, due: datetime | None) -> None:
    conn.execute(update(t.redemption).where(r.id == redemption_id).values(orphan_check_at=due))


def claim(conn: Connection, redemption_id: int, now: datetime, lease: timedelta) -> bool:
    """Take a reserved redemption for ``lease`` (others skip it meanwhile); False when it is not ours to take."""
    stmt = (
        update(t.redemption)
        .where(r.id == redemption_id, r.state == "reserved", r.next_attempt_at <= now)
        .values(next_attempt_at=now + lease, updated_at=now)
        .returning(r.id)
    )
    return conn.execute(stmt).first() is not None


def transition(conn: Connection, redemption_id: int, from_states: tuple[str, ...], **values: Any) -> bool:
    """Move the redemption out of one of ``from_states``; False (and nothing changed) if it was elsewhere."""
    return moved(conn, redemption_id, from_states, **values) is not None


def moved(conn: Connection, redemption_id: int, from_states: tuple[str, ...], **values: Any) -> Redemption | None:
    """``transition`` returning the updated row (None when the redemption was not in ``from_states``)."""
    stmt = (
        update(t.redemption)
        .where(r.id == bindparam("rid"), r.state.in_(bindparam("from_states", expanding=True)))
        .returning(*t.redemption.columns)
    )
    params = {"rid": redemption_id, "from_states": [str(s) for s in from_states], **values}
    row = conn.execute(stmt, params).mappings().first()
    if row is None:
        return None
    if "state" in values:
        metrics.redemption_moved(conn, str(values["state"]))
    return _model(row)


def _model(row: Any) -> Redemption:
    return Redemption(**{column.name: row[column.name] for column in t.redemption.columns})
