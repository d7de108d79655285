"""The monthly history of RFM segments that the ``rfm`` report shows (issue 18).

The nightly scoring (``bridge.segments.jobs``) refills ``member_segment`` with each buyer's RFM segment *now* and
keeps no past. So at the first scoring of each local month of the program, ``snapshot`` (called at the end of the
scoring job, in its transaction) records how many members went from which segment at the previous snapshot to
which segment now (``report_segment_snapshot``: one row per (month, from, to)), and keeps each member's segment
(``report_segment_member``) to count the next month's movement from. ``""`` stands for "not scored": a new buyer
comes from ``""``; a member whose every order was refunded since goes to ``""``.

Set-based (three statements whatever the number of members); later runs in the same month do nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Date, String, delete, exists, func, insert, literal, select

from bridge.reports.days import local_day
from bridge.storage import tables as t

ms = t.member_segment.c
sm = t.report_segment_member.c
ss = t.report_segment_snapshot.c
NOT_SCORED = ""


def snapshot(conn: Connection, program_id: str, timezone: str, now: datetime) -> date | None:
    """Record this month's movement unless done already; returns the month recorded (None: nothing to do)."""
    month = local_day(now, ZoneInfo(timezone)).replace(day=1)
    done = select(ss.month).where(ss.program_id == program_id, ss.month >= month).limit(1)
    if conn.execute(done).first() is not None:
        return None
    program, this_month = literal(program_id, String(64)), literal(month, Date())
    columns = ["program_id", "month", "from_segment", "to_segment", "members"]
    came_from = func.coalesce(sm.segment, NOT_SCORED)
    moved = (
        select(program, this_month, came_from, ms.segment, func.count())
        .select_from(t.member_segment.outerjoin(t.report_segment_member, sm.member_id == ms.member_id))
        .where(ms.program_id == program_id)
        .group_by(came_from, ms.segment)
    )
    conn.execute(insert(t.report_segment_snapshot).from_select(columns, moved))
    still_scored = exists().where(ms.member_id == sm.member_id)
    left = (
        select(program, this_month, sm.segment, literal(NOT_SCORED, String(64)), func.count())
        .where(sm.program_id == program_id, ~still_scored)
        .group_by(sm.segment)
    )
    conn.execute(insert(t.report_segment_snapshot).from_select(columns, left))
    conn.execute(delete(t.report_segment_member).where(sm.program_id == program_id))
    current = select(ms.member_id, program, ms.segment, this_month).where(ms.program_id == program_id)
    conn.execute(insert(t.report_segment_member).from_select(["member_id", "program_id", "segment", "month"], current))
    return month
