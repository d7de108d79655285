"""Expiry of available points: per earned lot (first in, first out) or the whole balance after inactivity.

Per lot: every available credit is a lot dated ``expires_at`` (set when it became available) or, for credits
without one (adjustments, returned points), ``available_at`` + the program's months. Every debit — spends,
reversals, deductions — consumes the oldest lots first, and so does expiry. Because lots expire in the order
they became available, the points still in the lots dated up to now are

    due = max(0, credits in those lots - all debits - everything already expired)

which needs no per-lot bookkeeping on the spend side and is one aggregate per member. (Running the job late is
in the shopper's favour: a spend before the run still rescues points whose date has just passed.)

Whole balance: a member with no earn, spend, referral or adjustment for ``months`` loses the available balance.

Both record an ``expiring_soon`` point event ``warn_days`` before. Keys derive from the cause (the newest lot in
the expired set, or the member's last activity), so a rerun or a second worker writes nothing twice; members are
locked in batches and their figures re-read under the lock, so a concurrent spend cannot be expired twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bridge.ledger import service as ledger
from bridge.ledger.model import EntryKind, EntryState, NewEntry
from bridge.notifications import outbox
from bridge.rules.config import EarningSettings
from bridge.storage import db, life
from bridge.storage.clock import add_months, utcnow

BATCH = 1000
CAUSE_EXPIRY = "expiry"
EXPIRING_SOON = "expiring_soon"


def run_all(engine: Engine, program_id: str, earning: EarningSettings, now: datetime) -> dict[str, int]:
    if earning.expiry.mode == "lot":
        return _run_lots(engine, program_id, earning, now)
    if earning.expiry.mode == "inactivity":
        return _run_inactive(engine, program_id, earning, now)
    return {}


def _run_lots(engine: Engine, program_id: str, earning: EarningSettings, now: datetime) -> dict[str, int]:
    months, soon_at = earning.expiry.months, now + timedelta(days=earning.expiry.warn_days)
    expired_cut, soon_cut = (now, add_months(now, -months)), (soon_at, add_months(soon_at, -months))
    with db.read(engine) as conn:
        candidates = [
            t.member_id
            for t in life.lot_totals(conn, program_id, expired_cut, soon_cut)
            if t.soon_lots - t.debits - t.expired > 0
        ]
    outcome = {"members": 0, "expired": 0, "warned": 0}
    for batch in _chunks(candidates):
        with db.write(engine) as conn:
            life.lock_members(conn, program_id, batch)
            entries, written = [], utcnow()
            warnings: list[dict[str, Any]] = []
            for t in life.lot_totals(conn, program_id, expired_cut, soon_cut, member_ids=batch):
                due = max(0, t.expired_lots - t.debits - t.expired)
                soon = max(0, t.soon_lots - t.debits - t.expired) - due
                if due > 0:
                    entries.append(_expire(program_id, t.member_id, due, f"lots-to:{t.last_expired_lot_id}", now))
                    outcome["expired"] += due
                if soon > 0:
                    warnings.append(
                        dict(
                            program_id=program_id,
                            member_id=t.member_id,
                            kind=EXPIRING_SOON,
                            key=f"{program_id}:{EXPIRING_SOON}:{t.member_id}:lots-to:{t.last_soon_lot_id}",
                            points=soon,
                            due_at=soon_at,
                            details={"mode": "lot", "within_days": earning.expiry.warn_days},
                            now=written,
                        )
                    )
            outcome["warned"] += life.record_events(conn, warnings)
            ledger.post_many(conn, entries)
            outbox.add_many(conn, _events(program_id, warnings, entries))  # issue 17: same transaction
            outcome["members"] += len(entries)
    return outcome


def _run_inactive(engine: Engine, program_id: str, earning: EarningSettings, now: datetime) -> dict[str, int]:
    months, warn = earning.expiry.months, timedelta(days=earning.expiry.warn_days)
    inactive_since, warn_since = add_months(now, -months), add_months(now + warn, -months)
    with db.read(engine) as conn:
        candidates = [a.member_id for a in life.inactive_members(conn, program_id, warn_since)]
    outcome = {"members": 0, "expired": 0, "warned": 0}
    for batch in _chunks(candidates):
        with db.write(engine) as conn:
            life.lock_members(conn, program_id, batch)
            entries, written = [], utcnow()
            warnings: list[dict[str, Any]] = []
            for a in life.inactive_members(conn, program_id, warn_since, member_ids=batch):
                if a.last_activity_at <= inactive_since:
                    entries.append(_expire(program_id, a.member_id, a.available, f"inactive:{a.last_activity_id}", now))
                    outcome["expired"] += a.available
                    continue
                warning: dict[str, Any] = dict(
                    program_id=program_id,
                    member_id=a.member_id,
                    kind=EXPIRING_SOON,
                    key=f"{program_id}:{EXPIRING_SOON}:{a.member_id}:inactive:{a.last_activity_id}",
                    points=a.available,
                    due_at=add_months(a.last_activity_at, months),
                    details={"mode": "inactivity", "months": months},
                    now=written,
                )
                outcome["warned"] += life.record_event(conn, **warning)
                warnings.append(warning)
            ledger.post_many(conn, entries)
            outbox.add_many(conn, _events(program_id, warnings, entries))  # issue 17: same transaction
            outcome["members"] += len(entries)
    return outcome


def _expire(program_id: str, member_id: int, points: int, cause: str, now: datetime) -> NewEntry:
    return NewEntry(
        program_id=program_id,
        member_id=member_id,
        points=-points,
        kind=EntryKind.EXPIRE,
        state=EntryState.AVAILABLE,
        available_at=now,
        idempotency_key=f"{program_id}:expire:{member_id}:{cause}",
        cause_type=CAUSE_EXPIRY,
        cause_id=cause,
        note="points expired" if cause.startswith("lots") else "points expired after inactivity",
    )


def _events(program_id: str, warnings: list[dict[str, Any]], entries: list[NewEntry]) -> list[outbox.NewEvent]:
    """``points_expiring_soon`` under the warning's key, ``points_expired`` under the expiry entry's."""
    events = [
        outbox.NewEvent(
            program_id,
            "points_expiring_soon",
            w["key"],
            w["member_id"],
            {"points": w["points"], "expires_at": w["due_at"]},
        )
        for w in warnings
    ]
    events += [
        outbox.NewEvent(program_id, "points_expired", f"{e.idempotency_key}:event", e.member_id, {"points": -e.points})
        for e in entries
    ]
    return events


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    ids = sorted(ids)
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]
