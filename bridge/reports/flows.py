"""Ledger movements and balances over a report's periods, read the way the Overview reads them (exact): the day
rollups (``bridge.reports.rollup``) for the days before ``rolled_until``, the raw entries from then on.

``shop_id`` narrows to the entries written for that shop (entries of no shop, such as manual adjustments, are then
left out); the rollups keep the shop, so the rule holds on both sides.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from bridge.reports import overview, rollup
from bridge.reports.base import Period, ReportQuery
from bridge.reports.days import local_day
from bridge.reports.overview import Flow, Movements
from bridge.storage import tables as t

e = t.ledger_entry.c
p = t.report_daily_points.c


def rolled_until(conn: Connection, query: ReportQuery) -> datetime | None:
    """Where the rollups end (a local midnight), or None: raw rows only."""
    return overview._rolled_until(conn, query.program.id, query.program.earning.timezone)


def movements(conn: Connection, query: ReportQuery, periods: list[Period], rolled: datetime | None) -> list[Movements]:
    """Each period's movements, ``(kind, state, direction) -> points``, in the order of ``periods``."""
    out: list[Movements] = [defaultdict(int) for _ in periods]
    if not periods:
        return out
    firsts = [period.first for period in periods]
    if rolled is not None:
        rolled_day = local_day(rolled, query.zone)
        stmt = (
            select(p.day, p.kind, p.state, p.direction, func.sum(p.points))
            .where(p.program_id == query.program.id, p.day >= periods[0].first, p.day <= periods[-1].last)
            .where(p.day < rolled_day)
            .group_by(p.day, p.kind, p.state, p.direction)
        )
        if query.shop_id is not None:
            stmt = stmt.where(p.shop_id == query.shop_id)
        for day, kind, state, sign, points in conn.execute(stmt):
            out[_index(firsts, day)][(kind, state, sign)] += int(points)
    raw_from = periods[0].start if rolled is None else max(periods[0].start, rolled)
    if raw_from < periods[-1].end:  # the days past the rollups: one statement, each entry named by its period
        bucket = _bucket(e.created_at, periods)
        sign = rollup.direction()
        raw = (
            select(bucket, e.kind, e.state, sign, func.sum(e.points))
            .where(e.program_id == query.program.id, e.created_at >= raw_from, e.created_at < periods[-1].end)
            .group_by(bucket, e.kind, e.state, sign)
        )
        if query.shop_id is not None:
            raw = raw.where(e.shop_id == query.shop_id)
        for index, kind, state, direction, points in conn.execute(raw):
            if 0 <= int(index) < len(periods):
                out[int(index)][(kind, state, direction)] += int(points or 0)
    return out


def balance_before(conn: Connection, query: ReportQuery, moment: datetime, rolled: datetime | None) -> dict[str, int]:
    """The sum of the ledger's entries created before ``moment`` (a local midnight), by state."""
    sums: dict[str, int] = defaultdict(int)
    raw_from: datetime | None = None
    if rolled is not None:
        upto = min(local_day(moment, query.zone), local_day(rolled, query.zone))
        stmt = (
            select(p.state, func.sum(p.points)).where(p.program_id == query.program.id, p.day < upto).group_by(p.state)
        )
        if query.shop_id is not None:
            stmt = stmt.where(p.shop_id == query.shop_id)
        for state, points in conn.execute(stmt):
            sums[str(state)] += int(points)
        raw_from = rolled
    if raw_from is None or raw_from < moment:
        raw = select(e.state, func.sum(e.points)).where(e.program_id == query.program.id, e.created_at < moment)
        if raw_from is not None:
            raw = raw.where(e.created_at >= raw_from)
        if query.shop_id is not None:
            raw = raw.where(e.shop_id == query.shop_id)
        for state, points in conn.execute(raw.group_by(e.state)):
            sums[str(state)] += int(points or 0)
    return sums


def net(movement: Movements) -> int:
    """What the period changed in the ledger's total (a release moves points between states: it nets to 0)."""
    return sum(movement.values())


def flow_dict(flow: Flow) -> dict[str, int]:
    return {
        "issued": flow.issued,
        "released": flow.released,
        "redeemed": flow.redeemed,
        "expired": flow.expired,
        "reversed": flow.reversed,
        "adjusted": flow.adjusted,
    }


def counts_by_period(conn: Connection, column: Any, where: list[Any], periods: list[Period]) -> list[int]:
    """How many rows (``where``) have ``column`` in each period: one statement, a CASE naming each row's period
    (not one count per period: a three-year range by day would be a thousand statements)."""
    if not periods:
        return []
    bucket = _bucket(column, periods)
    stmt = (
        select(bucket, func.count())
        .where(*where, column >= periods[0].start, column < periods[-1].end)
        .group_by(bucket)
    )
    out = [0] * len(periods)
    for index, n in conn.execute(stmt):
        if 0 <= int(index) < len(periods):
            out[int(index)] = int(n)
    return out


def _bucket(column: Any, periods: list[Period]) -> Any:
    """The index of the period ``column`` falls in (the periods follow each other), -1 past the last."""
    return case(*((column < period.end, i) for i, period in enumerate(periods)), else_=-1)


def _index(firsts: list[date], day: Any) -> int:
    return bisect_right(firsts, day) - 1
