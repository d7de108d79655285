"""Rows of referral codes, clicks, referrals and member contact digests."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge.referrals.model import Referral
from bridge.storage import tables as t
from bridge.storage.db import insert_or_ignore

r = t.referral.c


# -- codes -------------------------------------------------------------------------------------------------------
def codes_of(conn: Connection, member_id: int) -> list[dict[str, Any]]:
    c = t.referral_code.c
    stmt = select(t.referral_code).where(c.member_id == member_id).order_by(c.id)
    return [dict(row) for row in conn.execute(stmt).mappings()]


def code_owner(conn: Connection, program_id: str, code: str) -> dict[str, Any] | None:
    c = t.referral_code.c
    row = conn.execute(select(t.referral_code).where(c.program_id == program_id, c.code == code)).mappings().first()
    return dict(row) if row else None


def add_code(conn: Connection, *, program_id: str, member_id: int, code: str, kind: str, now: datetime) -> bool:
    values = {"program_id": program_id, "member_id": member_id, "code": code, "kind": kind, "active": True}
    return insert_or_ignore(conn, t.referral_code, {**values, "created_at": now}, ["program_id", "code"])


def deactivate_codes(conn: Connection, member_id: int, kind: str) -> None:
    c = t.referral_code.c
    conn.execute(update(t.referral_code).where(c.member_id == member_id, c.kind == kind).values(active=False))


# -- clicks ------------------------------------------------------------------------------------------------------
def add_click(conn: Connection, **values: Any) -> None:
    conn.execute(insert(t.referral_click).values(**values))


def clicks_of(conn: Connection, member_id: int) -> int:
    k = t.referral_click.c
    return int(conn.scalar(select(func.count()).where(k.member_id == member_id)) or 0)


def clicks_total(conn: Connection, program_id: str) -> int:
    k = t.referral_click.c
    return int(conn.scalar(select(func.count()).where(k.program_id == program_id)) or 0)


# -- referrals ---------------------------------------------------------------------------------------------------
def insert_referral(conn: Connection, values: dict[str, Any]) -> int | None:
    """The new referral's id, or None when the friend already has one (unique folded e-mail)."""
    if not insert_or_ignore(conn, t.referral, values, ["program_id", "friend_key"]):
        return None
    found = by_friend(conn, values["program_id"], values["friend_key"])
    assert found is not None
    return found.id


def by_friend(conn: Connection, program_id: str, friend_key: str, *, lock: bool = False) -> Referral | None:
    stmt = select(t.referral).where(r.program_id == program_id, r.friend_key == friend_key)
    return _one(conn, stmt.with_for_update() if lock else stmt)


def get(conn: Connection, referral_id: int, *, lock: bool = False) -> Referral | None:
    stmt = select(t.referral).where(r.id == referral_id)
    return _one(conn, stmt.with_for_update() if lock else stmt)


def for_order(
    conn: Connection, shop_id: str, order_id: str, coupon_codes: tuple[str, ...], friend_key: str
) -> list[Referral]:
    """Referrals an order may concern: the one it is attributed to, one whose coupon it uses, one for its e-mail."""
    conditions = [r.order_id == order_id]
    if coupon_codes:
        conditions.append(r.coupon_code.in_(coupon_codes))
    if friend_key:
        conditions.append(r.friend_key == friend_key)
    stmt = select(t.referral).where(r.shop_id == shop_id, or_(*conditions)).order_by(r.id).with_for_update()
    return [_referral(row) for row in conn.execute(stmt).mappings()]


def any_for_orders(
    conn: Connection, shop_id: str, order_ids: list[str], coupon_codes: list[str], friend_keys: list[str]
) -> bool:
    """Whether ``for_order`` would find a referral for any of these orders (one query for a page of orders)."""
    conditions = [r.order_id.in_(order_ids)]
    if coupon_codes:
        conditions.append(r.coupon_code.in_(coupon_codes))
    if friend_keys:
        conditions.append(r.friend_key.in_(friend_keys))
    return conn.execute(select(r.id).where(r.shop_id == shop_id, or_(*conditions)).limit(1)).first() is not None


def change(conn: Connection, referral_id: int, **values: Any) -> None:
    conn.execute(update(t.referral).where(r.id == referral_id).values(**values))


