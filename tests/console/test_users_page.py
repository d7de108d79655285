"""The Users page: an owner adds people (a generated password shown once), changes roles, disables, enables and
resets — and can never leave the console without an active owner."""

from __future__ import annotations

import re
from pathlib import Path

from bridge.console import users
from bridge.console.routing import Role
from tests.console.conftest import Console
from tests.console.test_users_cli import users_cli
from tests.support.client import Bridge

SHOWN = re.compile(r'<code class="secret" dir="ltr">([^<]+)</code>')


def test_an_owner_adds_a_user_who_signs_in_with_the_password_shown_once(console: Console) -> None:
    owner = console.login_as(Role.OWNER, "boss@shop.test")
    added = console.post(owner, "/console/users/add", {"email": " Kim@Shop.Test ", "role": "staff"})
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    password = SHOWN.search(page)
    assert password is not None and "The password of kim@shop.test" in page
    assert "Set-Cookie" not in added.headers or password.group(1) not in added.headers["Set-Cookie"]
    assert SHOWN.search(owner.get("/console/users").get_data(as_text=True)) is None  # shown that once only

    kim = console.client()
    assert console.login(kim, "kim@shop.test", password.group(1)).status_code == 302
    assert kim.get("/console/users").status_code == 403  # staff

    again = console.post(owner, "/console/users/add", {"email": "kim@shop.test", "role": "viewer"})
    assert again.status_code == 400 and "already exists" in again.get_data(as_text=True)
    bad = console.post(owner, "/console/users/add", {"email": "kim", "role": "staff"})
    assert bad.status_code == 400 and "not an e-mail address" in bad.get_data(as_text=True)
    bad_role = console.post(owner, "/console/users/add", {"email": "x@shop.test", "role": "root"})
    assert bad_role.status_code == 400 and "unknown role" in bad_role.get_data(as_text=True)


def test_role_disable_enable_and_reset_from_the_page(console: Console) -> None:
    owner = console.login_as(Role.OWNER, "boss@shop.test")
    sam = console.login_as(Role.VIEWER, "sam@shop.test")
    sam_id = next(u["id"] for u in users.listing(console.bridge.rt.engine) if u["email"] == "sam@shop.test")

    promoted = console.post(owner, f"/console/users/{sam_id}/role", {"role": "staff"})
    assert promoted.status_code == 302
    assert "sam@shop.test is now staff." in owner.get("/console/users").get_data(as_text=True)
    assert "staff" in sam.get("/console/").get_data(as_text=True)

    assert console.post(owner, f"/console/users/{sam_id}/disable").status_code == 302
    assert sam.get("/console/").status_code == 302
    assert console.post(owner, f"/console/users/{sam_id}/enable").status_code == 302
    reset = console.post(owner, f"/console/users/{sam_id}/reset-password")
    password = SHOWN.search(reset.get_data(as_text=True))
    assert password is not None
    assert console.login(console.client(), "sam@shop.test", password.group(1)).status_code == 302
    assert console.post(owner, "/console/users/999999/disable").status_code == 404

    log = owner.get("/console/audit?actor=console:boss@shop.test").get_data(as_text=True)
    for action in ("console_user.role", "console_user.disabled", "console_user.enabled", "console_user.password_reset"):
        assert action in log


def test_the_last_active_owner_stays(console: Console, bridge: Bridge, tmp_path: Path) -> None:
    owner = console.login_as(Role.OWNER, "boss@shop.test")
    boss_id = next(u["id"] for u in users.listing(bridge.rt.engine))
    refused = console.post(owner, f"/console/users/{boss_id}/disable")
    assert refused.status_code == 302
    text = owner.get("/console/users").get_data(as_text=True)
    assert "boss@shop.test is the last active owner" in text
    console.post(owner, f"/console/users/{boss_id}/role", {"role": "viewer"})
    assert owner.get("/console/audit").status_code == 200  # still an owner
    cli = users_cli(tmp_path, "disable", "boss@shop.test")
    assert cli.exit_code == 1 and "last active owner" in cli.output

    console.add_user(Role.OWNER, "second@shop.test")
    assert console.post(owner, f"/console/users/{boss_id}/role", {"role": "staff"}).status_code == 302
    assert owner.get("/console/audit").status_code == 403  # now staff: another owner remains
