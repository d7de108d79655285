"""Quiet hours in the program's zone (held, never dropped), the daily cap per member, SMS through a provider."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from bridge.notifications.channels.sms import count_segments
from tests.notifications.conftest import CAROL, deliveries, dispatch, notifications, paid_order
from tests.support.client import Bridge
from tests.support.mailbox import Mailbox

EMAIL_ONLY = {"thank_you": {"channels": ["email"]}, "points_earned": {"channels": ["email"]}}
TEHRAN = {"program": {"timezone": "Asia/Tehran"}}  # UTC+03:30


def test_quiet_hours_hold_messages_until_morning_in_the_program_zone(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox
) -> None:
    quiet = {"start": "21:00", "end": "09:00"}
    bridge = make_bridge(**TEHRAN, notifications=notifications(mailbox, events=EMAIL_ONLY, quiet_hours=quiet))
    paid_order(bridge)
    late_evening = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)  # 22:00 in Tehran

    assert dispatch(bridge, late_evening)["held"] == 2
    assert dispatch(bridge, datetime(2026, 11, 27, 5, 29, tzinfo=UTC)).get("sent", 0) == 0  # 08:59 Tehran
    assert dispatch(bridge, datetime(2026, 11, 27, 5, 30, tzinfo=UTC))["sent"] == 2  # 09:00 Tehran
    assert len(mailbox.messages) == 2


def test_the_daily_cap_moves_the_rest_to_the_next_day(make_bridge: Callable[..., Bridge], mailbox: Mailbox) -> None:
    bridge = make_bridge(**TEHRAN, notifications=notifications(mailbox, events=EMAIL_ONLY, max_per_member_per_day=1))
    paid_order(bridge)
    noon = datetime(2026, 11, 26, 12, 1, tzinfo=UTC)  # just after the events (TEST_NOW)

    assert dispatch(bridge, noon) == {"planned": 2, "sent": 1, "held": 1}
    assert dispatch(bridge, noon + timedelta(hours=8)).get("sent", 0) == 0  # 23:30 in Tehran: still today
    assert dispatch(bridge, noon + timedelta(hours=9))["sent"] == 1  # 00:30 in Tehran: a new day
    assert [str(m["Subject"]) for m in mailbox.messages] == ["Thank you for your order #12", "You earned 35 points"]


KAVENEGAR = "https://api.kavenegar.test/v1/test-api-key/sms/send.json"


@pytest.fixture
def sms_api() -> Iterator[responses.RequestsMock]:
    """Kavenegar's API is the one thing faked: a third-party HTTP API (issue 17, Proof)."""
    with responses.RequestsMock() as rsps:
        yield rsps


def sms_bridge(make_bridge: Callable[..., Bridge], mailbox: Mailbox, **extra: object) -> Bridge:
    sms = {"provider": "kavenegar", "url": "https://api.kavenegar.test", "api_key": "test-api-key", "sender": "1000"}
    config = notifications(mailbox, events={"points_earned": {"channels": ["sms"]}}, sms=sms, locale="fa", **extra)
    bridge = make_bridge(notifications=config)
    bridge.deliver_ok("customer.created")
    bridge.drain()
    member = bridge.member(CAROL)
    assert member is not None
    put = bridge.admin("PUT", f"/admin/v1/members/{member['id']}/notifications", json={"phone": "09120000000"})
    assert put.status_code == 200, put.get_data(as_text=True)
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()
    return bridge


def test_sms_through_kavenegar_in_persian(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, sms_api: responses.RequestsMock
) -> None:
    sms_api.post(KAVENEGAR, json={"return": {"status": 200}, "entries": [{"messageid": 8792343}]})
    bridge = sms_bridge(make_bridge, mailbox)

    assert dispatch(bridge)["sent"] == 1

    (call,) = sms_api.calls
    form = dict(x.split("=", 1) for x in str(call.request.body).split("&"))
    assert form["receptor"] == "09120000000" and form["sender"] == "1000" and form["localid"] == "msg_club_1"
    text = requests.utils.unquote(form["message"].replace("+", " "))
    assert "۳۵ امتیاز" in text
    assert count_segments(text).encoding == "UCS-2"


def test_sms_failures_are_retried_then_dead_and_a_refusal_is_dead_at_once(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, sms_api: responses.RequestsMock
) -> None:
    sms_api.post(KAVENEGAR, status=502)
    sms_api.post(KAVENEGAR, body=requests.exceptions.ReadTimeout("slow"))
    sms_api.post(KAVENEGAR, status=502)
    bridge = sms_bridge(make_bridge, mailbox)
    now = datetime(2026, 11, 26, 12, 1, tzinfo=UTC)
    assert dispatch(bridge, now)["retried"] == 1
    assert dispatch(bridge, now + timedelta(minutes=2))["retried"] == 1
    assert dispatch(bridge, now + timedelta(minutes=5))["dead"] == 1  # max_attempts: 3
    (dead,) = deliveries(bridge)
    assert (dead["state"], dead["attempts"], dead["last_error"]) == ("dead", 3, "http 502")
    assert "test-api-key" not in str(dead["last_error"])


def test_an_sms_the_provider_refuses_is_dead_at_once(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, sms_api: responses.RequestsMock
) -> None:
    sms_api.post(KAVENEGAR, status=411, json={"return": {"status": 411, "message": "invalid receptor"}})
    bridge = sms_bridge(make_bridge, mailbox)
    assert dispatch(bridge)["dead"] == 1
    assert len(sms_api.calls) == 1


def test_segments_gsm7_and_ucs2() -> None:
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("€" * 80).characters == 160  # extended GSM characters count twice
    assert count_segments("س" * 70).segments == 1
    assert count_segments("س" * 71).segments == 2
    assert count_segments("س" * 135).segments == 3  # 67 per part


def test_delay_days_send_an_event_later(make_bridge: Callable[..., Bridge], mailbox: Mailbox) -> None:
    events = {"points_earned": {"channels": ["email"], "delay_days": 7}}
    bridge = make_bridge(notifications=notifications(mailbox, events=events))
    paid_order(bridge)
    created = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert dispatch(bridge, created + timedelta(days=6, hours=23)) == {"planned": 2}  # thank_you: not turned on
    assert dispatch(bridge, created + timedelta(days=7, minutes=1))["sent"] == 1
    assert [str(m["Subject"]) for m in mailbox.messages] == ["You earned 35 points"]


def test_sms_through_a_generic_http_json_provider(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox, sms_api: responses.RequestsMock
) -> None:
    sms_api.post("https://sms.example.test/send", json={"ok": True})
    sms = {"provider": "http_json", "url": "https://sms.example.test/send", "api_key": "bearer-key", "sender": "Club"}
    config = notifications(mailbox, events={"points_earned": {"channels": ["sms"]}}, sms=sms)
    bridge = make_bridge(notifications=config)
    bridge.deliver_ok("customer.created")
    bridge.drain()
    member = bridge.member(CAROL)
    assert member is not None
    bridge.admin("PUT", f"/admin/v1/members/{member['id']}/notifications", json={"phone": "+15550100"})
    bridge.deliver_ok("order.updated.processing-paid")
    bridge.drain()

    assert dispatch(bridge)["sent"] == 1
    (call,) = sms_api.calls
    assert call.request.headers["Authorization"] == "Bearer bearer-key"
    body = json.loads(call.request.body or b"{}")
    assert body == {
        "to": "+15550100",
        "text": "Test Club: +35 points for order #12.",
        "sender": "Club",
        "id": "msg_club_1",
    }
