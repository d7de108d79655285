"""Finding the member behind an order or a customer account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from bridge.errors import UnknownMember
from bridge.storage import members as store


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased: ``' Carol@Example.test '`` and ``'carol@example.test'`` are one member."""
    return raw.strip().lower()


def resolve(conn: Connection, program_id: str, shop_id: str, customer_id: str | None, email: str) -> int | None:
    """The member for a shop customer id and/or an email, created on first sight.

    A known customer id wins (the shopper may have changed their email since); otherwise the normalised email
    decides, so a guest order and a later account with the same email land on one member. Returns None when
    there is nothing to identify anyone by (a guest order without an email).
    """
    if customer_id:
        found = store.by_identity(conn, shop_id, customer_id)
        if found is not None:
            return found
    normalized = normalize_email(email)
    if not normalized:
        return None
    member_id = store.get_or_create(conn, program_id, normalized, shop_id)
    if customer_id:
        store.link_identity(conn, program_id, shop_id, customer_id, member_id)
    return member_id


def resolve_many(
    conn: Connection, program_id: str, shop_id: str, shoppers: list[tuple[str | None, str]]
) -> list[int | None]:
    """``resolve`` for each (customer id, email) in turn, in three statements instead of up to three each.

    The answer is the one calling ``resolve`` for each in list order would give: a customer id linked by an
    earlier item counts for the later ones, and only the members ``resolve`` would create are created.
    """
    known: dict[str, int | str] = dict(store.by_identities(conn, shop_id, sorted({c for c, _ in shoppers if c})))
    answers: list[int | str | None] = []  # a member id, or the email whose member is created below
    emails: dict[str, None] = {}  # to find or create, first seen first (so new members are numbered as in turn)
    links: list[tuple[str, str]] = []
    for customer_id, email in shoppers:
        if customer_id and customer_id in known:
            answers.append(known[customer_id])
            continue
        normalized = normalize_email(email)
        if not normalized:
            answers.append(None)
            continue
        emails.setdefault(normalized)
        answers.append(normalized)
        if customer_id:
            known[customer_id] = normalized
            links.append((customer_id, normalized))
    ids = store.get_or_create_many(conn, program_id, list(emails), shop_id)
    store.link_identities(conn, program_id, shop_id, [(customer_id, ids[email]) for customer_id, email in links])
    return [ids[a] if isinstance(a, str) else a for a in answers]


def get(conn: Connection, program_id: str, member_id: int) -> dict[str, Any]:
    member = store.get(conn, program_id, member_id)
    if member is None:
        raise UnknownMember(f"no member {member_id} in this program")
    member["identities"] = store.identities(conn, member_id)
    return member
