"""Reminders before points expire ("in 30 days", then "in 7 days", issue 17): the expiry job's warning, then one
``points_expiring_soon`` per ``notifications.expiry_reminder_days`` horizon — once each, for the points still at
stake (spends consume the oldest lots first, as the expiry itself counts)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bridge.ledger import expiry
from bridge.notifications import periodic
from tests.notifications.conftest import events, notifications, paid_order
from tests.support import woo
from tests.support.client import Bridge
from tests.support.clock import TEST_NOW
from tests.support.mailbox import Mailbox

EXPIRY = {"mode": "lot", "months": 1, "warn_days": 30}  # the 85 points (35 + 50 sign-up) expire a month on


def expiring(bridge: Bridge) -> list[dict[str, Any]]:
    return [e for e in events(bridge) if e["type"] == "points_expiring_soon"]


def reminded(make_bridge: Callable[..., Bridge], mailbox: Mailbox) -> Bridge:
    bridge = make_bridge(
        program={"earn": {"expiry": EXPIRY}}, notifications=notifications(mailbox, expiry_reminder_days=[7])
    )
    paid_order(bridge)
    return bridge


def test_the_warning_then_a_reminder_within_seven_days_once(
    make_bridge: Callable[..., Bridge], mailbox: Mailbox
) -> None:
    bridge = reminded(make_bridge, mailbox)
    rt = bridge.rt
    assert (
        expiry.run_all(rt.engine, rt.settings.program.id, rt.settings.program.earning, TEST_NOW + timedelta(days=10))[
            "warned"
        ]
        == 1
    )  # within 30 days
    assert periodic.expiry_reminders(rt, TEST_NOW + timedelta(days=22)) == 0  # 8 days left
    assert periodic.expiry_reminders(rt, TEST_NOW + timedelta(days=24)) == 1  # 6 days left
    assert periodic.expiry_reminders(rt, TEST_NOW + timedelta(days=25)) == 0  # once
    first, second = expiring(bridge)
    assert first["payload"]["points"] == 85 and "reminder" not in first["payload"]
    assert (second["payload"]["points"], second["payload"]["within_days"]) == (85, 7)
    assert second["payload"]["reminder"] is True


def test_no_reminder_for_points_spent_since(make_bridge: Callable[..., Bridge], mailbox: Mailbox) -> None:
    bridge = reminded(make_bridge, mailbox)
    member = bridge.member(woo.CAROL)
    assert member is not None
    spent = bridge.admin(
        "POST",
        f"/admin/v1/members/{member['id']}/adjustments",
        json={"points": -member["balance"]["available"], "reason": "spent at the counter"},
        headers={"Idempotency-Key": "spend-all"},
    )
    assert spent.status_code == 201
    assert periodic.expiry_reminders(bridge.rt, TEST_NOW + timedelta(days=24)) == 0
