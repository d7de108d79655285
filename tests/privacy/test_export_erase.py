"""GDPR (issue 19): everything held about a person, exported; erased = pseudonymised with the accounts kept exact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bridge.cli import cli
from bridge.storage import db
from bridge.storage import privacy as privacy_store
from bridge.storage import referrals as referral_store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow
from tests.integration.conftest import BOTH_BACKENDS
from tests.support import woo
from tests.support.client import SHOP, Bridge
from tests.support.woo_rest import FakeWooShop

BIRTHDAY = "1990-03-15"
PERSONAL = (woo.CAROL, "carol1795473173", "Carol", "Poe", BIRTHDAY, "555-0199", "Oak Ave", "CAROL-LOVES-TEA")
REWARDS = [{"id": "five-off", "title": "5.00 off", "type": "fixed_cart", "points": 30, "value": "5.00"}]


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def club(make_bridge: Any, woo_shop: FakeWooShop) -> Bridge:
    return make_bridge(program={"rewards": REWARDS, "referrals": {"enabled": True}})


def _carol(bridge: Bridge) -> dict[str, Any]:
    """Carol (customer 2): an account with a birthday, order 12 completed (35 + 50 sign-up points), a redemption,
    a vanity referral code that referred a friend, a referral that invited her, and her contact hashes."""
    data = woo.payload("customer.created")
    data["meta_data"] = [*data["meta_data"], {"id": 40, "key": "birthday", "value": BIRTHDAY}]
    bridge.send_ok(*woo.signed("customer.created", data))
    for name in woo.ORDER_12_SEQUENCE[:4]:
        bridge.deliver_ok(name)
    bridge.drain()
    member = bridge.member(woo.CAROL)
    assert member is not None and member["balance"]["available"] == 85
    member_id = member["id"]
    code = bridge.admin("PUT", f"/admin/v1/members/{member_id}/referral-code", json={"code": "CAROL-LOVES-TEA"})
    assert code.status_code == 200, code.get_data(as_text=True)
    redeemed = bridge.admin(
        "POST",
        f"/admin/v1/members/{member_id}/redemptions",
        json={"reward_id": "five-off", "shop": SHOP},
        headers={"Idempotency-Key": "gdpr-1"},
    )
    assert redeemed.status_code in (200, 201), redeemed.get_data(as_text=True)
    with db.write(bridge.rt.engine) as conn:
        now = utcnow()
        referrer = conn.execute(
            t.member.insert().values(
                program_id="club", email="zed@example.test", email_key="zed@example.test", created_at=now
            )
        ).inserted_primary_key[0]
        common = {"program_id": "club", "shop_id": SHOP, "state": "invited", "coupon_expires_at": now}
        referral_store.insert_referral(
            conn,
            common
            | {"referrer_member_id": referrer, "code": "ZEDZED", "friend_key": woo.CAROL, "friend_email": woo.CAROL}
            | {"coupon_code": "wlc7k2m9pq", "created_at": now, "updated_at": now},
        )
        referral_store.insert_referral(
            conn,
            common
            | {"referrer_member_id": member_id, "code": "CAROL-LOVES-TEA", "friend_key": "fred@example.test"}
            | {
                "friend_email": "fred@example.test",
                "coupon_code": "wlc3h8n4rt",
                "created_at": now,
                "updated_at": now,
            },
        )
        referral_store.add_contact(conn, program_id="club", member_id=member_id, kind="phone", digest="d" * 64, now=now)
    event = {"member": {"shop": SHOP, "customer_id": "2"}, "type": "review", "idempotency_key": "rv-1"}
    event["data"] = {"text": "Carol Poe loved the tea", "points_for": "review"}
    assert bridge.admin("POST", "/admin/v1/events", json=event | {"points": 5}).status_code == 201
    patched = bridge.admin("PATCH", f"/admin/v1/members/{member_id}/profile", json={"birthday": BIRTHDAY})
    assert patched.status_code == 200
    return member


def _dump(bridge: Bridge) -> str:
    """Every row of every table as text (bodies decoded): what a `pg_dump`/`.dump` of the database would show."""
    lines: list[str] = []
    with db.read(bridge.rt.engine) as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                values = {k: v.decode("utf-8", "replace") if isinstance(v, bytes) else v for k, v in row.items()}
                lines.append(f"{table.name}: {values}")
    return "\n".join(lines)


def _ledger_sums(bridge: Bridge) -> tuple[int, int]:
    with db.read(bridge.rt.engine) as conn:
        total = conn.scalar(select(func.sum(t.ledger_entry.c.points)))
        count = conn.scalar(select(func.count()).select_from(t.ledger_entry))
    return int(total or 0), int(count or 0)


def test_the_export_holds_every_table_about_the_person(club: Bridge) -> None:
    member = _carol(club)
    response = club.admin("GET", f"/admin/v1/members/{member['id']}/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    doc = response.get_json()
    assert doc["member"]["email"] == woo.CAROL and doc["erased"] is None
    assert [(i["shop_id"], i["platform_customer_id"]) for i in doc["identities"]] == [(SHOP, "2")]
    assert doc["profile"]["birthday"] == BIRTHDAY
    # issue 15: the name the shop's customer resource gave, with where it came from
    assert (doc["name"]["display_name"], doc["name"]["source"]) == ("Carol Poe", "account")
    assert sorted(w["word"] for w in doc["name_search_words"]) == ["carol", "poe"]
    assert sorted({c["kind"] for c in doc["contacts"]}) == ["address", "phone"]
    assert sum(e["points"] for e in doc["ledger"]) == doc["balance"]["available"] + doc["balance"]["pending"] == 60
    assert {e["kind"] for e in doc["ledger"]} == {"earn", "spend"}
    assert [(r["reward_id"], bool(r["code"])) for r in doc["redemptions"]] == [("five-off", True)]
    assert [c["code"] for c in doc["referral_codes"]] == ["CAROL-LOVES-TEA"]
    assert [r["friend_email"] for r in doc["referrals"]["as_referrer"]] == ["fred@example.test"]
    assert [r["coupon_code"] for r in doc["referrals"]["as_friend"]] == ["wlc7k2m9pq"]
    assert [o["order_id"] for o in doc["orders"]] == ["12"]
    assert [(e["type"], e["data"]["text"]) for e in doc["events"]] == [("review", "Carol Poe loved the tea")]
    topics = sorted({d["topic"] for d in doc["deliveries"]})
    assert topics == ["customer.created", "order.created", "order.updated"]
    assert all(d["body"]["id"] in (2, 12) for d in doc["deliveries"])
    assert {a["action"] for a in doc["audit"]} >= {"referral.vanity_code", "member.profile"}
    # every table that has a member column is in the document (a new feature's table too)
    names = {"member_identity": "identities", "member_profile": "profile", "member_contact": "contacts"}
    names |= {"ledger_entry": "ledger", "redemption": "redemptions", "referral_code": "referral_codes"}
    names |= {"referral_click": "referral_clicks", "order_state": "orders", "point_event": "point_events"}
    names |= {"member_event": "events", "member_erasure": "erased"}
    names |= {"member_name": "name", "member_name_word": "name_search_words"}
    for table in privacy_store.member_tables():
        assert names.get(table.name, table.name) in doc, table.name


def test_erase_removes_the_person_and_keeps_every_balance(club: Bridge) -> None:
    member = _carol(club)
    member_id = member["id"]
    shown = club.admin("GET", f"/admin/v1/members/{member_id}").get_json()
    before = shown["balance"]
    sums = _ledger_sums(club)
    assert woo.CAROL in _dump(club) and shown["name"] == "Carol Poe"

    response = club.admin("POST", f"/admin/v1/members/{member_id}/erase")

    assert response.status_code == 201, response.get_data(as_text=True)
    erasure = response.get_json()["erasure"]
    assert erasure["pseudonym"].startswith("anon-") and erasure["source"] == "admin"
    after = club.admin("GET", f"/admin/v1/members/{member_id}").get_json()
    assert after["balance"] == before and after["email"] == "" and after["identities"] == []
    assert after["name"] is None  # issue 15: the name and its search words went too (the dump below checks both)
    assert _ledger_sums(club) == sums  # nothing written to or removed from the ledger
    dump = _dump(club)
    for value in PERSONAL:
        assert value.lower() not in dump.lower(), value
    with db.read(club.rt.engine) as conn:
        codes = conn.execute(select(t.referral_code.c.active).where(t.referral_code.c.member_id == member_id)).all()
        audits = conn.execute(select(t.audit_log).where(t.audit_log.c.action == "member.erased")).mappings().all()
        bodies = conn.scalars(select(t.inbox_delivery.c.body)).all()
    assert codes == [(False,)]
    assert [a["target_id"] for a in audits] == [str(member_id)]
    assert audits[0]["actor"].startswith("api-key:") and audits[0]["details"]["pseudonym"] == erasure["pseudonym"]
    # the order deliveries keep what the ledger's keys and a replay need
    order_12 = [json.loads(b) for b in bodies if json.loads(b).get("id") == 12]
    assert order_12 and all(o["total"] and o["customer_id"] == 2 and "billing" not in o for o in order_12)
    # a replay of an erased delivery applies the same figures under the same keys: the ledger does not move
    with db.read(club.rt.engine) as conn:
        delivery_ids = conn.scalars(select(t.inbox_delivery.c.id).where(t.inbox_delivery.c.resource_id == "12")).all()
    for delivery_id in delivery_ids:
        assert club.admin("POST", f"/admin/v1/inbox/{delivery_id}/replay").status_code == 202
    club.drain()
    assert _ledger_sums(club) == sums and club.inbox_count("failed") == 0
    assert club.admin("GET", f"/admin/v1/members/{member_id}").get_json()["balance"] == before
    # her vanity code is gone (renamed and disabled): it neither names her nor selects her member
    with db.read(club.rt.engine) as conn:
        assert referral_store.code_owner(conn, "club", "CAROL-LOVES-TEA") is None
    export = club.admin("GET", f"/admin/v1/members/{member_id}/export").get_json()
    assert export["erased"]["pseudonym"] == erasure["pseudonym"] and export["identities"] == []


def test_erase_is_idempotent(club: Bridge) -> None:
    member_id = _carol(club)["id"]
    first = club.admin("POST", f"/admin/v1/members/{member_id}/erase")
    second = club.admin("POST", f"/admin/v1/members/{member_id}/erase")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json() == second.get_json()
    with db.read(club.rt.engine) as conn:
        count = conn.scalar(select(func.count()).where(t.audit_log.c.action == "member.erased"))
    assert count == 1


def test_unknown_members_and_missing_keys_are_refused(club: Bridge) -> None:
    for method, path in [("GET", "/admin/v1/members/999/export"), ("POST", "/admin/v1/members/999/erase")]:
        response = club.admin(method, path)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "member_not_found"
        assert club.client.open(path, method=method).status_code == 401
    assert club.admin("GET", f"/admin/v1/members/{2**64}/export").status_code == 404


def _customer_deleted(customer_id: int) -> tuple[bytes, dict[str, str]]:
    """WooCommerce's customer.deleted delivery: only ``{"id": N}`` (WOOCOMMERCE.md), signed like every other."""
    body, headers = woo.signed("customer.created", {"id": customer_id})
    headers |= {"X-WC-Webhook-Topic": "customer.deleted", "X-WC-Webhook-Event": "deleted"}
    return body, headers


