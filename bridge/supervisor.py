"""``bridge run``: one process tree on one machine: embedded Redis, one worker, the web server.

The supervisor keeps them running: a child that dies (a crash, an OOM kill, ``kill -9``) is started again after a
short backoff and the restart is logged. Only a child that keeps dying within seconds of starting makes it give
up, and then it says which child, how often and with what exit status. A child's death never stops the others:
web intake stays up while the worker or Redis is restarted (deliveries wait in the SQL inbox, and the worker's
sweeper finds them again).

The supervisor itself binds the web port and hands the socket to gunicorn (``--bind fd://N``), so the port is
held for the bridge's whole life: while gunicorn restarts, connections wait in the listen backlog instead of
being refused. It also holds an exclusive lock on ``data_dir``, so a second ``bridge run`` on the same folder
stops at once instead of fighting the first one over the port and the Redis socket.

Every child is tied to this process with PR_SET_PDEATHSIG, and Ctrl-C / SIGTERM stop them in order (web first,
so nothing new arrives; then the worker; then Redis), so nothing outlives the bridge.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Protocol

from bridge.embedded_redis import EmbeddedRedis, _die_with_parent
from bridge.observability.multiproc import mark_dead

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.1
FAST_CRASH_SECONDS = 10.0
"""A child that dies sooner than this after starting counts as a fast crash (it cannot start, or dies at once)."""
MAX_FAST_CRASHES = 5
"""Consecutive fast crashes of one child after which the supervisor gives up and stops the bridge."""
BACKOFF_SECONDS = (0.1, 0.5, 1.0, 2.0, 4.0)
"""Wait before the n-th consecutive restart: quick after a one-off death, slower when a child keeps dying."""
LISTEN_BACKLOG = 2048  # gunicorn's default
LOCK_ATTEMPTS = 5


class BridgeAlreadyRunning(RuntimeError):
    pass


class PortInUse(RuntimeError):
    pass


def lock_data_dir(data_dir: Path) -> IO[str]:
    """Take the exclusive lock of ``data_dir`` (an flock on ``data_dir/bridge.lock``, which holds our pid).

    The lock goes with the returned file: the kernel drops it when this process ends, however it ends, so a
    ``kill -9`` leaves no stale lock behind. Raises ``BridgeAlreadyRunning`` naming the pid that holds it.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "bridge.lock"
    handle = path.open("a+")
    for attempt in range(LOCK_ATTEMPTS):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if attempt < LOCK_ATTEMPTS - 1:  # `bridge status` holds a shared lock for an instant when it looks
                time.sleep(0.1)
                continue
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise BridgeAlreadyRunning(
                f"another bridge (pid {holder}) is running on {data_dir.resolve()}: stop it first, or give this "
                "one its own data_dir"
            ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def lock_holder(data_dir: Path) -> int | None:
    """The pid of the ``bridge run`` holding ``data_dir``'s lock, or None when none does."""
    path = data_dir / "bridge.lock"
    try:
        handle = path.open()
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port`` (the socket gunicorn then serves), or raise ``PortInUse`` at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} is in use: use --port") from None
        raise
    sock.set_inheritable(True)
    return sock


def gunicorn_argv(bind_fd: int, workers: int = 2, threads: int = 4) -> list[str]:
    """gunicorn serving the bridge on an already bound, listening socket."""
    return [sys.executable, "-m", "gunicorn", *gunicorn_args(bind_fd, workers, threads)]


def gunicorn_args(bind_fd: int, workers: int = 2, threads: int = 4) -> list[str]:
    """gunicorn's command line options (without the program) to serve the bridge on a bound, listening socket;
    the app is preloaded in the master when more than one worker shares it (bridge/web/gunicorn_conf.py)."""
    return [
        *(["--preload"] if workers > 1 else []),
        "--bind", f"fd://{bind_fd}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--no-control-socket",
        "--graceful-timeout", "10",
        "--config", "python:bridge.web.gunicorn_conf",
        "bridge:serve_app()",
    ]  # fmt: skip


def describe_exit(status: int) -> str:
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


