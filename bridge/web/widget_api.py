"""The widget's read API: ``GET /widget/v1/panel`` (a member's whole panel in one call) and
``GET /widget/v1/club?shop=`` (what the club offers, for a guest, no token).

The panel is assembled from the sections registered in ``bridge.web.widget_panel``; this module contributes
``club`` (name, currency, the basic earning rules), ``member`` (balance) and ``history`` (recent ledger entries).
Other areas add theirs (``rewards`` from redemption, ``ways_to_earn``, ``referral``...).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, request

from bridge.errors import UnknownShop
from bridge.ledger import service as ledger
from bridge.redemption import catalogue
from bridge.redemption import service as redemptions
from bridge.runtime import Runtime, current_runtime
from bridge.storage import db, life
from bridge.web import schemas, widget_panel
from bridge.web.shopper_texts import request_locale, shopper_json
from bridge.web.widget_auth import current_shopper, require_shopper

bp = Blueprint("widget_api", __name__, url_prefix="/widget/v1")

HISTORY_LIMIT = 20


def club_section(rt: Runtime, shop_id: str) -> dict[str, Any]:
    program = rt.settings.program
    shop = rt.settings.shop(shop_id)
    return {
        "name": program.name,
        "currency": shop.currency if shop else None,
        "minor_unit": shop.minor_unit if shop else 2,
        "earn": {
            "points_per_currency_unit": format(program.earn.points_per_currency_unit, "f"),
            "signup_points": program.earn.signup_points,
        },
    }


def _club(req: widget_panel.PanelRequest) -> dict[str, Any]:
    return club_section(req.rt, req.shopper.shop_id)


def _member(req: widget_panel.PanelRequest) -> dict[str, Any]:
    if req.member_id is None:
        # Signed in at the shop but no points yet: the widget shows a zero balance, not a sign-up call.
        return {"joined": False, "available": 0, "pending": 0, "lifetime": 0, "pending_lots": []}
    balance = ledger.balance(req.conn, req.member_id)
    return {
        "joined": True,
        "available": balance.available,
        "pending": balance.pending,
        "lifetime": balance.lifetime,
        "pending_lots": _pending_lots(req),
    }


def _pending_lots(req: widget_panel.PanelRequest) -> list[dict[str, Any]]:
    """Each pending lot and when it becomes available: the order's completion + the hold; null while the order
    is not completed yet (or the lot is not an order's), so the widget says "once your order is complete"."""
    assert req.member_id is not None
    earning = req.rt.settings.program.earning
    hold = timedelta(days=earning.hold_days if earning.release == "after_hold" else 0)
    return [
        {
            "points": lot.points,
            "cause_type": lot.cause_type,
            "cause_id": lot.cause_id,
            "available_at": (lot.completed_at + hold).isoformat() if lot.completed_at else None,
        }
        for lot in life.pending_lots(req.conn, req.member_id)
    ]


def _history(req: widget_panel.PanelRequest) -> list[dict[str, Any]]:
    if req.member_id is None:
        return []
    return [
        {
            "id": entry.id,
            "points": entry.points,
            "kind": entry.kind,
            "state": entry.state,
            "cause_type": entry.cause_type,
            "cause_id": entry.cause_id,
            "created_at": entry.created_at.isoformat(),
        }
        for entry in ledger.history(req.conn, req.member_id, HISTORY_LIMIT)
    ]


widget_panel.register("club", _club)
widget_panel.register("member", _member)
widget_panel.register("history", _history)


@bp.get("/panel")
@require_shopper
def panel() -> Response:
    rt = current_runtime()
    shopper = current_shopper()
    with db.read(rt.engine) as conn:
        member_id = redemptions.member_for_shopper(conn, shopper.shop_id, shopper.customer_id)
        body = widget_panel.render(widget_panel.PanelRequest(rt, conn, shopper, member_id, request_locale()))
    response = shopper_json(body)
    response.headers["Cache-Control"] = "private, no-store"  # a member's balance: never cached by a proxy
    return response


@bp.get("/club")
def club() -> Response:
    """Public: the club's offer for a shop's guests (no personal data, so no token)."""
    rt = current_runtime()
    shop = rt.settings.shop(schemas.ClubQuery().load(request.args)["shop"])
    if shop is None or not shop.widget_secret:
        raise UnknownShop("no shop with the widget enabled has this id")
    rewards = [catalogue.describe(r, None, shop.minor_unit) for r in rt.settings.program.rewards if r.enabled]
    response = shopper_json({"club": club_section(rt, shop.id), "rewards": {"catalogue": rewards}})
    response.headers["Cache-Control"] = "public, max-age=300"
    response.vary.add("Accept-Language")  # the owner's texts are in the shopper's language
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)
