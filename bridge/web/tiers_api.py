"""Tiers over HTTP (issue 16): a member's tier history, the owner's override, and the widget's "tier" section."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from bridge.errors import UnknownMember
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import members as member_store
from bridge.storage import tiers as store
from bridge.storage.clock import utcnow
from bridge.tiers import perks, widget
from bridge.tiers import service as tiers
from bridge.web import schemas, widget_panel
from bridge.web.auth import require_admin
from bridge.web.body import json_object

admin_bp = Blueprint("tiers_admin", __name__, url_prefix="/admin/v1")


class OverrideIn(Schema):
    class Meta:
        unknown = RAISE

    tier = fields.String(required=True, validate=validate.Length(min=1, max=64))
    until = fields.AwareDateTime(required=True, default_timezone=UTC)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


@admin_bp.get("/members/<int:member_id>/tiers")
@require_admin
def member_tiers(member_id: int) -> Response:
    """The member's tier now and every change (newest first, keyset by ``before``)."""
    query = schemas.PageQuery().load(request.args)
    rt = current_runtime()
    program = rt.settings.program
    with db.read(rt.engine) as conn:
        if member_store.get(conn, program.id, member_id) is None:
            raise UnknownMember(f"no member {member_id} in this program")
        state = store.state(conn, member_id)
        rows = store.history(conn, member_id, query["limit"], query["before"])
        perk_coupons = perks.coupons(conn, member_id)
    return jsonify(
        {
            "member_id": member_id,
            "tier": tiers.tier_view(program, state),
            "earned_tier": state.earned_tier_id if state else None,
            "override_until": _iso(state.override_until) if state else None,
            "history": [_change(row) for row in rows],
            "next_before": rows[-1]["id"] if len(rows) == query["limit"] else None,
            "perk_coupons": [perks.view(red, admin=True) for red in perk_coupons],  # newest first, the last 24
        }
    )


@admin_bp.put("/members/<int:member_id>/tier-override")
@require_admin
def set_override(member_id: int) -> Response:
    """The owner's tier for a member until a date (VIP for a partner); audited."""
    payload = OverrideIn().load(json_object())
    rt = current_runtime()
    program = rt.settings.program
    with db.write(rt.engine) as conn:
        state = tiers.override(
            conn,
            program,
            member_id,
            tier_id=payload["tier"],
            until=payload["until"],
            reason=payload["reason"],
            actor=str(g.actor),
            now=utcnow(),
        )
    return jsonify({"member_id": member_id, "tier": tiers.tier_view(program, state)})


@admin_bp.delete("/members/<int:member_id>/tier-override")
@require_admin
def end_override(member_id: int) -> Response:
    rt = current_runtime()
    program = rt.settings.program
    with db.write(rt.engine) as conn:
        tiers.settings_of(program)
        if not member_store.lock(conn, program.id, member_id):
            raise UnknownMember(f"no member {member_id} in this program")
        state = store.lock_state(conn, program.id, member_id, utcnow())
        if state.source == "override":
            tiers.end_override(conn, program, state, utcnow(), actor=str(g.actor))
        state = store.lock_state(conn, program.id, member_id, utcnow())
    return jsonify({"member_id": member_id, "tier": tiers.tier_view(program, state)})


def _change(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "from": row["from_tier"],
        "to": row["to_tier"],
        "reason": row["reason"],
        "actor": row["actor"] or None,
        "details": row["details"],
        "at": _iso(row["created_at"]),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _tier_section(req: widget_panel.PanelRequest) -> dict[str, Any] | None:
    program = req.rt.settings.program
    if program.tiers is None or req.member_id is None:
        return None
    return widget.section(req.conn, program, req.member_id, utcnow())


widget_panel.register("tier", _tier_section)


def register(app: Any) -> None:
    app.register_blueprint(admin_bp)
