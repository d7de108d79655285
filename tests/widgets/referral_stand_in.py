"""TEST-ONLY stand-in for the referral API of issue 5 (built in parallel; not on main when issue 6 was written).

It serves the two routes the widget's friend view calls, with the response shapes agreed in the issue-6 brief, and
a ``referral`` panel section, so the widget's friend view and referral link can be driven in the browser. The
tests use it only when the real routes / section are missing, and say so (``REAL_REFERRALS``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request

from bridge.web import widget_panel

OFFER = {"title": "10% off your first order", "description": "A welcome gift from a friend who shops here."}
CODE = "CAROL-FRIEND"
COUPON = {"code": "welcome7k2m9q", "title": "10% off your first order", "expires_at": "2026-12-31T23:59:59+00:00"}
LINK = "http://shop.test/?ref=CAROL-FRIEND"


def real_routes(app: Flask) -> bool:
    return any(rule.rule == "/widget/v1/referrals/claim" for rule in app.url_map.iter_rules())


def install(app: Flask, claims: list[dict[str, Any]]) -> None:
    bp = Blueprint("referral_stand_in", __name__, url_prefix="/widget/v1")

    @bp.get("/referral/offer")
    def offer() -> Any:
        if request.args.get("code") != CODE:
            return jsonify({"error": {"code": "referral_unknown_code", "message": "This link is not valid."}}), 422
        return jsonify({"offer": OFFER, "referrer_first_name": "Carol"})

    @bp.post("/referrals/claim")
    def claim() -> Any:
        body = request.get_json()
        claims.append(body)
        return jsonify({"referral": {"state": "claimed"}, "coupon": COUPON}), 201

    app.register_blueprint(bp)


def referral_section(req: widget_panel.PanelRequest) -> dict[str, Any]:
    return {"code": CODE, "link": LINK, "counts": {"claimed": 2}, "points_earned": 300, "friend_offer": OFFER}
