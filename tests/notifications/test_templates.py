"""Templates (per event, channel, locale; owner overrides; sandbox), the preview (CLI and admin API), and the events
of the periodic job: Jalali and Gregorian occasions, win-back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from bridge.cli import cli
from bridge.notifications import periodic
from tests.notifications.conftest import CAROL, deliveries, dispatch, events, notifications, paid_order
from tests.support.client import Bridge
from tests.support.mailbox import Mailbox

EMAIL_ONLY = {"points_earned": {"channels": ["email"]}}


def carol_id(bridge: Bridge) -> int:
    member = bridge.member(CAROL)
    assert member is not None
    return int(member["id"])


def test_cli_preview_prints_the_members_message(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, tmp_path: Path
) -> None:
    bridge = make_bridge(notifications=notifications(mailbox, events=EMAIL_ONLY))
    paid_order(bridge)
    config = ["--config", str(tmp_path / "config.yaml")]

    shown = CliRunner().invoke(
        cli, [*config, "notify", "preview", "--event", "points_earned", "--member", str(carol_id(bridge))]
    )
    assert shown.exit_code == 0, shown.output
    assert f"To: {CAROL}" in shown.output
    assert "Subject: You earned 35 points" in shown.output  # from Carol's own event, not a sample

    sms = CliRunner().invoke(
        cli,
        [
            *config,
            "notify",
            "preview",
            "--event",
            "points_earned",
            "--member",
            str(carol_id(bridge)),
            "--channel",
            "sms",
            "--locale",
            "fa",
            "--json",
        ],
    )
    assert sms.exit_code == 0, sms.output
    message = json.loads(sms.output)
    assert "۳۵" in message["text"] and message["segments"]["encoding"] == "UCS-2"

    missing = CliRunner().invoke(cli, [*config, "notify", "preview", "--event", "birthday", "--member", "999"])
    assert missing.exit_code == 1 and "no member 999" in missing.output


def test_admin_preview_and_its_refusals(make_bridge: Callable[..., Bridge], mailbox: Mailbox) -> None:
    bridge = make_bridge(notifications=notifications(mailbox, events=EMAIL_ONLY))
    paid_order(bridge)
    query = {"event": "reward_issued", "member": carol_id(bridge), "locale": "fa"}

    shown = bridge.admin("GET", "/admin/v1/notifications/preview", query_string=query)
    assert shown.status_code == 200
    body = shown.get_json()
    assert body["template"] == "fa/reward_issued.j2" and "LB-SAMPLE" in body["text"]
    assert "۱۴۰۵" in body["text"]  # the sample's 2026-12-31 as a Jalali date in Persian digits: 10 Dey 1405

    bad = bridge.admin("GET", "/admin/v1/notifications/preview", query_string={**query, "channel": "fax"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "validation_failed"
    unknown = bridge.admin("GET", "/admin/v1/notifications/preview", query_string={**query, "member": 999})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "member_not_found"
    assert bridge.client.get("/admin/v1/notifications/preview", query_string=query).status_code == 401


def test_the_owner_overrides_a_template_in_data_dir(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, tmp_path: Path
) -> None:
    folder = tmp_path / "data" / "templates" / "en"
    folder.mkdir(parents=True)
    (folder / "points_earned.email.j2").write_text(
        "{% block subject %}+{{ points|number }} for {{ program_name }}{% endblock %}"
        "{% block text %}Order {{ order_id }}{% endblock %}"
        "{% block html %}<b>{{ '<script>' }}</b>{% endblock %}"
    )
    bridge = make_bridge(notifications=notifications(mailbox, events=EMAIL_ONLY))
    paid_order(bridge)
    dispatch(bridge)

    (message,) = mailbox.messages
    assert message["Subject"] == "+35 for Test Club"
    html = message.get_body(("html",))
    assert html is not None and "<b>&lt;script&gt;</b>" in html.get_content()  # HTML is autoescaped


def test_a_template_reaching_for_python_internals_is_stopped_by_the_sandbox(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, tmp_path: Path
) -> None:
    folder = tmp_path / "data" / "templates" / "en"
    folder.mkdir(parents=True)
    (folder / "points_earned.j2").write_text(
        "{% block subject %}x{% endblock %}{% block text %}{{ ''.__class__.__mro__[1].__subclasses__() }}{% endblock %}"
    )
    bridge = make_bridge(notifications=notifications(mailbox, events=EMAIL_ONLY))
    paid_order(bridge)
    assert dispatch(bridge)["dead"] == 1
    (dead,) = deliveries(bridge)
    assert str(dead["last_error"]).startswith("template: SecurityError")
    assert mailbox.messages == []


def test_jalali_and_gregorian_occasions_once_per_member_and_year(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox
) -> None:
    occasions = [
        {"id": "nowruz", "calendar": "jalali", "month": 1, "day": 1},
        {"id": "yalda", "calendar": "jalali", "month": 9, "day": 30},
        {"id": "new-year", "calendar": "gregorian", "month": 1, "day": 1},
    ]
    bridge = make_bridge(program={"timezone": "Asia/Tehran"}, notifications=notifications(mailbox, occasions=occasions))
    paid_order(bridge)
    before = len(events(bridge))

    assert periodic.occasions(bridge.rt, datetime(2026, 12, 20, 20, 29, tzinfo=UTC)) == 0  # 23:59 on 29 Azar
    assert periodic.occasions(bridge.rt, datetime(2026, 12, 20, 20, 31, tzinfo=UTC)) == 1  # 00:01 on 30 Azar
    assert periodic.occasions(bridge.rt, datetime(2026, 12, 21, 12, 0, tzinfo=UTC)) == 0  # once
    assert periodic.occasions(bridge.rt, datetime(2027, 3, 21, 12, 0, tzinfo=UTC)) == 1  # 1 Farvardin 1406
    assert periodic.occasions(bridge.rt, datetime(2027, 1, 1, 12, 0, tzinfo=UTC)) == 1
    found = [(e["payload"]["occasion"], e["payload"]["year"]) for e in events(bridge)[before:]]
    assert found == [("yalda", 1405), ("nowruz", 1406), ("new-year", 2027)]


def test_win_back_after_n_days_without_an_order_once_per_spell(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox
) -> None:
    bridge = make_bridge(notifications=notifications(mailbox, win_back_days=60))
    paid_order(bridge)  # paid 2026-11-23
    paid = datetime(2026, 11, 23, 22, 32, 56, tzinfo=UTC)
    assert periodic.win_back(bridge.rt, paid + timedelta(days=59)) == 0
    assert periodic.win_back(bridge.rt, paid + timedelta(days=61)) == 1
    assert periodic.win_back(bridge.rt, paid + timedelta(days=90)) == 0
    (event,) = [e for e in events(bridge) if e["type"] == "win_back"]
    assert event["member_id"] == carol_id(bridge)
