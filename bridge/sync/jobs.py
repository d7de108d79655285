"""Periodic jobs of issue 7: reconciliation and webhook health (run by every worker's scheduler thread)."""

from __future__ import annotations

from typing import Any

from bridge.errors import UnknownShop
from bridge.jobs.queue import make_queue
from bridge.jobs.schedule import PeriodicJob, register
from bridge.runtime import Runtime, current_runtime
from bridge.storage import audit, db
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


# --- on demand (the console's Shops page): the same work, in a worker, never in the web request ---
RECONCILE_JOB = "bridge.sync.jobs.reconcile_now"
CHECK_WEBHOOKS_JOB = "bridge.sync.jobs.check_webhooks_now"


def reconcile_now(shop_id: str) -> dict[str, Any]:
    """RQ job: one reconciliation run of a shop now (the owner's "reconcile now")."""
    rt = current_runtime()
    try:
        return reconcile.reconcile(rt, shop_id).as_dict()
    except Exception as exc:
        reconcile.record_failure(rt, shop_id, exc)  # shown on the Shops page as the reconciliation's last error
        raise


def check_webhooks_now(shop_id: str) -> dict[str, Any]:
    """RQ job: the webhook health check of a shop now (the owner's "re-check webhooks")."""
    return dict(health.check_webhooks(current_runtime(), shop_id).__dict__)


def request_now(rt: Runtime, job: str, shop_id: str, *, actor: str) -> str:
    """Enqueue ``job`` for ``shop_id`` (audited with ``actor``); returns the RQ job id. The shop is asked by the
    worker: no web request waits for it, and no database transaction is open while it is asked."""
    if job not in (RECONCILE_JOB, CHECK_WEBHOOKS_JOB):
        raise ValueError(job)
    rt.reload_shops()
    if rt.settings.shop(shop_id) is None:
        raise UnknownShop(f"no shop {shop_id!r} is configured or connected")
    queued = make_queue(rt.redis()).enqueue_call(
        job,
        args=(shop_id,),
        timeout=max(600, int(rt.settings.sync.shop_timeout_seconds * 20)),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"{job.rsplit('.', 1)[-1]} {shop_id}",
    )
    with db.write(rt.engine) as conn:
        audit.record(
            conn,
            program_id=rt.settings.program.id,
            shop_id=shop_id,
            actor=actor,
            action=f"shop.{job.rsplit('.', 1)[-1]}",
            target_type="shop",
            target_id=shop_id,
            details={"job": queued.id},
        )
    return str(queued.id)
