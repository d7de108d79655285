"""What the shopper sees of tiers (the widget panel's ``tier`` section): the tier, its benefits, the way to the
next one ("earn 25 more points by 31 Dec for Gold") and a downgrade warning when one is due."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from bridge.config import ProgramSettings
from bridge.storage import tables as t
from bridge.storage import tiers as store
from bridge.tiers import perks, windows
from bridge.tiers.service import WARNING
from bridge.tiers.settings import TierLevel


def section(conn: Connection, program: ProgramSettings, member_id: int, now: datetime) -> dict[str, Any] | None:
    tiers = program.tiers
    if tiers is None:
        return None
    zone = program.earning.zone
    state = store.state(conn, member_id)
    current = tiers.index(state.tier_id if state else None)
    start, end = windows.current(tiers, now, zone)
    metric = store.metrics(conn, tiers.metric, [member_id], start, end).get(member_id, Decimal(0))
    level = tiers.levels[current] if current >= 0 else None
    following = tiers.levels[current + 1] if current + 1 < len(tiers.levels) else None
    by = _last_day(end, zone) if end is not None else None
    return {
        "metric": tiers.metric,
        "value": _number(metric),
        "tier": _level(level) if level is not None else None,
        "source": state.source if state and level else None,
        "next": (
            {**_level(following), "needed": _number(max(following.threshold - metric, Decimal(0))), "by": by}
            if following is not None
            else None
        ),
        "warning": _warning(conn, member_id, level, now, zone) if level is not None else None,
        # the perk coupons the member was given (a code once it works in the shop); kept after a downgrade
        "perk_coupons": [perks.view(red) for red in perks.coupons(conn, member_id) if red.state in _SHOWN],
    }


_SHOWN = ("reserved", "issued", "used")


def _level(level: TierLevel) -> dict[str, Any]:
    return {
        "id": level.id,
        "name": level.name,  # a LocalText: the panel answers in the shopper's locale
        "threshold": _number(level.threshold),
        "multiplier": _number(level.multiplier),
        "perks": [{"id": perk.id, "type": perk.type, "period": perk.period} for perk in level.perks],
    }


def _warning(conn: Connection, member_id: int, level: TierLevel, now: datetime, zone: tzinfo) -> dict[str, Any] | None:
    ev = t.point_event.c
    row = conn.execute(
        select(ev.details, ev.due_at)
        .where(ev.member_id == member_id, ev.kind == WARNING, ev.due_at > now)
        .order_by(ev.id.desc())
        .limit(1)
    ).first()
    if row is None or row.details.get("tier") != level.id:
        return None
    return {"needed": row.details.get("needed"), "by": _last_day(row.due_at, zone)}


def _last_day(end: datetime, zone: tzinfo) -> str:
    """The last day before ``end`` (exclusive) in the program's zone: "by 31 Dec" for a year ending 1 Jan."""
    return (end - timedelta(microseconds=1)).astimezone(zone).date().isoformat()


def _number(value: Decimal) -> str:
    """Money and points as text (exact): ``120``, ``42.9``."""
    text = format(value.normalize(), "f")
    return text
