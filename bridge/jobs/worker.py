"""``bridge worker``: an RQ worker inside the app context, plus the inbox sweeper thread.

A ``SimpleWorker`` (no fork per job): jobs are few and long (each drains a batch stream), and staying in one
process keeps the database pool warm. If Redis goes away the worker waits for it (RQ retries the connection,
here at most 2 s apart, so a restarted Redis is picked up at once); the sweeper keeps looking for due deliveries
in SQL and triggers a drain as soon as Redis answers again. If RQ's loop ends on an error (it quits on any
unexpected exception, e.g. Redis vanishing while a job's end is recorded), a fresh one starts: only a stop signal
ends a long-running worker. A heartbeat thread tells ``/readyz`` and ``bridge status`` that the worker is alive
(bridge.jobs.heartbeat).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.exceptions import RedisError
from rq.worker import SimpleWorker
from setproctitle import setproctitle

from bridge.jobs.heartbeat import Heartbeat
from bridge.jobs.queue import make_queue
from bridge.jobs.schedule import Scheduler
from bridge.jobs.sweeper import Sweeper
from bridge.observability import metrics, request_id
from bridge.runtime import Runtime, current_runtime, use_runtime

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 1.0
RQ_MAX_CONNECTION_WAIT_SECONDS = 2.0
"""RQ's reconnect backoff grows to 60 s by default: after a Redis restart the worker would sit idle that long."""


class Worker(SimpleWorker):
    """RQ's ``SimpleWorker``, running each job under the id of the request that enqueued it (its ``meta``) and
    counting it in ``bridge_job_runs_total`` / ``bridge_job_duration_seconds``."""

    def procline(self, message: str) -> None:
        """``ps`` shows ``bridge worker: <what it does>`` (RQ's own title would name only its random worker id)."""
        setproctitle(f"bridge worker: {message}")

    def execute_job(self, job: Any, queue: Any) -> Any:
        with request_id.bound(str(job.meta.get(request_id.JOB_META_KEY) or "")):
            return super().execute_job(job, queue)

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        started = time.perf_counter()
        ok = False
        try:
            ok = bool(super().perform_job(job, queue, execution))
        finally:
            metrics.job_finished(str(job.func_name), ok, time.perf_counter() - started)
        return ok


def run_worker(runtime: Runtime, *, burst: bool = False, sweep: bool = True) -> None:
    """Jobs run with ``runtime`` as the current runtime (``use_runtime``): a worker needs no Flask app."""
    with use_runtime(runtime):
        rt = current_runtime()
        if sweep:
            rt.follow_changes()  # the worker's jobs and scheduler threads apply announced changes at once
        # The sweeper and the periodic jobs belong to long-running workers; a burst run (tests, one-off
        # drains) only empties the queue.
        threads: list[Sweeper | Scheduler | Heartbeat] = [Heartbeat(rt), Sweeper(rt), Scheduler(rt)] if sweep else []
        for thread in threads:
            thread.start()
        try:
            _work(burst)
        finally:
            for thread in threads:
                thread.stop()


def _work(burst: bool) -> None:
    rt = current_runtime()
    while True:
        try:
            connection = rt.worker_redis()
            worker = Worker(
                [make_queue(connection)], connection=connection, serializer=make_queue(connection).serializer
            )
            worker.max_connection_wait_time = RQ_MAX_CONNECTION_WAIT_SECONDS
            worker.work(burst=burst, logging_level=rt.settings.log_level, with_scheduler=False)
            # RQ records a stop signal here; without one, its loop ended on an error and logged it: go on working
            if burst or worker._shutdown_requested_date is not None:
                return
            log.warning("the RQ worker loop ended without a stop signal; starting it again in %ss", REDIS_RETRY_SECONDS)
            time.sleep(REDIS_RETRY_SECONDS)
        except RedisError as exc:
            if burst:
                raise
            log.warning("redis unreachable (%s); retrying in %ss", exc, REDIS_RETRY_SECONDS)
            time.sleep(REDIS_RETRY_SECONDS)
