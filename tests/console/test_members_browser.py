"""The Members and operations pages in Chromium: a staff member finds a member and adjusts their points (a double
click adds once); screenshots of every page of this area in English and Persian (``test-artifacts/console/``)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from bridge.console.routing import Role
from bridge.ledger import service as ledger
from bridge.storage import db
from tests.console.browser import ConsoleSite, shot
from tests.redemption.conftest import seed_member
from tests.support import woo

PAGES = ("members", "redemptions", "referrals", "inbox", "shops")
PERSIAN = str.maketrans("0123456789,", "".join(chr(0x06F0 + d) for d in range(10)) + "\u066c")


def _adjust_entries(site: ConsoleSite, member_id: int) -> int:
    with db.read(site.console.bridge.rt.engine) as conn:
        return sum(1 for e in ledger.history(conn, member_id, 100) if e.kind == "adjust")


def test_a_staff_member_finds_a_member_and_adjusts_points(chromium: Browser, console_site: ConsoleSite) -> None:
    member_id = seed_member(console_site.console.bridge, 120)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    console_site.sign_in(page, Role.STAFF, "sam@shop.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    page.get_by_label("Name, e-mail, customer id, member id or referral code").fill(woo.CAROL.upper())
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"#{member_id}").click()
    expect(page.locator("#available")).to_have_text("120")

    page.get_by_label("Points (negative to deduct)").fill("80")
    page.get_by_label("Reason").fill("Sorry for the late parcel")
    page.get_by_role("button", name="Adjust", exact=True).dblclick()  # a double click posts the form twice
    expect(page.get_by_role("status").first).to_be_visible()
    expect(page.locator("#available")).to_have_text("200")
    expect(page.locator("table.timeline")).to_contain_text("Sorry for the late parcel")
    assert _adjust_entries(console_site, member_id) == 2  # the seed and one adjustment
    shot(page, "member-adjusted-en")
    page.close()


def test_screenshots_of_the_members_and_operations_pages(chromium: Browser, console_site: ConsoleSite) -> None:
    bridge = console_site.console.bridge
    member_id = seed_member(bridge, 1500)
    body, headers = woo.signed("order.updated.completed", {"id": 9100, "status": "completed", "total": []})
    bridge.send_ok(body, headers)
    bridge.drain()  # a delivery that fails for good: the inbox shows it with its error
    for lang in ("en", "fa"):
        page = chromium.new_page(viewport={"width": 1280, "height": 800})
        console_site.sign_in(page, Role.OWNER, lang=lang)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "fa" else "ltr")
        for name in PAGES:
            response = page.goto(f"{console_site.url}{name}?lang={lang}")
            assert response is not None and response.status == 200, name
            shot(page, f"{name}-{lang}")
        page.goto(f"{console_site.url}members/{member_id}?lang={lang}")
        expect(page.locator("#available")).to_have_text("1,500" if lang == "en" else "1,500".translate(PERSIAN))
        shot(page, f"member-{lang}")
        page.close()