class Process(Protocol):
    """What the supervisor needs of a child process: ``subprocess.Popen`` or a ``Forked`` one."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class Forked:
    """A child forked from this process (no ``exec``) that runs ``target()`` and exits with its status.

    It shares every page the supervisor loaded before the fork (``bridge.supervise`` preloads the modules its
    children import), so those pages are paid once for the whole tree instead of once per child (bench/memory.py).
    ``poll``/``wait``/``terminate``/``kill`` and the exit status read like ``subprocess.Popen``'s.
    """

    def __init__(self, target: Callable[[], int], title: str, env: Mapping[str, str], pass_fds: tuple[int, ...]):
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # what this process holds stays untouched by the child's collector (bridge.supervise.preload)
        pid = os.fork()
        if pid == 0:  # the child: never returns into the supervisor's frames
            _run_forked(target, title, env, pass_fds)
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)


def _run_forked(target: Callable[[], int], title: str, env: Mapping[str, str], pass_fds: tuple[int, ...]) -> None:
    """In a freshly forked child: become a clean process of its own, run ``target``, exit (``os._exit``: the
    supervisor's ``finally`` blocks and atexit handlers belong to the supervisor)."""
    status = 1
    try:
        gc.enable()
        _die_with_parent()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the supervisor's handlers are not the child's
        signal.signal(signal.SIGINT, signal.default_int_handler)
        keep = sorted({0, 1, 2, *pass_fds})  # as Popen(close_fds=True): not the lock, not the others' sockets
        for low, high in zip(keep, [*keep[1:], os.sysconf("SC_OPEN_MAX")], strict=True):
            os.closerange(low + 1, high)
        import setproctitle

        setproctitle.setproctitle(title)  # `ps` and the tests tell the children apart by it (before the
        os.environ.clear()  # environment changes: setproctitle finds its room next to the original one)
        os.environ.update(env)
        status = target()
    except SystemExit as exc:  # click and gunicorn end with sys.exit()
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


@dataclass
class Child:
    """One supervised child and its restart history: a function run in a forked child (``target``), or the
    embedded Redis."""

    name: str
    pass_fds: tuple[int, ...] = ()
    redis: EmbeddedRedis | None = None  # the embedded Redis is started by EmbeddedRedis, which waits for it
    target: Callable[[], int] | None = None
    title: str = ""
    process: Process | None = None
    started_at: float = 0.0
    fast_crashes: int = 0
    restarts: int = 0
    restart_at: float | None = None

    def start(self, env: Mapping[str, str]) -> None:
        self.restart_at = None
        self.started_at = time.monotonic()
        if self.redis is not None:
            self.process = self.redis.start().process
        else:
            assert self.target is not None
            self.process = Forked(self.target, self.title or self.name, env, self.pass_fds)
        log.info("started %s (pid %s)", self.name, self.pid)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def poll(self) -> int | None:
        """The exit status if the child has died, else None."""
        return self.process.poll() if self.process is not None else None

    def stop(self) -> None:
        if self.redis is not None:
            self.redis.stop()
            self.process = None
            return
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time: killing it", self.name)
            process.kill()
            process.wait()


class GaveUp(RuntimeError):
    pass


class Supervisor:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.children: list[Child] = []
        self.stopping = False

    def start_redis(self, redis: EmbeddedRedis) -> None:
        self.env["BRIDGE_REDIS_URL"] = redis.url
        self._start(Child("redis-server", redis=redis))
        log.info("embedded redis-server on %s", redis.socket_path)

    def fork(self, name: str, target: Callable[[], int], title: str, pass_fds: tuple[int, ...] = ()) -> None:
        """Run ``target()`` in a forked, supervised child (it shares what this process has loaded)."""
        self._start(Child(name, target=target, title=title, pass_fds=pass_fds))

    def _start(self, child: Child) -> None:
        self.children.append(child)
        child.start(self.env)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        self.stopping = True

    def wait(self) -> int:
        """Supervise until SIGTERM/SIGINT (exit status 0) or until a child keeps crashing (1)."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            while not self.stopping:
                for child in self.children:
                    self._check(child)
                time.sleep(POLL_SECONDS)
        except GaveUp as exc:
            log.error("%s", exc)
            return 1
        finally:
            self.stop_all()
        return 0

    def _check(self, child: Child) -> None:
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at and not self.stopping:
                try:
                    child.start(self.env)
                except (OSError, RuntimeError) as exc:  # e.g. redis-server did not come up
                    log.error("%s could not be started: %s", child.name, exc)
                    self._crashed(child, now, "could not start")
            return
        status = child.poll()
        if status is None or self.stopping:
            return
        self._crashed(child, now, describe_exit(status))

    def _crashed(self, child: Child, now: float, how: str) -> None:
        ran = now - child.started_at
        child.fast_crashes = child.fast_crashes + 1 if ran < FAST_CRASH_SECONDS else 1
        if child.fast_crashes >= MAX_FAST_CRASHES:
            raise GaveUp(
                f"{child.name} died {child.fast_crashes} times in a row within {FAST_CRASH_SECONDS:.0f} s of "
                f"starting (last: {how}): giving up and stopping the bridge; its own messages above say why"
            )
        delay = BACKOFF_SECONDS[min(child.fast_crashes, len(BACKOFF_SECONDS)) - 1]
        child.restarts += 1
        child.restart_at = now + delay
        mark_dead(child.pid)  # its live metrics go (issue 19)
        if child.redis is not None:
            child.redis.stop()  # reap it and remove its socket, so the new server starts clean
        log.error(
            "%s (pid %s) died after %.1f s (%s): restarting it in %.1f s (restart %d)",
            child.name,
            child.pid,
            ran,
            how,
            delay,
            child.restarts,
        )

    def stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()


def child_env(config_path: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if config_path:
        env["BRIDGE_CONFIG"] = os.path.abspath(config_path)
    return env
