"""What a ledger entry is. Pure: no database, no web."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    lifetime: int
