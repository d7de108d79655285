"""Down fairly: reviewed at the period's end (nightly for rolling windows), after the grace, one level per review,
warned before; a refund never downgrades mid-period. Every date comes from the test clock (TEST_NOW, 26 Nov 2026),
handed to the review as its ``now``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bridge.storage import db
from bridge.storage import tables as t
from bridge.tiers.jobs import run_review
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import Bridge
from tests.tiers.conftest import carol, clock_at, order, tier_row


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The review is SQL: each case on SQLite and PostgreSQL."""
    return str(request.param)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def tier_of(bridge: Bridge) -> str | None:
    member = bridge.member(woo.CAROL)
    assert member is not None
    return member["tier"]["id"] if member["tier"] else None


def warnings(bridge: Bridge) -> list[dict[str, Any]]:
    response = bridge.admin("GET", f"/admin/v1/members/{carol(bridge)}/point-events")
    assert response.status_code == 200
    return [ev for ev in response.get_json()["events"] if ev["kind"] == "tier_downgrade_warning"]


def history(bridge: Bridge) -> list[tuple[str | None, str | None, str]]:
    response = bridge.admin("GET", f"/admin/v1/members/{carol(bridge)}/tiers")
    assert response.status_code == 200
    return [(c["from"], c["to"], c["reason"]) for c in reversed(response.get_json()["history"])]


def test_calendar_year_keeps_the_tier_through_the_next_year_then_one_level_per_review_after_grace(
    tiered: Callable[..., Bridge],
) -> None:
    bridge = tiered(window="calendar_year", grace_days=30, warn_days=14)
    order(bridge, 501)
    order(bridge, 502)  # 70 points in 2026: gold
    assert tier_of(bridge) == "gold"

    assert run_review(bridge.rt, at(2026, 12, 20))["warned"] == 0  # 2026 reaches gold: nothing to warn about
    assert run_review(bridge.rt, at(2027, 2, 1))["down"] == 0  # 2026 (the ended year) kept gold
    assert tier_of(bridge) == "gold"

    # 2027: nothing earned. 14 days before its end, a warning says what to earn by when
    assert run_review(bridge.rt, at(2027, 12, 16))["warned"] == 0
    assert run_review(bridge.rt, at(2027, 12, 18))["warned"] == 1
    assert run_review(bridge.rt, at(2027, 12, 19))["warned"] == 0  # once
    [warning] = warnings(bridge)
    assert warning["details"] == {"tier": "gold", "metric": "points", "needed": "60", "by": "2028-01-01T00:00:00+00:00"}
    assert warning["points"] == 60

    assert run_review(bridge.rt, at(2028, 1, 30))["down"] == 0  # still in the grace
    assert tier_of(bridge) == "gold"
    assert run_review(bridge.rt, at(2028, 1, 31))["down"] == 1
    assert tier_of(bridge) == "silver"  # one level, though 2027 reached none
    assert run_review(bridge.rt, at(2028, 2, 1))["down"] == 0  # one review per year end
    assert run_review(bridge.rt, at(2029, 2, 1))["down"] == 1
    assert tier_of(bridge) is None
    assert history(bridge) == [
        (None, "silver", "qualified"),
        ("silver", "gold", "qualified"),
        ("gold", "silver", "review"),
        ("silver", None, "review"),
    ]


