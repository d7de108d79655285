"""Wiring of the referral program into the worker: the order observer and the qualification job."""

from __future__ import annotations

from bridge.inbox.dispatch import ORDER_OBSERVERS, PAGE_FORMS
from bridge.jobs.schedule import PeriodicJob, register
from bridge.referrals import attribution

if attribution.observe_order not in ORDER_OBSERVERS:
    ORDER_OBSERVERS.append(attribution.observe_order)
PAGE_FORMS[attribution.observe_order] = attribution.observe_page

register(
    PeriodicJob(
        name="referrals.qualify",
        interval_seconds=lambda rt: float(
            rt.settings.program.referrals.qualify_interval_seconds if rt.settings.program.referrals.enabled else 0
        ),
        run=attribution.qualify_due,
    )
)
