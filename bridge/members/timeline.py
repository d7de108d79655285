"""A member's timeline (the console's Member page): orders with their status, every ledger entry with its cause
(and the stored explanation of an award), redemptions with their coupon state, referrals (made and received) and
profile changes, newest first, in keyset pages.

Each source is read by an index on its member column, at most one page of it; the pages are merged on
``(at, kind, id)``, which is also the cursor (``Cursor``): an item is on exactly one page, however many sources
share one timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, type_coerce

from bridge.storage import tables as t

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MAX_PAGE = 100
# The order of kinds among items of one timestamp (and the cursor's second part).
KINDS = ("ledger", "order", "redemption", "referral", "profile")
PROFILE_ACTIONS = ("member.profile", "member.invite", "member.guest_attached", "member.guest_attach_skipped")


@dataclass(frozen=True)
class Cursor:
    at: datetime
    kind: str
    id: int

    def encode(self) -> str:
        return f"{(self.at - _EPOCH) // timedelta(microseconds=1)}.{self.kind}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """None for no or a malformed cursor (the first page), never an error deeper down."""
        if not text or len(text) > 64:
            return None
        parts = text.split(".")
        if len(parts) != 3 or parts[1] not in KINDS or not parts[0].isdigit() or not parts[2].isdigit():
            return None
        micros, item_id = int(parts[0]), int(parts[2])
        if micros >= 2**62 or item_id >= 2**63:
            return None
        try:
            at = _EPOCH + timedelta(microseconds=micros)
        except OverflowError:
            return None
        return cls(at, parts[1], item_id)


@dataclass(frozen=True)
class TimelinePage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def timeline(
    conn: Connection, program_id: str, member_id: int, *, limit: int = 50, before: str | None = None
) -> TimelinePage:
    limit = max(1, min(limit, MAX_PAGE))
    cursor = Cursor.decode(before)
    items: list[dict[str, Any]] = []
    items += _ledger(conn, member_id, cursor, limit + 1)
    items += _orders(conn, member_id, cursor, limit + 1)
    items += _redemptions(conn, member_id, cursor, limit + 1)
    items += _referrals(conn, member_id, cursor, limit + 1)
    items += _profile(conn, program_id, member_id, cursor, limit + 1)
    items.sort(key=_sort_key, reverse=True)
    page = items[:limit]
    more = len(items) > limit
    next_cursor = Cursor(page[-1]["at"], page[-1]["kind"], page[-1]["id"]).encode() if more else None
    return TimelinePage(page, next_cursor)


def _sort_key(item: dict[str, Any]) -> tuple[datetime, int, int]:
    return (item["at"], -KINDS.index(item["kind"]), item["id"])


def _before(at: Any, ident: Any, kind: str, cursor: Cursor | None) -> Any:
    """SQL for "sorts before the cursor" of one source's rows, in the order ``_sort_key`` gives."""
    if cursor is None:
        return True
    mine, theirs = KINDS.index(kind), KINDS.index(cursor.kind)
    if mine > theirs:  # a later kind sorts lower at the same time: all of that time comes after the cursor
        return at <= cursor.at
    if mine < theirs:
        return at < cursor.at
    return or_(at < cursor.at, and_(at == cursor.at, ident < cursor.id))


def _ledger(conn: Connection, member_id: int, cursor: Cursor | None, limit: int) -> list[dict[str, Any]]:
    e = t.ledger_entry.c
    stmt = (
        select(t.ledger_entry)
        .where(e.member_id == member_id, _before(e.created_at, e.id, "ledger", cursor))
        .order_by(e.created_at.desc(), e.id.desc())
        .limit(limit)
    )
    out = []
    for row in conn.execute(stmt).mappings():
        out.append(
            {
                "kind": "ledger",
                "id": row["id"],
                "at": row["created_at"],
                "entry_kind": row["kind"],
                "points": row["points"],
                "state": row["state"],
                "shop_id": row["shop_id"],
                "cause_type": row["cause_type"],
                "cause_id": row["cause_id"],
                "rule_id": row["rule_id"],
                "refund_id": row["refund_id"],
                "note": row["note"],
                "program_version": row["program_version"],
                "reverses_entry_id": row["reverses_entry_id"],
                # an award's explanation as computed when it was posted (the rule's detail), plus the actor of
                # an adjustment; never recomputed here (that would ask the shop for the order)
                "meta": dict(row["meta"] or {}),
            }
        )
    return out


