"""Periodic jobs of issue 7: reconciliation and webhook health (run by every worker's scheduler thread)."""

from __future__ import annotations

from bridge.jobs.schedule import PeriodicJob, register
from bridge.sync import health, reconcile

register(
    PeriodicJob(
        name="sync.reconcile",
        interval_seconds=lambda rt: float(rt.settings.sync.reconcile_interval_seconds),
        run=reconcile.reconcile_all,
    )
)
register(
    PeriodicJob(
        name="sync.webhook_health",
        interval_seconds=lambda rt: float(rt.settings.sync.webhook_health_interval_seconds),
        run=health.check_all,
    )
)
