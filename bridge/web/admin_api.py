"""``/admin/v1``: members, balances, ledger, adjustments, inbox. Every call needs an admin API key."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from bridge.errors import UnknownSegment
from bridge.inbox import service as inbox
from bridge.ledger import service as ledger
from bridge.members import search
from bridge.members import service as members
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import member_names as name_store
from bridge.storage import members as member_store
from bridge.storage import segments as segment_store
from bridge.storage.clock import utcnow
from bridge.tiers import service as tiers
from bridge.web import schemas
from bridge.web.auth import require_admin
from bridge.web.body import idempotency_key, json_object

bp = Blueprint("admin_api", __name__, url_prefix="/admin/v1")

_member_out = schemas.MemberOut()
_entry_out = schemas.EntryOut()
_delivery_out = schemas.DeliveryOut()


@bp.get("/members")
@require_admin
def list_members() -> Response:
    query = schemas.MemberQuery().load(request.args)
    rt = current_runtime()
    email = members.normalize_email(query["email"]) if query["email"] else None
    with db.read(rt.engine) as conn:
        if query["segment"]:
            return _segment_members(conn, rt.settings.program, query)
        if query["q"]:
            return _search_members(conn, rt.settings.program.id, query)
        found = member_store.search(conn, rt.settings.program.id, email, query["limit"])
        items = [_with_balance(conn, m) for m in found]
    return jsonify({"members": _member_out.dump(items, many=True)})


def _segment_members(conn: Any, program: Any, query: dict[str, Any]) -> Response:
    """A keyset page of a segment's members (issue 16): ``next_after`` continues it, never an OFFSET."""
    if query["segment"] not in program.segments.ids():
        raise UnknownSegment(f"no segment {query['segment']!r}")
    ids = segment_store.members(conn, program.id, query["segment"], query["after"], query["limit"])
    items = [_with_balance(conn, members.get(conn, program.id, member_id)) for member_id in ids]
    next_after = ids[-1] if len(ids) == query["limit"] else None
    return jsonify({"members": _member_out.dump(items, many=True), "next_after": next_after})


def _search_members(conn: Any, program_id: str, query: dict[str, Any]) -> Response:
    """The console's search (issue 15): a keyset page, newest first; ``next_before`` continues it."""
    wanted = search.MemberQuery(text=query["q"], before=query["before"], limit=query["limit"])
    page = search.search(conn, program_id, wanted)
    items = [_with_balance(conn, members.get(conn, program_id, row["id"])) for row in page.members]
    return jsonify({"members": _member_out.dump(items, many=True), "next_before": page.next_before})


@bp.get("/members/<int:member_id>")
@require_admin
def get_member(member_id: int) -> Response:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        member = _with_balance(conn, members.get(conn, rt.settings.program.id, member_id))
    return jsonify(_member_out.dump(member))


@bp.get("/members/<int:member_id>/ledger")
@require_admin
def member_ledger(member_id: int) -> Response:
    query = schemas.PageQuery().load(request.args)
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        members.get(conn, rt.settings.program.id, member_id)
        entries = ledger.history(conn, member_id, query["limit"], query["before"])
    next_before = entries[-1].id if len(entries) == query["limit"] else None
    return jsonify({"entries": _entry_out.dump(entries, many=True), "next_before": next_before})


@bp.post("/members/<int:member_id>/adjustments")
@require_admin
def adjust(member_id: int) -> tuple[Response, int]:
    payload = schemas.AdjustmentIn().load(json_object())
    request_key = idempotency_key(required=False) or _fresh_key()
    rt = current_runtime()
    with db.write(rt.engine) as conn:
        entry, created = ledger.adjust(
            conn,
            program_id=rt.settings.program.id,
            member_id=member_id,
            points=payload["points"],
            reason=payload["reason"],
            actor=g.actor,
            request_key=request_key,
        )
        tiers.qualify(conn, rt.settings.program, member_id, utcnow(), {"adjustment": entry.id})  # issue 16: up at once
        balance = ledger.balance(conn, member_id)
    body = {"entry": _entry_out.dump(entry), "balance": schemas.BalanceOut().dump(balance)}
    return jsonify(body), 201 if created else 200


@bp.get("/inbox")
@require_admin
def list_inbox() -> Response:
    query = schemas.InboxQuery().load(request.args)
    rows = inbox.listing(current_runtime(), query["state"], query["shop"], query["limit"], query["before"])
    return jsonify({"deliveries": _delivery_out.dump(rows, many=True)})


@bp.post("/inbox/<int:delivery_id>/replay")
@require_admin
def replay_delivery(delivery_id: int) -> tuple[Response, int]:
    found = inbox.replay(current_runtime(), delivery_id, actor=g.actor)  # audited, like the console's
    return jsonify({"id": found["id"], "state": "pending"}), 202


def _with_balance(conn: Any, member: dict[str, Any]) -> dict[str, Any]:
    member.setdefault("identities", member_store.identities(conn, member["id"]))
    member.setdefault("name", name_store.names_of(conn, [member["id"]]).get(member["id"]))
    member["balance"] = ledger.balance(conn, member["id"])
    member["tier"] = tiers.tier_view(current_runtime().settings.program, tiers.state(conn, member["id"]))
    return member


def _fresh_key() -> str:
    import uuid

    return uuid.uuid4().hex
