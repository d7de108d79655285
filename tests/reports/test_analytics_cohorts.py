"""``cohorts`` on the hand-checked club of ``tests/reports/analytics_data.py`` (SQLite and PostgreSQL).

Every expected figure below is worked out by hand from the table in that module's docstring."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from bridge.reports import cohorts
from bridge.storage import db
from tests.integration.conftest import BOTH_BACKENDS
from tests.reports.analytics_data import club, query
from tests.support.client import Bridge


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def grid(bridge: Bridge) -> list[tuple[Any, ...]]:
    """(cohort, members, k, ordering, share, orders, revenue, revenue per member) for every cell."""
    with db.read(bridge.rt.engine) as conn:
        report = cohorts.build(conn, query(bridge))
    (table,) = report.tables
    assert table.columns == cohorts.COLUMNS
    assert {row[-1] for row in table.rows} == {"USD"}
    return [(row[0], row[1], row[2], *row[4:9]) for row in table.rows]


D = Decimal


def test_an_open_club_s_cohorts_are_the_months_members_were_created(make_bridge: Callable[..., Bridge]) -> None:
    # August: B, C; September: D, E; October: F, G. A joined in July and H in November: in no cohort.
    assert grid(club(make_bridge, policy="open")) == [
        ("2026-08", 2, 0, 2, D("1.0000"), 2, D("50.00"), D("25.00")),  # B 30, C 20
        ("2026-08", 2, 1, 2, D("1.0000"), 2, D("95.00"), D("47.50")),  # B 70, C 25 (C's refunded order: none)
        ("2026-08", 2, 2, 0, D("0.0000"), 0, D("0.00"), D("0.00")),
        ("2026-09", 2, 0, 2, D("1.0000"), 2, D("125.50"), D("62.75")),  # D 80, E 45.50
        ("2026-09", 2, 1, 1, D("0.5000"), 1, D("25.00"), D("12.50")),  # D 40 - 15 refunded
        ("2026-10", 2, 0, 1, D("0.5000"), 3, D("30.00"), D("15.00")),  # F 3 x 10; G never ordered
    ]


def test_a_closed_club_s_cohorts_are_the_months_members_got_in(make_bridge: Callable[..., Bridge]) -> None:
    # C and E never got in: in no cohort. D's first order (09-05) came a day before he got in: the same month.
    assert grid(club(make_bridge, policy="closed")) == [
        ("2026-08", 1, 0, 1, D("1.0000"), 1, D("30.00"), D("30.00")),
        ("2026-08", 1, 1, 1, D("1.0000"), 1, D("70.00"), D("70.00")),
        ("2026-08", 1, 2, 0, D("0.0000"), 0, D("0.00"), D("0.00")),
        ("2026-09", 1, 0, 1, D("1.0000"), 1, D("80.00"), D("80.00")),
        ("2026-09", 1, 1, 1, D("1.0000"), 1, D("25.00"), D("25.00")),
        ("2026-10", 2, 0, 1, D("0.5000"), 3, D("30.00"), D("15.00")),
    ]


def test_the_json_nests_each_cohort_s_months(make_bridge: Callable[..., Bridge]) -> None:
    bridge = club(make_bridge, policy="open")
    with db.read(bridge.rt.engine) as conn:
        data = cohorts.build(conn, query(bridge)).data
    assert [(c["cohort"], c["members"], len(c["months"])) for c in data["cohorts"]] == [
        ("2026-08", 2, 3),
        ("2026-09", 2, 2),
        ("2026-10", 2, 1),
    ]
    assert data["cohorts"][0]["months"][1]["month"] == "2026-09"
