"""The console's own pages: the audit log (filters, keyset pages), the program and its versions, the account."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import BadRequest

from bridge.console.routing import Role
from bridge.program import service as programs
from bridge.storage import audit, db
from tests.console.conftest import Console
from tests.support.client import Bridge


def test_audit_log_filters_and_pages_by_keyset(console: Console) -> None:
    bridge = console.bridge
    program_id = bridge.rt.settings.program.id
    with db.write(bridge.rt.engine) as conn:
        for i in range(120):
            audit.record(
                conn,
                program_id=program_id,
                actor="cli" if i % 2 else "api-key:abc",
                action=f"test.{i % 3}",
                target_type="member",
                target_id=str(i),
                details={"i": i},
            )
    client = console.login_as(Role.OWNER, "boss@shop.test")

    first = client.get("/console/audit?actor=cli").get_data(as_text=True)
    shown = re.findall(r'"i": (\d+)', first.replace("&#34;", '"'))
    assert len(shown) == 50 and shown[0] == "119" and all(int(i) % 2 for i in shown)  # newest first, cli only
    older = re.search(r'rel="next" href="([^"]+)"', first)
    assert older is not None
    link = older.group(1).replace("&amp;", "&")
    assert "before=" in link and "actor=cli" in link  # the filter goes with the next page
    second = client.get(link).get_data(as_text=True).replace("&#34;", '"')
    assert re.findall(r'"i": (\d+)', second)[0] == str(int(shown[-1]) - 2)  # the next one after the last shown

    by_target = client.get("/console/audit?target_type=member&target_id=7").get_data(as_text=True)
    assert len(re.findall(r'"i": \d+', by_target.replace("&#34;", '"'))) == 1
    mine = client.get("/console/audit?actor=console:boss@shop.test").get_data(as_text=True)
    assert "console.login" in mine  # the login of the owner reading it

    assert client.get("/console/audit?before=99999999999999999999999").status_code == 200  # out of range: ignored
    assert client.get("/console/audit?actor=" + "x" * 5000).status_code == 200  # bounded, matches nothing


def test_program_page_shows_the_published_version_and_the_owner_restores_one(console: Console) -> None:
    bridge = console.bridge
    program_id = bridge.rt.settings.program.id
    programs.restore(bridge.rt.engine, program_id, 1, actor="cli", reason="a second version")

    viewer = console.login_as(Role.VIEWER)
    page = viewer.get("/console/program").get_data(as_text=True)
    assert "Published version 2, by cli" in page and "name: Test Club" in page
    assert "Restore" not in page  # a viewer sees no button (and the route answers 403: test_route_security)

    owner = console.login_as(Role.OWNER, "boss@shop.test")
    assert "Restore" in owner.get("/console/program").get_data(as_text=True)
    response = console.post(owner, "/console/program/versions/1/restore", {"reason": "back to one"})
    assert response.status_code == 302
    after = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert '<p class="notice" role="status">Version 1 is published again as version 3.</p>' in after
    current = programs.published(bridge.rt.engine, program_id)
    assert current is not None
    assert (current["version"], current["actor"], current["reason"]) == (3, "console:boss@shop.test", "back to one")

    missing = console.post(owner, "/console/program/versions/99/restore")
    assert missing.status_code == 404 and "no program version 99" in missing.get_data(as_text=True)
    assert missing.mimetype == "text/html"


def test_account_page_lists_the_users_sessions(console: Console) -> None:
    email = console.add_user(Role.STAFF)
    first, second = console.client(), console.client()
    console.login(first, email)
    console.login(second, email)
    page = first.get("/console/account", headers={"User-Agent": "Laptop"}).get_data(as_text=True)
    assert email in page and page.count('<td dir="ltr">127.0.0.1</td>') == 2


def test_the_stylesheet_is_served_without_a_session(console: Console) -> None:
    response = console.client().get("/console/static/console.css")
    body = response.get_data(as_text=True)
    response.close()  # a file response: closed as a WSGI server would
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert "margin-inline-start" in body  # logical properties: RTL mirrors


def test_a_once_key_is_required_and_bounded(bridge: Bridge) -> None:
    from bridge.console import forms

    for sent, ok in (
        ({"once": "abc123"}, True),
        ({}, False),
        ({"once": "x" * 65}, False),
        ({"once": "a\u00e9"}, False),
    ):
        with bridge.app.test_request_context("/console/", method="POST", data=sent):
            if ok:
                assert forms.once_key() == sent["once"]
            else:
                with pytest.raises(BadRequest):
                    forms.once_key()
    assert forms.new_once_key() != forms.new_once_key()