def _orders(conn: Connection, member_id: int, cursor: Cursor | None, limit: int) -> list[dict[str, Any]]:
    o = t.order_state.c
    at = type_coerce(func.coalesce(o.paid_at, o.updated_at), t.UtcDateTime())
    stmt = (
        select(t.order_state, at.label("at"))
        .where(o.member_id == member_id, _before(at, o.id, "order", cursor))
        .order_by(at.desc(), o.id.desc())
        .limit(limit)
    )
    return [
        {
            "kind": "order",
            "id": row["id"],
            "at": _aware(row["at"]),
            "shop_id": row["shop_id"],
            "order_id": row["order_id"],
            "status": row["status"],
            "total": row["total"],
            "refunded_total": row["refunded_total"],
            "history_only": row["history_only"],
            "paid_at": row["paid_at"],
            "released_at": row["released_at"],
        }
        for row in conn.execute(stmt).mappings()
    ]


def _redemptions(conn: Connection, member_id: int, cursor: Cursor | None, limit: int) -> list[dict[str, Any]]:
    r = t.redemption.c
    stmt = (
        select(t.redemption)
        .where(r.member_id == member_id, _before(r.created_at, r.id, "redemption", cursor))
        .order_by(r.created_at.desc(), r.id.desc())
        .limit(limit)
    )
    return [
        {
            "kind": "redemption",
            "id": row["id"],
            "at": row["created_at"],
            "shop_id": row["shop_id"],
            "title": row["title"],
            "points": row["points"],
            "code": row["code"],
            "state": row["state"],
            "order_id": row["order_id"],
            "last_error": row["last_error"],
            "expires_at": row["expires_at"],
        }
        for row in conn.execute(stmt).mappings()
    ]


def _referrals(conn: Connection, member_id: int, cursor: Cursor | None, limit: int) -> list[dict[str, Any]]:
    r = t.referral.c
    stmt = (
        select(t.referral)
        .where(
            or_(r.referrer_member_id == member_id, r.friend_member_id == member_id),
            _before(r.created_at, r.id, "referral", cursor),
        )
        .order_by(r.created_at.desc(), r.id.desc())
        .limit(limit)
    )
    return [
        {
            "kind": "referral",
            "id": row["id"],
            "at": row["created_at"],
            "role": "referrer" if row["referrer_member_id"] == member_id else "friend",
            "friend_email": row["friend_email"],
            "referrer_member_id": row["referrer_member_id"],
            "state": row["state"],
            "reason": row["reason"],
            "order_id": row["order_id"],
        }
        for row in conn.execute(stmt).mappings()
    ]


def _profile(
    conn: Connection, program_id: str, member_id: int, cursor: Cursor | None, limit: int
) -> list[dict[str, Any]]:
    a = t.audit_log.c
    stmt = (
        select(t.audit_log)
        .where(
            a.program_id == program_id,
            a.target_type == "member",
            a.target_id == str(member_id),
            a.action.in_(PROFILE_ACTIONS),
            _before(a.created_at, a.id, "profile", cursor),
        )
        .order_by(a.created_at.desc(), a.id.desc())
        .limit(limit)
    )
    return [
        {
            "kind": "profile",
            "id": row["id"],
            "at": row["created_at"],
            "action": row["action"],
            "actor": row["actor"],
            "details": dict(row["details"] or {}),
        }
        for row in conn.execute(stmt).mappings()
    ]


def _aware(value: Any) -> datetime:
    """``coalesce`` loses the column's type decorator on SQLite: naive there, UTC by construction."""
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
