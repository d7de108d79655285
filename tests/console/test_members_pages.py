"""The Members, Redemptions, Referrals, Inbox and Shops pages, driven through the real login on the real bridge:
what a staff member does shows on the member's page, a double submit does not double, a viewer only reads."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bridge.console.routing import Role
from bridge.jobs.queue import make_queue
from bridge.members import service as members
from bridge.storage import db
from bridge.storage import tables as t
from tests.console.conftest import Console
from tests.redemption.conftest import seed_member
from tests.redemption.test_stuck_redemptions import _as_if_reserved_ago, make_down_club  # noqa: F401  (fixture)
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import FakeWooShop

_ONCE = re.compile(r'name="once" value="([^"]+)"')


def _page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return html.unescape(response.get_data(as_text=True))


def _available(page: str) -> str:
    found = re.search(r'id="available">([^<]+)<', page)
    assert found, "no balance on the page"
    return found.group(1)


def _audit(bridge: Bridge, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    a = t.audit_log.c
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(a.actor, a.target_id, a.details).where(a.action == action).order_by(a.id))
        return [(r.actor, r.target_id, dict(r.details)) for r in rows]


def _adjust_entries(bridge: Bridge, member_id: int) -> list[int]:
    e = t.ledger_entry.c
    with db.read(bridge.rt.engine) as conn:
        return list(conn.scalars(select(e.points).where(e.member_id == member_id, e.kind == "adjust").order_by(e.id)))


def test_a_staff_member_adjusts_points_and_the_balance_and_timeline_show_it_once(console: Console) -> None:
    bridge = console.bridge
    member_id = seed_member(bridge, 100)
    staff = console.login_as(Role.STAFF, "sam@shop.test")
    page = _page(staff, f"/console/members/{member_id}")
    assert _available(page) == "100" and woo.CAROL in page
    form = {"points": "250", "reason": "Goodwill for a late parcel", "once": _ONCE.findall(page)[0]}

    first = console.post(staff, f"/console/members/{member_id}/adjust", form)
    assert first.status_code == 302
    shown = _page(staff, first.headers["Location"])
    assert _available(shown) == "350" and "The points were adjusted." in shown
    again = console.post(staff, f"/console/members/{member_id}/adjust", form)  # a double click, or a resent POST
    assert again.status_code == 302
    shown = _page(staff, again.headers["Location"])
    assert _available(shown) == "350" and "This adjustment was already made; nothing was added." in shown
    assert "Goodwill for a late parcel" in shown  # the timeline's entry, with its reason
    assert _adjust_entries(bridge, member_id) == [100, 250]  # the seed and one adjustment: not two
    assert _audit(bridge, "ledger.adjust")[-1][:2] == ("console:sam@shop.test", str(member_id))
    # the same key with other figures is another request: refused, nothing written
    conflict = console.post(staff, f"/console/members/{member_id}/adjust", {**form, "points": "999"})
    assert conflict.status_code == 409 and _adjust_entries(bridge, member_id) == [100, 250]


def test_bad_adjustments_are_refused_with_a_reason_and_change_nothing(console: Console) -> None:
    bridge = console.bridge
    member_id = seed_member(bridge, 100)
    staff = console.login_as(Role.STAFF)
    key = "k" * 24  # a once-key as the form carries it
    cases = [
        ({"points": "0", "reason": "x", "once": key}, 400, "must not be zero"),
        ({"points": "ten", "reason": "x", "once": key}, 400, "points"),
        ({"points": "5", "once": key}, 400, "reason"),
        ({"points": "5", "reason": "x"}, 400, "reload the page"),  # no once-key: not a form the console drew
        ({"points": str(10**13), "reason": "x", "once": key}, 400, "points"),
        ({"points": "-101", "reason": "x", "once": key}, 409, "larger than the member's available points"),
    ]
    for form, status, said in cases:
        response = console.post(staff, f"/console/members/{member_id}/adjust", form)
        assert response.status_code == status, (form, response.get_data(as_text=True))
        assert said in html.unescape(response.get_data(as_text=True)) and response.mimetype == "text/html"
    assert console.post(staff, "/console/members/999999/adjust", {**cases[0][0], "points": "5"}).status_code == 404
    assert _adjust_entries(bridge, member_id) == [100]


def test_a_viewer_reads_the_member_page_but_cannot_adjust(console: Console) -> None:
    bridge = console.bridge
    member_id = seed_member(bridge, 100)
    viewer = console.login_as(Role.VIEWER)
    page = _page(viewer, f"/console/members/{member_id}")
    assert _available(page) == "100" and "Adjust points" not in page and 'name="once"' not in page
    refused = console.post(
        viewer, f"/console/members/{member_id}/adjust", {"points": "5", "reason": "x", "once": "k" * 24}
    )
    assert refused.status_code == 403 and _adjust_entries(bridge, member_id) == [100]
    assert console.post(viewer, f"/console/members/{member_id}/profile", {"tier": "gold"}).status_code == 403


def test_member_search_filters_and_keyset_pages(console: Console) -> None:
    bridge = console.bridge
    rt = bridge.rt
    with db.write(rt.engine) as conn:
        ids = [
            members.resolve(conn, rt.settings.program.id, SHOP, str(5000 + i), f"shopper{i}@shop.test")
            for i in range(55)
        ]
    staff = console.login_as(Role.STAFF)
    assert console.post(staff, f"/console/members/{ids[7]}/profile", {"tier": "gold"}).status_code == 302

    first = _page(staff, "/console/members")
    assert first.count('href="/console/members/') == 50 and f"#{ids[-1]}" in first
    more = re.search(r'rel="next" href="([^"]+)"', first)
    assert more is not None
    second = _page(staff, more.group(1))
    assert second.count('href="/console/members/') == 5 and f"#{ids[0]}<" in second and 'rel="next"' not in second

    by_mail = _page(staff, "/console/members?q=Shopper3@SHOP.test")
    assert by_mail.count('href="/console/members/') == 1 and "shopper3@shop.test" in by_mail
    by_customer = _page(staff, "/console/members?q=5010")
    assert by_customer.count('href="/console/members/') == 1 and f"{SHOP}:5010" in by_customer
    gold = _page(staff, "/console/members?tier=gold")
    assert gold.count('href="/console/members/') == 1 and f"#{ids[7]}<" in gold
    assert "No member matches." in _page(staff, "/console/members?min=1")  # nobody holds points yet
    assert staff.get("/console/members?min=abc").status_code == 400
    assert staff.get("/console/members?active=7").status_code == 400  # only the offered choices
    assert staff.get("/console/members?before=99999999999999999999999").status_code == 400


def test_the_profile_edit_and_invitation_show_in_the_timeline(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(program={"membership": {"policy": "invite_only"}})
    console = Console(bridge)
    member_id = seed_member(bridge, 0)
    owner = console.login_as(Role.OWNER, "olive@shop.test")
    page = _page(owner, f"/console/members/{member_id}")
    assert "Invite into the program" in page

    assert console.post(owner, f"/console/members/{member_id}/invite").status_code == 302
    saved = console.post(owner, f"/console/members/{member_id}/profile", {"birthday": "1990-05-17", "tier": "vip"})
    assert saved.status_code == 302
    after = _page(owner, f"/console/members/{member_id}")
    assert "Invite into the program" not in after
    assert 'value="1990-05-17"' in after and 'value="vip"' in after
    assert "member.invite" in after and "member.profile" in after and "olive@shop.test" in after
    assert _audit(bridge, "member.profile")[-1] == (
        "console:olive@shop.test",
        str(member_id),
        {"birthday": "1990-05-17", "tier": "vip"},
    )
    assert console.post(owner, f"/console/members/{member_id}/profile", {"birthday": "17/05/1990"}).status_code == 400


def _failed_delivery(bridge: Bridge, order_id: int) -> None:
    body, headers = woo.signed("order.updated.completed", {"id": order_id, "status": "completed", "total": []})
    bridge.send_ok(body, headers)
    bridge.drain()


def test_inbox_shows_failed_deliveries_and_staff_replay_one_or_all(console: Console) -> None:
    bridge = console.bridge
    _failed_delivery(bridge, 9001)
    _failed_delivery(bridge, 9002)
    assert bridge.inbox_count("failed") == 2
    viewer = console.login_as(Role.VIEWER)
    listed = _page(viewer, "/console/inbox")
    assert listed.count('class="stuck"') == 2 and "Replay" not in listed
    d = t.inbox_delivery.c
    with db.read(bridge.rt.engine) as conn:
        first = conn.scalars(select(d.id).order_by(d.id)).first()
    assert console.post(viewer, f"/console/inbox/{first}/replay").status_code == 403

    staff = console.login_as(Role.STAFF, "sam@shop.test")
    assert "Replay every failed delivery" in _page(staff, "/console/inbox")
    one = console.post(staff, f"/console/inbox/{first}/replay")
    assert one.status_code == 302 and bridge.inbox_count("failed") == 1 and bridge.inbox_count("pending") == 1
    assert _audit(bridge, "inbox.replay")[-1][:2] == ("console:sam@shop.test", str(first))

    every = console.post(staff, "/console/inbox/replay-failed")
    assert every.status_code == 302 and "1 deliveries will be applied again." in _page(staff, every.headers["Location"])
    assert bridge.inbox_count("failed") == 0 and bridge.inbox_count("pending") == 2
    assert _audit(bridge, "inbox.replay")[-1] == ("console:sam@shop.test", "failed", {"count": 1})
    assert console.post(staff, "/console/inbox/424242/replay").status_code == 404


def test_a_stuck_redemption_is_highlighted_retried_and_cancelled_from_the_console(
    make_down_club: Any,  # noqa: F811  (the fixture imported above)
) -> None:
    club = make_down_club(give_up_after_seconds=3600)
    club.shop.down = True
    red = club.redeem("five-off").get_json()["redemption"]
    _as_if_reserved_ago(club, red["id"], 120)
    console = Console(club.bridge)
    staff = console.login_as(Role.STAFF, "sam@shop.test")

    page = _page(staff, "/console/redemptions?state=reserved")
    assert 'class="stuck"' in page and "the shop cannot be reached" in page and "Retry" in page
    queue = make_queue(club.bridge.rt.redis())
    before = queue.count
    retried = console.post(staff, f"/console/redemptions/{red['id']}/retry")
    assert retried.status_code == 302 and queue.count == before + 1  # a worker makes the attempt
    assert _audit(club.bridge, "redemption.retry")[-1][:2] == ("console:sam@shop.test", str(red["id"]))

    refused = console.post(staff, f"/console/redemptions/{red['id']}/cancel")  # the shop cannot be asked
    assert refused.status_code == 503 and club.available() == 1500
    forced = console.post(staff, f"/console/redemptions/{red['id']}/cancel", {"force": "true", "back": "member"})
    assert forced.status_code == 302 and f"/console/members/{club.member_id}" in forced.headers["Location"]
    assert club.redemption(red["id"]).state == "cancelled" and club.available() == 2000
    member_page = _page(staff, forced.headers["Location"])
    assert "The reward was cancelled and its points returned." in member_page and _available(member_page) == "2,000"
    assert console.post(staff, f"/console/redemptions/{red['id']}/retry").status_code == 409


def test_referrals_page_shows_the_funnel(console: Console) -> None:
    viewer = console.login_as(Role.VIEWER)
    page = _page(viewer, "/console/referrals")
    assert "Clicks" in page and "No referrals." in page
    assert viewer.get("/console/referrals?state=nonsense").status_code == 400


def test_shops_page_and_the_owners_reconcile_now_runs_in_a_worker(console: Console, woo_shop: FakeWooShop) -> None:
    bridge = console.bridge
    viewer = console.login_as(Role.VIEWER)
    page = _page(viewer, "/console/shops")
    assert f'id="shop-{SHOP}"' in page and "Reconcile now" not in page and "never ran" in page
    staff = console.login_as(Role.STAFF)
    assert console.post(staff, f"/console/shops/{SHOP}/reconcile").status_code == 403
    owner = console.login_as(Role.OWNER, "olive@shop.test")
    assert "Reconcile now" in _page(owner, "/console/shops")
    assert console.post(owner, "/console/shops/nope/reconcile").status_code == 404

    queued = console.post(owner, f"/console/shops/{SHOP}/reconcile")
    assert queued.status_code == 302 and "A reconciliation was queued" in _page(owner, queued.headers["Location"])
    assert _audit(bridge, "shop.reconcile_now")[-1][:2] == ("console:olive@shop.test", SHOP)
    bridge.drain()  # the worker asks the shop, not the web request
    after = _page(owner, "/console/shops")
    assert "never ran" not in after.split("Backfill")[0]  # the reconciliation's state is shown now


def test_every_page_of_this_area_renders_in_persian_with_data(console: Console) -> None:
    bridge = console.bridge
    member_id = seed_member(bridge, 1500)
    _failed_delivery(bridge, 9003)
    owner = console.login_as(Role.OWNER)
    for path in ("members", f"members/{member_id}", "redemptions", "referrals", "inbox", "shops"):
        page = _page(owner, f"/console/{path}?lang=fa")
        assert 'dir="rtl"' in page, path
    assert "#\u06f1<" in _page(owner, "/console/members?lang=fa")  # member #1 in Persian digits


def test_with_earned_tiers_the_profile_form_keeps_the_tier_and_refuses_to_set_one(
    make_bridge: Callable[..., Bridge],
) -> None:
    levels = [{"id": "silver", "name": "Silver", "threshold": 30}, {"id": "gold", "name": "Gold", "threshold": 60}]
    bridge = make_bridge(program={"tiers": {"metric": "points", "levels": levels}})
    console = Console(bridge)
    for order_id in (501, 502):  # 35 + 35 points: silver, then gold
        bridge.send_ok(*woo.with_order_id("order.updated.processing-paid", order_id))
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None and member["tier"]["id"] == "gold"
    staff = console.login_as(Role.STAFF)
    page = _page(staff, f"/console/members/{member['id']}")
    assert 'name="tier"' not in page  # earned tiers are not typed in; an override has its own API

    saved = console.post(staff, f"/console/members/{member['id']}/profile", {"birthday": "1990-05-17"})
    assert saved.status_code == 302
    after = bridge.member(woo.CAROL)
    assert after is not None and after["tier"]["id"] == "gold"  # the birthday saved, the tier kept
    refused = console.post(staff, f"/console/members/{member['id']}/profile", {"tier": "silver"})
    assert refused.status_code == 409
