"""What a ledger entry is. Pure: no database, no web."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge import limits


class EntryKind(enum.StrEnum):
    EARN = "earn"
    SPEND = "spend"
    REVERSE = "reverse"
    EXPIRE = "expire"
    ADJUST = "adjust"
    REFERRAL = "referral"
    RELEASE = "release"  # issue 3: a pair (-pending, +available) moving an earn's points out of the hold


class EntryState(enum.StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"


@dataclass(frozen=True)
class NewEntry:
    """An entry to post. ``idempotency_key`` is derived from the cause: posting it twice is a no-op."""

    program_id: str
    member_id: int
    points: int
    kind: EntryKind
    idempotency_key: str
    shop_id: str | None = None
    state: EntryState = EntryState.AVAILABLE
    available_at: datetime | None = None
    expires_at: datetime | None = None
    cause_type: str = ""
    cause_id: str = ""
    rule_id: str = ""
    refund_id: str = ""
    reverses_entry_id: int | None = None
    note: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    program_version: int | None = None  # issue 14: the published program version an order award was computed with

    def __post_init__(self) -> None:
        # Every path to the ledger builds one of these: an award computed from garbage stops here, as a permanent
        # error (the delivery is parked, not retried), before any balance can pass 64 bits.
        limits.points(self.points, f"ledger entry {self.idempotency_key}")


@dataclass(frozen=True)
class Entry:
    id: int
    program_id: str
    shop_id: str | None
    member_id: int
    points: int
    kind: str
    state: str
    cause_type: str
    cause_id: str
    rule_id: str
    refund_id: str
    idempotency_key: str
    reverses_entry_id: int | None
    note: str
    meta: dict[str, Any]
    created_at: datetime
    program_version: int | None = None


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    lifetime: int


def release_pair(
    earn: Entry,
    points: int,
    *,
    now: datetime,
    expires_at: datetime | None,
    note: str,
    meta: dict[str, Any] | None = None,
) -> tuple[NewEntry, NewEntry]:
    """Pending -> available for ``points`` of ``earn``: one entry off pending, one onto available.

    The ledger stays append-only; the keys derive from the earn entry's, so a release is posted once.
    """
    common: dict[str, Any] = {
        "program_id": earn.program_id,
        "shop_id": earn.shop_id,
        "member_id": earn.member_id,
        "kind": EntryKind.RELEASE,
        "cause_type": earn.cause_type,
        "cause_id": earn.cause_id,
        "rule_id": earn.rule_id,
        "reverses_entry_id": earn.id,
        "meta": dict(meta or {}),
    }
    out = NewEntry(
        points=-points,
        state=EntryState.PENDING,
        idempotency_key=f"{earn.idempotency_key}:release:out",
        note="hold over: no longer pending",
        **common,
    )
    back = NewEntry(
        points=points,
        state=EntryState.AVAILABLE,
        available_at=now,
        expires_at=expires_at,
        idempotency_key=f"{earn.idempotency_key}:release",
        note=note,
        **common,
    )
    return out, back
