"""The member behind an order, a shop account or a widget token: docs/adr/0007-members-are-keyed-on-accounts.md

* An account (a non-zero shop customer id) is selected by its identity ``(shop, customer id)`` only: its first
  order creates its member, whatever billing e-mail the order form carried (a logged-in shopper can type anyone's).
* A guest order (customer id 0) collects on the guest member its normalised e-mail selects (``member.email_key``).
* Only the account's own e-mail, from the shop's customer resource (``customer.created``/``updated``, the customer
  backfill), may attach a guest member to an account (``link_account``), and that is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from bridge.errors import UnknownMember
from bridge.storage import audit
from bridge.storage import member_names as name_store
from bridge.storage import members as store

ACTOR = "bridge:members"


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased: ``' Carol@Example.test '`` and ``'carol@example.test'`` are one member."""
    return raw.strip().lower()


def resolve(conn: Connection, program_id: str, shop_id: str, customer_id: str | None, email: str) -> int | None:
    """The member of an order: the account's (created on its first order), or the guest member of ``email``.

    ``email`` is the order's billing e-mail. For an account it is only shown (the member's e-mail until the shop's
    customer resource tells us the account's own); it never selects or links a member. Returns None for a guest
    order without an e-mail (nothing identifies anyone).
    """
    return resolve_many(conn, program_id, shop_id, [(customer_id, email)])[0]


def resolve_many(
    conn: Connection, program_id: str, shop_id: str, shoppers: list[tuple[str | None, str]]
) -> list[int | None]:
    """``resolve`` for each (customer id, billing e-mail) in turn, in three statements instead of up to three each.

    The answer is the one calling ``resolve`` for each in list order would give: an account created by an earlier
    item counts for the later ones, and members are created in the order ``resolve`` would create them.
    """
    known: dict[str, int] = store.by_identities(conn, shop_id, sorted({c for c, _ in shoppers if c}))
    answers: list[int | tuple[str, str] | None] = []  # a member id, or what names a member created below
    new: dict[tuple[str, str], tuple[str, str | None]] = {}  # ("account", id) / ("guest", e-mail): (e-mail, key)
    for customer_id, email in shoppers:
        normalized = normalize_email(email)
        if customer_id:
            if customer_id in known:
                answers.append(known[customer_id])
                continue
            name = ("account", customer_id)
            new.setdefault(name, (normalized, None))  # shown until the account's own e-mail is known; no key
        elif normalized:
            name = ("guest", normalized)
            new.setdefault(name, (normalized, normalized))
        else:
            answers.append(None)
            continue
        answers.append(name)
    created = dict(zip(new, store.create_many(conn, program_id, shop_id, list(new.values())), strict=True))
    accounts = [(name[1], member_id) for name, member_id in created.items() if name[0] == "account"]
    linked = store.link_identities(conn, program_id, shop_id, accounts)
    for customer_id, member_id in accounts:
        if linked[customer_id] != member_id:  # a concurrent transaction created this account's member first
            store.delete_unreferenced(conn, member_id)
            created["account", customer_id] = linked[customer_id]
    return [created[a] if isinstance(a, tuple) else a for a in answers]


def link_account(conn: Connection, program_id: str, shop_id: str, customer_id: str, account_email: str) -> int:
    """The member of a shop account, told by the shop's customer resource (whose ``email`` is the account's own).

    The account's e-mail becomes the member's (shown, and its coupons' lock) and, when no other member holds it,
    its key: later guest orders with that e-mail collect on the account. A guest member already keyed on it (one
    no account selects) is attached to the account when the account has no member yet; that is audited. An
    account that already has a member is never merged with a guest member automatically (audited as skipped),
    and another account's member is never taken over (two shops' accounts may give one address).
    """
    email = normalize_email(account_email)
    member_id = store.by_identity(conn, shop_id, customer_id)
    holder = store.by_email(conn, program_id, email) if email else None
    # The guest member's row is locked first (PostgreSQL): two accounts told at once cannot both attach it.
    if (
        member_id is None
        and holder is not None
        and store.lock(conn, program_id, holder)
        and not store.has_identity(conn, holder)
    ):
        member_id = store.link_identity(conn, program_id, shop_id, customer_id, holder)
        if member_id == holder:
            _audit(conn, program_id, shop_id, "member.guest_attached", holder, customer_id, {})
            return holder
    if member_id is None:
        member_id = resolve(conn, program_id, shop_id, customer_id, email)
        assert member_id is not None  # an account always has a member
    if not email:
        return member_id
    if holder is None:
        store.update(conn, member_id, email=email, email_key=email)
    else:
        shown = (store.get(conn, program_id, member_id) or {}).get("email")
        store.update(conn, member_id, email=email)
        # audited once, when the account takes this e-mail, not on each later update of the account
        if holder != member_id and shown != email and not store.has_identity(conn, holder):
            # Both exist (the account ordered before the shop told us about it): their ledgers stay apart.
            details = {"guest_member_id": holder, "reason": "the account has a member already"}
            _audit(conn, program_id, shop_id, "member.guest_attach_skipped", member_id, customer_id, details)
    return member_id


def account_member(conn: Connection, shop_id: str, customer_id: str) -> int | None:
    """The member of a signed-in shopper (a widget token's ``shop`` and ``sub``); None before their first order or
    sign-up. The token's ``email`` claim never selects a member."""
    return store.by_identity(conn, shop_id, customer_id)


def _audit(
    conn: Connection,
    program_id: str,
    shop_id: str,
    action: str,
    member_id: int,
    customer_id: str,
    details: dict[str, Any],
) -> None:
    audit.record(
        conn,
        program_id=program_id,
        shop_id=shop_id,
        actor=ACTOR,
        action=action,
        target_type="member",
        target_id=str(member_id),
        details={"customer_id": customer_id, "rule": "account e-mail from the shop's customer resource", **details},
    )


def get(conn: Connection, program_id: str, member_id: int) -> dict[str, Any]:
    member = store.get(conn, program_id, member_id)
    if member is None:
        raise UnknownMember(f"no member {member_id} in this program")
    member["identities"] = store.identities(conn, member_id)
    member["name"] = name_store.names_of(conn, [member_id]).get(member_id)
    return member
