"""Erase = pseudonymise: the person's data goes, the accounts stay exact.

What goes: the member's e-mail and e-mail key, its name (with the name's search words), its shop accounts
(identities), contact hashes, birthday, custom events' data, its referral codes (disabled and renamed: a vanity code
may spell a name), its e-mail as a referred friend and on its coupons, the personal fields of the inbox deliveries
about its orders and accounts, and personal values in the audit log about it. What stays, under the same member row
now named by an opaque pseudonym: every ledger entry (amounts, keys, causes: balances, liability and reports do not
move), orders' figures, redemptions with their codes, referrals' states and rewards. Idempotent: erasing twice
changes nothing and returns the first erasure.

Afterwards nothing selects the member: no identity, no e-mail key. A later delivery for the same shop account (an
owner erased a customer who then orders again) creates a fresh member from what that delivery carries — new data
the shop sent after the erasure — and never re-links or restores the erased one. A refund of an order made before
the erasure still reverses on the erased member (``order_state`` keeps it), so its accounts stay exact.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from bridge.errors import UnknownMember
from bridge.privacy import scrub
from bridge.referrals.model import fold_email
from bridge.storage import audit
from bridge.storage import member_names as name_store
from bridge.storage import members as member_store
from bridge.storage import privacy as store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow

ERASED = "(erased)"
_PERSONAL_KEYS = frozenset({"email", "birthday", "code", "customer_id", "first_name", "last_name", "name", "phone"})


@dataclass(frozen=True)
class Erasure:
    member_id: int
    pseudonym: str
    erased_at: datetime
    source: str
    created: bool  # False: the member had been erased before (a replay)

    def as_dict(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "pseudonym": self.pseudonym,
            "erased_at": self.erased_at.isoformat(),
            "source": self.source,
        }


def erase_member(conn: Connection, program_id: str, member_id: int, *, actor: str, source: str) -> Erasure:
    """Pseudonymise the member in the caller's transaction (no network call). Raises ``UnknownMember``."""
    if not member_store.lock(conn, program_id, member_id):
        raise UnknownMember(f"no member {member_id} in this program")
    done = store.erasure(conn, member_id)
    if done is not None:
        return Erasure(member_id, done["pseudonym"], done["erased_at"], done["source"], created=False)
    member = store.member(conn, program_id, member_id)
    assert member is not None
    now = utcnow()
    pseudonym = f"anon-{secrets.token_hex(8)}"
    emails = {e for e in (member["email"], member["email_key"]) if e}
    customers = [(i["shop_id"], i["platform_customer_id"]) for i in store.identities(conn, member_id)]

    scrubbed = 0
    for delivery in store.deliveries(conn, member_id, customers):
        body = scrub.scrub_body(delivery["topic"], delivery["body"])
        store.replace_delivery(conn, delivery["id"], body, scrub.scrub_headers(delivery["headers"], pseudonym))
        scrubbed += 1
    as_friend = store.referrals(conn, member_id, emails)[1]
    for referral in as_friend:
        store.blank_friend(conn, referral["id"])
    codes = store.by_member(conn, t.referral_code, member_id)
    store.replace_codes(conn, member_id, {c["code"]: f"X{secrets.token_hex(6).upper()}" for c in codes})
    store.blank_redemptions(conn, member_id)
    store.blank_events(conn, member_id)
    unsent = store.forget_notifications(conn, member_id, now)
    store.blank_profile(conn, member_id, now)
    names = name_store.forget(conn, member_id)
    contacts = store.drop_contacts(conn, member_id)
    identities = store.drop_identities(conn, member_id)
    _scrub_audit(conn, program_id, member_id, emails, {c["code"] for c in codes})
    store.blank_member(conn, member_id)
    store.mark_erased(
        conn, program_id=program_id, member_id=member_id, pseudonym=pseudonym, actor=actor, source=source, now=now
    )
    audit.record(
        conn,
        program_id=program_id,
        actor=actor,
        action="member.erased",
        target_type="member",
        target_id=str(member_id),
        # counts only: never the erased data
        details={
            "pseudonym": pseudonym,
            "source": source,
            "identities_removed": identities,
            "contacts_removed": contacts,
            "names_removed": names,
            "deliveries_scrubbed": scrubbed,
            "referral_codes_disabled": len(codes),
            "referrals_as_friend": len(as_friend),
            "messages_dropped": unsent,
        },
    )
    return Erasure(member_id, pseudonym, now, source, created=True)


def erase_account(conn: Connection, program_id: str, shop_id: str, customer_id: str, *, actor: str) -> Erasure | None:
    """The shop deleted an account (``customer.deleted``): erase its member. None when no member is selected by
    it (never seen, or erased already: its identity went with the first erasure)."""
    member_id = member_store.by_identity(conn, shop_id, customer_id)
    if member_id is None:
        return None
    return erase_member(conn, program_id, member_id, actor=actor, source="customer.deleted")


def _scrub_audit(conn: Connection, program_id: str, member_id: int, emails: set[str], codes: set[str]) -> None:
    """Audit rows about the member keep who did what and when; personal values in their details go."""
    folded = {fold_email(e) for e in emails} | emails
    for row in store.audit_rows(conn, program_id, member_id):
        details = row["details"] or {}
        cleaned = _clean(details, folded | codes)
        if cleaned != details:
            store.replace_audit_details(conn, row["id"], cleaned)


def _clean(value: Any, personal: set[str], key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _clean(v, personal, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, personal, key) for v in value]
    if key in _PERSONAL_KEYS and value not in (None, ""):
        return ERASED
    if isinstance(value, str) and any(p and p.lower() in value.lower() for p in personal):
        return ERASED
    return value
