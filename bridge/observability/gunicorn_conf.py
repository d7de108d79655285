"""gunicorn settings module (``--config python:bridge.observability.gunicorn_conf``): hooks only."""

from __future__ import annotations

from typing import Any

from bridge.observability.multiproc import mark_dead


def child_exit(server: Any, worker: Any) -> None:
    """A gunicorn worker exited: its live metrics go (prometheus_client's multiprocess bookkeeping)."""
    mark_dead(worker.pid)
