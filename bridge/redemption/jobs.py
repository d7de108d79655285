"""Background work for redemptions: finish what a request could not, recover the stuck, expire the unused.

All idempotent and safe to run twice at once: a redemption is worked on only by whoever ``claim``\\ed its lease,
and every state change is conditional on the state it leaves.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bridge.jobs.schedule import PeriodicJob, register
from bridge.redemption import issuer, lifecycle
from bridge.redemption.model import State
from bridge.redemption.service import withdraw_coupon
from bridge.runtime import Runtime, current_runtime
from bridge.storage import db
from bridge.storage import redemptions as store
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)

BATCH = 100


def finish_redemption(redemption_id: int) -> str:
    """RQ job enqueued when a request stopped waiting for the shop: one more round of attempts."""
    rt = current_runtime()
    return _finish(rt, redemption_id, utcnow())


def _finish(rt: Runtime, redemption_id: int, now: datetime) -> str:
    s = rt.settings.program.redemption
    lease = timedelta(seconds=s.shop_timeout_seconds * 3 + 10)
    with db.write(rt.engine) as conn:
        if not store.claim(conn, redemption_id, now, lease):
            return "not-due"  # settled, or somebody else holds it
    return str(issuer.issue(rt, redemption_id, wait_seconds=s.shop_timeout_seconds).state)


def run_recover(rt: Runtime, now: datetime) -> dict[str, int]:
    """Finish every ``reserved`` redemption older than ``recover_after_seconds`` whose lease ran out.

    This covers a web process killed between the debit and the coupon, a lost RQ job and a shop that was down:
    each gets its coupon (adopted if it was created after all) or its points back.
    """
    s = rt.settings.program.redemption
    with db.read(rt.engine) as conn:
        due = store.due_reserved(conn, now, now - timedelta(seconds=s.recover_after_seconds), BATCH)
    outcome: dict[str, int] = {}
    for redemption_id in due:
        try:
            state = _finish(rt, redemption_id, now)
        except Exception:
            log.exception("recovering redemption %s failed; retried at the next sweep", redemption_id)
            state = "error"
        outcome[state] = outcome.get(state, 0) + 1
    if due:
        log.info("recovered redemptions: %s", outcome)
    return outcome


def run_expire(rt: Runtime, now: datetime) -> dict[str, int]:
    """Unused coupons past their date: deleted in the shop, then the points return (``return_points_on_expiry``)."""
    s = rt.settings.program.redemption
    with db.read(rt.engine) as conn:
        due = store.expired_issued(conn, now, BATCH)
    outcome = {"expired": 0, "in_use": 0, "shop_busy": 0}
    for redemption_id in due:
        with db.read(rt.engine) as conn:
            red = store.get(conn, redemption_id)
        if red is None or red.state != State.ISSUED:
            continue
        try:
            gone = withdraw_coupon(rt, red)
        except Exception as exc:
            log.warning("redemption %s: coupon not deleted yet (%s); next run retries", red.id, exc)
            outcome["shop_busy"] += 1
            continue
        if not gone:
            outcome["in_use"] += 1  # an order holds it; its webhook will mark it used
            continue
        with db.write(rt.engine) as conn:
            moved = store.transition(conn, red.id, (State.ISSUED,), state=State.EXPIRED, closed_at=now, updated_at=now)
            if moved and s.return_points_on_expiry:
                issuer.give_back(conn, red, issuer.return_key(red), "reward expired unused; points returned")
        outcome["expired"] += int(moved)
    return outcome


def run_orphan_checks(rt: Runtime, now: datetime) -> dict[str, int]:
    """Redemptions given up while the shop could not be asked: look their codes up, delete coupons of ours."""
    with db.read(rt.engine) as conn:
        due = store.orphan_checks_due(conn, now, BATCH)
    outcome: dict[str, int] = {}
    for red in due:
        result = issuer.check_orphan(rt, red, now)
        outcome[result] = outcome.get(result, 0) + 1
    if due:
        log.info("orphan coupon checks: %s", outcome)
    return outcome


register(
    PeriodicJob(
        "redemption.orphans", lambda rt: rt.settings.program.redemption.recover_interval_seconds, run_orphan_checks
    )
)
register(
    PeriodicJob("redemption.recover", lambda rt: rt.settings.program.redemption.recover_interval_seconds, run_recover)
)
register(
    PeriodicJob("redemption.expire", lambda rt: rt.settings.program.redemption.expire_interval_seconds, run_expire)
)
lifecycle.register()
