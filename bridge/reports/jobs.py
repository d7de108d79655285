"""The periodic job that keeps the report rollups up to date (registered by ``bridge.features``)."""

from __future__ import annotations

from datetime import datetime

from bridge.jobs.schedule import PeriodicJob, register
from bridge.reports import rollup
from bridge.runtime import Runtime

INTERVAL_SECONDS = 900.0  # a closed day is rolled up within GRACE + 15 minutes; the reports are exact meanwhile
BUDGET_SECONDS = 60.0  # per run: a first build over years of ledger goes on over several runs


def run_rollup(rt: Runtime, now: datetime) -> int:
    program = rt.settings.program
    return rollup.roll_up(rt.engine, program.id, program.earning.timezone, now, budget_seconds=BUDGET_SECONDS)


register(PeriodicJob("report-rollup", lambda rt: INTERVAL_SECONDS, run_rollup))
