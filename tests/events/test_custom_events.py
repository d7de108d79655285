"""POST /admin/v1/events (issue 19): custom events awarded once per key, by event rules with daily limits."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bridge.config import load_settings
from bridge.errors import ConfigError
from bridge.storage import clock, db
from bridge.storage import tables as t
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import clock as test_clock
from tests.support import woo
from tests.support.client import ADMIN_KEY, SHOP, Bridge

RULES = [
    {"id": "review", "type": "event", "event": "review", "points": 20, "max_per_day": 2},
    {"id": "visit", "type": "event", "event": "store.visit", "points": 5},
]


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def club(make_bridge: Any) -> Bridge:
    return make_bridge(program={"earn": {"rules": RULES}})


def _event(key: str, type_: str = "review", customer: str = "2", **extra: Any) -> dict[str, Any]:
    return {"member": {"shop": SHOP, "customer_id": customer}, "type": type_, "idempotency_key": key, **extra}


def _post(bridge: Bridge, body: dict[str, Any]) -> Any:
    return bridge.admin("POST", "/admin/v1/events", json=body)


def _available(bridge: Bridge, member_id: int) -> int:
    return int(bridge.admin("GET", f"/admin/v1/members/{member_id}").get_json()["balance"]["available"])


def test_an_event_awards_once_under_a_repeated_key(club: Bridge) -> None:
    body = _event("review-991", data={"product_id": 15, "stars": 5})
    first = _post(club, body)
    assert first.status_code == 201, first.get_data(as_text=True)
    answer = first.get_json()
    assert answer["points"] == 20 and [a["rule_id"] for a in answer["awards"]] == ["review"]
    member_id = answer["event"]["member_id"]

    again = _post(club, body)

    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == answer
    assert _available(club, member_id) == 20
    entries = club.ledger(member_id)
    assert [(e["kind"], e["points"]) for e in entries] == [("earn", 20)]


def test_the_same_key_with_another_body_is_a_conflict_and_changes_nothing(club: Bridge) -> None:
    first = _post(club, _event("visit-1", "store.visit"))
    member_id = first.get_json()["event"]["member_id"]
    for changed in (
        _event("visit-1", "review"),
        _event("visit-1", "store.visit", customer="3"),
        _event("visit-1", "store.visit", data={"store": "north"}),
        _event("visit-1", "store.visit", points=50),
    ):
        response = _post(club, changed)
        assert response.status_code == 409, changed
        assert response.get_json()["error"]["code"] == "idempotency_conflict"
    assert _available(club, member_id) == 5
    with db.read(club.rt.engine) as conn:
        assert (
            conn.scalar(select(t.member_identity.c.member_id).where(t.member_identity.c.platform_customer_id == "3"))
            is None
        )


def test_an_event_rule_awards_at_most_max_per_day_and_again_the_next_day(club: Bridge) -> None:
    answers = [_post(club, _event(f"r-{i}")).get_json() for i in range(3)]
    assert [a["points"] for a in answers] == [20, 20, 0]
    assert answers[2]["capped"] == ["review"] and answers[2]["awards"] == []
    member_id = answers[0]["event"]["member_id"]
    # a rule without a limit, in the same day
    assert [_post(club, _event(f"v-{i}", "store.visit")).get_json()["points"] for i in range(3)] == [5, 5, 5]
    assert _available(club, member_id) == 55
    clock.install(clock.SystemClock(timedelta(seconds=test_clock.offset_seconds() + 86400)))
    assert _post(club, _event("r-next-day")).get_json()["points"] == 20


def test_explicit_points_are_awarded_as_given_and_unknown_types_are_recorded(club: Bridge) -> None:
    given = _post(club, _event("follow-1", "social.follow", points=15)).get_json()
    assert given["points"] == 15 and given["awards"][0]["rule_id"] == "points"
    nothing = _post(club, _event("follow-2", "social.follow"))
    assert nothing.status_code == 201 and nothing.get_json()["points"] == 0
    with db.read(club.rt.engine) as conn:
        recorded = conn.execute(select(t.member_event.c.type, t.member_event.c.points)).all()
        audits = conn.scalars(select(t.audit_log.c.action).where(t.audit_log.c.action == "event.recorded")).all()
    assert recorded == [("social.follow", 15), ("social.follow", None)] and len(audits) == 2


def test_an_email_only_selects_a_member_it_keys(club: Bridge) -> None:
    body = {"member": {"email": woo.CAROL}, "type": "review", "idempotency_key": "by-mail"}
    missing = _post(club, body)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "member_not_found"
    club.deliver_ok("customer.created")  # the account's own e-mail keys its member
    club.drain()
    found = _post(club, body | {"member": {"email": woo.CAROL.upper()}})
    assert found.status_code == 201
    assert found.get_json()["event"]["member_id"] == club.member(woo.CAROL)["id"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (_event("k", "Review!"), 422),
        (_event("k", "x" * 65), 422),
        (_event("k", points=0), 422),
        (_event("k", points=10**13), 422),
        (_event("k", points="20"), 422),
        (_event("k", customer="0"), 422),
        (_event("k", customer="1" * 20), 422),
        (_event("k", data={"text": "x" * 5000}), 422),
        (_event("k", data={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}), 422),
        (_event("k", data=[1]), 422),
        (_event("k", surprise=1), 422),
        (_event("k" * 129), 422),
        (_event(" k"), 422),
        (
            {
                "member": {"shop": SHOP, "customer_id": "2", "email": woo.CAROL},
                "type": "review",
                "idempotency_key": "k",
            },
            422,
        ),
        ({"member": {"shop": SHOP}, "type": "review", "idempotency_key": "k"}, 422),
        ({"member": {"shop": "nope", "customer_id": "2"}, "type": "review", "idempotency_key": "k"}, 404),
        ({"type": "review", "idempotency_key": "k"}, 422),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(club: Bridge, body: dict[str, Any], status: int) -> None:
    response = _post(club, body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] in ("validation_failed", "unknown_shop")
    with db.read(club.rt.engine) as conn:
        assert conn.execute(select(t.member_event)).first() is None
        assert conn.execute(select(t.member)).first() is None


def test_concurrent_requests_with_one_key_award_once(club: Bridge) -> None:
    body = _event("burst", data={"n": 1})
    answers: list[tuple[int, int]] = []

    def post() -> None:
        client = club.app.test_client()
        response = client.post("/admin/v1/events", json=body, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        answers.append((response.status_code, response.get_json()["event"]["id"]))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200] * 7 + [201]
    assert len({event_id for _, event_id in answers}) == 1
    with db.read(club.rt.engine) as conn:
        assert conn.scalars(select(t.ledger_entry.c.points)).all() == [20]


def test_event_rules_award_only_members_who_are_in_an_invite_only_program(make_bridge: Any) -> None:
    club = make_bridge(program={"membership": {"policy": "invite_only"}, "earn": {"rules": RULES}})
    outside = _post(club, _event("r-1")).get_json()
    assert outside["points"] == 0
    member_id = outside["event"]["member_id"]
    assert club.admin("POST", f"/admin/v1/members/{member_id}/invite").status_code == 200
    assert _post(club, _event("r-2")).get_json()["points"] == 20
    assert _post(club, _event("p-1", points=7)).get_json()["points"] == 7  # explicit points: the owner decided


def test_events_need_an_admin_key(club: Bridge) -> None:
    assert club.client.post("/admin/v1/events", json=_event("k")).status_code == 401


def test_an_event_rule_is_checked_by_the_config_schema(tmp_path: Any) -> None:
    path = tmp_path / "config.yaml"
    path.write_text('program: {earn: {rules: [{id: r, type: event, event: "Bad Name", points: 5}]}}\n')
    with pytest.raises(ConfigError, match=r"rules\[r\]\.event"):
        load_settings(path, environ={})
    path.write_text("program: {earn: {rules: [{id: r, type: event, event: review, points: 0}]}}\n")
    with pytest.raises(ConfigError, match="points"):
        load_settings(path, environ={})
