"""The request id: taken from a sane ``X-Request-ID`` or made here, answered in the same header, put on every log
record made while the request (or a job it enqueued) runs.

A ``ContextVar``: each gunicorn thread, the worker's job and the scheduler's thread see their own. This module
imports nothing of the bridge, so ``bridge.logs`` can read it from its log-record factory.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
"""A proxy's or a load balancer's id (a UUID, ``Root=1-...``-like tokens): no spaces, quotes or control characters,
so it cannot forge a log line or a header, and bounded, so it cannot fill one."""

_current: ContextVar[str] = ContextVar("bridge_request_id", default="")


def sane(value: str | None) -> str | None:
    """``value`` when it can be used as a request id as it is, else None."""
    if value and len(value) <= MAX_LENGTH and _SANE.fullmatch(value):
        return value
    return None


def new() -> str:
    return uuid.uuid4().hex


def current() -> str:
    """The id of the request (or job) running in this context; "" outside any."""
    return _current.get()


@contextmanager
def bound(value: str) -> Iterator[str]:
    """Run the block under ``value`` (a job carrying the id of the request that enqueued it)."""
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def begin(value: str) -> object:
    """Bind ``value`` until ``end(token)`` (Flask's before/teardown request hooks cannot share a ``with``)."""
    return _current.set(value)


def end(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


JOB_META_KEY = "request_id"


def job_meta() -> dict[str, str]:
    """``meta`` for an RQ job enqueued now: the worker runs it under this request's id (``bridge.jobs.worker``)."""
    value = current()
    return {JOB_META_KEY: value} if value else {}
