"""Rows for the life of a point: order moments, member profiles, expiry aggregates and point events (issue 3).

The ledger itself stays append-only (bridge/storage/ledger.py); this module updates only ``order_state`` and
``member_profile``, which describe what we know, not what anybody owns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge.ledger.model import EntryKind, EntryState
from bridge.storage import tables as t
from bridge.storage.db import insert_or_ignore
from bridge.storage.orders import UNDONE_STATUSES

e = t.ledger_entry.c
o = t.order_state.c
p = t.member_profile.c


# --- orders -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderMoments:
    paid_at: datetime | None
    completed_at: datetime | None
    released_at: datetime | None
    evaluated_cycle: int | None = None  # the cycle whose rules were evaluated (once per cycle)


def order_moments(conn: Connection, state_id: int) -> OrderMoments:
    stmt = select(o.paid_at, o.completed_at, o.released_at, o.evaluated_cycle).where(o.id == state_id)
    return OrderMoments(*conn.execute(stmt).one())


UNPAID_AFTER_ALL = UNDONE_STATUSES
"""An order in one of these statuses does not count among a member's paid orders (first / n-th order bonuses)."""


def paid_orders_of(conn: Connection, member_ids: list[int], before: datetime) -> list[tuple[int, int, datetime]]:
    """(member id, state id, paid at) of the members' orders paid before ``before`` and not cancelled since."""
    stmt = select(o.member_id, o.id, o.paid_at).where(
        o.member_id.in_(member_ids),
        o.paid_at.is_not(None),
        o.paid_at < before,
        o.status.not_in(UNPAID_AFTER_ALL),
    )
    return [(member_id, state_id, paid_at) for member_id, state_id, paid_at in conn.execute(stmt)]


def due_for_release(conn: Connection, program_id: str, completed_before: datetime, limit: int) -> list[tuple[str, str]]:
    """(shop, order) pairs completed before the cutoff whose points were not released yet, oldest first."""
    stmt = (
        select(o.shop_id, o.order_id)
        .where(
            o.program_id == program_id,
            o.released_at.is_(None),
            o.completed_at.is_not(None),
            o.completed_at <= completed_before,
        )
        .order_by(o.completed_at, o.id)
        .limit(limit)
    )
    return [(r.shop_id, r.order_id) for r in conn.execute(stmt)]


@dataclass(frozen=True)
class LockedOrder:
    state_id: int
    order_id: str
    cycle: int
    completed_at: datetime | None
    released_at: datetime | None


def lock_orders(conn: Connection, shop_id: str, order_ids: list[str]) -> list[LockedOrder]:
    """Row locks on a batch of orders of one shop, in id order (the order every writer of a batch takes)."""
    stmt = (
        select(o.id, o.order_id, o.cycle, o.completed_at, o.released_at)
        .where(o.shop_id == shop_id, o.order_id.in_(order_ids))
        .order_by(o.id)
        .with_for_update()
    )
    return [LockedOrder(*row) for row in conn.execute(stmt)]


def mark_released(conn: Connection, state_ids: list[int], now: datetime) -> None:
    conn.execute(update(t.order_state).where(o.id.in_(state_ids)).values(released_at=now))


# --- earned totals for caps -----------------------------------------------------------------------------------------
def order_earns_of(conn: Connection, member_ids: list[int], since: datetime) -> list[tuple[int, int, str, datetime]]:
    """(member id, points, rule id, created at) of the earn entries the members' orders got since ``since``."""
    stmt = select(e.member_id, e.points, e.rule_id, e.created_at).where(
        e.member_id.in_(member_ids), e.kind == str(EntryKind.EARN), e.cause_type == "order", e.created_at >= since
    )
    return [(member_id, points, rule_id, created_at) for member_id, points, rule_id, created_at in conn.execute(stmt)]


# --- member profiles ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    joined_at: datetime | None = None
    birthday: date | None = None
    tier: str | None = None


def profile(conn: Connection, member_id: int) -> Profile:
    return profiles(conn, [member_id]).get(member_id, Profile())


