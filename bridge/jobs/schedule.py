"""Periodic jobs (release of pending points, expiry, reconciliation, webhook health...), run by the worker.

Every worker process runs a scheduler thread that calls each due job. Jobs must be idempotent and safe to run
concurrently in two workers (they work under ledger idempotency keys or row locks), so the scheduler needs
no distributed lock: running a job twice is a waste, never an error. A job that raises is logged and retried
at its next interval; it never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bridge.observability import metrics
from bridge.runtime import Runtime, use_runtime
from bridge.storage.clock import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: Callable[[Runtime], float]
    run: Callable[[Runtime, datetime], object]


PERIODIC: list[PeriodicJob] = []
"""Registered jobs. Each area adds its own with ``register`` in its job module; this registry imports no area:
``bridge.features.load`` (called by every entry point) imports them."""


def register(job: PeriodicJob) -> PeriodicJob:
    if all(existing.name != job.name for existing in PERIODIC):
        PERIODIC.append(job)
    return job


def run_due(rt: Runtime, last_run: dict[str, float], now_monotonic: float) -> list[str]:
    """Run every job whose interval has passed since its last run here; returns the names run."""
    rt.reload_shops()  # the scheduler thread follows `bridge connect` like every request and job
    ran = []
    for job in list(PERIODIC):
        interval = job.interval_seconds(rt)
        if interval <= 0:
            continue  # disabled by configuration
        if now_monotonic - last_run.get(job.name, float("-inf")) < interval:
            continue
        last_run[job.name] = now_monotonic
        try:
            with metrics.job_run(job.name):
                job.run(rt, utcnow())
            ran.append(job.name)
        except Exception:
            log.exception("periodic job %s failed; it runs again in %ss", job.name, interval)
    return ran


class Scheduler(threading.Thread):
    TICK_SECONDS = 1.0

    def __init__(self, rt: Runtime) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.rt = rt
        self.stopping = threading.Event()
        self.last_run: dict[str, float] = {}

    def run(self) -> None:
        with use_runtime(self.rt):  # a thread has no app context: jobs and observers find the runtime here
            while not self.stopping.is_set():
                run_due(self.rt, self.last_run, time.monotonic())
                self.stopping.wait(self.TICK_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
