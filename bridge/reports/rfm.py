"""``rfm``: how many members are in each segment now, and how they moved between RFM segments month by month.

- ``segments`` (now, whatever the range): the members of each segment as the last nightly scoring left them
  (``member_in_segment``: the eight RFM segments of ``bridge.segments.settings`` and the owner's own segments),
  ``share`` = members / members scored (``member_segment``: the program's buyers; 4 decimals), and when they
  were scored (``scored_at``). An RFM segment's members are buyers; an owner's segment may hold members who never
  bought, so its share can pass 1.
- ``history`` and ``movement``: from the monthly snapshots (``bridge.reports.segment_history``: taken at the first
  scoring of each local month), for the snapshot months from the range's first month to its last: the RFM
  segments' sizes at each snapshot, and how many members went from which segment at the previous snapshot to
  which at this one (``""``: not scored then / any more). A month before the first snapshot has no row: the
  history starts when the bridge started keeping it.

Segments are the program's, not a shop's: ``shop=`` changes nothing here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from bridge.reports import analytics as a
from bridge.reports.base import Report, ReportQuery, Table
from bridge.segments.settings import RFM_SEGMENTS
from bridge.storage import tables as t

ms = t.member_segment.c
mis = t.member_in_segment.c
ss = t.report_segment_snapshot.c


def build(conn: Connection, query: ReportQuery) -> Report:
    program_id = query.program.id
    settings = query.program.segments
    scored, scored_at = conn.execute(
        select(func.count(), func.max(ms.scored_at)).where(ms.program_id == program_id)
    ).one()
    scored = int(scored or 0)
    stmt = select(mis.segment_id, func.count()).where(mis.program_id == program_id).group_by(mis.segment_id)
    counts: dict[str, int] = {str(segment): int(n) for segment, n in conn.execute(stmt)}
    segments = [
        {
            "segment": segment_id,
            "name": settings.name(segment_id),
            "kind": "rfm" if segment_id in RFM_SEGMENTS else "custom",
            "members": int(counts.get(segment_id, 0)),
            "share": a.ratio(int(counts.get(segment_id, 0)), scored),
        }
        for segment_id in settings.ids()
    ]

    first_month = query.first.replace(day=1)
    moves = conn.execute(
        select(ss.month, ss.from_segment, ss.to_segment, ss.members)
        .where(ss.program_id == program_id, ss.month >= first_month, ss.month <= query.last)
        .order_by(ss.month, ss.from_segment, ss.to_segment)
    ).all()
    months = sorted({row[0] for row in moves})
    sizes: dict[Any, dict[str, int]] = {month: dict.fromkeys(RFM_SEGMENTS, 0) for month in months}
    for month, _source, target, members in moves:
        if target:
            sizes[month][target] = sizes[month].get(target, 0) + int(members)
    history = [{"month": month.isoformat()[:7], "segments": sizes[month]} for month in months]
    movement = [
        {"month": month.isoformat()[:7], "from": source, "to": target, "members": int(members)}
        for month, source, target, members in moves
    ]
    data = {
        "scored": scored,
        "scored_at": scored_at.isoformat() if scored_at else None,
        "segments": segments,
        "history": history,
        "movement": movement,
    }
    tables = (
        Table(
            "segments",
            ("segment", "name", "kind", "members", "share"),
            [(s["segment"], s["name"], s["kind"], s["members"], s["share"]) for s in segments],
        ),
        Table(
            "history",
            ("month", "segment", "members"),
            [(h["month"], segment, n) for h in history for segment, n in h["segments"].items()],
        ),
        Table(
            "movement",
            ("month", "from_segment", "to_segment", "members"),
            [(mv["month"], mv["from"], mv["to"], mv["members"]) for mv in movement],
        ),
    )
    method = (
        "Segment sizes from the last nightly scoring; movement from the monthly snapshots taken at the first "
        "scoring of each month (from the previous snapshot's segment to this one's)."
    )
    return Report("rfm", data, tables, method)