def test_customer_deleted_erases_in_the_drain_and_a_later_order_starts_a_new_member(club: Bridge) -> None:
    member_id = _carol(club)["id"]
    before = club.admin("GET", f"/admin/v1/members/{member_id}").get_json()["balance"]

    club.send_ok(*_customer_deleted(2))
    assert club.admin("GET", f"/admin/v1/members/{member_id}").get_json()["email"] == woo.CAROL  # not in the web path
    club.drain()

    erased = club.admin("GET", f"/admin/v1/members/{member_id}/export").get_json()
    assert erased["erased"]["source"] == "customer.deleted" and erased["member"]["email"] == ""
    assert erased["balance"] == before
    for value in PERSONAL:
        assert value.lower() not in _dump(club).lower(), value
    with db.read(club.rt.engine) as conn:
        actor = conn.scalar(select(t.audit_log.c.actor).where(t.audit_log.c.action == "member.erased"))
    assert actor == f"shop:{SHOP}"

    # a refund of the old order still reverses on the erased member: its accounts stay exact
    club.deliver_ok("order.updated.partial-refund")
    # a new order by the same account id starts a fresh member: the erased one is never re-linked or refilled
    club.send_ok(*woo.with_order_id("order.updated.completed", 99))
    club.drain()
    refunded = club.admin("GET", f"/admin/v1/members/{member_id}").get_json()
    assert refunded["email"] == "" and refunded["balance"]["available"] < before["available"]
    with db.read(club.rt.engine) as conn:
        now_selected = privacy_store.identities(conn, member_id)
        fresh = conn.scalar(
            select(t.member_identity.c.member_id).where(t.member_identity.c.platform_customer_id == "2")
        )
    assert now_selected == [] and fresh is not None and fresh != member_id
    assert club.admin("GET", f"/admin/v1/members/{fresh}").get_json()["balance"]["available"] == 35
    # a second customer.deleted erases the fresh member; the first erasure is untouched
    club.send_ok(*_customer_deleted(2))
    club.drain()
    assert club.admin("GET", f"/admin/v1/members/{fresh}/export").get_json()["erased"] is not None
    assert club.inbox_count("failed") == 0


@pytest.fixture
def cli_config(club: Bridge, tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "config.yaml")


def test_cli_export_by_email_exports_every_member_showing_it(club: Bridge, cli_config: str) -> None:
    _carol(club)
    # a guest order typed with Carol's address by someone logged out: a guest member showing the same e-mail
    with db.write(club.rt.engine) as conn:
        conn.execute(t.member.insert().values(program_id="club", email=woo.CAROL, email_key=None, created_at=utcnow()))
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", cli_config, "members", "export", "--email", woo.CAROL.upper()], obj={})
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(docs) == 2 and all(d["member"]["email"] == woo.CAROL for d in docs)
    assert "2 members show this e-mail" in result.stderr
    missing = runner.invoke(cli, ["--config", cli_config, "members", "export", "--email", "nobody@x.test"], obj={})
    assert missing.exit_code == 1 and "no member" in missing.stderr
    erased = runner.invoke(
        cli, ["--config", cli_config, "members", "erase", "--member", str(docs[0]["member"]["id"]), "--yes"], obj={}
    )
    assert erased.exit_code == 0 and json.loads(erased.stdout)["pseudonym"].startswith("anon-")
