"""Periodic jobs (release of pending points, expiry, reconciliation, webhook health...), run by the worker.

Every worker process runs a scheduler thread that calls each due job. Jobs must be idempotent and safe to run
concurrently in two workers (they work under ledger idempotency keys or row locks), so the scheduler needs
no distributed lock: running a job twice is a waste, never an error. A job that raises is logged and retried
soon, backing off (``retry_in``), never later than its next interval; it never stops the others.
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


RETRY_FIRST_SECONDS = 30.0


def retry_in(failures: int, interval: float) -> float:
    """Seconds until a job that failed ``failures`` times in a row runs again: 30 s, 1 min, 2 min ... never more
    than its interval. Most failures are passing (a deadlock, a restarted database, a shop timing out); a nightly
    job that waited its whole interval would lose a day to a one-second hiccup."""
    return min(interval, RETRY_FIRST_SECONDS * float(2 ** min(failures - 1, 20)))


def run_due(
    rt: Runtime, last_run: dict[str, float], now_monotonic: float, failures: dict[str, int] | None = None
) -> list[str]:
    """Run every job whose interval has passed since its last run here; returns the names run.

    ``last_run``: when each job last started (monotonic seconds); ``failures``: how many times in a row each has
    failed. A failed job is due again after ``retry_in``, by moving its last start back.
    """
    rt.reload_shops()  # the scheduler thread follows `bridge connect` like every request and job
    failures = {} if failures is None else failures
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
            failures.pop(job.name, None)
        except Exception:
            failures[job.name] = failures.get(job.name, 0) + 1
            wait = retry_in(failures[job.name], interval)
            last_run[job.name] = now_monotonic - interval + wait
            log.exception(
                "periodic job %s failed (%s in a row); it runs again in %ss", job.name, failures[job.name], wait
            )
    return ran


class Scheduler(threading.Thread):
    TICK_SECONDS = 1.0

    def __init__(self, rt: Runtime) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.rt = rt
        self.stopping = threading.Event()
        self.last_run: dict[str, float] = {}
        self.failures: dict[str, int] = {}

    def run(self) -> None:
        with use_runtime(self.rt):  # a thread has no app context: jobs and observers find the runtime here
            while not self.stopping.is_set():
                run_due(self.rt, self.last_run, time.monotonic(), self.failures)
                self.stopping.wait(self.TICK_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
