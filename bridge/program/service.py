"""Drafts, publish, restore and the seed from ``config.yaml``: every published version audited.

Publishing is race-safe without a lock: the new version's number is the published one plus one, and
``(program_id, version)`` is the primary key, so of two publishes based on the same version exactly one inserts;
the other is told the version moved (409).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bridge.config import ProgramSettings
from bridge.errors import BridgeError, ConfigError
from bridge.program import document
from bridge.storage import audit, db
from bridge.storage import program_versions as store

log = logging.getLogger(__name__)

CONFIG_ACTOR = "config"
SEED_ACTION = "program.seed"


class DraftNotFound(BridgeError):
    code = "draft_not_found"
    status = 404


class VersionNotFound(BridgeError):
    code = "version_not_found"
    status = 404


class ProgramMoved(BridgeError):
    """The published version is no longer the one the draft was based on: review the draft again."""

    code = "program_moved"
    status = 409

    def __init__(self, base_version: int | None, published_version: int | None) -> None:
        super().__init__(
            f"the draft is based on version {base_version}, but version {published_version} is published now: "
            "make a new draft from the published version"
        )
        self.base_version = base_version
        self.published_version = published_version


class DraftAlreadyPublished(BridgeError):
    code = "draft_already_published"
    status = 409


def validated(raw: Any, program_id: str) -> dict[str, Any]:
    """The normalised document of ``raw``; ``ConfigError`` names the key path. The program id cannot change
    (members, shops and the ledger belong to it); a document without one keeps the current id."""
    if not isinstance(raw, Mapping):
        raise ConfigError("<program>", "program", "must be a mapping (the program: section of config.yaml)")
    raw = dict(raw)
    raw.setdefault("id", program_id)
    if raw["id"] != program_id:
        raise ConfigError("<program>", "program.id", f"cannot change: this bridge's program is {program_id!r}")
    return document.normalised(raw)


def published(engine: Engine, program_id: str) -> dict[str, Any] | None:
    """The published version's row (with its document), or None before the first seed."""
    with db.read(engine) as conn:
        number = store.published_number(conn, program_id)
        return store.version(conn, program_id, number) if number is not None else None


def create_draft(engine: Engine, program_id: str, raw: Any, *, actor: str, reason: str = "") -> dict[str, Any]:
    doc = validated(raw, program_id)
    with db.write(engine) as conn:
        base = store.published_number(conn, program_id)
        draft_id = store.insert_draft(conn, program_id, doc, base_version=base, actor=actor, reason=reason)
        draft = store.draft(conn, program_id, draft_id)
        base_row = store.version(conn, program_id, base) if base is not None else None
    assert draft is not None
    before = base_row["document"] if base_row else None
    return {**draft, "diff": document.diff(before, doc, f"version {base}", f"draft {draft_id}")}


def draft(engine: Engine, program_id: str, draft_id: int) -> dict[str, Any]:
    with db.read(engine) as conn:
        found = store.draft(conn, program_id, draft_id)
    if found is None:
        raise DraftNotFound(f"no program draft {draft_id}")
    return found


def publish_draft(engine: Engine, program_id: str, draft_id: int, *, actor: str, reason: str = "") -> int:
    """Publish the draft as the next version; ``ProgramMoved`` when the published version is not its base."""
    found = draft(engine, program_id, draft_id)
    if found["published_version"] is not None:
        raise DraftAlreadyPublished(f"draft {draft_id} was published as version {found['published_version']}")
    return _publish(
        engine,
        program_id,
        found["document"],
        base=found["base_version"],
        actor=actor,
        reason=reason or found["reason"],
        action="program.publish",
        details={"draft_id": draft_id},
        draft_id=draft_id,
    )


def restore(engine: Engine, program_id: str, number: int, *, actor: str, reason: str = "") -> int:
    """Publish a copy of version ``number`` as a new version (history is never rewritten)."""
    with db.read(engine) as conn:
        old = store.version(conn, program_id, number)
        base = store.published_number(conn, program_id)
    if old is None:
        raise VersionNotFound(f"no program version {number}")
    return _publish(
        engine,
        program_id,
        old["document"],
        base=base,
        actor=actor,
        reason=reason or f"restore of version {number}",
        action="program.restore",
        details={"restored_version": number},
    )


def publish_document(
    engine: Engine, program_id: str, doc: dict[str, Any], *, base: int | None, actor: str, reason: str, action: str
) -> int:
    """Publish an already validated document over ``base`` (``bridge program import``)."""
    return _publish(engine, program_id, doc, base=base, actor=actor, reason=reason, action=action, details={})


def _publish(
    engine: Engine,
    program_id: str,
    doc: dict[str, Any],
    *,
    base: int | None,
    actor: str,
    reason: str,
    action: str,
    details: dict[str, Any],
    draft_id: int | None = None,
) -> int:
    try:
        with db.write(engine) as conn:
            current = store.published_number(conn, program_id)
            if current != base:
                raise ProgramMoved(base, current)
            number = (current or 0) + 1
            store.insert_version(conn, program_id, number, doc, base_version=base, actor=actor, reason=reason)
            if draft_id is not None:
                store.mark_published(conn, draft_id, number)
            if action != SEED_ACTION:  # the configuration's copy is no one's action: its row says "config"
                audit.record(
                    conn,
                    program_id=program_id,
                    actor=actor,
                    action=action,
                    target_type="program_version",
                    target_id=str(number),
                    details={**details, "base_version": base, "reason": reason},
                )
    except IntegrityError as exc:  # a concurrent publish inserted this number first (PostgreSQL)
        with db.read(engine) as conn:
            raise ProgramMoved(base, store.published_number(conn, program_id)) from exc
    return number


def seed_from_config(engine: Engine, program: ProgramSettings) -> int | None:
    """Publish the configuration's program as version 1; later, publish ``config.yaml``'s ``program:`` again when
    it changed *and* nobody published since its last copy (a YAML-only owner's edit takes effect at the next
    start). Once a version came from the API, the console or ``bridge program import``, the database is the
    source: a changed ``config.yaml`` never overwrites it, it is only reported (``bridge program import
    config.yaml`` shows the difference and applies it). Returns the version published, if any. Two processes
    starting at once: the loser of the insert leaves it to the winner."""
    doc = document.dump(program)
    with db.read(engine) as conn:
        last = store.latest_by(conn, program.id, CONFIG_ACTOR)
        current = store.published_number(conn, program.id)
    if last is not None and last["document"] == doc:
        return None
    if current is not None and (last is None or last["version"] != current):
        log.warning(
            "config.yaml's program: differs from its last copy, but version %s was published since (the database "
            "is the source): not applied; `bridge program import config.yaml` shows the difference and applies it",
            current,
        )
        return None
    reason = "config.yaml" if current is None else "config.yaml's program changed"
    try:
        return _publish(
            engine, program.id, doc, base=current, actor=CONFIG_ACTOR, reason=reason, action=SEED_ACTION, details={}
        )
    except ProgramMoved:
        return None