def profiles(conn: Connection, member_ids: list[int]) -> dict[int, Profile]:
    """The profiles of those members that have one."""
    rows = conn.execute(select(p.member_id, p.joined_at, p.birthday, p.tier).where(p.member_id.in_(member_ids)))
    return {row.member_id: Profile(row.joined_at, row.birthday, row.tier) for row in rows}


def update_profile(conn: Connection, program_id: str, member_id: int, now: datetime, **values: Any) -> None:
    insert_or_ignore(
        conn, t.member_profile, {"member_id": member_id, "program_id": program_id, "updated_at": now}, ["member_id"]
    )
    conn.execute(update(t.member_profile).where(p.member_id == member_id).values(updated_at=now, **values))


def members_born_on(conn: Connection, program_id: str, days: list[tuple[int, int]]) -> list[tuple[int, date]]:
    """Members whose birthday falls on one of the (month, day) pairs."""
    rows = conn.execute(
        select(p.member_id, p.birthday).where(p.program_id == program_id, p.birthday.is_not(None))
    ).all()
    wanted = set(days)
    return [(r.member_id, r.birthday) for r in rows if (r.birthday.month, r.birthday.day) in wanted]


# --- expiry aggregates --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LotTotals:
    """One member's figures for first-in-first-out expiry (see bridge/ledger/expiry.py)."""

    member_id: int
    expired_lots: int  # available credits whose lot date has passed
    last_expired_lot_id: int
    soon_lots: int  # ... whose lot date passes within the warning window
    last_soon_lot_id: int
    debits: int  # available debits other than expiries (spends, reversals, deductions), as a positive number
    expired: int  # points already expired, positive


def lot_totals(
    conn: Connection,
    program_id: str,
    expired_cutoff: tuple[datetime, datetime],
    soon_cutoff: tuple[datetime, datetime],
    member_ids: list[int] | None = None,
) -> Iterator[LotTotals]:
    """Per member with an expired or soon-expiring lot. A lot's date is its ``expires_at`` or, when it has none,
    ``available_at`` + the program's months: each cutoff is (now for ``expires_at``, now - months for
    ``available_at``)."""
    avail = e.state == str(EntryState.AVAILABLE)
    credit = and_(avail, e.points > 0, e.kind != str(EntryKind.EXPIRE))

    def lot_before(cutoff: tuple[datetime, datetime]) -> Any:
        return and_(
            credit,
            or_(e.expires_at <= cutoff[0], and_(e.expires_at.is_(None), e.available_at <= cutoff[1])),
        )

    expired_lot, soon_lot = lot_before(expired_cutoff), lot_before(soon_cutoff)
    stmt = (
        select(
            e.member_id,
            func.sum(case((expired_lot, e.points), else_=0)),
            func.max(case((expired_lot, e.id), else_=0)),
            func.sum(case((soon_lot, e.points), else_=0)),
            func.max(case((soon_lot, e.id), else_=0)),
            func.sum(case((and_(avail, e.points < 0, e.kind != str(EntryKind.EXPIRE)), -e.points), else_=0)),
            func.sum(case((e.kind == str(EntryKind.EXPIRE), -e.points), else_=0)),
        )
        .where(e.program_id == program_id, e.state == str(EntryState.AVAILABLE))
        .group_by(e.member_id)
        .having(func.sum(case((soon_lot, e.points), else_=0)) > 0)
    )
    if member_ids is not None:
        stmt = stmt.where(e.member_id.in_(member_ids))
    for row in conn.execute(stmt):
        yield LotTotals(*(int(v or 0) for v in row))


@dataclass(frozen=True)
class Activity:
    member_id: int
    last_activity_id: int
    last_activity_at: datetime
    available: int


ACTIVITY_KINDS = (EntryKind.EARN, EntryKind.SPEND, EntryKind.REFERRAL, EntryKind.ADJUST)


