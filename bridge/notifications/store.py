"""SQL of the outbox's deliveries: planning, claiming, recording, listing. Callers hold the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, select, update

from bridge.storage import db
from bridge.storage import tables as t

PENDING, SENDING, SENT, DEAD, SKIPPED = "pending", "sending", "sent", "dead", "skipped"
STATES = (PENDING, SENDING, SENT, DEAD, SKIPPED)

d = t.notification_delivery.c
e = t.domain_event.c


@dataclass(frozen=True)
class Event:
    id: int
    program_id: str
    shop_id: str | None
    member_id: int | None
    type: str
    key: str
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: int
    member_id: int | None
    channel: str
    target: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    provider_id: str | None
    sent_at: datetime | None
    created_at: datetime
    claim: str | None = None


def event_of(row: Any) -> Event:
    return Event(
        row.id, row.program_id, row.shop_id, row.member_id, row.type, row.key, dict(row.payload), row.created_at
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        row.id,
        row.event_id,
        row.member_id,
        row.channel,
        row.target,
        row.state,
        row.attempts,
        row.next_attempt_at,
        row.last_error,
        row.provider_id,
        row.sent_at,
        row.created_at,
        row.claim,
    )


# --- planning: events -> deliveries ---------------------------------------------------------------------------------
def unplanned(conn: Connection, program_id: str, limit: int) -> list[Event]:
    stmt = (
        select(t.domain_event)
        .where(e.planned_at.is_(None), e.program_id == program_id)
        .order_by(e.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [event_of(r) for r in conn.execute(stmt)]


def add_deliveries(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    return sum(
        db.insert_or_ignore(conn, t.notification_delivery, row, ["event_id", "channel", "target"]) for row in rows
    )


def mark_planned(conn: Connection, event_ids: Sequence[int], now: datetime) -> None:
    if event_ids:
        conn.execute(update(t.domain_event).where(e.id.in_(event_ids)).values(planned_at=now))


def work_waiting(conn: Connection, program_id: str, now: datetime) -> bool:
    """Whether a dispatch has anything to do: a cheap read, so an idle worker never takes the write lock."""
    unplanned_event = select(e.id).where(e.planned_at.is_(None), e.program_id == program_id).limit(1)
    due_delivery = (
        select(d.id)
        .where(
            d.program_id == program_id,
            (and_(d.state == PENDING, d.next_attempt_at <= now)) | (and_(d.state == SENDING, d.lease_until <= now)),
        )
        .limit(1)
    )
    return conn.execute(unplanned_event).first() is not None or conn.execute(due_delivery).first() is not None


# --- claiming -------------------------------------------------------------------------------------------------------
def due(conn: Connection, program_id: str, now: datetime, limit: int) -> list[Delivery]:
    """Pending deliveries whose time has come, and claims whose lease ran out (the claimer died), oldest first.

    A webhook delivery waits while an earlier one to the same endpoint for the same member is unfinished: a
    receiver that was down gets a member's events in their order.
    """
    earlier = t.notification_delivery.alias()  # Core's alias: the ORM's aliased() would load sqlalchemy.orm
    blocked = exists().where(
        earlier.c.target == d.target,
        earlier.c.member_id == d.member_id,
        earlier.c.id < d.id,
        earlier.c.state.in_((PENDING, SENDING)),
    )
    stmt = (
        select(t.notification_delivery)
        .where(
            d.program_id == program_id,
            (and_(d.state == PENDING, d.next_attempt_at <= now)) | (and_(d.state == SENDING, d.lease_until <= now)),
            (d.channel != "webhook") | ~blocked,
        )
        .order_by(d.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_delivery(r) for r in conn.execute(stmt)]


def events(conn: Connection, event_ids: Sequence[int]) -> dict[int, Event]:
    if not event_ids:
        return {}
    return {r.id: event_of(r) for r in conn.execute(select(t.domain_event).where(e.id.in_(set(event_ids))))}


def opted_out(conn: Connection, member_ids: Sequence[int]) -> set[tuple[int, str]]:
    if not member_ids:
        return set()
    o = t.notification_optout.c
    stmt = select(o.member_id, o.channel).where(o.member_id.in_(set(member_ids)))
    return {(m, c) for m, c in conn.execute(stmt)}


@dataclass(frozen=True)
class Contact:
    member_id: int
    email: str | None  # the address the shop vouches for (``member.email_key``), or None
    phone: str | None
    locale: str | None


def contacts(conn: Connection, member_ids: Sequence[int]) -> dict[int, Contact]:
    """How each member is reached. E-mail only to ``email_key`` (ADR 0007): the account's own address from the
    shop's customer resource, or a guest's order address; never a billing e-mail an account holder typed."""
    if not member_ids:
        return {}
    m, p = t.member.c, t.notification_preference.c
    stmt = (
        select(m.id, m.email_key, p.phone, p.locale)
        .select_from(t.member.outerjoin(t.notification_preference, p.member_id == m.id))
        .where(m.id.in_(set(member_ids)))
    )
    return {r.id: Contact(r.id, r.email_key or None, r.phone or None, r.locale) for r in conn.execute(stmt)}


def sent_since(conn: Connection, member_ids: Sequence[int], since: datetime) -> dict[int, int]:
    """Member-channel messages sent to each member since ``since`` (the daily cap)."""
    if not member_ids:
        return {}
    stmt = (
        select(d.member_id, func.count())
        .where(d.member_id.in_(set(member_ids)), d.sent_at >= since, d.channel.in_(("email", "sms")))
        .group_by(d.member_id)
    )
    return {member_id: int(count) for member_id, count in conn.execute(stmt)}


def states(conn: Connection, delivery_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    stmt = select(d.id, d.state, d.claim).where(d.id.in_(set(delivery_ids)))
    return {row.id: (row.state, row.claim) for row in conn.execute(stmt)}


def change(conn: Connection, delivery_id: int, **values: Any) -> None:
    conn.execute(update(t.notification_delivery).where(d.id == delivery_id).values(**values))


_CLAIM = (
    update(t.notification_delivery)
    .where(d.id == bindparam("b_id"))
    .values(
        state=SENDING,
        attempts=bindparam("b_attempts"),
        lease_until=bindparam("b_lease_until"),
        claim=bindparam("b_claim"),
        updated_at=bindparam("b_now"),
    )
)


def claim_many(conn: Connection, claims: Sequence[dict[str, Any]]) -> None:
    """Mark deliveries claimed in one executemany: ``{b_id, b_attempts, b_lease_until, b_claim, b_now}`` each."""
    if claims:
        conn.execute(_CLAIM, list(claims))


def record_many(conn: Connection, outcomes: Sequence[dict[str, Any]]) -> int:
    """Record outcomes (``b_id``, ``b_claim`` and the new values, all keyed ``b_<column>``) in one executemany per
    set of columns, each only where the claim still holds; returns how many were recorded."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in outcomes:
        groups.setdefault(tuple(sorted(k for k in row if k not in ("b_id", "b_claim"))), []).append(row)
    recorded = 0
    for columns, rows in groups.items():
        stmt = (
            update(t.notification_delivery)
            .where(d.id == bindparam("b_id"), d.claim == bindparam("b_claim"), d.state == SENDING)
            .values({column.removeprefix("b_"): bindparam(column) for column in columns})
        )
        result = conn.execute(stmt, rows)
        recorded += max(result.rowcount, 0)
    return recorded


