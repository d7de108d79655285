"""A periodic job that fails is retried soon, backing off, not a whole interval later (a nightly job would otherwise
lose a day to a one-second deadlock: seen in ``bench/scaleout.py``), and once it succeeds it is back on its
interval. The worker's real scheduler function, a real runtime; the job is one registered for the test."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from bridge.jobs import schedule
from bridge.runtime import Runtime
from tests.support.client import Bridge

DAY = 86_400.0


class Flaky:
    """A nightly job that fails its first ``failing`` runs (a passing database error), then succeeds."""

    def __init__(self, failing: int) -> None:
        self.failing = failing
        self.runs = 0

    def __call__(self, rt: Runtime, now: datetime) -> None:
        self.runs += 1
        if self.runs <= self.failing:
            raise RuntimeError("deadlock detected")


def only(monkeypatch: pytest.MonkeyPatch, flaky: Flaky) -> None:
    monkeypatch.setattr(schedule, "PERIODIC", [schedule.PeriodicJob("nightly", lambda rt: DAY, flaky)])


def test_a_failed_job_runs_again_after_30_s_then_keeps_its_interval(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = Flaky(failing=1)
    only(monkeypatch, flaky)
    last_run: dict[str, float] = {}
    failures: dict[str, int] = {}

    assert schedule.run_due(bridge.rt, last_run, 0.0, failures) == []  # failed
    assert schedule.run_due(bridge.rt, last_run, 29.0, failures) == []  # not yet
    assert flaky.runs == 1
    assert schedule.run_due(bridge.rt, last_run, 30.0, failures) == ["nightly"]  # the retry succeeds
    assert failures == {}
    assert schedule.run_due(bridge.rt, last_run, 30.0 + DAY - 1, failures) == []  # back on its interval
    assert schedule.run_due(bridge.rt, last_run, 30.0 + DAY, failures) == ["nightly"]
    assert flaky.runs == 3


def test_retries_back_off_and_never_wait_longer_than_the_interval(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = Flaky(failing=1_000)
    only(monkeypatch, flaky)
    last_run: dict[str, float] = {}
    failures: dict[str, int] = {}
    started = []
    for second in range(0, int(3 * DAY), 30):
        before = flaky.runs
        schedule.run_due(bridge.rt, last_run, float(second), failures)
        if flaky.runs > before:
            started.append(second)

    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert gaps[:6] == [30, 60, 120, 240, 480, 960]  # doubling from 30 s
    assert max(gaps) == DAY and gaps[-1] == DAY  # capped at the job's own interval
    assert failures == {"nightly": len(started)}