def inactive_members(
    conn: Connection, program_id: str, inactive_since: datetime, member_ids: list[int] | None = None
) -> Iterator[Activity]:
    """Members with available points and no earn/spend/referral/adjustment since ``inactive_since``."""
    acts = e.kind.in_([str(k) for k in ACTIVITY_KINDS])
    last_at = func.max(case((acts, e.created_at), else_=None), type_=t.UtcDateTime())
    available = func.sum(case((e.state == str(EntryState.AVAILABLE), e.points), else_=0))
    stmt = (
        select(e.member_id, func.max(case((acts, e.id), else_=0)), last_at, available)
        .where(e.program_id == program_id)
        .group_by(e.member_id)
        .having(and_(last_at <= inactive_since, available > 0))
    )
    if member_ids is not None:
        stmt = stmt.where(e.member_id.in_(member_ids))
    for row in conn.execute(stmt):
        yield Activity(row[0], int(row[1]), row[2], int(row[3]))


def lock_members(conn: Connection, program_id: str, member_ids: list[int]) -> None:
    """Row locks on a batch of members, in id order (the order every batch job takes them in)."""
    m = t.member.c
    conn.execute(
        select(m.id).where(m.program_id == program_id, m.id.in_(member_ids)).order_by(m.id).with_for_update()
    ).all()


# --- point events ---------------------------------------------------------------------------------------------------
def record_event(
    conn: Connection,
    *,
    program_id: str,
    member_id: int,
    kind: str,
    key: str,
    points: int,
    due_at: datetime | None,
    details: dict[str, Any],
    now: datetime,
) -> bool:
    values = {
        "program_id": program_id,
        "member_id": member_id,
        "kind": kind,
        "event_key": key,
        "points": points,
        "due_at": due_at,
        "details": details,
        "created_at": now,
    }
    return insert_or_ignore(conn, t.point_event, values, ["event_key"])


def record_events(conn: Connection, events: list[dict[str, Any]]) -> int:
    """Many events at once (the expiry job's warnings); those whose key exists are skipped. Returns how many
    were recorded now. Each dict has the keyword arguments of ``record_event``."""
    if not events:
        return 0
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    stmt = insert_(t.point_event).on_conflict_do_nothing(index_elements=["event_key"])
    keys = [ev["key"] for ev in events]
    existing = set(conn.scalars(select(t.point_event.c.event_key).where(t.point_event.c.event_key.in_(keys))))
    events = [ev for ev in events if ev["key"] not in existing]
    if not events:
        return 0
    rows = [
        {
            "program_id": ev["program_id"],
            "member_id": ev["member_id"],
            "kind": ev["kind"],
            "event_key": ev["key"],
            "points": ev["points"],
            "due_at": ev["due_at"],
            "details": ev["details"],
            "created_at": ev["now"],
        }
        for ev in events
    ]
    conn.execute(stmt, rows)
    return len(rows)


def events(conn: Connection, member_id: int) -> list[dict[str, Any]]:
    stmt = select(t.point_event).where(t.point_event.c.member_id == member_id).order_by(t.point_event.c.id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


# --- what a member has pending, order by order (the widget says when each lot becomes available) ----------------
@dataclass(frozen=True)
class PendingLot:
    shop_id: str | None
    cause_type: str
    cause_id: str
    points: int
    completed_at: datetime | None  # the order's completion (orders only): the hold runs from there


def pending_lots(conn: Connection, member_id: int) -> list[PendingLot]:
    """The member's pending points per cause (earned minus reversed and released), with the order's completion."""
    points = func.sum(e.points).label("points")
    lots = (
        select(e.shop_id, e.cause_type, e.cause_id, points)
        .where(e.member_id == member_id, e.state == str(EntryState.PENDING))
        .group_by(e.shop_id, e.cause_type, e.cause_id)
        .having(func.sum(e.points) > 0)
        .subquery()
    )
    stmt = (
        select(lots.c.shop_id, lots.c.cause_type, lots.c.cause_id, lots.c.points, o.completed_at)
        .select_from(lots)
        .outerjoin(
            t.order_state,
            and_(lots.c.cause_type == "order", o.shop_id == lots.c.shop_id, o.order_id == lots.c.cause_id),
        )
        .order_by(o.completed_at.is_(None), o.completed_at, lots.c.cause_id)
    )
    return [PendingLot(s, ct, ci, int(pts), done) for s, ct, ci, pts, done in conn.execute(stmt)]
