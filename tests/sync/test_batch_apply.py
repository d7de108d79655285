"""A page applied in a few statements (``bridge/orders/batch.py``) ends exactly where applying it order by order does.

Two databases get the same story: some snapshots delivered one by one first (the orders' past), then one page of
snapshots. Database A takes the page through ``apply_as_page`` (what ``apply_orders`` does with a page of the
backfill or of reconciliation), database B through ``apply_one_by_one`` (each order as its own delivery: the
webhook path). Members (in creation order), shop identities, order states, ledger entries, the buyers' remembered
contacts (the referral observer) and the page's counts must be the same, compared by what they mean (e-mails and
keys, not row ids or clock readings).

The pages mix what makes batching tricky: guests and accounts sharing an e-mail in different spellings, a customer
id first seen with one e-mail then another, orders we already know (an older, the same or a newer snapshot),
refunds and cancellations in the first snapshot we see, unpaid orders, the same order twice in one page (applied
one by one), and history-only imports. Before the page, the shop may tell both databases about accounts (their own
e-mails, issue 12): a guest member attached to an account, an account keyed on its e-mail (guest orders with that
e-mail are then its), or an account whose e-mail selects a guest member it must not take over.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, event, select

from bridge import features
from bridge.bootstrap import prepare_database
from bridge.config import load_settings
from bridge.connectors.base import ShopOrder
from bridge.embedded_redis import EmbeddedRedis
from bridge.inbox.dispatch import ORDER_OBSERVERS
from bridge.inbox.service import process_due
from bridge.orders.service import ShopContext
from bridge.runtime import Runtime, use_runtime
from bridge.storage import db, migrate
from bridge.storage import inbox as inbox_store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from bridge.storage.db import make_engine
from bridge.sync.apply import apply_as_page, apply_customers, apply_one_by_one
from tests.conftest import base_config
from tests.integration.conftest import BOTH_BACKENDS
from tests.support.client import SHOP
from tests.support.postgres import PostgresCluster
from tests.support.woo_rest import order_payload

STATUSES = (
    "processing",
    "completed",
    "processing",
    "completed",
    "pending",
    "on-hold",
    "cancelled",
    "refunded",
    "failed",
)
EMAILS = ("ann@example.test", " Ann@Example.TEST ", "bob@example.test", "")
MEMBER_IN_KEY = re.compile(r":member:(\d+):")
KEPT = {"program", "shop", "shop_connection", "shop_webhook", "sync_state"}  # set up once, not by applying orders


@dataclass(frozen=True)
class Snap:
    order: int
    status: str
    customer: int  # 0: a guest
    email: str
    minute: int  # date_modified: minutes after the order was created
    refunds: tuple[str, ...]


snaps = st.builds(
    Snap,
    order=st.integers(1, 6),
    status=st.sampled_from(STATUSES),
    customer=st.sampled_from((0, 0, 1, 2)),
    email=st.sampled_from(EMAILS),
    minute=st.integers(0, 3),
    refunds=st.lists(st.sampled_from(("-5.00", "-12.50", "-35.00")), max_size=2).map(tuple),
)
accounts = st.lists(  # what the shop's customer resource says of accounts 1 and 2: their own e-mails
    st.tuples(st.sampled_from((1, 2)), st.sampled_from(EMAILS)), max_size=3
)
pages = st.one_of(
    st.lists(snaps, min_size=1, max_size=8, unique_by=lambda s: s.order),  # mostly: each order once (batched)
    st.lists(snaps, min_size=2, max_size=6),  # sometimes the same order twice (applied one by one)
)


def payload(snap: Snap) -> dict[str, Any]:
    day = 1 + (snap.order - 1) % 28
    refunds = [{"id": 500 + 10 * snap.order + i, "reason": "", "total": total} for i, total in enumerate(snap.refunds)]
    return order_payload(
        1000 + snap.order,
        email=snap.email,
        customer_id=snap.customer,
        status=snap.status,
        created=f"2026-03-{day:02d}T10:00:00",  # paid on different days: first / n-th order bonuses differ
        modified=f"2026-03-{day:02d}T10:{snap.minute:02d}:00",
        refunds=refunds,
        billing_name=(f"Ann {snap.order}", f"Minute {snap.minute}"),  # issue 15: the newest billing name wins
    )


@dataclass
class Pair:
    """One configuration over two databases: ``batched`` takes pages whole, ``reference`` order by order."""

    batched: Runtime
    reference: Runtime

    def both(self) -> tuple[Runtime, Runtime]:
        return self.batched, self.reference

    def clear(self) -> None:
        for rt in self.both():
            with db.write(rt.engine) as conn:
                for table in reversed(t.metadata.sorted_tables):
                    if table.name not in KEPT:
                        conn.execute(table.delete())


_PG_DATABASES: dict[str, list[str]] = {}


def _urls(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> list[str]:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        paths = [tmp_path / "batched.db", tmp_path / "reference.db"]
        for path in paths:
            shutil.copy(template, path)
        return [f"sqlite:///{path}" for path in paths]
    if "urls" not in _PG_DATABASES:  # two databases for the session, migrated once
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        _PG_DATABASES["urls"] = [cluster.create_database(name) for name in ("batch_a", "batch_b")]
        for url in _PG_DATABASES["urls"]:
            engine = make_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
    return _PG_DATABASES["urls"]


HISTORY_RULES = [  # rules that read what the member's earlier orders wrote: the page is cut into runs
    {"id": "base", "type": "per_amount", "points": 1, "per": 1},
    {"id": "welcome", "type": "first_order", "points": 100},
    {"id": "every-2nd", "type": "nth_order", "every": 2, "points": 50},
    {"id": "welcome-cap", "type": "cap", "period": "year", "max_points": 150, "rules": ["welcome", "every-2nd"]},
]
WITH_REFERRALS = [("on_payment", True, []), ("after_hold", True, [])]
WITHOUT_REFERRALS = [("on_payment", False, [])]
WITH_HISTORY_RULES = [("on_payment", False, HISTORY_RULES), ("after_hold", True, HISTORY_RULES)]


def _label(param: tuple[str, bool, list[Any]]) -> str:
    release, referrals, rules = param
    return "-".join([release] + ["referrals"] * referrals + ["history-rules"] * bool(rules))


@pytest.fixture(params=WITH_REFERRALS + WITHOUT_REFERRALS + WITH_HISTORY_RULES, ids=_label)
def pair(request: pytest.FixtureRequest, backend: str, tmp_path: Path, redis_server: EmbeddedRedis) -> Iterator[Pair]:
    """(release mode, referrals enabled, rules): with referrals on, the referral observer sees every order too."""
    release, referrals, rules = request.param
    runtimes = []
    for name, url in zip(("batched", "reference"), _urls(backend, tmp_path, request), strict=True):
        config = base_config(tmp_path, url, redis_server.url)  # one data_dir: one key for the contacts' digests
        config["program"]["earn"]["release"] = release
        config["program"]["referrals"] = {"enabled": referrals}
        config["program"]["earn"]["rules"] = rules
        # The drain (test below): a failed delivery waits for a retry; ``reference`` drains one delivery a batch.
        config["inbox"].update(retry_base_seconds=60, **({"batch_size": 1} if name == "reference" else {}))
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        features.load()  # as every entry point does: the order observers (referrals) must be registered
        rt = Runtime.build(load_settings(path, environ={}))
        prepare_database(rt, migrate_schema=False)
        runtimes.append(rt)
    pair = Pair(*runtimes)
    pair.clear()  # PostgreSQL's two databases serve every test of the session
    yield pair
    for rt in runtimes:
        rt.close()


def meaning(rt: Runtime) -> dict[str, Any]:
    """What the tables say, without row ids or clock readings (a member is named by its rank in creation order: two
    members may show one e-mail)."""
    m, i, le = t.member.c, t.member_identity.c, t.ledger_entry.c
    with db.read(rt.engine) as conn:
        emails = {member_id: rank for rank, member_id in enumerate(conn.scalars(select(m.id).order_by(m.id)))}
        keys = {  # a sign-up bonus's key names its member by id
            entry_id: MEMBER_IN_KEY.sub(lambda found: f":member:#{emails[int(found[1])]}:", key)
            for entry_id, key in conn.execute(select(le.id, le.idempotency_key))
        }
        members = conn.execute(select(m.email, m.email_key, m.first_shop_id).order_by(m.id)).all()
        identities = sorted(
            (r.shop_id, r.platform_customer_id, emails[r.member_id])
            for r in conn.execute(select(i.shop_id, i.platform_customer_id, i.member_id))
        )
        contacts = sorted((emails[r.member_id], r.kind, r.digest) for r in conn.execute(select(t.member_contact)))
        names = sorted(
            (emails[r.member_id], r.display_name, r.source, r.source_modified)
            for r in conn.execute(select(t.member_name))
        )
        words = sorted((emails[r.member_id], r.word) for r in conn.execute(select(t.member_name_word)))
        states = sorted(
            (
                r.order_id,
                emails.get(r.member_id),
                r.status,
                r.total,
                r.refunded_total,
                r.date_modified,
                r.cycle,
                r.history_only,
                r.paid_at,
                r.completed_at,
                r.released_at is None,
                r.evaluated_cycle,
            )
            for r in conn.execute(select(t.order_state))
        )
        ledger = sorted(
            (
                keys[r.id],
                emails[r.member_id],
                r.points,
                r.kind,
                r.state,
                r.cause_type,
                r.cause_id,
                r.rule_id,
                r.refund_id,
                keys.get(r.reverses_entry_id),
                r.note,
                sorted(r.meta.items()),
                r.expires_at is None,
            )
            for r in conn.execute(select(t.ledger_entry))
        )
    return {
        "members": [tuple(r) for r in members],
        "identities": identities,
        "contacts": contacts,
        "names": names,
        "name_words": words,
        "states": states,
        "ledger": ledger,
    }


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(past=st.lists(snaps, max_size=6), known=accounts, page=pages, history_only=st.booleans())
def test_a_page_applied_at_once_ends_where_one_by_one_does(
    pair: Pair, past: list[Snap], known: list[tuple[int, str]], page: list[Snap], history_only: bool
) -> None:
    pair.clear()
    for rt in pair.both():
        with use_runtime(rt), db.write(rt.engine) as conn:
            for snap in past:  # the orders' past, delivered one by one to both
                apply_one_by_one(conn, rt.shop_context(SHOP), [payload(snap)], source="test", history_only=False)
            for customer, email in known:  # then the shop tells both about accounts (sign-up bonus included)
                account = {"id": customer, "email": email, "first_name": "Account", "last_name": str(customer)}
                apply_customers(conn, rt.shop_context(SHOP), [account], award_signup=True)
    batch = [payload(snap) for snap in page]
    with use_runtime(pair.batched), db.write(pair.batched.engine) as conn:
        counts = apply_as_page(conn, pair.batched.shop_context(SHOP), batch, history_only)
    with use_runtime(pair.reference), db.write(pair.reference.engine) as conn:
        expected = apply_one_by_one(
            conn, pair.reference.shop_context(SHOP), batch, source="test", history_only=history_only
        )
    assert counts == expected
    assert meaning(pair.batched) == meaning(pair.reference)


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
@pytest.mark.parametrize("pair", WITHOUT_REFERRALS, indirect=True)
def test_a_page_of_new_orders_costs_a_few_statements_not_a_few_per_order(pair: Pair) -> None:
    """The batched route is the one taken (the property above would also pass if every page fell back).

    Without referrals: the referral observer costs its own statements per order (see bench/README.md)."""
    rt = pair.batched
    batch = [payload(Snap(i, "completed", 0, f"new{i}@example.test", 0, ())) for i in range(1, 51)]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with use_runtime(rt), db.write(rt.engine) as conn:
        event.listen(conn, "before_cursor_execute", count)
        counts = apply_as_page(conn, rt.shop_context(SHOP), batch, False)
        event.remove(conn, "before_cursor_execute", count)
    assert counts == {"missed": 50}
    assert len(statements) <= 10, "; ".join(s[:60] for s in statements)
    assert len(meaning(rt)["ledger"]) == 50


# --- the inbox drain (issue 19): a batch's order snapshots go through the same pages ------------------------------
REFUSED = "refused@example.test"  # the test observer below refuses this shopper's orders


def _refuse(conn: Connection, ctx: ShopContext, order: ShopOrder) -> None:
    """An order observer that fails on one shopper's orders, as one whose lookup timed out would."""
    if order.email == REFUSED:
        raise RuntimeError("the observer could not take this order now")


