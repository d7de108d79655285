"""The console's tables on SQLite and PostgreSQL: sign in, lock out, revoke, page the audit log, and a burst of
simultaneous failed logins (the throttle's first row is created by one of them, never a 500)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bridge.console import throttle
from bridge.console.routing import Role
from bridge.console.users import ConsoleUserError
from tests.console.conftest import PASSWORD, Console
from tests.integration.conftest import BOTH_BACKENDS


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_sign_in_revoke_and_audit(console: Console) -> None:
    email = console.add_user(Role.OWNER, "Boss@Shop.Test")
    with pytest.raises(ConsoleUserError, match="already exists"):  # unique whatever the case
        console.add_user(Role.VIEWER, "BOSS@shop.test")
    laptop, phone = console.client(), console.client()
    assert console.login(laptop, email.upper()).status_code == 302
    assert console.login(phone, email).status_code == 302
    assert console.post(laptop, "/console/account/logout-everywhere").status_code == 302
    assert phone.get("/console/").status_code == 302
    owner = console.client()
    console.login(owner, email)
    page = owner.get("/console/audit?action=console.logout_everywhere").get_data(as_text=True)
    assert "console:boss@shop.test" in page


def test_simultaneous_failures_lock_once_without_errors(console: Console) -> None:
    email = console.add_user(Role.STAFF)
    tokens = []
    clients = [console.client() for _ in range(throttle.ACCOUNT_FAILURES + 3)]
    for client in clients:
        tokens.append(console.csrf(client))

    def fail(i: int) -> int:
        data = {"email": email, "password": "wrong password!", "csrf_token": tokens[i]}
        return clients[i].post("/console/login", data=data).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(fail, range(len(clients))))
    assert set(statuses) <= {401, 429}, statuses  # never a 500
    assert 429 in statuses
    assert console.login(console.client(), email, PASSWORD).status_code == 429  # locked
