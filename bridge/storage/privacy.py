"""Everything held about one member, read and pseudonymised table by table (issue 19: GDPR export and erase).

Each table that can hold a person's data has its reader here and, where it holds personal data, its eraser:
``tests/privacy`` checks that an export covers every table and that nothing personal survives an erase.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, or_, select, update

from bridge.referrals.model import fold_email
from bridge.storage import tables as t

ORDER_TOPICS = "order."
CUSTOMER_TOPICS = "customer."


def _rows(conn: Connection, stmt: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(stmt).mappings()]


# -- reading --------------------------------------------------------------------------------------------------------
def member(conn: Connection, program_id: str, member_id: int) -> dict[str, Any] | None:
    stmt = select(t.member).where(t.member.c.id == member_id, t.member.c.program_id == program_id)
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def erasure(conn: Connection, member_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(t.member_erasure).where(t.member_erasure.c.member_id == member_id)).mappings().first()
    return dict(row) if row else None


def by_member(conn: Connection, table: Table, member_id: int) -> list[dict[str, Any]]:
    """The rows of ``table`` whose ``member_id`` is this member's, oldest first."""
    order = table.c.id if "id" in table.c else table.c.member_id
    return _rows(conn, select(table).where(table.c.member_id == member_id).order_by(order))


def identities(conn: Connection, member_id: int) -> list[dict[str, Any]]:
    return by_member(conn, t.member_identity, member_id)


def referrals(conn: Connection, member_id: int, emails: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(as referrer, as friend): a friend is the member, or was invited under one of the member's e-mails (in any
    spelling that folds to the same person)."""
    r = t.referral.c
    as_referrer = _rows(conn, select(t.referral).where(r.referrer_member_id == member_id).order_by(r.id))
    friend: Any = r.friend_member_id == member_id
    if emails:
        folded = sorted({fold_email(e) for e in emails})
        friend = or_(friend, r.friend_email.in_(sorted(emails)), r.friend_key.in_(folded))
    as_friend = _rows(conn, select(t.referral).where(friend).order_by(r.id))
    return as_referrer, as_friend


def order_ids(conn: Connection, member_id: int) -> list[tuple[str, str]]:
    """(shop, order id) of every order we track for the member."""
    o = t.order_state.c
    return [(s, i) for s, i in conn.execute(select(o.shop_id, o.order_id).where(o.member_id == member_id))]


def deliveries(conn: Connection, member_id: int, customers: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The inbox deliveries about the member: its orders' and its shop accounts' (customer ids)."""
    wanted = _delivery_filter(conn, member_id, customers)
    if wanted is None:
        return []
    return _rows(conn, select(t.inbox_delivery).where(wanted).order_by(t.inbox_delivery.c.id))


def _delivery_filter(conn: Connection, member_id: int, customers: Iterable[tuple[str, str]]) -> Any:
    d = t.inbox_delivery.c
    clauses: list[Any] = []
    by_shop: dict[str, set[str]] = {}
    for shop_id, order_id in order_ids(conn, member_id):
        by_shop.setdefault(shop_id, set()).add(order_id)
    for shop_id, ids in by_shop.items():
        clauses.append(and_(d.shop_id == shop_id, d.topic.startswith(ORDER_TOPICS), d.resource_id.in_(sorted(ids))))
    for shop_id, customer_id in customers:
        clauses.append(and_(d.shop_id == shop_id, d.topic.startswith(CUSTOMER_TOPICS), d.resource_id == customer_id))
    return or_(*clauses) if clauses else None


def audit_rows(conn: Connection, program_id: str, member_id: int) -> list[dict[str, Any]]:
    a = t.audit_log.c
    stmt = select(t.audit_log).where(
        a.program_id == program_id, a.target_type == "member", a.target_id == str(member_id)
    )
    return _rows(conn, stmt.order_by(a.id))


# -- pseudonymising -------------------------------------------------------------------------------------------------
def mark_erased(
    conn: Connection, *, program_id: str, member_id: int, pseudonym: str, actor: str, source: str, now: datetime
) -> None:
    conn.execute(
        t.member_erasure.insert().values(
            member_id=member_id, program_id=program_id, pseudonym=pseudonym, actor=actor, source=source, erased_at=now
        )
    )


def blank_member(conn: Connection, member_id: int) -> None:
    """No e-mail shown, none that selects the member: only its id (and its pseudonym) name it from now on."""
    conn.execute(update(t.member).where(t.member.c.id == member_id).values(email="", email_key=None))


