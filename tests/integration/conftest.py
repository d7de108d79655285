"""Integration tests run the real pipeline: webhook -> inbox -> RQ worker -> ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

BOTH_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
