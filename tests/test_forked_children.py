"""The children `bridge run` forks from its supervisor (``bridge.supervisor.Forked``): they read like the
subprocesses they replace (exit status, a kill, a name in ``ps``), and keep only the descriptors they are given,
so the data folder's lock dies with the supervisor, not with the last child."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bridge.supervisor import Forked, describe_exit


def test_a_forked_child_exits_with_its_targets_status_and_its_own_name_and_environment(tmp_path: Path) -> None:
    seen = tmp_path / "seen"

    def target() -> int:
        cmdline = Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        seen.write_text(f"{cmdline}|{os.environ.get('PROBE')}|{os.environ.get('HOME')}")
        return 3

    child = Forked(target, "bridge worker", {"PROBE": "yes"}, ())

    assert child.wait(30) == 3
    assert describe_exit(child.poll() or 0) == "exit status 3"
    assert seen.read_text() == "bridge worker|yes|None"  # named for ps; only the environment it was given


def test_a_killed_forked_child_reads_like_a_killed_subprocess(tmp_path: Path) -> None:
    child = Forked(lambda: time.sleep(60) or 0, "bridge worker", {}, ())
    assert child.poll() is None

    child.kill()

    assert child.wait(30) == -signal.SIGKILL
    assert describe_exit(child.wait()) == "killed by SIGKILL"


def test_a_forked_child_keeps_only_the_descriptors_it_is_given(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    with (tmp_path / "lock").open("w") as lock, (tmp_path / "socket").open("w") as given:

        def target() -> int:
            def is_open(fd: int) -> bool:
                try:
                    os.fstat(fd)
                except OSError:
                    return False
                return True

            seen.write_text(f"{is_open(lock.fileno())} {is_open(given.fileno())}")
            return 0

        assert Forked(target, "gunicorn", {}, (given.fileno(),)).wait(30) == 0

    assert seen.read_text() == "False True"
