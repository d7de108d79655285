"""Admin: preview what an order would earn, the program's ways to earn, invitations; widget: "ways_to_earn"."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from bridge.connectors.woocommerce.webhooks import parse_order
from bridge.errors import MalformedPayload, UnknownMember, UnknownShop
from bridge.members import profile as member_profile
from bridge.orders.explain import explain
from bridge.program import context as program_context
from bridge.rules.describe import ways_to_earn
from bridge.runtime import Runtime, current_runtime
from bridge.storage import db, life
from bridge.storage import members as member_store
from bridge.storage import segments as segment_store
from bridge.web import schemas, widget_panel
from bridge.web.auth import require_admin
from bridge.web.body import json_object

admin_bp = Blueprint("rules_admin", __name__, url_prefix="/admin/v1")


class PreviewIn(Schema):
    class Meta:
        unknown = RAISE

    shop_id = schemas.text_id(load_default=None)
    order = fields.Dict(required=True)  # the platform's order JSON, as its webhook or REST API sends it
    # Issue 14: explain under a published version's rules (a past award's ``program_version``); default: today's.
    program_version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


def program_view(rt: Runtime, currency: str) -> dict[str, Any]:
    program, earning = rt.settings.program, rt.settings.program.earning
    return {
        "id": program.id,
        "name": program.name,
        "membership": earning.membership.policy,
        "timezone": earning.timezone,
        "hold_days": earning.hold_days if earning.release == "after_hold" else 0,
        "expiry": {"mode": earning.expiry.mode, "months": earning.expiry.months},
        "ways_to_earn": ways_to_earn(rt.rules, currency),
    }


def _currency(rt: Runtime, shop_id: str | None = None) -> str:
    shop = rt.settings.shop(shop_id) if shop_id else (rt.settings.shops[0] if rt.settings.shops else None)
    return shop.currency if shop else ""


@admin_bp.get("/program")
@require_admin
def admin_program() -> Response:
    query = schemas.ShopQuery().load(request.args)
    rt = current_runtime()
    return jsonify(program_view(rt, _currency(rt, query["shop"])))


@admin_bp.post("/rules/preview")
@require_admin
def admin_preview() -> Response:
    rt = current_runtime()
    body = PreviewIn().load(json_object())
    shop_id = body["shop_id"] or (rt.settings.shops[0].id if rt.settings.shops else "")
    if rt.settings.shop(shop_id) is None:
        raise UnknownShop(f"no shop {shop_id!r} in the configuration")
    try:
        order = parse_order(body["order"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"not an order: {exc}") from exc
    version = body["program_version"]
    ctx = program_context.of_version(rt, shop_id, version) if version is not None else None
    with db.read(rt.engine) as conn:
        return jsonify(explain(rt, conn, shop_id, order, ctx) | {"program_version": version or rt.program_version})


@admin_bp.post("/members/<int:member_id>/invite")
@require_admin
def admin_invite(member_id: int) -> Response:
    """Let a member into an invite-only (or closed) program: from now on they earn."""
    rt = current_runtime()
    with db.write(rt.engine) as conn:
        joined = member_profile.invite(conn, rt.settings.program.id, member_id, str(g.actor))
    return jsonify({"member_id": member_id, "joined_at": joined.astimezone(UTC).isoformat()})


class ProfileIn(Schema):
    class Meta:
        unknown = RAISE

    birthday = fields.Date(allow_none=True)
    tier = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))


@admin_bp.get("/members/<int:member_id>/profile")
@require_admin
def admin_profile(member_id: int) -> Response:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        if member_store.get(conn, rt.settings.program.id, member_id) is None:
            raise UnknownMember(f"no member {member_id} in this program")
        return jsonify(_profile_view(member_id, life.profile(conn, member_id)))


@admin_bp.patch("/members/<int:member_id>/profile")
@require_admin
def admin_update_profile(member_id: int) -> Response:
    """Set what the rules read about a member: the birthday (birthday bonus) and the tier (tier multiplier)."""
    rt = current_runtime()
    changes = ProfileIn().load(json_object())  # not JSON is a 400: it answered 200, changing nothing
    with db.write(rt.engine) as conn:
        profile = member_profile.update(conn, rt.settings.program, member_id, str(g.actor), changes)
    return jsonify(_profile_view(member_id, profile))


@admin_bp.get("/members/<int:member_id>/point-events")
@require_admin
def admin_point_events(member_id: int) -> Response:
    """What the point-life jobs recorded for the member ("expiring_soon"), for notifications and support."""
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        if member_store.get(conn, rt.settings.program.id, member_id) is None:
            raise UnknownMember(f"no member {member_id} in this program")
        events = life.events(conn, member_id)
    return jsonify(
        {
            "events": [
                {
                    "id": ev["id"],
                    "kind": ev["kind"],
                    "points": ev["points"],
                    "due_at": ev["due_at"].isoformat() if ev["due_at"] else None,
                    "details": ev["details"],
                    "created_at": ev["created_at"].isoformat(),
                    "sent_at": ev["sent_at"].isoformat() if ev["sent_at"] else None,
                }
                for ev in events
            ]
        }
    )


def _profile_view(member_id: int, profile: life.Profile) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "joined_at": profile.joined_at.isoformat() if profile.joined_at else None,
        "birthday": profile.birthday.isoformat() if profile.birthday else None,
        "tier": profile.tier,
    }


def _ways_section(req: widget_panel.PanelRequest) -> list[dict[str, Any]]:
    rules = req.rt.rules
    # issue 16: a rule for some segments is shown only to their members (and a guest sees none of them)
    segments = segment_store.of_member(req.conn, req.member_id) if req.member_id and rules.needs_segments else None
    return ways_to_earn(rules, _currency(req.rt, req.shopper.shop_id), segments or frozenset())


widget_panel.register("ways_to_earn", _ways_section)


def register(app: Any) -> None:
    app.register_blueprint(admin_bp)
