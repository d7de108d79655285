"""The slim supervisor of ``bridge run``: what runs for the bridge's whole life once it is prepared.

``bridge run`` reads the configuration, takes the data folder's lock, binds the port and migrates the database —
work that needs the whole application — and then *replaces itself* (``exec``) with this module, keeping its pid,
its lock and its listening socket (both passed as inherited file descriptors). What ``bridge run`` loaded for that
preparation (Alembic, the migrations, the demo seeding, its open connections) is gone with the ``exec``.

This process then *imports* (never runs) the modules its children import — SQLAlchemy, redis-py, RQ, Flask,
gunicorn, the bridge's own (``preload``) — and forks the worker and gunicorn's master from itself instead of
starting fresh interpreters: the pages of those modules are then shared by the whole tree and paid once, not once
by the worker and once more by the web server (bench/memory.py, ADR 0011). It builds no configuration, runtime,
app, connection or thread of its own, so each forked child starts as clean as a fresh one; a child that dies is
forked again from the same clean state. ``import bridge.supervise`` itself stays slim (tests/test_slim_processes.py).

    python -m bridge.supervise --listen-fd N --lock-fd M [--redis-socket PATH --redis-log PATH] --banner TEXT
        [--web-workers N --web-threads M]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import pkgutil
import socket
import sys
from pathlib import Path

from bridge import logs
from bridge.embedded_redis import EmbeddedRedis
from bridge.supervisor import Supervisor, gunicorn_args

PRELOAD = (
    "bridge.cli",  # the worker: `bridge worker` (click, the configuration, the runtime, SQLAlchemy, redis-py)
    "bridge.bootstrap",
    "bridge.jobs.worker",  # RQ
    "gunicorn.app.wsgiapp",  # the web server: gunicorn's master and its gthread workers
    "gunicorn.arbiter",
    "gunicorn.workers.gthread",
    "werkzeug.middleware.proxy_fix",
    "bridge.observability.web",  # what building the app and the runtime import on their way
    "bridge.observability.endpoint",
    "bridge.program.reload",
    "bridge.sync.changes",
    "prometheus_client.multiprocess",
)
"""Modules the children import, loaded here before they are forked; ``features.load_web()`` adds every
feature's jobs and web modules, ``WEB_PACKAGES`` the app's. tests/test_slim_processes.py checks that the children
import little else."""
WEB_PACKAGES = ("bridge.web", "bridge.console")
NOT_PRELOADED = {"bridge.web.gunicorn_conf"}  # gunicorn's master runs it (it turns the collector off there)


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bridge.supervise")
    parser.add_argument("--listen-fd", type=int, required=True, help="the bound, listening web socket")
    parser.add_argument("--lock-fd", type=int, required=True, help="the data folder's lock, held until the end")
    parser.add_argument("--redis-socket", type=Path, default=None, help="start the embedded redis-server here")
    parser.add_argument("--redis-log", type=Path, default=None)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--banner", default="", help="said on stderr once every child is started")
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument("--web-threads", type=int, default=8, help="threads per gunicorn worker")
    return parser.parse_args(argv)


def preload() -> None:
    """Import what the children will import, with the collector off (a collection would leave freed holes in
    pages the children share: each child fills them, copying the page), then freeze it all: no child's collector
    touches (and so copies) those objects either (Python's ``gc.freeze`` note; the same as gunicorn's own preload
    in bridge/web/gunicorn_conf.py). Every forked child turns its collector back on."""
    gc.disable()
    for name in PRELOAD:
        importlib.import_module(name)
    for package in WEB_PACKAGES:
        found = pkgutil.iter_modules(importlib.import_module(package).__path__, package + ".")
        for module in found:
            if module.name not in NOT_PRELOADED:
                importlib.import_module(module.name)
    from bridge import features

    features.load_web()
    gc.freeze()
    gc.enable()  # the supervisor's own later garbage (Forked freezes again before each fork)


def _worker() -> int:
    """The forked worker child: ``bridge worker``, as if started on its own."""
    from bridge.cli import main

    sys.argv = ["bridge", "worker"]
    main()
    return 0


def _web(options: list[str]) -> int:
    """The forked web child: gunicorn's master on the inherited socket; it loads the app and forks its workers."""
    from gunicorn.app.wsgiapp import run

    sys.argv = ["gunicorn", *options]
    run(prog="gunicorn")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = arguments(sys.argv[1:] if argv is None else argv)
    logs.configure(args.log_level)
    listener = socket.socket(fileno=args.listen_fd)
    supervisor = Supervisor(dict(os.environ))
    try:
        if args.redis_socket is not None:
            supervisor.start_redis(EmbeddedRedis(args.redis_socket, args.redis_log))
        preload()
        fd = listener.fileno()
        supervisor.fork("worker", _worker, "bridge worker")
        web = gunicorn_args(fd, args.web_workers, args.web_threads)
        supervisor.fork("web", lambda: _web(web), "gunicorn: bridge web", pass_fds=(fd,))
    except BaseException:
        supervisor.stop_all()
        raise
    if args.banner:
        sys.stderr.write(args.banner + "\n")
        sys.stderr.flush()
    status = supervisor.wait()
    listener.close()
    os.close(args.lock_fd)
    return status


if __name__ == "__main__":
    sys.exit(main())
