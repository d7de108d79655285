"""How a process follows the published program: one indexed read per check, the document only when it moved."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bridge.config import ProgramSettings
from bridge.errors import ConfigError
from bridge.program import document
from bridge.storage import db
from bridge.storage import program_versions as store

log = logging.getLogger(__name__)


def newer_published(engine: Engine, program_id: str, known: int | None) -> tuple[int, ProgramSettings] | None:
    """The published version and its settings when it is not ``known``; None when unchanged, when nothing is
    published yet (the configuration's program stands) or when the database cannot say (no schema yet, down)."""
    try:
        with db.read(engine) as conn:
            number = store.published_number(conn, program_id)
            if number is None or number == known:
                return None
            row = store.version(conn, program_id, number)
    except SQLAlchemyError as exc:  # schema not migrated yet (`bridge db upgrade` builds a runtime first)
        log.debug("published program not readable: %s", exc)
        return None
    if row is None:
        return None
    try:
        return number, document.parse(row["document"])
    except ConfigError as exc:  # stored documents were validated; a newer bridge may check more strictly
        log.error("program version %s cannot be used, keeping version %s: %s", number, known, exc)
        return None
