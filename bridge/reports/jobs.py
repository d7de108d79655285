"""The periodic job that keeps the report rollups up to date, and the rfm report's monthly snapshot taken at the
end of the segments' scoring (both registered when ``bridge.features`` imports this module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bridge.config import ProgramSettings
from bridge.jobs.schedule import PeriodicJob, register
from bridge.reports import rollup, segment_history
from bridge.runtime import Runtime
from bridge.segments.jobs import after_scoring

INTERVAL_SECONDS = 900.0  # a closed day is rolled up within GRACE + 15 minutes; the reports are exact meanwhile
BUDGET_SECONDS = 60.0  # per run: a first build over years of ledger goes on over several runs


def run_rollup(rt: Runtime, now: datetime) -> int:
    program = rt.settings.program
    return rollup.roll_up(rt.engine, program.id, program.earning.timezone, now, budget_seconds=BUDGET_SECONDS)


register(PeriodicJob("report-rollup", lambda rt: INTERVAL_SECONDS, run_rollup))


@after_scoring
def snapshot_segments(conn: Connection, program: ProgramSettings, now: datetime) -> None:
    segment_history.snapshot(conn, program.id, program.earning.timezone, now)  # the rfm report's months
