"""The one place that reads the wall clock (aware UTC), so nothing stores a naive datetime."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
