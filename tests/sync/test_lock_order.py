"""Two drains whose pages share shoppers never deadlock: every statement of a page that locks shared rows takes
them in one order (PostgreSQL).

``bench/scaleout.py`` saw drains deadlock on new shoppers: page A inserted customer 1 then 2, page B 2 then 1, and
PostgreSQL aborted one after a second (the page then fell back delivery by delivery and retried). The order is
the defence, so each test checks it directly: transaction 1 holds the row of the *smaller* key; transaction 2 writes
the page [larger, smaller] and must block on the smaller before touching the larger — a third connection then
still gets the larger one without waiting. Written in list order, transaction 2 would hold the larger while
waiting for the smaller: the half of a cycle. (Members keep their page's order, which numbers the new ones: their
pages take the keys' advisory locks in one order first.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from bridge.members.names import BILLING, NameSnapshot
from bridge.storage import member_names as name_store
from bridge.storage import members as member_store
from tests.support.client import SHOP as CLIENT_SHOP
from tests.support.client import Bridge

PROGRAM = "club"  # tests/conftest.py base_config
SHOP = CLIENT_SHOP
MODIFIED = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(bridge: Bridge) -> Engine:
    return bridge.rt.engine


@contextmanager
def held(engine: Engine, write: Callable[[Connection], object]) -> Iterator[None]:
    """``write`` done in a transaction left open (its row locks held) for the block's duration."""
    with engine.connect() as conn:
        conn.begin()
        write(conn)
        try:
            yield
        finally:
            conn.rollback()


def waiting(engine: Engine) -> int:
    with engine.connect() as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        return int(conn.execute(text(query)).scalar_one())


def free(engine: Engine, write: Callable[[Connection], object]) -> bool:
    """Whether ``write`` goes through at once (no lock of another transaction in its way)."""
    with engine.connect() as conn:
        conn.begin()
        conn.execute(text("SET LOCAL lock_timeout = '300ms'"))
        try:
            write(conn)
        except OperationalError as error:
            assert "lock timeout" in str(error)
            return False
        finally:
            conn.rollback()
        return True


def guests(engine: Engine, *emails: str) -> None:
    with engine.begin() as conn:
        member_store.create_many(conn, PROGRAM, SHOP, [(email, email) for email in emails])


def test_two_pages_sharing_guests_wait_for_each_other_whole(engine: Engine) -> None:
    """Pages take their guests' key locks (advisory, in one order) before any member row: a page that meets
    another page's guest waits holding no member row, whatever order the two list them in."""
    guests(engine, "a@example.test", "b@example.test", "c@example.test")

    def page(*emails: str) -> Callable[[Connection], object]:
        return lambda conn: member_store.create_many(conn, PROGRAM, SHOP, [(email, email) for email in emails])

    with (
        held(engine, page("a@example.test", "c@example.test")),
        _blocked(engine, page("b@example.test", "a@example.test")),
    ):
        assert free(engine, page("b@example.test"))  # one guest: its row lock alone


def test_a_page_links_new_accounts_in_customer_id_order(engine: Engine) -> None:
    with engine.begin() as conn:
        one, two = member_store.create_many(
            conn, PROGRAM, SHOP, [("one@example.test", None), ("two@example.test", None)]
        )

    def link(*links: tuple[str, int]) -> Callable[[Connection], object]:
        return lambda conn: member_store.link_identities(conn, PROGRAM, SHOP, list(links))

    with held(engine, link(("1", one))), _blocked(engine, link(("2", two), ("1", one))):
        assert free(engine, link(("2", two)))


def test_a_page_names_its_members_in_member_order(engine: Engine) -> None:
    with engine.begin() as conn:
        one, two = member_store.create_many(
            conn, PROGRAM, SHOP, [("one@example.test", None), ("two@example.test", None)]
        )

    def name(*members: int) -> Callable[[Connection], object]:
        names = {member: NameSnapshot(f"Shopper {member}", BILLING, MODIFIED) for member in members}
        return lambda conn: name_store.save(
            conn, PROGRAM, names, set(), {m: [f"shopper{m}"] for m in members}, MODIFIED
        )

    with held(engine, name(one)), _blocked(engine, name(two, one)):
        assert free(engine, name(two))


@contextmanager
def _blocked(engine: Engine, write: Callable[[Connection], object]) -> Iterator[None]:
    """``write`` in another thread's transaction, blocked on a held lock for the block's duration; joined after
    (the holder's rollback, on leaving ``held``, lets it finish)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with engine.connect() as conn:
                conn.begin()
                write(conn)
                conn.rollback()
        except BaseException as error:  # reported by the test
            errors.append(error)

    before = waiting(engine)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while waiting(engine) == before:
        assert not errors, errors
        assert time.monotonic() < deadline, "the page never waited for the held row"
        time.sleep(0.02)
    yield
    _pending.append((thread, errors))


_pending: list[tuple[threading.Thread, list[BaseException]]] = []


@pytest.fixture(autouse=True)
def _join_pages(engine: Engine) -> Iterator[None]:
    """Join the blocked pages while the engine still stands (this fixture is torn down before it)."""
    yield
    while _pending:
        thread, errors = _pending.pop()
        thread.join(10)
        assert not thread.is_alive() and not errors, errors
