"""The slim supervisor of ``bridge run``: what runs for the bridge's whole life once it is prepared.

``bridge run`` reads the configuration, takes the data folder's lock, binds the port and migrates the database —
work that needs the whole application — and then *replaces itself* (``exec``) with this module, keeping its pid,
its lock and its listening socket (both passed as inherited file descriptors). This process imports nothing of
the application (no Flask, SQLAlchemy, Redis client or configuration schema), so the one process that only starts
and watches children costs a bare interpreter's memory instead of the whole bridge's (bench/memory.py).

    python -m bridge.supervise --listen-fd N --lock-fd M [--redis-socket PATH --redis-log PATH] --banner TEXT
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from bridge import logs
from bridge.embedded_redis import EmbeddedRedis
from bridge.supervisor import Supervisor


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bridge.supervise")
    parser.add_argument("--listen-fd", type=int, required=True, help="the bound, listening web socket")
    parser.add_argument("--lock-fd", type=int, required=True, help="the data folder's lock, held until the end")
    parser.add_argument("--redis-socket", type=Path, default=None, help="start the embedded redis-server here")
    parser.add_argument("--redis-log", type=Path, default=None)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--banner", default="", help="said on stderr once every child is started")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(sys.argv[1:] if argv is None else argv)
    logs.configure(args.log_level)
    listener = socket.socket(fileno=args.listen_fd)
    supervisor = Supervisor(dict(os.environ))
    try:
        if args.redis_socket is not None:
            supervisor.start_redis(EmbeddedRedis(args.redis_socket, args.redis_log))
        supervisor.spawn("worker", "worker")
        supervisor.spawn_web(listener)
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