def ordered_since(conn: Connection, referrer_member_id: int, since: datetime) -> int:
    """The referrer's referrals whose friend placed a paid order since ``since`` and that still stand.

    What the monthly cap counts: a claim (``claiming``/``invited``) costs the referrer nothing and anyone holding
    the public code can make one with a made-up e-mail, so counting claims would let a stranger exhaust the cap.
    """
    stmt = select(func.count()).where(
        r.referrer_member_id == referrer_member_id,
        r.ordered_at >= since,
        r.state.in_(("ordered", "qualified")),
    )
    return int(conn.scalar(stmt) or 0)


def due_for_qualification(conn: Connection, completed_before: datetime, limit: int) -> list[int]:
    stmt = (
        select(r.id)
        .where(r.state == "ordered", r.completed_at.is_not(None), r.completed_at <= completed_before)
        .order_by(r.completed_at)
        .limit(limit)
    )
    return list(conn.scalars(stmt))


def state_counts(conn: Connection, referrer_member_id: int) -> dict[str, int]:
    stmt = select(r.state, func.count()).where(r.referrer_member_id == referrer_member_id).group_by(r.state)
    return {state: int(n) for state, n in conn.execute(stmt).all()}


def listing(conn: Connection, program_id: str, state: str | None, limit: int, before: int | None) -> list[Referral]:
    stmt = select(t.referral).where(r.program_id == program_id)
    if state:
        stmt = stmt.where(r.state == state)
    if before:
        stmt = stmt.where(r.id < before)
    return [_referral(row) for row in conn.execute(stmt.order_by(r.id.desc()).limit(limit)).mappings()]


def funnel(conn: Connection, program_id: str) -> dict[str, Any]:
    by_state: dict[str, int] = {
        str(k): int(v)
        for k, v in conn.execute(select(r.state, func.count()).where(r.program_id == program_id).group_by(r.state))
    }
    rejected = select(r.reason, func.count()).where(r.program_id == program_id, r.state == "rejected")
    reasons: dict[str, int] = {str(k): int(v) for k, v in conn.execute(rejected.group_by(r.reason))}
    revenue_rows = conn.execute(select(r.order_total).where(r.program_id == program_id, r.state == "qualified"))
    top = conn.execute(
        select(r.referrer_member_id, t.member.c.email, func.count().label("qualified"))
        .join(t.member, t.member.c.id == r.referrer_member_id)
        .where(r.program_id == program_id, r.state == "qualified")
        .group_by(r.referrer_member_id, t.member.c.email)
        .order_by(func.count().desc(), r.referrer_member_id)
        .limit(10)
    ).all()
    return {
        "by_state": by_state,
        "reasons": reasons,
        "qualified_totals": [row[0] for row in revenue_rows],
        "top": [{"member_id": m, "email": e, "qualified": int(n)} for m, e, n in top],
    }


def _one(conn: Connection, stmt: Any) -> Referral | None:
    row = conn.execute(stmt).mappings().first()
    return _referral(row) if row else None


def _referral(row: Any) -> Referral:
    return Referral(**dict(row))


# -- contacts (referral fraud checks) ----------------------------------------------------------------------------
def add_contact(conn: Connection, *, program_id: str, member_id: int, kind: str, digest: str, now: datetime) -> None:
    values = {"program_id": program_id, "member_id": member_id, "kind": kind, "digest": digest, "created_at": now}
    insert_or_ignore(conn, t.member_contact, values, ["member_id", "kind", "digest"])


def add_contacts(conn: Connection, *, program_id: str, contacts: list[tuple[int, str, str]], now: datetime) -> None:
    """``add_contact`` for many (member id, kind, digest): one executemany."""
    if not contacts:
        return
    rows = [
        {"program_id": program_id, "member_id": member_id, "kind": kind, "digest": digest, "created_at": now}
        for member_id, kind, digest in contacts
    ]
    conn.execute(_insert_contact_ignore(conn.dialect.name), rows)


@functools.lru_cache(maxsize=4)
def _insert_contact_ignore(dialect: str) -> Any:
    insert_ = sqlite_insert if dialect == "sqlite" else pg_insert
    return insert_(t.member_contact).on_conflict_do_nothing(index_elements=["member_id", "kind", "digest"])


def has_contact(conn: Connection, member_id: int, kind: str, digest: str) -> bool:
    m = t.member_contact.c
    stmt = select(m.id).where(m.member_id == member_id, m.kind == kind, m.digest == digest).limit(1)
    return conn.execute(stmt).first() is not None