def test_to_qualified_goes_down_to_the_level_reached_at_once(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered(window="calendar_year", downgrade="to_qualified")
    order(bridge, 501)
    order(bridge, 502)
    assert run_review(bridge.rt, at(2028, 1, 1))["down"] == 1
    assert tier_of(bridge) is None


def test_a_refund_never_downgrades_mid_period(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered(window="calendar_year", grace_days=0)
    order(bridge, 501)
    order(bridge, 502)
    assert tier_of(bridge) == "gold"
    order(bridge, 502, "order.updated.fully-refunded")  # back to 35 points in 2026: silver's worth
    assert bridge.available() == 35 + 10 + 100  # the refund took its order's points, not the bonuses

    assert run_review(bridge.rt, at(2026, 12, 31))["down"] == 0
    assert tier_of(bridge) == "gold"  # not before the year ends
    assert run_review(bridge.rt, at(2027, 1, 1))["down"] == 1
    assert tier_of(bridge) == "silver"


def test_rolling_window_goes_down_after_grace_since_falling_below_with_a_warning_before(
    tiered: Callable[..., Bridge],
) -> None:
    bridge = tiered(window={"rolling_months": 1}, grace_days=10, warn_days=5)
    order(bridge, 501)
    order(bridge, 502)  # earned on 26 Nov 2026
    assert run_review(bridge.rt, at(2026, 12, 20)) == {
        "reviewed": 1,
        "up": 0,
        "down": 0,
        "warned": 0,
        "overrides_ended": 0,
    }
    assert run_review(bridge.rt, at(2026, 12, 27))["down"] == 0  # the points left the window: below from today
    assert run_review(bridge.rt, at(2026, 12, 31))["warned"] == 0
    assert run_review(bridge.rt, at(2027, 1, 1))["warned"] == 1  # 5 days before 6 Jan
    assert run_review(bridge.rt, at(2027, 1, 2))["warned"] == 0  # once
    [warning] = warnings(bridge)
    assert warning["details"]["by"] == "2027-01-06T12:00:00+00:00" and warning["details"]["needed"] == "60"
    assert run_review(bridge.rt, at(2027, 1, 6))["down"] == 1
    assert tier_of(bridge) == "silver"
    assert run_review(bridge.rt, at(2027, 1, 7))["down"] == 0  # a new grace for the next level
    assert run_review(bridge.rt, at(2027, 1, 16))["down"] == 1
    assert tier_of(bridge) is None


def test_a_member_back_above_the_level_within_the_grace_keeps_it(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered(window={"rolling_months": 1}, grace_days=10)
    order(bridge, 501)
    order(bridge, 502)
    run_review(bridge.rt, at(2026, 12, 27))  # the November points left the window: below from here
    with clock_at(at(2026, 12, 30)):
        response = bridge.admin(
            "POST", f"/admin/v1/members/{carol(bridge)}/adjustments", json={"points": 60, "reason": "won a contest"}
        )
    assert response.status_code == 201
    assert run_review(bridge.rt, at(2027, 1, 6))["down"] == 0  # 60 points in [6 Dec, 6 Jan]: gold's worth
    assert tier_of(bridge) == "gold"
    assert run_review(bridge.rt, at(2027, 1, 31))["down"] == 0  # below again from 31 Jan: a fresh grace
    assert run_review(bridge.rt, at(2027, 2, 10))["down"] == 1


def test_lifetime_never_goes_down(tiered: Callable[..., Bridge]) -> None:
    bridge = tiered(grace_days=0)
    order(bridge, 501)
    order(bridge, 502)
    order(bridge, 502, "order.updated.fully-refunded")
    assert run_review(bridge.rt, at(2030, 1, 1))["down"] == 0
    assert tier_of(bridge) == "gold"


def test_rolling_moments_to_the_microsecond_keep_their_keys_and_texts(tiered: Callable[..., Bridge]) -> None:
    """The review writes keys and texts in SQL: a grace that starts at a moment with microseconds gives the same
    texts as Python's ``isoformat()`` (``by``, ``below_since``), and the same key on every run (warned once)."""
    bridge = tiered(window={"rolling_months": 1}, grace_days=10, warn_days=5)
    order(bridge, 501)
    order(bridge, 502)
    member_id = carol(bridge)
    below = at(2026, 12, 27).replace(microsecond=123456)
    assert run_review(bridge.rt, below)["down"] == 0  # below from here: the grace starts
    assert run_review(bridge.rt, at(2027, 1, 1))["warned"] == 0  # 123456 microseconds short of 5 days before
    assert run_review(bridge.rt, at(2027, 1, 1).replace(microsecond=123456))["warned"] == 1
    assert run_review(bridge.rt, at(2027, 1, 2))["warned"] == 0  # the same key: once
    [warning] = warnings(bridge)
    assert warning["details"] == {
        "tier": "gold",
        "metric": "points",
        "needed": "60",
        "by": "2027-01-06T12:00:00.123456+00:00",
    }
    assert run_review(bridge.rt, at(2027, 1, 6))["down"] == 0  # 123456 microseconds short of the grace
    moved = at(2027, 1, 6).replace(microsecond=123456)
    assert run_review(bridge.rt, moved)["down"] == 1
    response = bridge.admin("GET", f"/admin/v1/members/{member_id}/tiers")
    change = response.get_json()["history"][0]
    assert (change["from"], change["to"], change["reason"]) == ("gold", "silver", "review")
    assert change["details"] == {"below_since": below.isoformat(), "metric": "points", "value": "0"}
    with db.read(bridge.rt.engine) as conn:
        keys = set(conn.scalars(select(t.domain_event.c.key).where(t.domain_event.c.member_id == member_id)))
    assert f"club:tier_downgrade_warning:{member_id}:gold:{below.isoformat()}" in keys
    assert f"club:tier:{member_id}:gold:silver:{moved.isoformat()}" in keys
    assert tier_row(bridge, member_id)["below_since"] == moved  # still below silver: a new grace from the move


def test_spend_is_counted_to_the_cent_net_of_refunds(tiered: Callable[..., Bridge]) -> None:
    """Spend (decimal text in the orders) is summed exactly in SQL; the texts show it as the widget does."""
    levels = [{"id": "silver", "name": "Silver", "threshold": "42.90"}, {"id": "gold", "name": "Gold", "threshold": 80}]
    bridge = tiered(metric="spend", window="calendar_year", grace_days=0, warn_days=14, levels=levels)
    order(bridge, 501)
    order(bridge, 502)  # 85.80 spent in 2026: gold
    assert tier_of(bridge) == "gold"
    order(bridge, 502, "order.updated.fully-refunded")  # 42.90 net: silver's threshold to the cent
    assert run_review(bridge.rt, at(2026, 12, 20))["warned"] == 1
    [warning] = warnings(bridge)
    assert warning["details"]["needed"] == "37.1" and warning["points"] == 0
    assert run_review(bridge.rt, at(2027, 1, 1))["down"] == 1
    assert tier_of(bridge) == "silver"  # 42.90 reaches 42.90
    assert history(bridge)[-1] == ("gold", "silver", "review")
