"""The bridge's Prometheus metrics (``bridge_*``), and the small calls that move them.

Every process keeps its own values; under ``bridge run`` / ``bridge serve`` (several gunicorn workers, a worker
process) ``PROMETHEUS_MULTIPROC_DIR`` is set before this module is first imported, so prometheus_client keeps them
in files there and ``/metrics`` adds all processes up (``bridge.observability.multiproc``).

Only counters and histograms live in the processes: they add up across processes. What is a level, not a count
(the inbox's lag and depth), is read from the database when scraped (``bridge.observability.endpoint``), so it is
right whichever process answers, and also when no worker is running at all.

Labels are bounded: shop ids come from the configuration, topics only from deliveries the connector handles, job
names from code, and shop API calls are labelled by the resource's first path segment, never its id.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from prometheus_client import Counter, Histogram
from sqlalchemy import Connection

from bridge.errors import BridgeError
from bridge.observability.committed import install, on_commit

install()
P = ParamSpec("P")
R = TypeVar("R")

DELIVERIES_RECEIVED = Counter(
    "bridge_deliveries_received_total", "Verified webhook deliveries stored in the inbox", ["shop", "topic"]
)
DELIVERIES_APPLIED = Counter(
    "bridge_deliveries_applied_total", "Inbox deliveries applied by a drain (committed)", ["shop", "topic"]
)
DELIVERIES_FAILED = Counter(
    "bridge_deliveries_failed_total",
    "Failed attempts to apply an inbox delivery (parked: no retry left)",
    ["shop", "topic", "parked"],
)
DRAIN_BATCH_SIZE = Histogram(
    "bridge_drain_batch_size",
    "Deliveries taken by one drain batch",
    ["shop"],
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
DRAIN_BATCH_SECONDS = Histogram("bridge_drain_batch_duration_seconds", "Time to apply one drain batch", ["shop"])
REDEMPTIONS = Counter(
    "bridge_redemptions_total",
    "Redemptions by outcome: the state a redemption moved into (reserved, issued, used, expired, cancelled, "
    "failed), or refused (nothing debited)",
    ["outcome"],
)
SHOP_API_REQUESTS = Counter(
    "bridge_shop_api_requests_total",
    "Calls to a shop's REST API by HTTP status (timeout, unreachable: no answer)",
    ["method", "resource", "status"],
)
SHOP_API_SECONDS = Histogram(
    "bridge_shop_api_request_duration_seconds", "Latency of calls to a shop's REST API", ["method", "resource"]
)
JOB_RUNS = Counter("bridge_job_runs_total", "Job runs (RQ jobs and periodic jobs) by outcome", ["job", "outcome"])
JOB_SECONDS = Histogram(
    "bridge_job_duration_seconds",
    "Job run time",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
)
LEDGER_ENTRIES = Counter("bridge_ledger_entries_total", "Ledger entries written (committed) by kind", ["kind"])


def delivery_received(shop: str, topic: str) -> None:
    """The webhook's hot path: one counter increment, nothing else."""
    DELIVERIES_RECEIVED.labels(shop, topic).inc()


def deliveries_applied(conn: Connection, shop: str, topics: list[str]) -> None:
    counts: dict[str, int] = {}
    for topic in topics:
        counts[topic] = counts.get(topic, 0) + 1

    def record() -> None:
        for topic, n in counts.items():
            DELIVERIES_APPLIED.labels(shop, topic).inc(n)

    on_commit(conn, record)


def delivery_failed(conn: Connection, shop: str, topic: str, *, parked: bool) -> None:
    on_commit(conn, DELIVERIES_FAILED.labels(shop, topic, "true" if parked else "false").inc)


def ledger_entries(conn: Connection, kinds: list[str]) -> None:
    """Entries this transaction wrote (counted when it commits)."""
    if not kinds:
        return
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1

    def record() -> None:
        for kind, n in counts.items():
            LEDGER_ENTRIES.labels(kind).inc(n)

    on_commit(conn, record)


def redemption_moved(conn: Connection, state: str) -> None:
    on_commit(conn, REDEMPTIONS.labels(state).inc)


def counts_refusals(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator for the redeem service: a request it refuses (an error of ours: too few points, a limit, a shop
    not ready ...) counts as a ``refused`` redemption; what it does redeem counts by the states it moves through."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BridgeError:
            REDEMPTIONS.labels("refused").inc()
            raise

    return wrapper


_RESOURCE = re.compile(r"[a-z_]{1,32}")


def shop_resource(path: str) -> str:
    """``coupons/123?x`` -> ``coupons``: the label for a shop API path (an id never becomes a label)."""
    head = path.lstrip("/").split("?", 1)[0].split("/", 1)[0]
    return head if _RESOURCE.fullmatch(head) else "other"


def shop_api_call(method: str, path: str, status: str, seconds: float) -> None:
    resource = shop_resource(path)
    SHOP_API_REQUESTS.labels(method, resource, status).inc()
    SHOP_API_SECONDS.labels(method, resource).observe(seconds)


@contextmanager
def job_run(name: str) -> Iterator[None]:
    """Time a job and count it as ``ok`` or ``failed`` (the exception goes on)."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        yield
        outcome = "ok"
    finally:
        JOB_SECONDS.labels(name).observe(time.perf_counter() - started)
        JOB_RUNS.labels(name, outcome).inc()


def job_finished(name: str, ok: bool, seconds: float) -> None:
    JOB_SECONDS.labels(name).observe(seconds)
    JOB_RUNS.labels(name, "ok" if ok else "failed").inc()


@contextmanager
def drain_batch(shop: str) -> Iterator[list[int]]:
    """Time one drain batch; the caller appends how many deliveries it took (nothing counted for an empty one)."""
    taken: list[int] = []
    started = time.perf_counter()
    try:
        yield taken
    finally:
        if taken and taken[0]:
            DRAIN_BATCH_SIZE.labels(shop).observe(taken[0])
            DRAIN_BATCH_SECONDS.labels(shop).observe(time.perf_counter() - started)
