"""Posting to the ledger. Every write goes through ``post``, which is idempotent on the entry's key."""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from bridge import limits
from bridge.errors import IdempotencyConflict, InsufficientPoints, UnknownMember
from bridge.ledger.model import Balance, Entry, EntryKind, NewEntry
from bridge.storage import audit
from bridge.storage import ledger as store
from bridge.storage import members as member_store
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)


def post(conn: Connection, entry: NewEntry) -> tuple[Entry, bool]:
    """Write ``entry`` unless its idempotency key is already in the ledger.

    Returns the stored entry and whether this call created it. A replay returns the original untouched.
    """
    if entry.points == 0:
        raise ValueError("a ledger entry must move points")
    inserted = store.insert_returning(conn, entry, utcnow())
    created = inserted is not None
    stored = inserted if inserted is not None else store.by_key(conn, entry.idempotency_key)
    assert stored is not None
    if not created and (stored.member_id != entry.member_id or stored.points != entry.points):
        log.warning(
            "ledger key %s replayed with different figures (stored %s pts for member %s, now %s for %s)",
            entry.idempotency_key,
            stored.points,
            stored.member_id,
            entry.points,
            entry.member_id,
        )
    return stored, created


def balance(conn: Connection, member_id: int) -> Balance:
    return store.balance(conn, member_id)


def history(conn: Connection, member_id: int, limit: int = 50, before_id: int | None = None) -> list[Entry]:
    return store.history(conn, member_id, limit, before_id)


def adjust(
    conn: Connection,
    *,
    program_id: str,
    member_id: int,
    points: int,
    reason: str,
    actor: str,
    request_key: str,
) -> tuple[Entry, bool]:
    """A manual correction by an admin: audited, idempotent on ``request_key``, never overdraws.

    Raises:
        UnknownMember: no such member in the program.
        InsufficientPoints: a deduction larger than the available balance.
        IdempotencyConflict: ``request_key`` was used before for a different adjustment.
    """
    if not member_store.lock(conn, program_id, member_id):
        raise UnknownMember(f"no member {member_id} in this program")
    key = f"{program_id}:adjust:{request_key}"
    existing = store.by_key(conn, key)
    if existing is not None:
        return _same_adjustment(existing, member_id, points, reason), False
    if points < 0 and store.balance(conn, member_id).available + points < 0:
        raise InsufficientPoints("the deduction is larger than the member's available points")
    entry, created = post(
        conn,
        NewEntry(
            program_id=program_id,
            member_id=member_id,
            points=points,
            kind=EntryKind.ADJUST,
            idempotency_key=key,
            cause_type="admin",
            cause_id=request_key[: limits.MAX_ID_LENGTH],  # the column; the whole key: idempotency_key, meta
            note=reason,
            meta={"actor": actor, "request_key": request_key},
        ),
    )
    if not created:  # a concurrent twin won the insert: same rule as a replay
        return _same_adjustment(entry, member_id, points, reason), False
    audit.record(
        conn,
        program_id=program_id,
        actor=actor,
        action="ledger.adjust",
        target_type="member",
        target_id=str(member_id),
        details={"points": points, "reason": reason, "entry_id": entry.id},
    )
    return entry, created


def _same_adjustment(existing: Entry, member_id: int, points: int, reason: str) -> Entry:
    """A replay must repeat the adjustment exactly: the same key with other figures or another reason is a
    different request, refused (409), never answered with the first one's entry as if it were this one."""
    if existing.member_id != member_id or existing.points != points or existing.note != reason:
        raise IdempotencyConflict("this Idempotency-Key was already used for another adjustment")
    return existing


def spend(
    conn: Connection,
    *,
    program_id: str,
    member_id: int,
    points: int,
    idempotency_key: str,
    cause_type: str,
    cause_id: str,
    shop_id: str | None = None,
    note: str = "",
    meta: dict[str, object] | None = None,
    member_locked: bool = False,
) -> tuple[Entry, bool]:
    """Debit ``points`` (> 0) from the member's available balance: the only way points leave for a reward.

    The member row is locked first, then the balance read and the debit written in the same transaction, so
    two concurrent spends can never both pass the check (no check-then-act across transactions). Idempotent
    on ``idempotency_key``: a replay returns the original entry. ``member_locked``: the caller already holds
    the member row's lock in this transaction (saves locking it twice).

    Raises:
        UnknownMember: no such member in the program.
        InsufficientPoints: the available balance is smaller than ``points``.
        IdempotencyConflict: the key was used before for a different member or amount.
    """
    if points <= 0:
        raise ValueError("spend a positive number of points")
    if not member_locked and not member_store.lock(conn, program_id, member_id):
        raise UnknownMember(f"no member {member_id} in this program")
    if store.balance(conn, member_id).available < points:
        replayed = store.by_key(conn, idempotency_key)  # a replay of a spend that already happened is fine
        if replayed is None:
            raise InsufficientPoints("not enough available points")
        return _same_spend(replayed, member_id, points), False
    entry, created = post(
        conn,
        NewEntry(
            program_id=program_id,
            shop_id=shop_id,
            member_id=member_id,
            points=-points,
            kind=EntryKind.SPEND,
            idempotency_key=idempotency_key,
            cause_type=cause_type,
            cause_id=cause_id,
            note=note,
            meta=dict(meta or {}),
        ),
    )
    return (entry, True) if created else (_same_spend(entry, member_id, points), False)


def _same_spend(existing: Entry, member_id: int, points: int) -> Entry:
    if existing.member_id != member_id or existing.points != -points:
        raise IdempotencyConflict("this key was already used for another spend")
    return existing


# --- issue 4: points returned from a redemption ------------------------------------------------------------------
def return_spent(
    conn: Connection,
    *,
    spend: Entry,
    points: int,
    idempotency_key: str,
    cause_type: str,
    cause_id: str,
    note: str = "",
    meta: dict[str, object] | None = None,
) -> tuple[Entry, bool]:
    """Give back ``points`` (> 0, at most what ``spend`` took) of a spend: a positive entry pointing at it.

    Its kind stays ``spend`` (a negative spend), so the lifetime total (what was ever earned) does not grow
    when a coupon fails, expires or is cancelled. Idempotent on ``idempotency_key``.
    """
    if points <= 0 or points > -spend.points:
        raise ValueError("return between 1 point and what the spend took")
    return post(
        conn,
        NewEntry(
            program_id=spend.program_id,
            shop_id=spend.shop_id,
            member_id=spend.member_id,
            points=points,
            kind=EntryKind.SPEND,
            idempotency_key=idempotency_key,
            cause_type=cause_type,
            cause_id=cause_id,
            reverses_entry_id=spend.id,
            note=note,
            meta=dict(meta or {}),
        ),
    )


def returned_points(conn: Connection, spend_entry_id: int) -> int:
    """How many points of a spend have been given back so far."""
    return store.returned_to(conn, spend_entry_id)


def entry(conn: Connection, entry_id: int) -> Entry | None:
    return store.by_id(conn, entry_id)


def entry_by_key(conn: Connection, idempotency_key: str) -> Entry | None:
    return store.by_key(conn, idempotency_key)


# --- issue 3: many entries at once (expiry runs) --------------------------------------------------------------------
def post_many(conn: Connection, entries: list[NewEntry]) -> int:
    """Post entries that are new or replays, in one round trip; returns how many were written now.

    Same rules as ``post`` (idempotent on each key), for batch jobs where one INSERT per entry would dominate.
    """
    if any(entry.points == 0 for entry in entries):
        raise ValueError("a ledger entry must move points")
    return store.insert_many(conn, entries, utcnow()) if entries else 0