def drop_identities(conn: Connection, member_id: int) -> int:
    """The shop accounts that selected the member: a later delivery for them starts a new member."""
    return conn.execute(delete(t.member_identity).where(t.member_identity.c.member_id == member_id)).rowcount


def drop_contacts(conn: Connection, member_id: int) -> int:
    """The keyed hashes of phone and address (referral fraud checks)."""
    return conn.execute(delete(t.member_contact).where(t.member_contact.c.member_id == member_id)).rowcount


def blank_profile(conn: Connection, member_id: int, now: datetime) -> None:
    p = t.member_profile.c
    conn.execute(update(t.member_profile).where(p.member_id == member_id).values(birthday=None, updated_at=now))


def replace_codes(conn: Connection, member_id: int, renamed: dict[str, str]) -> None:
    """Disable the member's referral codes and rename them (a vanity code may spell a name) everywhere they show."""
    c = t.referral_code.c
    for old, new in renamed.items():
        conn.execute(
            update(t.referral_code).where(c.member_id == member_id, c.code == old).values(code=new, active=False)
        )
        conn.execute(
            update(t.referral)
            .where(t.referral.c.referrer_member_id == member_id, t.referral.c.code == old)
            .values(code=new)
        )
        conn.execute(
            update(t.referral_click)
            .where(t.referral_click.c.member_id == member_id, t.referral_click.c.code == old)
            .values(code=new)
        )


def blank_friend(conn: Connection, referral_id: int) -> None:
    """The member as a referred friend: the e-mail and its folded key go; the referral (and its rewards) stay."""
    conn.execute(
        update(t.referral)
        .where(t.referral.c.id == referral_id)
        .values(friend_email="", friend_key=f"erased:{referral_id}")
    )


def blank_redemptions(conn: Connection, member_id: int) -> None:
    """A coupon's body names the e-mail it is locked to; a widget redemption's actor names the shop account."""
    rows = conn.execute(
        select(t.redemption.c.id, t.redemption.c.coupon_body, t.redemption.c.actor).where(
            t.redemption.c.member_id == member_id
        )
    ).all()
    for redemption_id, body, actor in rows:
        values: dict[str, Any] = {"coupon_body": {**(body or {}), "email": ""}}
        if str(actor).startswith("customer:"):
            values["actor"] = "customer:erased"
        conn.execute(update(t.redemption).where(t.redemption.c.id == redemption_id).values(**values))


def blank_events(conn: Connection, member_id: int) -> None:
    """A custom event's ``data`` is the owner's free text (a review's words, a store's note): it goes."""
    conn.execute(update(t.member_event).where(t.member_event.c.member_id == member_id).values(data={}))


def replace_delivery(conn: Connection, delivery_id: int, body: bytes, headers: dict[str, str]) -> None:
    d = t.inbox_delivery.c
    conn.execute(
        update(t.inbox_delivery)
        .where(d.id == delivery_id)
        .values(body=body, headers=headers, last_error=_erased_error(conn, delivery_id))
    )


def _erased_error(conn: Connection, delivery_id: int) -> str | None:
    """An error message may quote the payload: kept only as its exception's name."""
    error = conn.scalar(select(t.inbox_delivery.c.last_error).where(t.inbox_delivery.c.id == delivery_id))
    return None if error is None else error.split(":", 1)[0] + ": (erased)"


def replace_audit_details(conn: Connection, audit_id: int, details: dict[str, Any]) -> None:
    conn.execute(update(t.audit_log).where(t.audit_log.c.id == audit_id).values(details=details))


@functools.cache
def member_tables() -> tuple[Table, ...]:
    """Every table with a ``member_id`` column: the export covers each (a test keeps this list honest)."""
    return tuple(table for table in t.metadata.sorted_tables if "member_id" in table.c)


def forget_notifications(conn: Connection, member_id: int, now: datetime) -> int:
    """The member's messages: the phone and language the owner set go, the events' payloads (which may quote an
    e-mail, a coupon, a name) are emptied, and nothing not yet sent is sent (issue 17's outbox). Returns how many
    unsent deliveries were dropped."""
    conn.execute(delete(t.notification_preference).where(t.notification_preference.c.member_id == member_id))
    conn.execute(update(t.domain_event).where(t.domain_event.c.member_id == member_id).values(payload={}))
    d = t.notification_delivery.c
    dropped = conn.execute(
        update(t.notification_delivery)
        .where(d.member_id == member_id, d.state == "pending")
        .values(state="skipped", last_error="member erased", lease_until=None, updated_at=now)
    )
    return int(dropped.rowcount or 0)
