"""Segments: the nightly RFM scores against a hand computation, named segments, owner-defined segments, and
the admin API's counts and keyset listing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from bridge.segments.jobs import run_scoring
from bridge.segments.settings import rfm_segment
from bridge.storage import db
from bridge.storage import segments as store
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import Bridge
from tests.support.clock import TEST_NOW

# Ten buyers: orders placed, the day of November 2026 of their last order, and each order's total.
ORDERS = [5, 4, 1, 3, 2, 1, 4, 2, 1, 3]
LAST_DAY = [25, 20, 24, 3, 10, 1, 5, 15, 22, 8]
TOTAL = [50, 40, 10, 30, 20, 5, 45, 15, 12, 35]


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def buy(bridge: Bridge) -> list[int]:
    """Deliver every buyer's orders (real webhooks, one drain); returns the buyers' member ids in order."""
    order_id = 1000
    for i, (count, last, total) in enumerate(zip(ORDERS, LAST_DAY, TOTAL, strict=True)):
        for k in range(count):
            order_id += 1
            paid = f"2026-10-{last:02d}T10:00:00" if k < count - 1 else f"2026-11-{last:02d}T10:00:00"
            data = woo.payload("order.updated.processing-paid")
            data.update(id=order_id, customer_id=100 + i, total=f"{total}.00", date_paid_gmt=paid)
            data.update(date_modified_gmt=paid, date_created_gmt=paid)
            data["billing"] = {**data["billing"], "email": f"buyer{i}@example.test"}
            data["line_items"][0]["total"] = f"{total}.00"
            bridge.send_ok(*woo.signed("order.updated.processing-paid", data))
    bridge.drain()
    ids = []
    for i in range(len(ORDERS)):
        member = bridge.member(f"buyer{i}@example.test")
        assert member is not None
        ids.append(int(member["id"]))
    return ids


def quintiles(values: list[tuple[Any, int]]) -> dict[int, int]:
    """By hand: sort (value, member id) ascending, the first fifth scores 1 ... the last fifth 5."""
    ordered = sorted(values)
    return {member: i * 5 // len(ordered) + 1 for i, (_, member) in enumerate(ordered)}


def test_rfm_scores_and_segments_match_a_hand_computation(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge()
    ids = buy(bridge)
    counts = run_scoring(bridge.rt, TEST_NOW)

    r = quintiles([(LAST_DAY[i], m) for i, m in enumerate(ids)])
    f = quintiles([(ORDERS[i], m) for i, m in enumerate(ids)])
    m_ = quintiles([(ORDERS[i] * TOTAL[i], m) for i, m in enumerate(ids)])
    with db.read(bridge.rt.engine) as conn:
        rows = {row.member_id: row for row in conn.execute(select(t.member_segment))}
    assert set(rows) == set(ids)
    for i, member in enumerate(ids):
        row = rows[member]
        assert (row.recency, row.frequency, row.monetary) == (r[member], f[member], m_[member]), i
        assert row.segment == rfm_segment(r[member], f[member], m_[member])
        assert row.order_count == ORDERS[i] and row.spent_hundredths == ORDERS[i] * TOTAL[i] * 100
    # by hand, two of them: the most recent, most frequent, biggest buyer and the one gone longest with least
    assert rows[ids[0]].segment == "champions"  # R5 F5 M5
    assert rows[ids[5]].segment == "lost"  # R1 F1 M1
    assert sum(counts.values()) == len(ids)

    listed = bridge.admin("GET", "/admin/v1/segments").get_json()["segments"]
    by_id = {item["id"]: item for item in listed}
    assert by_id["champions"]["members"] == counts["champions"] and by_id["champions"]["kind"] == "rfm"
    assert sum(item["members"] for item in listed) == len(ids)


def test_owner_segments_and_the_keyset_listing(make_bridge: Callable[..., Bridge]) -> None:
    custom = [
        {"id": "big_spenders", "name": "Big spenders", "min_spent": 150},
        {"id": "lapsed", "name": "Lapsed", "not_ordered_for_days": 20, "max_orders": 3},
    ]
    bridge = make_bridge(program={"segments": {"custom": custom, "names": {"at_risk": "Miss you"}}})
    ids = buy(bridge)
    run_scoring(bridge.rt, TEST_NOW)
    spent = {m: ORDERS[i] * TOTAL[i] for i, m in enumerate(ids)}
    big = sorted(m for m in ids if spent[m] >= 150)
    days_since = {m: (TEST_NOW - datetime(2026, 11, LAST_DAY[i], 10, tzinfo=UTC)).days for i, m in enumerate(ids)}
    lapsed = sorted(m for i, m in enumerate(ids) if days_since[m] >= 20 and ORDERS[i] <= 3)
    assert big == [ids[0], ids[1], ids[6]] and lapsed == [ids[3], ids[5]]

    def page(segment: str, after: int = 0, limit: int = 2) -> dict[str, Any]:
        response = bridge.admin(
            "GET", "/admin/v1/members", query_string={"segment": segment, "after": after, "limit": limit}
        )
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    first = page("big_spenders")
    assert [m["id"] for m in first["members"]] == big[:2] and first["next_after"] == big[1]
    second = page("big_spenders", first["next_after"])
    assert [m["id"] for m in second["members"]] == big[2:] and second["next_after"] is None
    assert [m["id"] for m in page("lapsed", limit=10)["members"]] == lapsed

    segments = {s["id"]: s for s in bridge.admin("GET", "/admin/v1/segments").get_json()["segments"]}
    assert segments["big_spenders"] == {"id": "big_spenders", "name": "Big spenders", "kind": "custom", "members": 3}
    assert segments["at_risk"]["name"] == "Miss you"

    unknown = bridge.admin("GET", "/admin/v1/members", query_string={"segment": "nobody"})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "segment_not_found"


def test_a_campaign_for_a_segment_boosts_only_its_members(make_bridge: Callable[..., Bridge]) -> None:
    winback = {"id": "winback", "type": "campaign", "multiplier": 2, "segments": ["lost"]}
    bridge = make_bridge(program={"earn": {"rules": [winback]}})
    ids = buy(bridge)
    run_scoring(bridge.rt, TEST_NOW)  # buyer 5 is lost, buyer 0 a champion (see the test above)

    for i, order_id in ((5, 2001), (0, 2002)):
        data = woo.payload("order.updated.processing-paid")
        data.update(id=order_id, customer_id=100 + i, total="10.00")
        data["billing"] = {**data["billing"], "email": f"buyer{i}@example.test"}
        data["line_items"][0]["total"] = "10.00"
        bridge.send_ok(*woo.signed("order.updated.processing-paid", data))
    bridge.drain()

    def earned(member_id: int, order_id: int) -> int:
        return sum(e["points"] for e in bridge.ledger(member_id) if e["cause"]["id"] == str(order_id))

    assert earned(ids[5], 2001) == 20  # lost: double points to win them back
    assert earned(ids[0], 2002) == 10


def test_a_campaign_names_only_known_segments(make_bridge: Callable[..., Bridge]) -> None:
    from bridge.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        make_bridge(
            program={"earn": {"rules": [{"id": "w", "type": "campaign", "multiplier": 2, "segments": ["vip"]}]}}
        )
    assert "unknown segment 'vip'" in err.value.reason


def test_owner_segments_by_tier_birthday_month_and_balance(make_bridge: Callable[..., Bridge]) -> None:
    from tests.tiers.conftest import LEVELS, carol, order

    custom = [
        {"id": "march_silver", "name": "March silver", "tiers": ["silver"], "birthday_months": [3], "min_balance": 45},
        {"id": "rich", "name": "Rich", "min_balance": 46},
        {"id": "june", "name": "June", "birthday_months": [6]},
    ]
    bridge = make_bridge(
        program={"earn": {"signup_points": 0}, "tiers": {"levels": LEVELS}, "segments": {"custom": custom}}
    )
    order(bridge, 501)  # 35 points + silver's 10
    member_id = carol(bridge)
    response = bridge.admin("PATCH", f"/admin/v1/members/{member_id}/profile", json={"birthday": "1990-03-04"})
    assert response.status_code == 200
    counts = run_scoring(bridge.rt, TEST_NOW)
    assert counts.get("march_silver") == 1 and "rich" not in counts and "june" not in counts


def memberships(bridge: Bridge) -> set[tuple[str, int]]:
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(t.member_in_segment.c.segment_id, t.member_in_segment.c.member_id))
        return {(str(segment), int(member)) for segment, member in rows}


def test_a_later_scoring_writes_the_differences_and_leaves_what_a_refill_from_nothing_would(
    make_bridge: Callable[..., Bridge],
) -> None:
    """The nightly scoring brings ``member_in_segment`` in line with the scores by differences (a buyer who moved,
    one who is a buyer no more, rows of a segment no longer configured or no longer the member's); what it leaves
    is exactly the scores' segments and the owner's, as emptying the table and filling it again gives."""
    custom = [{"id": "big_spenders", "name": "Big spenders", "min_spent": 150}]
    bridge = make_bridge(program={"segments": {"custom": custom}})
    program = bridge.rt.settings.program
    ids = buy(bridge)
    run_scoring(bridge.rt, TEST_NOW)
    assert ("lost", ids[5]) in memberships(bridge) and ("champions", ids[0]) in memberships(bridge)

    # buyer 5 (lost) buys again today; buyer 2's only order (1010) is cancelled: a buyer no more
    data = woo.payload("order.updated.processing-paid")
    data.update(id=2001, customer_id=105, total="60.00", date_paid_gmt="2026-11-26T09:00:00")
    data.update(date_modified_gmt="2026-11-26T09:00:00", date_created_gmt="2026-11-26T09:00:00")
    data["billing"] = {**data["billing"], "email": "buyer5@example.test"}
    data["line_items"][0]["total"] = "60.00"
    bridge.send_ok(*woo.signed("order.updated.processing-paid", data))
    cancelled = woo.payload("order.updated.cancelled")
    cancelled.update(id=1010, customer_id=102, total="10.00", date_modified_gmt="2026-11-26T09:30:00")
    cancelled["billing"] = {**cancelled["billing"], "email": "buyer2@example.test"}
    bridge.send_ok(*woo.signed("order.updated.cancelled", cancelled))
    bridge.drain()
    stray = [("gone", ids[0]), ("lost", ids[0])]  # a segment no longer configured; an RFM segment not the member's
    with db.write(bridge.rt.engine) as conn:
        rows = [{"program_id": program.id, "segment_id": s, "member_id": m} for s, m in stray]
        conn.execute(insert(t.member_in_segment), rows)

    counts = run_scoring(bridge.rt, TEST_NOW)
    after = memberships(bridge)
    with db.read(bridge.rt.engine) as conn:
        scored = {(str(row.segment), int(row.member_id)) for row in conn.execute(select(t.member_segment))}
    assert ids[2] not in {member for _, member in scored | after}
    assert ("lost", ids[5]) not in after and any(member == ids[5] for _, member in scored)
    assert {(s, m) for s, m in after if s != "big_spenders"} == scored
    assert not set(stray) & after
    assert counts == {s: sum(1 for segment, _ in after if segment == s) for s in {s for s, _ in after}}

    with db.write(bridge.rt.engine) as conn:
        conn.execute(delete(t.member_in_segment))
        store.fill(conn, program.id, program.segments, TEST_NOW)
    assert memberships(bridge) == after
