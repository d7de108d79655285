"""The nightly scoring: RFM scores and every segment's members, refilled in one transaction (set-based).

Other features that keep something per scoring (the rfm report's monthly snapshot) register an ``after_scoring``
hook: it runs in the scoring's transaction, so it sees exactly the segments just written. This module imports none
of them (DESIGN.md §2: the composition root loads the features, each registers itself).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from bridge.config import ProgramSettings
from bridge.jobs.schedule import PeriodicJob, register
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import segments as store

log = logging.getLogger(__name__)

ScoringHook = Callable[[Connection, ProgramSettings, datetime], object]
_after_scoring: list[ScoringHook] = []


def after_scoring(hook: ScoringHook) -> ScoringHook:
    """Run ``hook(conn, program, now)`` at the end of every scoring, in its transaction (registering twice: once)."""
    if hook not in _after_scoring:
        _after_scoring.append(hook)
    return hook


def run_scoring(rt: Runtime, now: datetime) -> dict[str, int]:
    """Score the program's buyers and refill its segments; returns each segment's count."""
    program = rt.settings.program
    with db.write(rt.engine) as conn:
        scored = store.score(conn, program.id, now)
        store.fill(conn, program.id, program.segments, now)
        counts = store.counts(conn, program.id)
        for hook in _after_scoring:
            hook(conn, program, now)
    log.info("segments: %s buyers scored; %s", scored, counts)
    return counts


register(PeriodicJob("segments.score", lambda rt: rt.settings.program.segments.interval_seconds, run_scoring))
