"""Referrals over HTTP.

Public: ``GET /r/<code>`` (records a click, 302 to the shop with ``?ref=``; never an error page),
``GET /widget/v1/referral/offer?shop=&code=`` and ``POST /widget/v1/referrals/claim`` (the friend; rate-limited
per IP and per code). Shopper token: ``GET /widget/v1/referral`` and the panel's ``referral`` section.
Admin: ``GET /admin/v1/referrals?state=``, ``GET /admin/v1/referrals/stats``,
``PUT /admin/v1/members/<id>/referral-code`` (an approved vanity code).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, redirect, request
from marshmallow import RAISE, Schema, fields, validate

import bridge.referrals.jobs  # noqa: F401  (registers the order observer and the qualification job)
from bridge.errors import MalformedPayload, UnknownShop
from bridge.members import service as members
from bridge.referrals import service
from bridge.referrals.model import Referral, State
from bridge.runtime import current_runtime
from bridge.storage import audit, db
from bridge.storage import referrals as store
from bridge.web import cors, ratelimit, schemas, widget_panel
from bridge.web.auth import require_admin
from bridge.web.body import json_object
from bridge.web.shopper_texts import shopper_json
from bridge.web.widget_auth import current_shopper, require_shopper

public_bp = Blueprint("referral_links", __name__)
widget_bp = Blueprint("referral_widget", __name__, url_prefix="/widget/v1")
admin_bp = Blueprint("referral_admin", __name__, url_prefix="/admin/v1")


class ClaimIn(Schema):
    class Meta:
        unknown = RAISE

    shop = schemas.text_id(load_default=None)
    code = fields.String(required=True, validate=validate.Length(min=3, max=40))
    email = schemas.email(required=True)


class ListQuery(Schema):
    class Meta:
        unknown = RAISE

    state = fields.String(load_default=None, validate=validate.OneOf([str(s) for s in State]))
    limit = schemas.page_limit()
    before = schemas.row_id(load_default=None)


class VanityIn(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9-]{2,30}[A-Za-z0-9]$", error="4-32 letters, digits or '-'"),
    )


# -- the link --------------------------------------------------------------------------------------------------------
@public_bp.get("/r/<code>")
def follow_link(code: str) -> Any:
    rt = current_runtime()
    # A link is never an error page: an unknown ``shop`` falls back to the first shop, like an unknown code.
    shop = rt.settings.shop(request.args.get("shop") or "") or (rt.settings.shops[0] if rt.settings.shops else None)
    if shop is None:
        raise UnknownShop("no shop to send this link to")
    live = service.record_click(
        rt, shop.id, code[:40], request.remote_addr or "-", request.headers.get("User-Agent", "")[:500]
    )
    response = redirect(service.landing_url(rt, shop, live), code=302)
    response.headers["Cache-Control"] = "no-store"  # every visit is a click
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# -- the friend --------------------------------------------------------------------------------------------------------
def _shop_id(given: str | None) -> str:
    rt = current_runtime()
    if given:
        return given
    if len(rt.settings.shops) == 1:
        return rt.settings.shops[0].id
    raise MalformedPayload("shop is required: this bridge serves several shops")


@widget_bp.get("/referral/offer")
def friend_offer() -> Response:
    query = schemas.OfferQuery().load(request.args)
    code = query["code"]
    shop_id = _shop_id(query["shop"])
    if current_runtime().settings.shop(shop_id) is None:
        raise UnknownShop(f"no shop {shop_id!r}")
    return shopper_json({"offer": service.offer(current_runtime(), code)})


@widget_bp.post("/referrals/claim")
def friend_claim() -> tuple[Response, int]:
    rt = current_runtime()
    s = rt.settings.program.referrals
    ratelimit.hit("referral-claim-ip", request.remote_addr or "-", s.claims_per_ip_per_hour, 3600)
    payload = ClaimIn().load(json_object())
    ratelimit.hit("referral-claim-code", payload["code"].strip().upper(), s.claims_per_code_per_hour, 3600)
    shop_id = _shop_id(payload["shop"])
    cors.check_origin(shop_id)  # the body names the shop: only now can its own origins be told from others
    claimed = service.claim(rt, shop_id, payload["code"], payload["email"])
    ref = claimed.referral
    body = {
        "referral": {"state": "invited" if ref.state != State.REJECTED else ref.state},
        "coupon": {
            "code": ref.coupon_code,
            "title": s.friend_reward.title,
            "expires_at": ref.coupon_expires_at.isoformat(),
        },
    }
    return shopper_json(body), 201 if claimed.created else 200


# -- the referrer (shopper token) ------------------------------------------------------------------------------------
@widget_bp.get("/referral")
@require_shopper
def my_referral() -> Response:
    rt = current_runtime()
    service.settings_of(rt)
    shopper = current_shopper()
    with db.write(rt.engine) as conn:
        # The account's member (created now if it has none): never the one the token's e-mail claim would select.
        member_id = members.resolve(conn, rt.settings.program.id, shopper.shop_id, shopper.customer_id, shopper.email)
        assert member_id is not None  # a token always names an account
        summary = service.shopper_summary(conn, rt, shopper.shop_id, member_id, request.host_url)
    return jsonify(summary)


def _panel_section(req: widget_panel.PanelRequest) -> dict[str, Any] | None:
    if not req.rt.settings.program.referrals.enabled or req.member_id is None:
        return None
    with db.write(req.rt.engine) as conn:  # the first look creates the member's code
        return service.shopper_summary(conn, req.rt, req.shopper.shop_id, req.member_id, request.host_url)


widget_panel.register("referral", _panel_section)


# -- the owner -------------------------------------------------------------------------------------------------------
def admin_view(ref: Referral) -> dict[str, Any]:
    return {
        "id": ref.id,
        "shop": ref.shop_id,
        "referrer_member_id": ref.referrer_member_id,
        "code": ref.code,
        "friend_email": ref.friend_email,
        "friend_member_id": ref.friend_member_id,
        "state": ref.state,
        "reason": ref.reason or None,
        "coupon_code": ref.coupon_code,
        "order_id": ref.order_id,
        "order_total": ref.order_total,
        "created_at": ref.created_at.isoformat(),
        "ordered_at": ref.ordered_at.isoformat() if ref.ordered_at else None,
        "completed_at": ref.completed_at.isoformat() if ref.completed_at else None,
        "qualified_at": ref.qualified_at.isoformat() if ref.qualified_at else None,
        "rejected_at": ref.rejected_at.isoformat() if ref.rejected_at else None,
    }


@admin_bp.get("/referrals")
@require_admin
def list_referrals() -> Response:
    query = ListQuery().load(request.args)
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        found = store.listing(conn, rt.settings.program.id, query["state"], query["limit"], query["before"])
    next_before = found[-1].id if len(found) == query["limit"] else None
    return jsonify({"referrals": [admin_view(r) for r in found], "next_before": next_before})


@admin_bp.get("/referrals/stats")
@require_admin
def referral_stats() -> Response:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        return jsonify(service.program_stats(conn, rt.settings.program.id))


@admin_bp.put("/members/<int:member_id>/referral-code")
@require_admin
def approve_vanity(member_id: int) -> Response:
    payload = VanityIn().load(json_object())
    rt = current_runtime()
    with db.write(rt.engine) as conn:
        members.get(conn, rt.settings.program.id, member_id)
        code = service.set_vanity(conn, rt, member_id, payload["code"])
        audit.record(
            conn,
            program_id=rt.settings.program.id,
            actor=g.actor,
            action="referral.vanity_code",
            target_type="member",
            target_id=str(member_id),
            details={"code": code},
        )
    return jsonify({"member_id": member_id, "code": code})


def register(app: Any) -> None:
    app.register_blueprint(public_bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(admin_bp)