@pytest.fixture
def refusing_observer() -> Iterator[None]:
    ORDER_OBSERVERS.append(_refuse)
    try:
        yield
    finally:
        ORDER_OBSERVERS.remove(_refuse)


Delivery = tuple[str, dict[str, Any] | str]
"""(topic, payload or a raw body that does not parse)"""

deliveries = st.one_of(
    st.tuples(st.sampled_from(("order.created", "order.updated")), snaps.map(payload)),
    st.tuples(st.just("order.updated"), snaps.map(payload)),
    st.tuples(st.just("order.updated"), snaps.map(lambda snap: {**payload(snap), "billing": {"email": REFUSED}})),
    st.tuples(
        st.sampled_from(("customer.created", "customer.updated")),
        st.builds(lambda c, e: {"id": c, "email": e}, st.sampled_from((1, 2)), st.sampled_from(EMAILS)),
    ),
    st.tuples(st.just("customer.deleted"), st.sampled_from((1, 2)).map(lambda c: {"id": c})),
    st.tuples(st.just("order.deleted"), st.integers(1, 6).map(lambda n: {"id": 1000 + n})),
    st.tuples(st.just("order.updated"), st.just('{"id": 1001, "total": []')),  # parked: does not parse
)


def _store(rt: Runtime, inbox: list[Delivery]) -> None:
    with db.write(rt.engine) as conn:
        for topic, data in inbox:
            body = data if isinstance(data, str) else json.dumps(data)
            resource = str(data.get("id", "")) if isinstance(data, dict) else "1001"
            inbox_store.add(
                conn,
                program_id=rt.settings.program.id,
                shop_id=SHOP,
                topic=topic,
                resource_id=resource,
                platform_delivery_id="",
                headers={},
                body=body.encode(),
                now=utcnow(),
            )


