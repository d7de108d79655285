"""Bringing the database up to date with the code and the configuration, at start-up."""

from __future__ import annotations

from bridge.runtime import Runtime
from bridge.storage import db, programs


def prepare_database(rt: Runtime, *, migrate_schema: bool) -> None:
    """Apply migrations (when asked), mirror the configured program and shops into their rows, and seed the
    program's first published version from ``config.yaml`` (issue 14; after that the database is the source)."""
    from bridge.program import service as program_service

    if migrate_schema:
        from bridge.storage import migrate  # Alembic (and Mako, Pygments) only where the schema is migrated

        migrate.upgrade(rt.engine)
    config = rt.base_settings or rt.settings
    with db.write(rt.engine) as conn:
        programs.sync_from_settings(conn, config)
    if program_service.seed_from_config(rt.engine, config.program) is not None or rt.program_version is None:
        rt.reload_shops(force=True)  # this process follows the version at once
