"""A periodic job that fails is retried soon, backing off, not a whole interval later (a nightly job would otherwise
lose a day to a one-second deadlock: seen in ``bench/scaleout.py``), and once it succeeds it is back on its
interval. The worker's real scheduler function, a real runtime; the job is one registered for the test."""

from __future__ import annotations

import itertools
from collections.abc import Callable
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


class Ticks:
    """The worker's scheduler with one job: ``at(moment)`` runs ``run_due`` then, with the timetable (last runs,
    failures in a row) kept between calls as the worker's thread keeps it."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.timetable = schedule.Scheduler(rt)

    @property
    def failures(self) -> dict[str, int]:
        return self.timetable.failures

    def at(self, moment: float) -> list[str]:
        return schedule.run_due(self.rt, self.timetable.last_run, moment, self.timetable.failures)


@pytest.fixture
def tick(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> Callable[[Flaky], Ticks]:
    """``tick(flaky)``: the scheduler with ``flaky`` as its only (nightly) job."""

    def only(flaky: Flaky) -> Ticks:
        monkeypatch.setattr(schedule, "PERIODIC", [schedule.PeriodicJob("nightly", lambda rt: DAY, flaky)])
        return Ticks(bridge.rt)

    return only


def test_a_failed_job_runs_again_after_30_s_then_keeps_its_interval(tick: Callable[[Flaky], Ticks]) -> None:
    flaky = Flaky(failing=1)
    ticks = tick(flaky)

    assert ticks.at(0.0) == []  # failed
    assert ticks.at(29.0) == []  # not yet
    assert flaky.runs == 1
    assert ticks.at(30.0) == ["nightly"]  # the retry succeeds
    assert ticks.failures == {}
    assert ticks.at(30.0 + DAY - 1) == []  # back on its interval
    assert ticks.at(30.0 + DAY) == ["nightly"]
    assert flaky.runs == 3


def test_retries_back_off_and_never_wait_longer_than_the_interval(tick: Callable[[Flaky], Ticks]) -> None:
    flaky = Flaky(failing=1_000)
    ticks = tick(flaky)
    started = []
    for second in range(0, int(3 * DAY), 30):
        before = flaky.runs
        ticks.at(float(second))
        if flaky.runs > before:
            started.append(second)

    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert gaps[:6] == [30, 60, 120, 240, 480, 960]  # doubling from 30 s
    assert max(gaps) == DAY and gaps[-1] == DAY  # capped at the job's own interval
    assert ticks.failures == {"nightly": len(started)}
