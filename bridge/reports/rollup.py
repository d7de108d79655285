"""Daily rollups of the ledger and of new members, re-derived from the raw rows so that they stay exact.

Why a periodic job and not a counter updated with every ledger write: one rollup row per (program, day, kind)
would be updated by every posting of the program, so concurrent drainers and redemptions would queue on that
row's lock until commit, on the hottest path of the bridge. Instead the ledger stays untouched and this job
recomputes *closed* days (``GROUP BY`` over one day of ``ledger_entry`` by ``created_at``, an indexed range) and
replaces their rollup rows. The reports read the rollups for the days before ``rolled_until`` and the raw rows
from then on (at most a day or two, by the same index), so a figure is exact whether or not the job has run.

Exactness against late commits: ``created_at`` is taken inside the writing transaction, so a row may become
visible a little after its timestamp. A day is rolled up only ``GRACE`` after it ends, and every run derives
the last ``REDO_DAYS`` rolled days again; only a transaction open for longer than that could be missed.

The days are the program's time zone's (``program.earn.timezone``); when it changes, the day rollups are thrown
away and derived again in the new zone (the reports read raw rows meanwhile). ``report_member_activity`` (last
earn or spend per member) does not depend on the zone and is kept.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement

from bridge.ledger.model import EntryKind
from bridge.reports.days import day_start, each_day, local_day
from bridge.storage import db
from bridge.storage import tables as t

GRACE = timedelta(hours=1)
REDO_DAYS = 2
CHUNK_DAYS = 31  # days per transaction (SQLite holds its one write lock for the whole transaction)

e = t.ledger_entry.c


def activity(entry: Any = e) -> ColumnElement[bool]:
    """An entry by which a member *earned or spent*: an earn or referral award, or a spend (not its return)."""
    earned = and_(entry.kind.in_((str(EntryKind.EARN), str(EntryKind.REFERRAL))), entry.points > 0)
    spent = and_(entry.kind == str(EntryKind.SPEND), entry.points < 0)
    return or_(earned, spent)


def direction(entry: Any = e) -> ColumnElement[str]:
    return case((entry.points > 0, literal("+")), else_=literal("-"))


def points_by_kind(program_id: str, lo: datetime, hi: datetime, *, day: date | None = None) -> Any:
    """Entries created in [lo, hi) summed by (shop, kind, state, direction): what one rollup day holds."""
    shop = func.coalesce(e.shop_id, "")
    sign = direction()
    columns: list[Any] = [shop, e.kind, e.state, sign, func.sum(e.points), func.count()]
    if day is not None:
        columns = [literal(program_id), literal(day, t.report_daily_points.c.day.type), *columns]
    return (
        select(*columns)
        .where(e.program_id == program_id, e.created_at >= lo, e.created_at < hi)
        .group_by(shop, e.kind, e.state, sign)
    )


@dataclass(frozen=True)
class RollupState:
    timezone: str
    rolled_until: datetime | None


def state(conn: Connection, program_id: str) -> RollupState | None:
    s = t.report_rollup_state.c
    row = conn.execute(select(s.timezone, s.rolled_until).where(s.program_id == program_id)).first()
    return RollupState(row[0], row[1]) if row else None


def roll_up(
    engine: Engine, program_id: str, timezone: str, now: datetime, *, budget_seconds: float | None = None
) -> int:
    """Derive every closed day not yet rolled up, and the last ``REDO_DAYS`` again; returns the days derived.

    ``budget_seconds``: stop after the chunk (``CHUNK_DAYS`` days, one transaction) that passes it; the next run
    goes on from there. The first run over a big ledger (two years of 10M entries: minutes) then never holds up
    the worker's other periodic jobs, and the reports stay exact meanwhile (they read raw rows past the rollups).
    Safe to run in two workers at once: the state row is locked first (PostgreSQL), or the database is
    (SQLite), so the second run waits and then finds little to do.
    """
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    zone = ZoneInfo(timezone)
    target = local_day(now - GRACE, zone)  # days before it are closed
    derived = 0
    while True:
        with db.write(engine) as conn:
            current = _lock_state(conn, program_id, timezone, now)
            first = _first_day(conn, program_id, current, zone, target)
            end = min(first + timedelta(days=CHUNK_DAYS), target) if first < target else target
            for day in each_day(first, end):
                _derive_day(conn, program_id, day, zone)
                derived += 1
            s = t.report_rollup_state.c
            conn.execute(
                update(t.report_rollup_state)
                .where(s.program_id == program_id)
                .values(rolled_until=day_start(end, zone), updated_at=now)
            )
        if end >= target or (deadline is not None and time.monotonic() >= deadline):
            return derived


def _lock_state(conn: Connection, program_id: str, timezone: str, now: datetime) -> RollupState:
    s = t.report_rollup_state.c
    values = {"program_id": program_id, "timezone": timezone, "rolled_until": None, "updated_at": now}
    db.insert_or_ignore(conn, t.report_rollup_state, values, ["program_id"])
    row = conn.execute(select(s.timezone, s.rolled_until).where(s.program_id == program_id).with_for_update()).one()
    if row[0] != timezone:  # days of another zone: start again
        conn.execute(delete(t.report_daily_points).where(t.report_daily_points.c.program_id == program_id))
        conn.execute(delete(t.report_daily_members).where(t.report_daily_members.c.program_id == program_id))
        conn.execute(
            update(t.report_rollup_state)
            .where(s.program_id == program_id)
            .values(timezone=timezone, rolled_until=None, updated_at=now)
        )
        return RollupState(timezone, None)
    return RollupState(row[0], row[1])


def _first_day(conn: Connection, program_id: str, current: RollupState, zone: ZoneInfo, target: date) -> date:
    if current.rolled_until is not None:
        return local_day(current.rolled_until, zone) - timedelta(days=REDO_DAYS)
    m = t.member.c
    oldest = [
        conn.scalar(select(func.min(e.created_at)).where(e.program_id == program_id)),
        conn.scalar(select(func.min(m.created_at)).where(m.program_id == program_id)),
    ]
    known = [local_day(moment, zone) for moment in oldest if moment is not None]
    return min(known) if known else target


def _derive_day(conn: Connection, program_id: str, day: date, zone: ZoneInfo) -> None:
    lo, hi = day_start(day, zone), day_start(day + timedelta(days=1), zone)
    p, dm = t.report_daily_points.c, t.report_daily_members.c
    conn.execute(delete(t.report_daily_points).where(p.program_id == program_id, p.day == day))
    columns = [p.program_id, p.day, p.shop_id, p.kind, p.state, p.direction, p.points, p.entries]
    conn.execute(t.report_daily_points.insert().from_select(columns, points_by_kind(program_id, lo, hi, day=day)))

    m = t.member.c
    joined = conn.scalar(select(func.count()).where(m.program_id == program_id, m.created_at >= lo, m.created_at < hi))
    conn.execute(delete(t.report_daily_members).where(dm.program_id == program_id, dm.day == day))
    if joined:
        conn.execute(t.report_daily_members.insert().values(program_id=program_id, day=day, joined=joined))

    latest = (
        select(e.member_id, literal(program_id), func.max(e.created_at))
        .where(e.program_id == program_id, e.created_at >= lo, e.created_at < hi, activity())
        .group_by(e.member_id)
    )
    conn.execute(_upsert_activity(conn.dialect.name).from_select(["member_id", "program_id", "last_active_at"], latest))


@functools.lru_cache(maxsize=4)
def _upsert_activity(dialect: str) -> Any:
    insert_ = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = insert_(t.report_member_activity)
    a = t.report_member_activity.c
    later = case(
        (stmt.excluded.last_active_at > a.last_active_at, stmt.excluded.last_active_at), else_=a.last_active_at
    )
    return stmt.on_conflict_do_update(index_elements=["member_id"], set_={"last_active_at": later})
