"""Everything the bridge holds about a member, as one JSON document (GDPR art. 15 and 20)."""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from bridge import limits
from bridge.errors import UnknownMember
from bridge.ledger import service as ledger
from bridge.storage import privacy as store
from bridge.storage import tables as t

FORMAT = "loyalty-bridge.member-export/1"

# Tables whose member rows get a name of their own in the document; any other table with a ``member_id`` column
# (a later feature's) is exported under its table name, so an export never silently misses a new table.
_NAMED = {
    "member_identity": "identities",
    "member_profile": "profile",
    "member_name": "name",  # the display name and where it came from (bridge/members/names.py)
    "member_name_word": "name_search_words",
    "member_contact": "contacts",
    "ledger_entry": "ledger",
    "redemption": "redemptions",
    "referral_code": "referral_codes",
    "referral_click": "referral_clicks",
    "order_state": "orders",
    "point_event": "point_events",
    "member_event": "events",
    "member_erasure": None,  # shown as "erased"
}


def export_member(conn: Connection, program_id: str, member_id: int) -> dict[str, Any]:
    """The member row, its shop accounts, profile, contact hashes, ledger, redemptions (with coupon codes),
    referrals (as referrer and as friend), the orders we track, custom events, the inbox deliveries about its
    orders and accounts (bodies decoded), and the audit log about it."""
    member = store.member(conn, program_id, member_id)
    if member is None:
        raise UnknownMember(f"no member {member_id} in this program")
    erasure = store.erasure(conn, member_id)
    doc: dict[str, Any] = {
        "format": FORMAT,
        "member": member,
        "erased": None if erasure is None else {k: erasure[k] for k in ("pseudonym", "erased_at", "source")},
        "balance": asdict(ledger.balance(conn, member_id)),
    }
    for table in store.member_tables():
        if table.name in _NAMED and _NAMED[table.name] is None:
            continue
        rows = store.by_member(conn, table, member_id)
        name = _NAMED.get(table.name) or table.name
        doc[name] = (rows[0] if rows else None) if table in (t.member_profile, t.member_name) else rows
    as_referrer, as_friend = store.referrals(conn, member_id, {member["email"], member["email_key"]} - {None, ""})
    doc["referrals"] = {"as_referrer": as_referrer, "as_friend": as_friend}
    customers = [(i["shop_id"], i["platform_customer_id"]) for i in doc["identities"]]
    doc["deliveries"] = [_delivery(d) for d in store.deliveries(conn, member_id, customers)]
    doc["audit"] = store.audit_rows(conn, program_id, member_id)
    return plain(doc)  # type: ignore[no-any-return]


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    body = row.pop("body")
    try:
        row["body"] = limits.load_json(body)
    except Exception:  # kept as it arrived
        row["body_base64"] = base64.b64encode(body).decode("ascii")
    return row


def plain(value: Any) -> Any:
    """JSON-ready: dates as ISO 8601, decimals as strings, bytes as base64."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value
