"""Notification tests: a real SMTP server (aiosmtpd) and a real webhook receiver on loopback, a bridge that uses them.

The dispatcher is run by the tests (``dispatch``), at the time they choose: the worker's periodic run is off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bridge.notifications import dispatcher
from bridge.storage import db
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from tests.support import woo
from tests.support.client import Bridge
from tests.support.mailbox import Mailbox
from tests.support.receiver import SECRET, Receiver

PUBLIC_URL = "https://loyalty.example"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def notifications(mailbox: Mailbox, receiver: Receiver | None = None, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "email": {"host": "127.0.0.1", "port": mailbox.port, "security": "none", "from_address": "club@shop.example"},
        "events": {
            "thank_you": {"channels": ["email", "webhook"]},
            "points_earned": {"channels": ["email", "webhook"]},
        },
        "dispatch_interval_seconds": 0,  # the tests dispatch themselves
        "retry_base_seconds": 60,
        "max_attempts": 3,
    }
    if receiver is not None:
        config["webhooks"] = [{"id": "crm", "url": receiver.url, "secret": SECRET}]
    config.update(extra)
    return config


@pytest.fixture
def notifying(make_bridge: Callable[..., Bridge], mailbox: Mailbox, receiver: Receiver) -> Callable[..., Bridge]:
    def build(**extra: Any) -> Bridge:
        return make_bridge(public_url=PUBLIC_URL, notifications=notifications(mailbox, receiver, **extra))

    return build


def dispatch(bridge: Bridge, now: datetime | None = None) -> dict[str, int]:
    return dispatcher.dispatch(bridge.rt, now or utcnow())


def deliveries(bridge: Bridge) -> list[dict[str, Any]]:
    d, e = t.notification_delivery.c, t.domain_event.c
    stmt = (
        select(d.id, d.channel, d.target, d.state, d.attempts, d.last_error, d.member_id, e.type)
        .join(t.domain_event, e.id == d.event_id)
        .order_by(d.id)
    )
    with db.read(bridge.rt.engine) as conn:
        return [dict(row) for row in conn.execute(stmt).mappings()]


def events(bridge: Bridge) -> list[dict[str, Any]]:
    with db.read(bridge.rt.engine) as conn:
        return [dict(r) for r in conn.execute(select(t.domain_event).order_by(t.domain_event.c.id)).mappings()]


def paid_order(bridge: Bridge) -> None:
    """Carol signs up (the shop vouches for her e-mail) and pays order 12 (35 points)."""
    for name in ("customer.created", "order.updated.processing-paid"):
        bridge.deliver_ok(name)
    bridge.drain()


CAROL = woo.CAROL
