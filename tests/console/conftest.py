"""The console under test: users made through the real service, clients signed in through the real login form.

``console.login_as(Role.STAFF)`` gives a test client with a live session of a new user of that role;
``console.csrf(client)`` the CSRF token its forms carry (read from a page, as a browser would).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bridge.console import users
from bridge.console.routing import Role
from tests.support.client import Bridge

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.console.browser import ConsoleSite

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Console:
    bridge: Bridge
    _numbers: count[int] = field(default_factory=lambda: count(1))

    def add_user(self, role: Role, email: str | None = None, password: str = PASSWORD) -> str:
        email = email or f"{role.value}{next(self._numbers)}@shop.test"
        users.add(
            self.bridge.rt.engine,
            self.bridge.rt.settings.program.id,
            email=email,
            role=role,
            password=password,
            actor="test",
        )
        return email

    def client(self) -> FlaskClient:
        return self.bridge.app.test_client()

    def csrf(self, client: FlaskClient, page: str = "/console/login") -> str:
        response = client.get(page)
        found = _CSRF.search(response.get_data(as_text=True))
        assert found, f"no CSRF token on {page} ({response.status_code})"
        return found.group(1)

    def login(self, client: FlaskClient, email: str, password: str = PASSWORD, **extra: str) -> TestResponse:
        token = self.csrf(client)
        return client.post("/console/login", data={"email": email, "password": password, "csrf_token": token, **extra})

    def login_as(self, role: Role, email: str | None = None) -> FlaskClient:
        email = self.add_user(role, email)
        client = self.client()
        response = self.login(client, email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def post(self, client: FlaskClient, path: str, data: dict[str, str] | None = None) -> TestResponse:
        """A form POST as the console's pages send it (with the session's CSRF token)."""
        token = self.csrf(client, "/console/account")
        return client.post(path, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def console(bridge: Bridge) -> Console:
    return Console(bridge)


@pytest.fixture(scope="session")
def chromium(browser: Browser) -> Browser:
    return browser  # the session's one Chromium (tests/conftest.py)


@pytest.fixture
def console_site(console: Console) -> Iterator[ConsoleSite]:
    from tests.console.browser import ConsoleSite
    from tests.widgets.servers import ServedApp

    served = ServedApp(console.bridge.app)
    yield ConsoleSite(console, served)
    served.stop()
