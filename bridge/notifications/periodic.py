"""Events that no single change causes, found by a periodic job: coupons about to expire, win-back after
``win_back_days`` without an order, occasions (Gregorian or Jalali dates: Nowruz is Jalali 1/1, Yalda 9/30; with an
optional gift of points, for some segments) and campaigns to segments at a scheduled time.

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

from bridge.ledger import service as ledger
from bridge.ledger.model import EntryKind, NewEntry
from bridge.notifications import outbox
from bridge.notifications.locale import jalali_today
from bridge.redemption.model import State
from bridge.runtime import Runtime
from bridge.storage import db, life
from bridge.storage import tables as t
from bridge.storage.clock import add_months
from bridge.texts import LocalText

INTERVAL_SECONDS = 3600.0
CAUSE_OCCASION = "occasion"
CAUSE_CAMPAIGN = "campaign"
BATCH = 1000


SEND_WINDOW = timedelta(days=1)
"""A campaign goes out during the day after its time, to whoever is in its segments then; never later (a campaign
configured long ago does not reach every member who joins afterwards)."""


def run(rt: Runtime, now: datetime) -> dict[str, int]:
    return {
        "coupon_expiring": coupons_expiring(rt, now),
        "win_back": win_back(rt, now),
        "occasion": occasions(rt, now),
        "campaign": campaigns(rt, now),
        "points_expiring_soon": expiry_reminders(rt, now),
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
    by_id = {o.id: o for o in rt.settings.notifications.occasions}
    written = 0
    for occasion_id, year in occasions_on(rt, now):
        occasion = by_id[occasion_id]
        key = f"{program_id}:occasion:{occasion_id}:{year}"
        payload = {"occasion": occasion_id, "year": year, "points": occasion.points}
        gift = (occasion.points, CAUSE_OCCASION, f"{occasion_id}:{year}")
        written += _reach(rt, occasion.segments, "occasion", key, payload, gift)
    return written


def campaigns(rt: Runtime, now: datetime) -> int:
    """Each campaign whose time has come (within ``SEND_WINDOW``): a ``campaign`` event (and its gift) once per
    member of its segments."""
    program_id = rt.settings.program.id
    zone = ZoneInfo(rt.settings.program.earning.timezone)
    written = 0
    for campaign in rt.settings.notifications.campaigns:
        at = campaign.at if campaign.at.tzinfo else campaign.at.replace(tzinfo=zone)
        if not at <= now < at + SEND_WINDOW:
            continue
        payload = {
            "campaign": campaign.id,
            "subject": _document(campaign.subject),
            "text": _document(campaign.text),
            "points": campaign.points,
        }
        key = f"{program_id}:campaign:{campaign.id}"
        written += _reach(
            rt, campaign.segments, "campaign", key, payload, (campaign.points, CAUSE_CAMPAIGN, campaign.id)
        )
    return written


def expiry_reminders(rt: Runtime, now: datetime) -> int:
    """More ``points_expiring_soon`` messages ("in 30 days", then "in 7 days"): for each of
    ``expiry_reminder_days``, the points that expire within that many days, by the expiry job's own arithmetic
    (``bridge.ledger.expiry``: spends consume the oldest lots first), keyed on the newest lot concerned and the
    horizon, so each reminder is written once and a member who spent the points is not reminded."""
    earning = rt.settings.program.earning
    horizons = sorted(set(rt.settings.notifications.expiry_reminder_days))
    if earning.expiry.mode != "lot" or not horizons:
        return 0  # (inactivity: the balance goes at once after months of silence; its warning says when)
    program_id, months = rt.settings.program.id, earning.expiry.months
    expired_cut = (now, add_months(now, -months))
    written = 0
    for days in horizons:
        soon_at = now + timedelta(days=days)
        with db.read(rt.engine) as conn:
            totals = list(life.lot_totals(conn, program_id, expired_cut, (soon_at, add_months(soon_at, -months))))
        events = []
        for lots in totals:
            due = max(0, lots.expired_lots - lots.debits - lots.expired)
            soon = max(0, lots.soon_lots - lots.debits - lots.expired) - due
            if soon <= 0:
                continue
            key = f"{program_id}:expiring_soon:{lots.member_id}:lots-to:{lots.last_soon_lot_id}:within:{days}"
            payload = {"points": soon, "expires_at": soon_at, "within_days": days, "reminder": True}
            events.append(outbox.NewEvent(program_id, "points_expiring_soon", key, lots.member_id, payload))
        written += _write(rt, events)
    return written


def _document(text: str) -> object:
    return text.document() if isinstance(text, LocalText) else text


def _reach(
    rt: Runtime,
    segments: tuple[str, ...],
    event_type: str,
    key: str,
    payload: dict[str, object],
    gift: tuple[int, str, str],  # (points, cause type, cause id); 0 points: a message only
) -> int:
    """The event for every member (of ``segments``, when given), and the gift, each once per member: the event's
    key and the ledger's idempotency key are the moment's key plus the member."""
    points, cause_type, cause_id = gift
    program_id = rt.settings.program.id
    written = 0
    for member_ids in _members(rt, program_id, segments):
        with db.write(rt.engine) as conn:
            events = [
                outbox.NewEvent(program_id, event_type, f"{key}:{member_id}", member_id, payload)
                for member_id in member_ids
            ]
            written += outbox.add_many(conn, events)
            if points:
                ledger.post_many(
                    conn,
                    [
                        NewEntry(
                            program_id=program_id,
                            member_id=member_id,
                            points=points,
                            kind=EntryKind.EARN,
                            idempotency_key=f"{key}:{member_id}:gift",
                            cause_type=cause_type,
                            cause_id=cause_id,
                            note=f"{event_type} {cause_id}",
                        )
                        for member_id in member_ids
                    ],
                )
    return written


def _members(rt: Runtime, program_id: str, segments: tuple[str, ...] = ()) -> Iterator[list[int]]:
    after = 0
    while True:
        with db.read(rt.engine) as conn:
            ids = _member_ids(conn, program_id, after, segments)
        if not ids:
            return
        yield ids
        after = ids[-1]


def _member_ids(conn: Connection, program_id: str, after: int, segments: tuple[str, ...] = ()) -> list[int]:
    """The next batch of members by id (keyset), optionally only those in one of ``segments``."""
    m = t.member.c
    stmt = select(m.id).where(m.program_id == program_id, m.id > after)
    if segments:
        s = t.member_in_segment.c
        inside = select(s.member_id).where(s.program_id == program_id, s.segment_id.in_(segments))
        stmt = stmt.where(m.id.in_(inside))
    return [int(member_id) for member_id in conn.scalars(stmt.order_by(m.id).limit(BATCH))]
