"""The owner's webhooks: Standard Webhooks signatures, never doubled, retried in order, dead-lettered, replayed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bridge.notifications import dispatcher
from bridge.storage.clock import utcnow
from tests.integration.conftest import BOTH_BACKENDS
from tests.notifications.conftest import deliveries, dispatch, paid_order
from tests.support.client import Bridge
from tests.support.receiver import Receiver

WEBHOOKS_ONLY: dict[str, Any] = {"events": {}}  # no member channel: every event goes to the endpoint only


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The claim's SQL (FOR UPDATE SKIP LOCKED, the per-member order) runs on both databases."""
    return str(request.param)


def test_every_event_reaches_the_endpoint_signed_and_once(notifying: Callable[..., Bridge], receiver: Receiver) -> None:
    bridge = notifying(**WEBHOOKS_ONLY)
    paid_order(bridge)

    assert dispatch(bridge)["sent"] == 2
    assert dispatch(bridge).get("sent", 0) == 0  # a second run (or a second worker) sends nothing again

    assert [r.body["type"] for r in receiver.received] == ["thank_you", "points_earned"]
    assert all(r.verified for r in receiver.received)
    earned = receiver.received[1].body
    assert earned["data"]["points"] == 35 and earned["data"]["order_id"] == "12"
    assert earned["data"]["email"]  # the owner's CRM gets the address the shop vouches for


def test_a_receiver_down_for_a_while_gets_every_event_later_in_order(
    notifying: Callable[..., Bridge], receiver: Receiver
) -> None:
    bridge = notifying(**WEBHOOKS_ONLY)
    paid_order(bridge)
    receiver.down = True
    now = utcnow()
    assert dispatch(bridge, now) == {"planned": 2, "retried": 1}  # the later event waits behind the first
    assert dispatch(bridge, now + timedelta(seconds=30)).get("retried", 0) == 0  # backoff: not due yet
    assert dispatch(bridge, now + timedelta(seconds=61))["retried"] == 1
    assert [d["attempts"] for d in deliveries(bridge)] == [2, 0]

    receiver.down = False
    assert dispatch(bridge, now + timedelta(minutes=10))["sent"] == 2

    assert [r.body["type"] for r in receiver.received] == ["thank_you", "points_earned"]


def test_dead_lettered_after_max_attempts_visible_and_replayable(
    notifying: Callable[..., Bridge], receiver: Receiver
) -> None:
    bridge = notifying(**WEBHOOKS_ONLY, max_attempts=2)
    paid_order(bridge)
    receiver.down = True
    now = utcnow()
    dispatch(bridge, now)
    assert dispatch(bridge, now + timedelta(minutes=5))["dead"] == 1
    dispatch(bridge, now + timedelta(minutes=10))
    dispatch(bridge, now + timedelta(minutes=20))
    assert [d["state"] for d in deliveries(bridge)] == ["dead", "dead"]

    listed = bridge.admin("GET", "/admin/v1/notifications/deliveries", query_string={"state": "dead"}).get_json()
    assert [(d["event"]["type"], d["attempts"], d["last_error"]) for d in listed["deliveries"]] == [
        ("points_earned", 2, "http 503"),
        ("thank_you", 2, "http 503"),
    ]
    receiver.down = False
    first = listed["deliveries"][1]["id"]
    replayed = bridge.admin("POST", f"/admin/v1/notifications/deliveries/{first}/replay")
    assert replayed.status_code == 200 and replayed.get_json()["state"] == "pending"
    assert bridge.admin("POST", f"/admin/v1/notifications/deliveries/{first}/replay").status_code == 409
    assert bridge.admin("POST", "/admin/v1/notifications/deliveries/999999/replay").status_code == 404
    assert dispatch(bridge)["sent"] == 1
    assert [r.body["type"] for r in receiver.received] == ["thank_you"]


def test_a_crash_between_send_and_record_resends_once_with_the_same_webhook_id(
    notifying: Callable[..., Bridge], receiver: Receiver
) -> None:
    """At least once: the receiver got the message, the worker died before marking it sent. After the lease
    the message goes again, under the same ``webhook-id``: a receiver that drops repeats processes it once."""
    bridge = notifying(**WEBHOOKS_ONLY, lease_seconds=300)
    paid_order(bridge)
    rt, now = bridge.rt, utcnow()
    dispatcher.plan(rt, now)
    jobs, _ = dispatcher.claim(rt, now, Counter())
    assert [job.event.type for job in jobs] == ["thank_you"]  # points_earned waits for it (order per member)
    dispatcher.send(rt, jobs)  # ... and the process dies here: nothing recorded

    assert dispatch(bridge, now + timedelta(seconds=299)).get("sent", 0) == 0  # the lease holds
    assert dispatch(bridge, now + timedelta(seconds=301))["sent"] == 2

    assert [r.body["type"] for r in receiver.received] == ["thank_you", "thank_you", "points_earned"]
    assert receiver.received[0].id == receiver.received[1].id  # the same message, not a new one
    assert [r.body["type"] for r in receiver.unique()] == ["thank_you", "points_earned"]
    assert [(d["state"], d["attempts"]) for d in deliveries(bridge)] == [("sent", 2), ("sent", 1)]


def test_the_late_worker_cannot_overwrite_its_successor(notifying: Callable[..., Bridge], receiver: Receiver) -> None:
    bridge = notifying(**WEBHOOKS_ONLY)
    paid_order(bridge)
    rt, now = bridge.rt, utcnow()
    dispatcher.plan(rt, now)
    jobs, _ = dispatcher.claim(rt, now, Counter())
    receiver.down = True
    late = dispatcher.send(rt, jobs)  # slow: its lease runs out meanwhile
    receiver.down = False
    assert dispatch(bridge, now + timedelta(seconds=400))["sent"] == 2
    totals: Counter[str] = Counter()
    dispatcher.record(rt, jobs, late, now + timedelta(seconds=401), totals)
    assert totals == Counter({"lost_claim": 1})
    assert [d["state"] for d in deliveries(bridge)] == ["sent", "sent"]


def test_an_event_turned_off_goes_nowhere(notifying: Callable[..., Bridge], receiver: Receiver) -> None:
    bridge = notifying(events={"thank_you": {"enabled": False}, "points_earned": {"channels": ["email"]}})
    paid_order(bridge)
    dispatch(bridge)
    assert receiver.received == []
    assert [(d["type"], d["channel"]) for d in deliveries(bridge)] == [("points_earned", "email")]
