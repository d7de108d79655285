"""Rows for tiers (issue 16): each member's tier state, its history, and the metrics tiers are reached by.

The metrics read what the ledger and ``order_state`` already hold (nothing is counted twice):

* ``points``: points earned, not spent: order earns and their reversals, referral rewards, admin adjustments;
  never spends, expiries, releases (a pair summing to zero) or tier entry bonuses (a bonus must not lift itself);
* ``spend``: order totals net of refunds, of orders paid in the window and not cancelled;
* ``orders``: orders paid in the window and not cancelled or fully refunded.

Each has a form for a batch of members (one grouped query), which the nightly review uses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from bridge.ledger.model import EntryKind
from bridge.storage import tables as t
from bridge.storage.db import insert_or_ignore
from bridge.storage.orders import UNDONE_STATUSES

mt = t.member_tier.c
h = t.member_tier_history.c
e = t.ledger_entry.c
o = t.order_state.c

CAUSE_TIER = "tier"
METRIC_KINDS = tuple(str(k) for k in (EntryKind.EARN, EntryKind.REVERSE, EntryKind.REFERRAL, EntryKind.ADJUST))
NOT_SPENDING = UNDONE_STATUSES  # orders that count as no purchase: spend, orders, RFM


def tune_bulk(conn: Connection, work_mem: str | None = None) -> None:
    """PostgreSQL, for the calling transaction only (``SET LOCAL``), for the nightly jobs' set-based statements:

    - no JIT: their plans cost past ``jit_above_cost``, and compiling them took 140 ms of each review page's
      400 ms (measured with ``bench/tiers.py --profile``), a fixed cost that buys nothing on a few thousand rows;
    - ``work_mem`` when given (a grouping or sort of every buyer kept in memory, not on disk)."""
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql("SET LOCAL jit = off")
    if work_mem is not None:
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{work_mem}'")


@dataclass(frozen=True)
class TierState:
    member_id: int
    tier_id: str | None
    source: str  # earned | override
    since: datetime
    earned_tier_id: str | None
    override_until: datetime | None
    below_since: datetime | None
    reviewed_period: str | None


def lock_state(conn: Connection, program_id: str, member_id: int, now: datetime) -> TierState:
    """The member's tier state, created (no tier) when there is none, locked for this transaction."""
    insert_or_ignore(
        conn,
        t.member_tier,
        {"member_id": member_id, "program_id": program_id, "source": "earned", "since": now, "updated_at": now},
        ["member_id"],
    )
    row = conn.execute(select(t.member_tier).where(mt.member_id == member_id).with_for_update()).mappings().one()
    return _state(row)


def state(conn: Connection, member_id: int) -> TierState | None:
    row = conn.execute(select(t.member_tier).where(mt.member_id == member_id)).mappings().first()
    return _state(row) if row is not None else None


def save(conn: Connection, member_id: int, now: datetime, **values: Any) -> None:
    conn.execute(update(t.member_tier).where(mt.member_id == member_id).values(updated_at=now, **values))


def add_history(
    conn: Connection,
    *,
    program_id: str,
    member_id: int,
    from_tier: str | None,
    to_tier: str | None,
    reason: str,
    now: datetime,
    actor: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(t.member_tier_history).values(
            program_id=program_id,
            member_id=member_id,
            from_tier=from_tier,
            to_tier=to_tier,
            reason=reason,
            actor=actor,
            details=details or {},
            created_at=now,
        )
    )


def history(conn: Connection, member_id: int, limit: int, before_id: int | None) -> list[dict[str, Any]]:
    stmt = select(t.member_tier_history).where(h.member_id == member_id)
    if before_id is not None:
        stmt = stmt.where(h.id < before_id)
    return [dict(row) for row in conn.execute(stmt.order_by(h.id.desc()).limit(limit)).mappings()]


def tiers_of(conn: Connection, member_ids: Sequence[int]) -> dict[int, TierState]:
    rows = conn.execute(select(t.member_tier).where(mt.member_id.in_(list(member_ids)))).mappings()
    return {row["member_id"]: _state(row) for row in rows}


def counts(conn: Connection, program_id: str) -> dict[str, int]:
    stmt = (
        select(mt.tier_id, func.count())
        .where(mt.program_id == program_id, mt.tier_id.is_not(None))
        .group_by(mt.tier_id)
    )
    return {str(tier): int(n) for tier, n in conn.execute(stmt)}


# --- metrics --------------------------------------------------------------------------------------------------------
def metrics(
    conn: Connection, metric: str, member_ids: Sequence[int], start: datetime | None, end: datetime | None
) -> dict[int, Decimal]:
    """Each member's ``metric`` over [start, end) (``None``: unbounded); members with nothing are absent."""
    ids = list(member_ids)
    if not ids:
        return {}
    if metric == "points":
        stmt = select(e.member_id, func.sum(e.points)).where(
            e.member_id.in_(ids), e.kind.in_(METRIC_KINDS), e.cause_type != CAUSE_TIER
        )
        stmt = in_window(stmt, e.created_at, start, end).group_by(e.member_id)
        return {int(m): Decimal(int(v or 0)) for m, v in conn.execute(stmt)}
    if metric == "orders":
        stmt = select(o.member_id, func.count()).where(
            o.member_id.in_(ids), o.paid_at.is_not(None), o.status.not_in(NOT_SPENDING)
        )
        stmt = in_window(stmt, o.paid_at, start, end).group_by(o.member_id)
        return {int(m): Decimal(int(v)) for m, v in conn.execute(stmt)}
    # spend: totals are stored as decimal text; summed here exactly, never as floats
    stmt = select(o.member_id, o.total, o.refunded_total).where(
        o.member_id.in_(ids), o.paid_at.is_not(None), o.status.not_in(NOT_SPENDING)
    )
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for member_id, total, refunded in conn.execute(in_window(stmt, o.paid_at, start, end)):
        sums[int(member_id)] += max(Decimal(total or "0") - Decimal(refunded or "0"), Decimal(0))
    return dict(sums)


def in_window(stmt: Any, column: Any, start: datetime | None, end: datetime | None) -> Any:
    """``stmt`` limited to rows whose ``column`` is in [start, end) (an open side when None)."""
    if start is not None:
        stmt = stmt.where(column >= start)
    if end is not None:
        stmt = stmt.where(column < end)
    return stmt


def order_member(conn: Connection, shop_id: str, order_id: str) -> int | None:
    found = conn.scalar(select(o.member_id).where(o.shop_id == shop_id, o.order_id == order_id))
    return int(found) if found is not None else None


def _state(row: Any) -> TierState:
    return TierState(
        member_id=row["member_id"],
        tier_id=row["tier_id"],
        source=row["source"],
        since=row["since"],
        earned_tier_id=row["earned_tier_id"],
        override_until=row["override_until"],
        below_since=row["below_since"],
        reviewed_period=row["reviewed_period"],
    )
