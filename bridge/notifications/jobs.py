"""Wiring of notifications into the worker: the order observer (thank_you, points_earned), the dispatcher, and the
periodic events no single change causes (win-back, occasions, coupons about to expire)."""

from __future__ import annotations

from bridge.inbox.dispatch import ORDER_OBSERVERS, PAGE_FORMS
from bridge.jobs.schedule import PeriodicJob, register
from bridge.notifications import dispatcher, orders, periodic

if orders.observe_order not in ORDER_OBSERVERS:
    ORDER_OBSERVERS.append(orders.observe_order)
PAGE_FORMS[orders.observe_order] = orders.observe_page

register(
    PeriodicJob(
        "notifications.dispatch",
        lambda rt: rt.settings.notifications.dispatch_interval_seconds,
        dispatcher.dispatch,
    )
)
register(PeriodicJob("notifications.moments", lambda rt: periodic.INTERVAL_SECONDS, periodic.run))
