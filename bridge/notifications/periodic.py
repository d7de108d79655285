"""Events that no single change causes, found by a periodic job: coupons about to expire, win-back after
``win_back_days`` without an order, and occasions (Gregorian or Jalali dates: Nowruz is Jalali 1/1, Yalda 9/30).

Each event's key names its moment (the coupon, the member's last order, the occasion's year), so running the job
every hour, in two workers, writes each event once. Members are read in id order a batch at a time (keyset, never
OFFSET); each batch's events are written in one short transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime
from sqlalchemy import Connection, func, select

from bridge.notifications import outbox
from bridge.notifications.locale import jalali_today
from bridge.redemption.model import State
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import tables as t

INTERVAL_SECONDS = 3600.0
BATCH = 1000


def run(rt: Runtime, now: datetime) -> dict[str, int]:
    return {
        "coupon_expiring": coupons_expiring(rt, now),
        "win_back": win_back(rt, now),
        "occasion": occasions(rt, now),
    }


def _write(rt: Runtime, events: list[outbox.NewEvent]) -> int:
    written = 0
    for start in range(0, len(events), BATCH):
        with db.write(rt.engine) as conn:
            written += outbox.add_many(conn, events[start : start + BATCH])
    return written


def coupons_expiring(rt: Runtime, now: datetime) -> int:
    days = rt.settings.notifications.coupon_expiring_days
    if not days:
        return 0
    program_id, r = rt.settings.program.id, t.redemption.c
    stmt = select(r.id, r.shop_id, r.member_id, r.title, r.code, r.expires_at).where(
        r.program_id == program_id,
        r.state == State.ISSUED,
        r.expires_at > now,
        r.expires_at <= now + timedelta(days=days),
    )
    with db.read(rt.engine) as conn:
        rows = conn.execute(stmt).all()
    return _write(
        rt,
        [
            outbox.NewEvent(
                program_id,
                "coupon_expiring",
                f"{program_id}:redemption:{row.id}:coupon_expiring",
                row.member_id,
                {"redemption_id": row.id, "title": row.title, "code": row.code, "expires_at": row.expires_at},
                row.shop_id,
            )
            for row in rows
        ],
    )


def win_back(rt: Runtime, now: datetime) -> int:
    days = rt.settings.notifications.win_back_days
    if not days:
        return 0
    program_id, o = rt.settings.program.id, t.order_state.c
    last_paid = func.max(o.paid_at)
    stmt = (
        select(o.member_id, last_paid)
        .where(o.program_id == program_id, o.member_id.is_not(None), o.paid_at.is_not(None))
        .group_by(o.member_id)
        .having(last_paid <= now - timedelta(days=days))
    )
    with db.read(rt.engine) as conn:
        rows = conn.execute(stmt).all()
    events = []
    for member_id, paid_at in rows:
        since = paid_at if isinstance(paid_at, datetime) else datetime.fromisoformat(str(paid_at))
        events.append(
            outbox.NewEvent(
                program_id,
                "win_back",
                f"{program_id}:member:{member_id}:win_back:{since:%Y%m%d%H%M%S}",  # once per quiet spell
                member_id,
                {"last_order_at": since, "days": days},
            )
        )
    return _write(rt, events)


def occasions_on(rt: Runtime, now: datetime) -> list[tuple[str, int]]:
    """(occasion id, year in its calendar) of the occasions falling on today, in the program's zone."""
    today = now.astimezone(ZoneInfo(rt.settings.program.earning.timezone)).date()
    jalali = jalali_today(today)
    found = []
    for occasion in rt.settings.notifications.occasions:
        if occasion.calendar == "jalali" and (occasion.month, occasion.day) == jalali:
            found.append((occasion.id, jdatetime.date.fromgregorian(date=today).year))
        elif occasion.calendar == "gregorian" and (occasion.month, occasion.day) == (today.month, today.day):
            found.append((occasion.id, today.year))
    return found


def occasions(rt: Runtime, now: datetime) -> int:
    program_id = rt.settings.program.id
    written = 0
    for occasion_id, year in occasions_on(rt, now):
        for member_ids in _members(rt, program_id):
            written += _write(
                rt,
                [
                    outbox.NewEvent(
                        program_id,
                        "occasion",
                        f"{program_id}:occasion:{occasion_id}:{year}:{member_id}",
                        member_id,
                        {"occasion": occasion_id, "year": year},
                    )
                    for member_id in member_ids
                ],
            )
    return written


def _members(rt: Runtime, program_id: str) -> Iterator[list[int]]:
    after = 0
    while True:
        with db.read(rt.engine) as conn:
            ids = _member_ids(conn, program_id, after)
        if not ids:
            return
        yield ids
        after = ids[-1]


def _member_ids(conn: Connection, program_id: str, after: int) -> list[int]:
    m = t.member.c
    stmt = select(m.id).where(m.program_id == program_id, m.id > after).order_by(m.id).limit(BATCH)
    return [int(member_id) for member_id in conn.scalars(stmt)]
