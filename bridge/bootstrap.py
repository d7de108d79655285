"""Bringing the database up to date with the code and the configuration, at start-up."""

from __future__ import annotations

from bridge.runtime import Runtime
from bridge.storage import db, migrate, programs


def prepare_database(rt: Runtime, *, migrate_schema: bool) -> None:
    """Apply migrations (when asked) and mirror the configured program and shops into their rows."""
    if migrate_schema:
        migrate.upgrade(rt.engine)
    with db.write(rt.engine) as conn:
        programs.sync_from_settings(conn, rt.settings)
