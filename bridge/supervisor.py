"""``bridge run``: one process tree on one machine: embedded Redis, one worker, the web server.

Every child is tied to this process with PR_SET_PDEATHSIG, and Ctrl-C / SIGTERM stop them in order
(web first, so nothing new arrives; then the worker; then Redis), so nothing outlives the bridge.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from types import FrameType

from bridge.embedded_redis import EmbeddedRedis, _die_with_parent

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 15.0


class Supervisor:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.redis: EmbeddedRedis | None = None
        self.stopping = False

    def start_redis(self, redis: EmbeddedRedis) -> None:
        self.redis = redis.start()
        self.env["BRIDGE_REDIS_URL"] = redis.url
        log.info("embedded redis-server running (pid %s) on %s", redis.pid, redis.socket_path)

    def spawn(self, name: str, *args: str) -> None:
        cmd = [sys.executable, "-m", "bridge", *args]
        process = subprocess.Popen(cmd, env=self.env, preexec_fn=_die_with_parent)
        self.children.append((name, process))
        log.info("started %s (pid %s)", name, process.pid)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        self.stopping = True

    def wait(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        status = 0
        try:
            while not self.stopping:
                for name, process in self.children:
                    if process.poll() is not None:
                        log.error("%s exited with %s: stopping the bridge", name, process.returncode)
                        status = process.returncode or 1
                        self.stopping = True
                time.sleep(0.2)
        finally:
            self.stop_all()
        return status

    def stop_all(self) -> None:
        for name, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in time: killing it", name)
                    process.kill()
                    process.wait()
        self.children.clear()
        if self.redis is not None:
            self.redis.stop()
            self.redis = None


def child_env(config_path: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if config_path:
        env["BRIDGE_CONFIG"] = os.path.abspath(config_path)
    return env
