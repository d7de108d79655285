"""The program in the console (issue 14): an owner edits it in a form drawn from the schema, sees the draft's diff
and its effect on recent orders, publishes; a viewer only reads; a version that moved is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.console.routing import Role
from bridge.storage import db
from bridge.storage import tables as t
from tests.console.conftest import Console
from tests.console.html_forms import form_fields
from tests.program.conftest import draft, publish, published, with_rate
from tests.support import woo
from tests.support.client import Bridge

PAID = "order.updated.processing-paid"  # 35.00: 35 points at 1 per currency unit
REWARDS = [
    {"id": "five-off", "title": "5 off", "type": "fixed_cart", "points": 500, "value": "5"},
    {"id": "free-shipping", "title": "Free shipping", "type": "free_shipping", "points": 300},
]


@pytest.fixture
def bridge(make_bridge: Callable[..., Bridge]) -> Bridge:
    """The test club with two rewards to edit."""
    return make_bridge(program={"rewards": REWARDS})


def edit_form(console: Console, client: FlaskClient) -> dict[str, str]:
    page = client.get("/console/program/edit")
    assert page.status_code == 200, page.get_data(as_text=True)
    return form_fields(page.get_data(as_text=True), "/console/program/edit")


def submit(client: FlaskClient, fields: dict[str, str]) -> Any:
    return client.post("/console/program/edit", data=fields)


def test_an_owner_edits_previews_and_publishes_and_every_award_follows(console: Console) -> None:
    bridge = console.bridge
    bridge.send_ok(*woo.with_order_id(PAID, 12))
    bridge.drain()
    owner = console.login_as(Role.OWNER, "owner@shop.test")

    page = owner.get("/console/program").get_data(as_text=True)
    assert "Published version" in page and "five-off" in page and "5 off" in page

    fields = edit_form(console, owner)
    assert fields["base_version"] == "1"
    fields["earn.points_per_currency_unit"] = "2"
    fields["name@fa"] = "باشگاه آزمایشی"
    fields["reason"] = "double points week"
    answer = submit(owner, fields)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    draft_page = owner.get(answer.headers["Location"]).get_data(as_text=True)
    assert "points_per_currency_unit: &#39;2&#39;" in draft_page or "points_per_currency_unit: '2'" in draft_page
    assert ">35<" in draft_page and ">70<" in draft_page  # order 12: 35 now, 70 under the draft
    assert published(bridge)["version"] == 1  # a draft changes nothing

    publish_action = answer.headers["Location"] + "/publish"
    sent = form_fields(draft_page, publish_action)
    done = owner.post(publish_action, data=sent)
    assert done.status_code == 302
    body = published(bridge)
    assert (body["version"], body["actor"], body["reason"]) == (2, "console:owner@shop.test", "double points week")
    assert body["program"]["name"] == {"en": "Test Club", "fa": "باشگاه آزمایشی"}
    assert bridge.rt.program_version == 2 and bridge.rt.settings.program.earn.points_per_currency_unit == 2
    assert "Version 2 is published" in owner.get("/console/program").get_data(as_text=True)

    with db.read(bridge.rt.engine) as conn:
        actions = conn.execute(select(t.audit_log.c.action, t.audit_log.c.actor)).all()
    assert ("program.publish", "console:owner@shop.test") in [tuple(a) for a in actions]


def test_a_bad_value_comes_back_next_to_its_input_and_nothing_is_stored(console: Console) -> None:
    owner = console.login_as(Role.OWNER)
    fields = edit_form(console, owner)
    fields["rewards[0].points"] = "lots"  # a typo an owner makes
    answer = submit(owner, fields)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'class="field invalid"' in page and 'value="lots"' in page  # what was typed stays
    huge = submit(owner, {**edit_form(console, owner), "earn.signup_points": "9" * 5000})  # past int()'s limit
    assert huge.status_code == 422  # the schema says why; a 500 before
    with db.read(console.bridge.rt.engine) as conn:
        assert conn.execute(select(t.program_draft.c.id)).first() is None


def test_rewards_are_added_and_removed_in_the_form(console: Console) -> None:
    owner = console.login_as(Role.OWNER)
    before = published(console.bridge)["program"]["rewards"]
    fields = edit_form(console, owner)
    new = f"rewards[{len(before)}]"
    fields.update({f"{new}.id": "tea", f"{new}.title": "A cup of tea", f"{new}.type": "fixed_cart"})
    fields.update({f"{new}.points": "100", f"{new}.value": "2", f"{new}.enabled": "1"})
    fields["remove:rewards[0]"] = "1"
    answer = submit(owner, fields)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    draft_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    assert publish(console.bridge, draft_id) == 2
    after = published(console.bridge)["program"]["rewards"]
    assert [r["id"] for r in after] == [r["id"] for r in before[1:]] + ["tea"]
    assert after[-1]["points"] == 100 and after[-1]["enabled"] is True


def test_the_whole_yaml_makes_a_draft_or_says_where_it_is_wrong(console: Console) -> None:
    owner = console.login_as(Role.OWNER)
    page = owner.get("/console/program").get_data(as_text=True)
    fields = form_fields(page, "/console/program/yaml")
    assert fields["document"].startswith("program:")
    broken = {**fields, "document": fields["document"].replace("signup_points:", "signup_point:")}
    refused = owner.post("/console/program/yaml", data=broken)
    assert refused.status_code == 422
    assert "earn.signup_point" in refused.get_data(as_text=True) and "signup_points" in refused.get_data(as_text=True)
    made = owner.post("/console/program/yaml", data=fields)
    assert made.status_code == 302 and "/console/program/drafts/" in made.headers["Location"]


def test_a_draft_made_before_another_publish_is_refused_with_a_message(console: Console) -> None:
    bridge = console.bridge
    owner = console.login_as(Role.OWNER)
    stale = draft(bridge, with_rate(published(bridge)["program"], "3"))
    assert publish(bridge, draft(bridge, with_rate(published(bridge)["program"], "2"))["id"]) == 2
    page = owner.get(f"/console/program/drafts/{stale['id']}").get_data(as_text=True)
    assert "publishing it is refused" in page
    sent = form_fields(page, f"/console/program/drafts/{stale['id']}/publish")
    refused = owner.post(f"/console/program/drafts/{stale['id']}/publish", data=sent, follow_redirects=True)
    assert "Version 2 was published after this draft was made from version 1" in refused.get_data(as_text=True)
    assert published(bridge)["version"] == 2


def test_an_owner_restores_an_old_version_and_a_viewer_only_reads(console: Console) -> None:
    bridge = console.bridge
    assert publish(bridge, draft(bridge, with_rate(published(bridge)["program"], "2"))["id"]) == 2
    viewer = console.login_as(Role.VIEWER)
    assert viewer.get("/console/program").status_code == 200
    assert viewer.get("/console/program/versions/1").status_code == 200
    assert "Publish this version again" not in viewer.get("/console/program/versions/1").get_data(as_text=True)
    assert viewer.get("/console/program/edit").status_code == 403

    owner = console.login_as(Role.OWNER)
    page = owner.get("/console/program/versions/1").get_data(as_text=True)
    sent = form_fields(page, "/console/program/versions/1/restore") | {"reason": "back to normal"}
    assert owner.post("/console/program/versions/1/restore", data=sent).status_code == 302
    body = published(bridge)
    assert (body["version"], body["reason"], body["program"]["earn"]["points_per_currency_unit"]) == (
        3,
        "back to normal",
        "1",
    )
    assert owner.get("/console/program/versions/99").status_code == 404
    assert owner.get("/console/program/drafts/99").status_code == 404


def test_an_owner_rotates_the_widget_secret_and_edits_origins_without_seeing_the_secret(console: Console) -> None:
    bridge = console.bridge
    owner = console.login_as(Role.OWNER, "owner@shop.test")
    page = owner.get("/console/shops/shop1/settings")
    assert page.status_code == 200 and "widget-secret-for-tests" not in page.get_data(as_text=True)
    action = "/console/shops/shop1/settings"
    fields = form_fields(page.get_data(as_text=True), action)

    short = owner.post(action, data={**fields, "widget_secret": "too-short"})
    assert short.status_code == 422 and "at least 32" in short.get_data(as_text=True)
    bad = owner.post(action, data={**fields, "allowed_origins": "https://shop.example/path"})
    assert bad.status_code == 422 and "allowed_origins[0]" in bad.get_data(as_text=True)

    secret = "a-new-widget-secret-0123456789abcdefXYZ"
    origins = "http://127.0.0.1:8080\nhttps://shop.example"
    saved = owner.post(action, data={**fields, "widget_secret": secret, "allowed_origins": origins})
    assert saved.status_code == 302
    shop = bridge.rt.settings.shop("shop1")
    assert shop is not None and shop.widget_secret == secret
    assert shop.allowed_origins == ("http://127.0.0.1:8080", "https://shop.example")
    after = owner.get(action).get_data(as_text=True)
    assert secret not in after and "from the database" in after

    back = owner.post(action, data={**fields, "secret_from": "config", "origins_from": "config"})
    assert back.status_code == 302
    shop = bridge.rt.settings.shop("shop1")
    assert shop is not None and shop.widget_secret.startswith("widget-secret-for-tests")
    staff = console.login_as(Role.STAFF)
    assert staff.get(action).status_code == 403
    assert owner.get("/console/shops/nope/settings").status_code == 404
