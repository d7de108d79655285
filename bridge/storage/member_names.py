"""Members' display names and their search words (``bridge/members/names.py`` decides what is stored)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge.members.names import NameSnapshot
from bridge.storage import tables as t

# Above every character a word can hold: ``word >= q AND word < q + TOP`` is "starts with q", as a btree range.
_TOP = "\U0010ffff"


def held(conn: Connection, member_ids: list[int]) -> tuple[dict[int, NameSnapshot], set[int]]:
    """The names held for these members, and which of them are erased (one query for both)."""
    if not member_ids:
        return {}, set()
    names: dict[int, NameSnapshot] = {}
    erased: set[int] = set()
    for member_id, display_name, source, modified, erased_id in conn.execute(_HELD, {"ids": sorted(set(member_ids))}):
        if erased_id is not None:
            erased.add(member_id)
        if display_name is not None:
            names[member_id] = NameSnapshot(display_name, source, modified)
    return names, erased


def _held() -> Any:
    """Built once: the drain asks it for every order (building and keying a statement cost more than running it)."""
    m, n, e = t.member.c, t.member_name.c, t.member_erasure.c
    return (
        select(m.id, n.display_name, n.source, n.source_modified, e.member_id.label("erased"))
        .select_from(
            t.member.outerjoin(t.member_name, n.member_id == m.id).outerjoin(t.member_erasure, e.member_id == m.id)
        )
        .where(m.id.in_(bindparam("ids", expanding=True)))
    )


_HELD = _held()
_UPDATE = (
    update(t.member_name)
    .where(t.member_name.c.member_id == bindparam("id"))
    .values(
        display_name=bindparam("name"),
        source=bindparam("source"),
        source_modified=bindparam("modified"),
        updated_at=bindparam("now"),
    )
)


def save(
    conn: Connection,
    program_id: str,
    names: dict[int, NameSnapshot],
    existing: set[int],
    words: dict[int, list[str]],
    now: datetime,
) -> None:
    """Write these members' names (``existing``: those that had a row), and replace the search words of the
    members in ``words`` (those whose shown name changed).

    Rows are written in member-id order: two drains naming the same members lock their rows in one order, so they
    never deadlock (PostgreSQL), whatever order their pages list the members in.
    """
    names = dict(sorted(names.items()))
    words = dict(sorted(words.items()))
    fresh = [
        {
            "member_id": member_id,
            "program_id": program_id,
            "display_name": s.display_name,
            "source": s.source,
            "source_modified": s.modified,
            "updated_at": now,
        }
        for member_id, s in names.items()
        if member_id not in existing
    ]
    if fresh:
        conn.execute(_insert_new(conn, t.member_name), fresh)
    changed = [
        {"id": member_id, "name": s.display_name, "source": s.source, "modified": s.modified, "now": now}
        for member_id, s in names.items()
        if member_id in existing
    ]
    if changed:
        conn.execute(_UPDATE, changed)
    if words:
        w = t.member_name_word.c
        renamed = sorted(existing & set(words))  # a new name has no words to delete (a statement saved per page)
        if renamed:
            conn.execute(delete(t.member_name_word).where(w.member_id.in_(renamed)))
        rows = [
            {"member_id": member_id, "program_id": program_id, "word": word}
            for member_id, member_words in words.items()
            for word in member_words
        ]
        if rows:
            conn.execute(_insert_new(conn, t.member_name_word), rows)


def _insert_new(conn: Connection, table: Table) -> Any:
    """An insert that leaves a row another transaction wrote meanwhile (a backfill beside the drain): that name
    stands until the next snapshot; the delivery is not failed for it."""
    return _insert_ignoring(conn.dialect.name, table.name)


@functools.lru_cache(maxsize=8)
def _insert_ignoring(dialect: str, table: str) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    return insert(t.metadata.tables[table]).on_conflict_do_nothing()


def names_of(conn: Connection, member_ids: list[int]) -> dict[int, str]:
    """The display names of these members (those that have one)."""
    if not member_ids:
        return {}
    n = t.member_name.c
    return dict(conn.execute(select(n.member_id, n.display_name).where(n.member_id.in_(member_ids))).all())


def forget(conn: Connection, member_id: int) -> int:
    """Delete the member's name and search words (erasure); returns how many names went (0 or 1)."""
    conn.execute(delete(t.member_name_word).where(t.member_name_word.c.member_id == member_id))
    return conn.execute(delete(t.member_name).where(t.member_name.c.member_id == member_id)).rowcount


def with_word_prefix(program_id: str, prefix: str, before: int | None = None) -> Any:
    """The ids of the program's members one of whose name words starts with ``prefix`` (a folded word), below
    ``before`` if given: a range scan of ``ix_member_name_word_program_id_word``."""
    w = t.member_name_word.c
    stmt = select(w.member_id).where(w.program_id == program_id, w.word >= prefix, w.word < prefix + _TOP)
    return stmt if before is None else stmt.where(w.member_id < before)