# --- reading (admin API, CLI) ---------------------------------------------------------------------------------------
def get(conn: Connection, program_id: str, delivery_id: int) -> Delivery | None:
    row = conn.execute(select(t.notification_delivery).where(d.id == delivery_id, d.program_id == program_id)).first()
    return _delivery(row) if row else None


def page(
    conn: Connection, program_id: str, *, state: str | None, limit: int, before: int | None
) -> list[tuple[Delivery, Event]]:
    """Newest first, keyset-paged on the id (never OFFSET)."""
    stmt = (
        select(t.notification_delivery, t.domain_event.c.type, t.domain_event.c.key.label("event_key"))
        .join(t.domain_event, e.id == d.event_id)
        .where(d.program_id == program_id)
        .order_by(d.id.desc())
        .limit(limit)
    )
    if state:
        stmt = stmt.where(d.state == state)
    if before:
        stmt = stmt.where(d.id < before)
    rows = conn.execute(stmt).all()
    found = events(conn, [r.event_id for r in rows])
    return [(_delivery(r), found[r.event_id]) for r in rows]


def opt_out(conn: Connection, program_id: str, member_id: int, channel: str, source: str, now: datetime) -> bool:
    values = {"program_id": program_id, "member_id": member_id, "channel": channel, "source": source, "created_at": now}
    return db.insert_or_ignore(conn, t.notification_optout, values, ["member_id", "channel"])
