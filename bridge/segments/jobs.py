"""The nightly scoring: RFM scores and every segment's members, refilled in one transaction (set-based)."""

from __future__ import annotations

import logging
from datetime import datetime

from bridge.jobs.schedule import PeriodicJob, register
from bridge.reports import segment_history
from bridge.runtime import Runtime
from bridge.storage import db
from bridge.storage import segments as store

log = logging.getLogger(__name__)


def run_scoring(rt: Runtime, now: datetime) -> dict[str, int]:
    """Score the program's buyers and refill its segments; returns each segment's count."""
    program = rt.settings.program
    with db.write(rt.engine) as conn:
        scored = store.score(conn, program.id, now)
        store.fill(conn, program.id, program.segments, now)
        counts = store.counts(conn, program.id)
        segment_history.snapshot(conn, program.id, program.earning.timezone, now)  # issue 18: the rfm report's months
    log.info("segments: %s buyers scored; %s", scored, counts)
    return counts


register(PeriodicJob("segments.score", lambda rt: rt.settings.program.segments.interval_seconds, run_scoring))
