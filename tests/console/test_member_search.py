"""The read side of the Members pages on the real databases: search, filters, keyset pages, the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from bridge.ledger import service as ledger
from bridge.members import profile, search, timeline
from bridge.members import service as members
from bridge.storage import clock, db
from bridge.storage.clock import utcnow
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.client import SHOP, Bridge


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _seed(bridge: Bridge, n: int) -> list[int]:
    """``n`` members: customer ids 1001.., member i holding i*10 points (the first none), every third tier gold."""
    rt = bridge.rt
    program_id = rt.settings.program.id
    ids = []
    with db.write(rt.engine) as conn:
        for i in range(n):
            member_id = members.resolve(conn, program_id, SHOP, str(1001 + i), f"m{i}@shop.test")
            assert member_id is not None
            members.link_account(conn, program_id, SHOP, str(1001 + i), f"M{i}@Shop.test")
            if i:
                ledger.adjust(
                    conn,
                    program_id=program_id,
                    member_id=member_id,
                    points=i * 10,
                    reason="seed",
                    actor="test",
                    request_key=f"seed-{i}",
                )
            if i % 3 == 0:
                profile.update(conn, rt.settings.program, member_id, "test", {"tier": "gold"})
            ids.append(member_id)
    return ids


def _search(bridge: Bridge, **query: object) -> search.MemberPage:
    with db.read(bridge.rt.engine) as conn:
        return search.search(conn, bridge.rt.settings.program.id, search.MemberQuery(**query))  # type: ignore[arg-type]


def test_search_finds_a_member_by_email_customer_id_member_id_and_referral_code(bridge: Bridge) -> None:
    ids = _seed(bridge, 5)
    assert [m["id"] for m in _search(bridge, text=" M3@SHOP.test ").members] == [ids[3]]
    found = _search(bridge, text="1003").members
    assert [m["id"] for m in found] == [ids[2]] and found[0]["identities"] == [f"{SHOP}:1003"]
    assert [m["id"] for m in _search(bridge, text=f"#{ids[4]}").members] == [ids[4]]
    from bridge.referrals import service as referrals

    with db.write(bridge.rt.engine) as conn:
        code = referrals.code_for(conn, bridge.rt, ids[1])
    assert [m["id"] for m in _search(bridge, text=code.lower()).members] == [ids[1]]
    assert _search(bridge, text="nobody@shop.test").members == []
    assert _search(bridge, text="x" * 10_000).members == []  # bounded: matches nothing, no error


def test_filters_tier_balance_range_and_activity(bridge: Bridge) -> None:
    ids = _seed(bridge, 10)
    gold = _search(bridge, tier="gold").members
    assert [m["id"] for m in gold] == [ids[9], ids[6], ids[3], ids[0]]
    assert all(m["tier"] == "gold" for m in gold)

    middle = _search(bridge, min_available=30, max_available=50).members
    assert [(m["id"], m["available"]) for m in middle] == [(ids[5], 50), (ids[4], 40), (ids[3], 30)]

    now = utcnow()
    active = _search(bridge, active_since=now - timedelta(days=1)).members
    assert ids[0] not in [m["id"] for m in active] and len(active) == 9  # the first has no entry at all
    assert [m["id"] for m in _search(bridge, inactive_since=now - timedelta(days=1)).members] == [ids[0]]
    both = _search(bridge, tier="gold", min_available=1).members
    assert [m["id"] for m in both] == [ids[9], ids[6], ids[3]]


def test_keyset_pages_are_stable_while_members_arrive(bridge: Bridge) -> None:
    ids = _seed(bridge, 7)
    first = _search(bridge, limit=3)
    assert [m["id"] for m in first.members] == ids[::-1][:3]
    rt = bridge.rt
    with db.write(rt.engine) as conn:  # a member arriving between two pages does not shift the next page
        members.resolve(conn, rt.settings.program.id, SHOP, "9999", "late@shop.test")
    second = _search(bridge, limit=3, before=first.next_before)
    third = _search(bridge, limit=3, before=second.next_before)
    assert [m["id"] for m in second.members + third.members] == ids[::-1][3:]
    assert third.next_before is None


def test_a_filtered_walk_stops_at_the_scan_limit_and_says_where_to_go_on(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _seed(bridge, 8)
    monkeypatch.setattr(search, "SCAN_LIMIT", 3)
    page = _search(bridge, min_available=10, max_available=20)  # members 1 and 2: far below the newest three
    assert page.members == [] and page.cut_short and page.next_before == ids[5]
    walked = []
    while page.next_before is not None:
        page = _search(bridge, min_available=10, max_available=20, before=page.next_before)
        walked += [m["id"] for m in page.members]
    assert walked == [ids[2], ids[1]]


def test_timeline_merges_sources_newest_first_in_stable_pages(bridge: Bridge) -> None:
    rt = bridge.rt
    program_id = rt.settings.program.id
    with db.write(rt.engine) as conn:
        member_id = members.resolve(conn, program_id, SHOP, "77", "t@shop.test")
        assert member_id is not None
        for i in range(5):
            ledger.adjust(
                conn,
                program_id=program_id,
                member_id=member_id,
                points=10 + i,
                reason=f"gift {i}",
                actor="test",
                request_key=f"t-{i}",
            )
        profile.update(conn, rt.settings.program, member_id, "console:boss@shop.test", {"birthday": date(1990, 5, 17)})
    with db.read(rt.engine) as conn:
        whole = timeline.timeline(conn, program_id, member_id, limit=100)
        assert whole.next_cursor is None
        kinds = [item["kind"] for item in whole.items]
        assert kinds == ["profile"] + ["ledger"] * 5  # newest first: the profile edit came last
        assert [i["points"] for i in whole.items[1:]] == [14, 13, 12, 11, 10]
        edit = whole.items[0]
        assert edit["details"] == {"birthday": "1990-05-17"} and edit["actor"] == "console:boss@shop.test"
        seen = []
        cursor = None
        while True:
            page = timeline.timeline(conn, program_id, member_id, limit=2, before=cursor)
            seen += [(i["kind"], i["id"]) for i in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == [(i["kind"], i["id"]) for i in whole.items]  # every item once, in order
        assert timeline.timeline(conn, program_id, member_id, before="garbage..").items == whole.items[:50]


@dataclass(frozen=True)
class _Stopped:
    at: datetime

    def now(self) -> datetime:
        return self.at


def test_timeline_pages_split_items_of_one_moment_exactly_once(bridge: Bridge) -> None:
    """Items of several kinds at one timestamp (a batch, a coarse clock): every page boundary among them holds."""
    rt = bridge.rt
    program_id = rt.settings.program.id
    previous = clock.install(_Stopped(clock.utcnow()))
    try:
        with db.write(rt.engine) as conn:
            member_id = members.resolve(conn, program_id, SHOP, "78", "same@shop.test")
            assert member_id is not None
            for i in range(4):
                ledger.adjust(
                    conn,
                    program_id=program_id,
                    member_id=member_id,
                    points=1 + i,
                    reason="same moment",
                    actor="test",
                    request_key=f"s-{i}",
                )
                profile.update(conn, rt.settings.program, member_id, "test", {"tier": f"t{i}"})
    finally:
        clock.install(previous)
    with db.read(rt.engine) as conn:
        whole = timeline.timeline(conn, program_id, member_id, limit=100).items
        assert len({i["at"] for i in whole}) == 1 and len(whole) == 8
        assert [i["kind"] for i in whole] == ["ledger"] * 4 + ["profile"] * 4  # the kind order, then newest id
        for size in (1, 3, 5):
            seen, cursor = [], None
            while True:
                page = timeline.timeline(conn, program_id, member_id, limit=size, before=cursor)
                seen += [(i["kind"], i["id"]) for i in page.items]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert seen == [(i["kind"], i["id"]) for i in whole], size
