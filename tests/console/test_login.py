"""Signing in and out of the console: sessions, lockout, CSRF, revocation."""

from __future__ import annotations

from bridge.console.routing import Role
from tests.console.conftest import Console


def test_login_lands_on_the_overview(console: Console) -> None:
    email = console.add_user(Role.VIEWER)
    client = console.client()
    response = console.login(client, email)
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200
    assert "<h1>Overview</h1>" in page.get_data(as_text=True)
