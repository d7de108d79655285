"""Signing in and out of the console: sessions, lockout, CSRF, revocation, the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge.console import throttle
from bridge.console.routing import Role
from bridge.storage import clock, db
from bridge.storage import tables as t
from tests.console.conftest import _CSRF, PASSWORD, Console
from tests.support import clock as test_clock
from tests.support import woo
from tests.support.client import Bridge


def audit_actions(bridge: Bridge) -> list[tuple[str, str]]:
    with db.read(bridge.rt.engine) as conn:
        rows = conn.execute(select(t.audit_log.c.actor, t.audit_log.c.action).order_by(t.audit_log.c.id)).all()
    return [(row.actor, row.action) for row in rows]


def move_clock(by: timedelta) -> None:
    """The bridge's clock, ``by`` later than TEST_NOW (no sleeping)."""
    clock.install(clock.SystemClock(timedelta(seconds=test_clock.offset_seconds()) + by))


def test_login_lands_on_the_overview_and_is_audited(console: Console) -> None:
    email = console.add_user(Role.VIEWER)
    client = console.client()
    response = console.login(client, email)
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200
    assert "<h1>Overview</h1>" in page.get_data(as_text=True)
    assert (f"console:{email}", "console.login") in audit_actions(console.bridge)


def test_session_cookie_is_httponly_lax_and_scoped_to_the_console(console: Console) -> None:
    email = console.add_user(Role.VIEWER)
    response = console.login(console.client(), email)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("bridge_console=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # public_url is not https here (next test: it is)


def test_session_cookie_is_secure_when_the_public_url_is_https(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(public_url="https://loyalty.example")
    console = Console(bridge)
    email = console.add_user(Role.VIEWER)
    client = bridge.app.test_client()
    form = client.get("/console/login", base_url="https://loyalty.example")
    assert "Secure" in form.headers["Set-Cookie"]  # even the anonymous session that holds the CSRF secret
    token = _CSRF.search(form.get_data(as_text=True))
    assert token is not None
    response = client.post(
        "/console/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        base_url="https://loyalty.example",
        headers={"Referer": "https://loyalty.example/console/login"},  # Flask-WTF checks it over https
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_the_session_id_in_the_cookie_is_not_the_user_id(console: Console) -> None:
    """The cookie names a server-side session (revocable), never the account: a copied cookie of a revoked
    session opens nothing."""
    client = console.login_as(Role.VIEWER)
    with db.read(console.bridge.rt.engine) as conn:
        session = conn.execute(select(t.console_session)).mappings().one()
    with client.session_transaction("/console/") as cookie:
        assert cookie["_user_id"] != str(session["user_id"])
        assert len(cookie["_user_id"]) >= 40
        assert session["token_hash"] != cookie["_user_id"]  # only its hash is stored


def test_wrong_password_and_unknown_email_look_alike(console: Console) -> None:
    email = console.add_user(Role.OWNER)
    wrong = console.login(console.client(), email, "not the password at all")
    unknown = console.login(console.client(), "nobody@shop.test", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.get_data(as_text=True)
    assert "Wrong e-mail or password." in unknown.get_data(as_text=True)
    assert console.client().get("/console/").status_code == 302
    assert (f"console:{email}", "console.login_failed") in audit_actions(console.bridge)


def test_lockout_says_when_it_ends_and_lifts_after_that_time(console: Console) -> None:
    email = console.add_user(Role.STAFF)
    for _ in range(throttle.ACCOUNT_FAILURES - 1):
        assert console.login(console.client(), email, "wrong password!").status_code == 401
    locked = console.login(console.client(), email, "wrong password!")
    assert locked.status_code == 429
    until = test_clock.TEST_NOW + throttle.LOCK
    text = locked.get_data(as_text=True)
    assert "this account is locked until <time datetime=" in text  # the date is markup, not escaped text
    assert until.strftime("%Y-%m-%d %H:%M") in text  # in the program's time zone (UTC here)
    assert (f"console:{email}", "console.locked") in audit_actions(console.bridge)

    # Locked: even the right password is refused, and says the same.
    right = console.login(console.client(), email)
    assert right.status_code == 429 and until.strftime("%H:%M") in right.get_data(as_text=True)

    move_clock(throttle.LOCK + timedelta(minutes=1))
    assert console.login(console.client(), email).status_code == 302


def test_an_unknown_email_locks_like_a_real_one(console: Console) -> None:
    """Otherwise the lock message would tell which e-mails have accounts."""
    for _ in range(throttle.ACCOUNT_FAILURES - 1):
        console.login(console.client(), "ghost@shop.test", "wrong password!")
    assert console.login(console.client(), "ghost@shop.test", "wrong password!").status_code == 429


def test_one_address_guessing_many_accounts_is_throttled(console: Console) -> None:
    email = console.add_user(Role.OWNER)
    for i in range(throttle.IP_FAILURES - 1):
        assert console.login(console.client(), f"guess{i}@shop.test", "wrong password!").status_code == 401
    blocked = console.login(console.client(), "guess-last@shop.test", "wrong password!")
    assert blocked.status_code == 429 and "from your network" in blocked.get_data(as_text=True)
    assert console.login(console.client(), email).status_code == 429  # this address waits, whatever the account
    move_clock(throttle.LOCK + timedelta(minutes=1))
    assert console.login(console.client(), email).status_code == 302


def test_a_success_clears_the_account_count(console: Console) -> None:
    email = console.add_user(Role.OWNER)
    for _ in range(throttle.ACCOUNT_FAILURES - 1):
        console.login(console.client(), email, "wrong password!")
    assert console.login(console.client(), email).status_code == 302
    assert console.login(console.client(), email, "wrong password!").status_code == 401  # counting from zero


def test_login_without_csrf_token_is_refused(console: Console) -> None:
    email = console.add_user(Role.OWNER)
    client = console.client()
    client.get("/console/login")
    response = client.post("/console/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    forged = client.post("/console/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.get("/console/").status_code == 302


def test_the_apis_need_no_csrf(console: Console) -> None:
    """CSRF is the console's only: a webhook and an admin API POST carry no token and are served as before."""
    bridge = console.bridge
    bridge.deliver_ok("customer.created")
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None
    response = bridge.admin("POST", f"/admin/v1/members/{member['id']}/adjustments", json={"points": 5, "reason": "x"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers  # and no console cookie leaks onto the APIs


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/console/audit?actor=cli", "/console/audit?actor=cli"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/\\evil.example", "/console/"),
        ("/admin/v1/members", "/console/"),
        ("/console/login", "/console/"),
    ],
)
def test_login_goes_back_to_same_site_console_pages_only(console: Console, target: str, landing: str) -> None:
    email = console.add_user(Role.OWNER)
    response = console.login(console.client(), email, next=target)
    assert response.status_code == 302 and response.headers["Location"] == landing


def test_a_page_without_session_sends_to_login_with_next(console: Console) -> None:
    response = console.client().get("/console/audit?actor=cli")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/login?next=/console/audit?actor%3Dcli"


def test_logout_ends_this_session_only(console: Console) -> None:
    email = console.add_user(Role.VIEWER)
    first, second = console.client(), console.client()
    assert console.login(first, email).status_code == 302
    assert console.login(second, email).status_code == 302
    assert console.post(first, "/console/logout").status_code == 302
    assert first.get("/console/").status_code == 302
    assert second.get("/console/").status_code == 200
    assert (f"console:{email}", "console.logout") in audit_actions(console.bridge)


def test_logout_everywhere_revokes_the_other_sessions(console: Console) -> None:
    email = console.add_user(Role.VIEWER)
    laptop, phone = console.client(), console.client()
    assert console.login(laptop, email).status_code == 302
    assert console.login(phone, email).status_code == 302
    with phone.session_transaction("/console/") as stolen:
        copied = dict(stolen)  # the phone's cookie, as a thief would keep it
    assert "Log out everywhere" in laptop.get("/console/account").get_data(as_text=True)
    assert console.post(laptop, "/console/account/logout-everywhere").status_code == 302
    assert phone.get("/console/").status_code == 302
    assert laptop.get("/console/").status_code == 302
    thief = console.client()
    with thief.session_transaction("/console/") as cookie:
        cookie.update(copied)
    assert thief.get("/console/").status_code == 302
    assert (f"console:{email}", "console.logout_everywhere") in audit_actions(console.bridge)


def test_sessions_end_after_the_idle_time(console: Console) -> None:
    client = console.login_as(Role.VIEWER)
    move_clock(timedelta(hours=11))
    assert client.get("/console/").status_code == 200  # seen again: the idle time starts over
    move_clock(timedelta(hours=22))
    assert client.get("/console/").status_code == 200
    move_clock(timedelta(hours=34, minutes=1))
    assert client.get("/console/").status_code == 302


def test_login_and_its_throttle_work_while_redis_is_down(make_bridge: Callable[..., Bridge], tmp_path: Path) -> None:
    """Sessions and the throttle live in the database: an unreachable Redis changes nothing for the console."""
    bridge = make_bridge(redis_url=f"unix://{tmp_path / 'no-redis.sock'}")
    console = Console(bridge)
    email = console.add_user(Role.OWNER)
    for _ in range(throttle.ACCOUNT_FAILURES - 1):
        assert console.login(console.client(), email, "wrong password!").status_code == 401
    assert console.login(console.client(), email, "wrong password!").status_code == 429
    other = console.add_user(Role.VIEWER)
    client = console.client()
    assert console.login(client, other).status_code == 302
    assert client.get("/console/").status_code == 200


def test_ended_sessions_are_forgotten_after_a_while(console: Console) -> None:
    email = console.add_user(Role.VIEWER)
    client = console.client()
    console.login(client, email)
    console.post(client, "/console/logout")
    move_clock(timedelta(days=31))
    console.login(console.client(), email)
    with db.read(console.bridge.rt.engine) as conn:
        assert len(conn.execute(select(t.console_session)).all()) == 1  # only the live one


def test_changing_ones_password_needs_the_current_one_and_ends_the_other_sessions(console: Console) -> None:
    email = console.add_user(Role.STAFF)
    here, elsewhere = console.client(), console.client()
    console.login(here, email)
    console.login(elsewhere, email)
    new = "another long passphrase"

    wrong = console.post(
        here, "/console/account/password", {"current_password": "guess", "new_password": new, "new_password_again": new}
    )
    assert wrong.status_code == 400 and "The current password is wrong." in wrong.get_data(as_text=True)
    differ = console.post(
        here,
        "/console/account/password",
        {"current_password": PASSWORD, "new_password": new, "new_password_again": new + "!"},
    )
    assert differ.status_code == 400 and "The two new passwords differ." in differ.get_data(as_text=True)
    short = console.post(
        here,
        "/console/account/password",
        {"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"},
    )
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)

    done = console.post(
        here,
        "/console/account/password",
        {"current_password": PASSWORD, "new_password": new, "new_password_again": new},
    )
    assert done.status_code == 200 and "Other sessions ended: 1." in done.get_data(as_text=True)
    assert here.get("/console/").status_code == 200  # this session goes on
    assert elsewhere.get("/console/").status_code == 302  # the other one is over
    assert console.login(console.client(), email).status_code == 401
    assert console.login(console.client(), email, new).status_code == 302
    assert (f"console:{email}", "console_user.password_changed") in audit_actions(console.bridge)


def test_signing_in_again_ends_the_session_it_replaces(console: Console) -> None:
    first = console.add_user(Role.OWNER)
    second = console.add_user(Role.VIEWER)
    client = console.client()
    console.login(client, first)
    with client.session_transaction("/console/") as cookie:
        old = dict(cookie)
    token = console.csrf(client, "/console/account")
    response = client.post("/console/login", data={"email": second, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "viewer" in client.get("/console/").get_data(as_text=True)
    replay = console.client()
    with replay.session_transaction("/console/") as cookie:
        cookie.update(old)
    assert replay.get("/console/").status_code == 302  # the owner's earlier session was ended, not left open


def test_console_pages_are_never_cached_nor_framed(console: Console) -> None:
    response = console.login_as(Role.VIEWER).get("/console/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_the_other_parts_of_the_bridge_never_read_nor_set_the_console_cookie(console: Console) -> None:
    """No ``Vary: Cookie`` on the widget's script (shared caches keep one copy) and no cookie set outside."""
    client = console.login_as(Role.OWNER)
    for path in ("/widget/v1/loyalty-bridge.js", "/healthz"):
        response = client.get(path)
        response.close()
        assert "Cookie" not in response.headers.get("Vary", ""), path
        assert "Set-Cookie" not in response.headers, path
    assert "Cookie" in client.get("/console/").headers["Vary"]  # the console's own pages do depend on it
