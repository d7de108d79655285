"""The console in Chromium: signing in (English and Persian), a wrong password, a lockout, logging out, and
the whole thing without JavaScript. Screenshots of the login and overview pages in both languages."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from bridge.console import throttle
from bridge.console.routing import Role
from tests.console.browser import ConsoleSite, shot
from tests.console.conftest import PASSWORD


def test_sign_in_see_the_overview_and_log_out(chromium: Browser, console_site: ConsoleSite) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 720})
    email = console_site.console.add_user(Role.OWNER, "owner@shop.test")
    page.goto(console_site.url + "audit")  # a page behind the login: back there after it
    expect(page).to_have_url(f"{console_site.served.url}/console/login?next=/console/audit")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    shot(page, "login-en")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.locator("table.audit")).to_contain_text("console.login")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    shot(page, "overview-en")

    page.locator("header .usermenu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto(console_site.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")  # the session is over
    page.close()


def test_persian_console_is_right_to_left(chromium: Browser, console_site: ConsoleSite) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 720})
    page.goto(console_site.url + "login?lang=fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "fa")
    expect(page.get_by_role("heading", level=1)).to_have_text("ورود")
    shot(page, "login-fa")
    console_site.sign_in(page, Role.STAFF, lang="fa")
    expect(page.get_by_role("heading", level=1)).to_have_text("نمای کلی")
    nav = page.get_by_role("navigation", name="منوی اصلی")
    expect(nav.get_by_role("link", name="گزارش تغییرات")).to_have_count(0)  # the audit log: owners only
    shot(page, "overview-fa")
    page.close()


def test_wrong_password_then_lockout(chromium: Browser, console_site: ConsoleSite) -> None:
    page = chromium.new_page()
    email = console_site.console.add_user(Role.VIEWER)
    page.goto(console_site.url + "login")
    for _ in range(throttle.ACCOUNT_FAILURES - 1):
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill("not my password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
        expect(page.get_by_label("E-mail")).to_have_value(email)  # kept, so only the password is typed again
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("this account is locked until")
    shot(page, "login-locked-en")
    page.close()


def test_the_console_works_without_javascript(chromium: Browser, console_site: ConsoleSite) -> None:
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    console_site.sign_in(page, Role.OWNER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    page.goto(console_site.url + "account")
    page.get_by_role("button", name="Log out everywhere").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    context.close()


def test_screenshots_of_the_consoles_own_pages(chromium: Browser, console_site: ConsoleSite) -> None:
    console_site.console.add_user(Role.STAFF, "kim@shop.test")
    for lang in ("en", "fa"):
        page = chromium.new_page(viewport={"width": 1280, "height": 800})
        console_site.sign_in(page, Role.OWNER, lang=lang)
        for name in ("account", "users", "audit", "program"):
            page.goto(f"{console_site.url}{name}")
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            shot(page, f"{name}-{lang}")
        page.close()