def _drain(rt: Runtime) -> None:
    with use_runtime(rt):
        while process_due(rt, SHOP):
            pass


def _inbox(rt: Runtime) -> list[tuple[str, str, str, int, str | None]]:
    d = t.inbox_delivery.c
    with db.read(rt.engine) as conn:
        rows = conn.execute(select(d.topic, d.resource_id, d.state, d.attempts, d.last_error).order_by(d.id))
        return [(r.topic, r.resource_id, r.state, r.attempts, r.last_error) for r in rows]


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(past=st.lists(snaps, max_size=4), inbox=st.lists(deliveries, min_size=1, max_size=16))
def test_a_mixed_inbox_drained_in_pages_ends_where_one_delivery_at_a_time_does(
    pair: Pair, refusing_observer: None, past: list[Snap], inbox: list[Delivery]
) -> None:
    """The drain (``bridge.inbox.service``) cuts a batch into pages of order snapshots and single deliveries;
    ``reference`` drains one delivery per batch, the path every delivery took before. Orders, customers (an
    account erased by ``customer.deleted`` included), deletions, the same order again, a delivery the observer
    refuses (the page falls back, it fails alone and waits for its retry) and one that does not parse (parked)."""
    pair.clear()
    for rt in pair.both():
        with use_runtime(rt), db.write(rt.engine) as conn:
            for snap in past:
                apply_one_by_one(conn, rt.shop_context(SHOP), [payload(snap)], source="test", history_only=False)
        _store(rt, inbox)
        _drain(rt)
    assert _inbox(pair.batched) == _inbox(pair.reference)
    assert meaning(pair.batched) == meaning(pair.reference)


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
@pytest.mark.parametrize("pair", WITHOUT_REFERRALS, indirect=True)
def test_a_drain_batch_of_new_orders_costs_a_few_statements_not_a_few_per_delivery(pair: Pair) -> None:
    """The drain takes the page route (the property above would also pass if every batch fell back)."""
    rt = pair.batched
    _store(rt, [("order.updated", payload(Snap(i, "completed", 0, f"new{i}@example.test", 0, ()))) for i in range(50)])
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        _drain(rt)
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
    assert _inbox(rt) == [("order.updated", str(1000 + i), "done", 1, None) for i in range(50)]
    assert len(meaning(rt)["ledger"]) == 50
    # 10 for the orders, 3 for their billing names (one read, two multi-row inserts), PostgreSQL's SET LOCAL and
    # its guests' key locks (taken in one order before the members' upsert: tests/sync/test_lock_order.py)
    assert len(statements) <= 15, "; ".join(s[:60] for s in statements)


@pytest.mark.parametrize("backend", BOTH_BACKENDS)
@pytest.mark.parametrize("pair", WITHOUT_REFERRALS, indirect=True)
def test_a_delivery_that_fails_in_a_page_fails_alone_and_the_rest_of_the_page_applies(
    pair: Pair, refusing_observer: None
) -> None:
    rt = pair.batched
    emails = ["a@example.test", "b@example.test", REFUSED, "c@example.test", "d@example.test"]
    _store(rt, [("order.updated", payload(Snap(i, "completed", 0, email, 0, ()))) for i, email in enumerate(emails)])
    _drain(rt)
    inbox = _inbox(rt)
    assert [row[2:4] for row in inbox] == [("done", 1), ("done", 1), ("pending", 1), ("done", 1), ("done", 1)]
    assert "the observer could not take this order now" in (inbox[2][4] or "")
    assert sorted(row[1] for row in meaning(rt)["ledger"]) == [0, 1, 2, 3]  # four members earned, the refused none
