"""``rfm``: segment sizes now, and the monthly movement between RFM segments that the scoring job records.

The movement test writes each month's segments by hand (as the scoring would leave them) and states by hand who
moved where; the scoring test runs the real nightly job on the club of ``tests/reports/analytics_data.py``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, insert, select

from bridge.reports import rfm, segment_history
from bridge.segments.jobs import run_scoring
from bridge.storage import db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.reports.analytics_data import club, query
from tests.support.client import Bridge
from tests.support.clock import TEST_NOW


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def scored_as(bridge: Bridge, moment: datetime, segments: dict[int, str]) -> object:
    """``member_segment`` as a scoring at ``moment`` would leave it, then the snapshot the job takes."""
    program_id = bridge.rt.settings.program.id
    with db.write(bridge.rt.engine) as conn:
        conn.execute(delete(t.member_segment))
        rows = [
            {"member_id": member, "program_id": program_id, "recency": 1, "frequency": 1, "monetary": 1,
             "segment": segment, "order_count": 1, "spent_hundredths": 100, "scored_at": moment}
            for member, segment in segments.items()
        ]  # fmt: skip
        conn.execute(insert(t.member_segment), rows)
        return segment_history.snapshot(conn, program_id, "UTC", moment)


def test_movement_between_segments_is_counted_month_by_month(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge)
    assert scored_as(bridge, datetime(2026, 8, 15, tzinfo=UTC), {1: "champions", 2: "new", 3: "new"}) == date(
        2026, 8, 1
    )
    sep = {1: "champions", 2: "loyal", 3: "at_risk", 4: "new"}
    assert scored_as(bridge, datetime(2026, 9, 10, tzinfo=UTC), sep) == date(2026, 9, 1)
    # a second scoring in September changes nothing recorded: September's snapshot is its first scoring's
    assert scored_as(bridge, datetime(2026, 9, 20, tzinfo=UTC), {1: "lost"}) is None
    oct_ = {1: "loyal", 2: "loyal", 4: "potential_loyalist"}  # 3's orders were all refunded: no longer scored
    assert scored_as(bridge, datetime(2026, 10, 3, tzinfo=UTC), oct_) == date(2026, 10, 1)

    with db.read(bridge.rt.engine) as conn:
        report = rfm.build(conn, query(bridge, first=date(2026, 9, 1), last=date(2026, 10, 31)))
    assert report.data["movement"] == [  # August is before the range
        {"month": "2026-09", "from": "", "to": "new", "members": 1},
        {"month": "2026-09", "from": "champions", "to": "champions", "members": 1},
        {"month": "2026-09", "from": "new", "to": "at_risk", "members": 1},
        {"month": "2026-09", "from": "new", "to": "loyal", "members": 1},
        {"month": "2026-10", "from": "at_risk", "to": "", "members": 1},
        {"month": "2026-10", "from": "champions", "to": "loyal", "members": 1},
        {"month": "2026-10", "from": "loyal", "to": "loyal", "members": 1},
        {"month": "2026-10", "from": "new", "to": "potential_loyalist", "members": 1},
    ]
    sizes = {h["month"]: {s: n for s, n in h["segments"].items() if n} for h in report.data["history"]}
    assert sizes == {
        "2026-09": {"champions": 1, "loyal": 1, "at_risk": 1, "new": 1},
        "2026-10": {"loyal": 2, "potential_loyalist": 1},
    }
    movement = next(table for table in report.tables if table.name == "movement")
    assert movement.rows[0] == ("2026-09", "", "new", 1)


def test_the_nightly_scoring_takes_the_month_s_snapshot(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, segments={"custom": [{"id": "repeat", "name": "Repeat buyers", "min_orders": 2}]})
    counts = run_scoring(bridge.rt, TEST_NOW)
    run_scoring(bridge.rt, TEST_NOW)  # the next night: the same month, no second snapshot
    with db.read(bridge.rt.engine) as conn:
        report = rfm.build(conn, query(bridge, first=date(2026, 11, 1), last=date(2026, 11, 30)))
        snapshot_rows = conn.scalar(select(func.sum(t.report_segment_snapshot.c.members)))
    # the buyers: A, B, C (one order refunded, two left), D, E, F and H; G never ordered
    assert report.data["scored"] == 7
    assert snapshot_rows == 7  # every buyer came from "not scored": the first snapshot
    assert {m["from"] for m in report.data["movement"]} == {""}
    segments = {s["segment"]: s for s in report.data["segments"]}
    assert sum(s["members"] for s in segments.values() if s["kind"] == "rfm") == 7
    assert segments["repeat"] == {
        "segment": "repeat",
        "name": "Repeat buyers",
        "kind": "custom",
        "members": 5,  # A (5 paid orders over both shops), B, C, D, F (3)
        "share": Decimal("0.7143"),
    }
    assert {s: n for s, n in counts.items()} == {s["segment"]: s["members"] for s in segments.values() if s["members"]}
