"""The date every test lives on. The bridge under test is pinned to it (``clock.offset_seconds`` in the test
config, so subprocesses agree), and tests build their dates from it: the suite passes on any day it runs."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.storage import clock

# After the captured orders (2026-11-2x), inside a 14-day hold of their completion.
TEST_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def offset_seconds() -> float:
    """How far the wall clock is from TEST_NOW: the bridge's clock shifted by it starts at TEST_NOW.
    (The one place the tests read the wall clock, and only to cancel it out.)"""
    return (TEST_NOW - clock.SystemClock().now()).total_seconds()


def now() -> datetime:
    """The bridge's current time in this test process (TEST_NOW plus the seconds the test has run)."""
    return clock.utcnow()
