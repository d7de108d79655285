"""Metrics across processes: prometheus_client's multiprocess mode (DESIGN.md §9).

gunicorn's workers and the RQ worker are separate processes; each would answer ``/metrics`` with its own counts
only. With ``PROMETHEUS_MULTIPROC_DIR`` set *before prometheus_client is first imported* (it picks its value
store at import time), every process keeps its values in files there and ``/metrics`` adds them up.

- ``bridge run`` (the supervisor) empties ``<data_dir>/metrics`` when it starts, under the data_dir lock, and
  hands the variable to its children; when a child dies it marks the pid dead (prometheus_client drops a dead
  process's live gauges; its counters keep counting towards the totals, as a counter must).
- ``bridge serve`` and ``bridge worker`` set it to the same folder unless the operator set it: processes of one
  host sharing a data_dir then share one view. Emptying it is then the operator's, at boot (a tmpfs, or systemd's
  ``RuntimeDirectory=``), never a started process's: it would delete files live processes still write.
- gunicorn's master marks each exited worker dead (``bridge.web.gunicorn_conf``).

Imports no prometheus_client at module level: the supervisor uses it and stays small.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
DIRNAME = "metrics"


def directory(data_dir: Path) -> Path:
    return data_dir / DIRNAME


def use(data_dir: Path, *, clean: bool = False) -> Path:
    """Make this process and its children keep metrics in the shared folder (``$PROMETHEUS_MULTIPROC_DIR`` if
    the operator set it, else ``<data_dir>/metrics``); ``clean``: empty it first (``bridge run`` only)."""
    path = Path(os.environ.get(ENV) or directory(data_dir))
    path.mkdir(parents=True, exist_ok=True)
    if clean:
        for stale in path.glob("*.db"):  # prometheus_client's files only, whatever else the folder holds
            stale.unlink(missing_ok=True)
    os.environ[ENV] = str(path)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        # Imported already (the CLI's modules import the metrics): prometheus_client chose its in-memory store at
        # import. A labelled metric makes its value holders at its first ``labels()`` call, from
        # ``values.ValueClass``, and every bridge metric is labelled and still unused when a command starts:
        # choosing again here puts them all in the shared folder.
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return path


def mark_dead(pid: int | None) -> None:
    """A child process ended: drop its live gauges from the shared folder (no-op outside multiprocess mode)."""
    path = os.environ.get(ENV)
    if pid is None or not path:
        return
    from prometheus_client import multiprocess

    try:
        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
    except OSError as exc:
        log.warning("could not clear the metrics of dead process %s: %s", pid, exc)
