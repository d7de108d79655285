"""gunicorn's configuration for the bridge (``-c python:bridge.web.gunicorn_conf``). With more than one worker,
``bridge.supervisor.gunicorn_args`` adds ``--preload``: the app is loaded once in the master and forked into every
worker, so the workers share its pages instead of each importing the bridge again. With one worker there is
nobody to share with: the master stays small and the worker loads the app (under ``bridge run`` both are forked
from the supervisor, which has the modules loaded already; ADR 0011).

What must not cross a fork is renewed in each worker, before it serves a request: the database pool (a
connection is never shared by two processes), the Redis clients, and the change listener thread (threads do not
survive a fork); without preloading, ``post_fork`` loads the app in the worker and starts its listener the same
way. ``gc.freeze()`` before forking keeps the collector from touching — and so copying — the shared objects in
every worker.
"""

from __future__ import annotations

import gc
from typing import Any

# The collector stays off while the master imports and builds the app (a collection then only moves objects
# about, dirtying pages the workers would otherwise share); every worker turns it back on after the fork.
gc.disable()


def pre_fork(server: Any, worker: Any) -> None:
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    from bridge.runtime import EXTENSION_KEY, Runtime

    gc.enable()
    rt: Runtime = server.app.wsgi().extensions[EXTENSION_KEY]
    rt.after_fork()


def child_exit(server: Any, worker: Any) -> None:
    """A gunicorn worker exited: its live metrics go (prometheus_client's multiprocess bookkeeping, issue 19)."""
    from bridge.observability.multiproc import mark_dead

    mark_dead(worker.pid)
