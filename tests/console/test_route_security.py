"""Every console route, from the registry the views are declared in: without a session 302 to the login page,
below its role 403, and every POST without a CSRF token 400 — whatever page a helper adds later."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import url_for
from flask.testing import FlaskClient
from werkzeug.routing.converters import NumberConverter

from bridge.console.routing import ROUTES, ConsoleRoute, Role
from tests.console.conftest import Console

ROLES = (Role.VIEWER, Role.STAFF, Role.OWNER)


def url_of(console: Console, route: ConsoleRoute) -> str:
    """The route's URL with example values (an id of 1, a word): the guard answers before any view looks them up."""
    app = console.bridge.app
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == route.endpoint)
    values = {name: 1 if isinstance(conv, NumberConverter) else "x" for name, conv in rule._converters.items()}
    with app.test_request_context():
        return url_for(route.endpoint, **values)


def request(client: FlaskClient, method: str, url: str, token: str | None) -> int:
    data = {"csrf_token": token} if token else {}
    return client.open(url, method=method, data=data if method == "POST" else None).status_code


def protected() -> list[ConsoleRoute]:
    return [route for route in ROUTES.values() if route.role is not None]


def test_every_console_url_is_a_declared_route(console: Console) -> None:
    """A view added with ``bp.route`` instead of ``console_route`` would escape these checks: there is none."""
    declared = {r.endpoint for r in console.bridge.app.url_map.iter_rules() if r.endpoint.startswith("console.")}
    assert declared - {"console.static"} == set(ROUTES)
    assert {"console.login", "console.overview", "console.audit", "console.logout"} <= set(ROUTES)


def test_without_a_session_every_page_sends_to_the_login(console: Console) -> None:
    client = console.client()
    for route in protected():
        url = url_of(console, route)
        for method in route.methods:
            token = console.csrf(client) if method == "POST" else None
            response = client.open(url, method=method, data={"csrf_token": token} if token else None)
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"] == f"/console/login?next={quote(url, safe='/')}", (method, url)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.STAFF])
def test_a_role_below_the_route_is_refused(console: Console, role: Role) -> None:
    client = console.login_as(role)
    token = console.csrf(client, "/console/account")
    below = [route for route in protected() if route.role is not None and not role.allows(route.role)]
    assert below, f"no route needs more than {role}: this test would check nothing"
    for route in below:
        url = url_of(console, route)
        for method in route.methods:
            assert request(client, method, url, token) == 403, (role, method, url)


def test_every_post_needs_a_csrf_token(console: Console) -> None:
    posts = [route for route in ROUTES.values() if "POST" in route.methods]
    assert posts
    for route in posts:
        client = console.login_as(Role.OWNER) if route.role is not None else console.client()
        url = url_of(console, route)
        assert request(client, "POST", url, None) == 400, url
        assert request(client, "POST", url, "not-the-token") == 400, url


def test_each_role_opens_what_it_may(console: Console) -> None:
    """The other side of the 403s: every GET page answers (not 403) for each role that the route allows."""
    for role in ROLES:
        client = console.login_as(role)
        for route in protected():
            if "GET" not in route.methods or route.role is None or not role.allows(route.role):
                continue
            status = client.get(url_of(console, route)).status_code
            assert status != 403 and status != 302 and status < 500, (role, route.endpoint, status)


def test_the_audit_log_is_the_owners_only(console: Console) -> None:
    assert console.login_as(Role.STAFF).get("/console/audit").status_code == 403
    assert console.login_as(Role.OWNER).get("/console/audit").status_code == 200
