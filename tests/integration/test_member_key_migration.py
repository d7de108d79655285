"""Migration 010 (issue 12) on a database that already holds members: nothing that points at a member is lost,
every member keeps being selected by its e-mail, and two members may now show one e-mail but not share a key."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from bridge.storage import migrate
from bridge.storage.db import make_engine
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.postgres import PostgresCluster

NOW = "2026-11-01 10:00:00"


def _engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return make_engine(cluster.create_database(f"mig_{uuid.uuid4().hex[:12]}"))


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
def test_members_of_an_older_database_keep_their_rows_links_and_keys(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    engine = _engine(backend, tmp_path, request)
    migrate.upgrade(engine, "008_merge_heads")
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO program (id, name, created_at) VALUES ('club', 'Club', '{NOW}')"))
        for email in ("ann@example.test", "bob@example.test"):
            conn.execute(
                text(f"INSERT INTO member (program_id, email, created_at) VALUES ('club', :e, '{NOW}')"), {"e": email}
            )
        conn.execute(
            text(
                "INSERT INTO member_profile (member_id, program_id, tier, updated_at) "
                f"SELECT id, 'club', 'gold', '{NOW}' FROM member WHERE email = 'bob@example.test'"
            )
        )

    migrate.upgrade(engine)

    with engine.begin() as conn:
        members = conn.execute(text("SELECT email, email_key FROM member ORDER BY id")).all()
        assert [tuple(r) for r in members] == [
            ("ann@example.test", "ann@example.test"),
            ("bob@example.test", "bob@example.test"),
        ]
        profiles = "SELECT m.email, p.tier FROM member_profile p JOIN member m ON m.id = p.member_id"
        assert conn.execute(text(profiles)).all() == [("bob@example.test", "gold")]
        if backend == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        # two members may show one e-mail (an account's order form typed it) ...
        conn.execute(
            text(f"INSERT INTO member (program_id, email, created_at) VALUES ('club', 'ann@example.test', '{NOW}')")
        )
    # ... but one e-mail selects one member at most
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO member (program_id, email, email_key, created_at) "
                f"VALUES ('club', 'x@example.test', 'ann@example.test', '{NOW}')"
            )
        )
    if backend == "sqlite":  # the migration gave the foreign keys back to the connections after it
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
