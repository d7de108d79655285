"""Rewards and redemptions over HTTP: the widget's (shopper token) and the admin's (API key).

Widget: ``GET /widget/v1/rewards``, ``POST /widget/v1/redemptions`` (``Idempotency-Key`` header),
``GET|DELETE /widget/v1/redemptions/<id>``, and the panel's ``rewards`` section.
Admin: ``GET /admin/v1/rewards``, ``GET /admin/v1/redemptions``, ``GET /admin/v1/redemptions/<id>``,
``POST /admin/v1/members/<id>/redemptions``, ``POST /admin/v1/redemptions/<id>/cancel``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

import bridge.redemption.jobs  # noqa: F401  (registers the periodic jobs and the order observer)
from bridge import limits
from bridge.errors import MalformedPayload
from bridge.ledger import service as ledger
from bridge.redemption import catalogue, readiness
from bridge.redemption import service as redemptions
from bridge.redemption.model import IdempotencyKeyRequired, Redemption, ShopBusy, State
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import redemptions as store
from bridge.web import ratelimit, schemas, widget_panel
from bridge.web.auth import require_admin
from bridge.web.body import json_object
from bridge.web.errors import error_response
from bridge.web.shopper_texts import shopper_json
from bridge.web.widget_auth import current_shopper, require_shopper

widget_bp = Blueprint("redemption_widget", __name__, url_prefix="/widget/v1")
admin_bp = Blueprint("redemption_admin", __name__, url_prefix="/admin/v1")

MAX_KEY_LENGTH = limits.MAX_IDEMPOTENCY_KEY_LENGTH
ADMIN_KEY_PREFIX = "admin:"


class RedeemIn(Schema):
    class Meta:
        unknown = RAISE

    reward_id = schemas.text_id(required=True)
    points = schemas.points(minimum=1, load_default=None)


class AdminRedeemIn(RedeemIn):
    shop = schemas.text_id(load_default=None)


class CancelIn(Schema):
    class Meta:
        unknown = RAISE

    # A redemption stuck in `reserved` while the shop cannot be asked: the owner checked the shop has no coupon.
    force = fields.Boolean(load_default=False)


class ListQuery(Schema):
    class Meta:
        unknown = RAISE

    member = schemas.row_id(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf([str(s) for s in State]))
    limit = schemas.page_limit()
    before = schemas.row_id(load_default=None)


# -- views of a redemption ---------------------------------------------------------------------------------------
def shopper_view(red: Redemption) -> dict[str, Any]:
    """What the shopper sees: the code only once it works in the shop, and a plain message."""
    usable = red.state in (State.ISSUED, State.USED)
    return {
        "id": red.id,
        "reward_id": red.reward_id,
        "title": red.title,
        "type": red.reward_type,
        "state": str(red.state),
        "code": red.code if usable else None,
        "points": red.points,
        "value": red.value,
        "expires_at": red.expires_at.isoformat(),
        "created_at": red.created_at.isoformat(),
        "message": _message(red),
    }


def admin_view(red: Redemption) -> dict[str, Any]:
    return {
        **shopper_view(red),
        "code": red.code,
        "shop_id": red.shop_id,
        "member_id": red.member_id,
        "coupon_id": red.coupon_id,
        "order_id": red.order_id,
        "channel": red.channel,
        "actor": red.actor,
        "attempts": red.attempts,
        "last_error": red.last_error,
        "failure_reason": red.failure_reason,
        "issued_at": red.issued_at.isoformat() if red.issued_at else None,
        "closed_at": red.closed_at.isoformat() if red.closed_at else None,
    }


def _message(red: Redemption) -> str:
    if red.channel == "perk":  # a tier perk (issue 16): no points were set aside, none come back
        return _perk_message(red)
    match red.state:
        case State.RESERVED if red.attempts > 0:
            return (
                f"The shop is not answering right now. Your {red.points} points are set aside: your coupon will be "
                "ready as soon as the shop answers, or the points come back."
            )
        case State.RESERVED:
            return "Your coupon is being created in the shop; this can take a moment."
        case State.ISSUED:
            return "Use this code at checkout. It works once, with your e-mail address."
        case State.USED:
            return "This coupon was used in an order."
        case State.FAILED:
            return f"The shop could not create your coupon, so your {red.points} points are back in your balance."
        case State.CANCELLED if red.issued_at is None:
            return f"This reward was cancelled before its coupon was made; your {red.points} points are back."
        case State.CANCELLED:
            return f"You gave this reward back; your {red.points} points are back in your balance."
        case State.EXPIRED:
            return "This coupon expired unused."
    return ""


def _perk_message(red: Redemption) -> str:
    match red.state:
        case State.RESERVED:
            return "Your member perk is being created in the shop; it will be ready as soon as the shop answers."
        case State.ISSUED:
            return "Your member perk: use this code at checkout. It works once, with your e-mail address."
        case State.USED:
            return "This coupon was used in an order."
        case State.FAILED:
            return "The shop could not create this perk's coupon."
        case State.CANCELLED:
            return "This perk's coupon was given back."
        case State.EXPIRED:
            return "This coupon expired unused."
    return ""


def _redeemed_response(result: redemptions.Redeemed, view: Any) -> tuple[Response, int]:
    red = result.redemption
    if red.state == State.FAILED:
        response, status = error_response(502, "redemption_failed", _message(red), redemption=view(red))
    else:
        response = shopper_json({"redemption": view(red)})
        status = 202 if red.state == State.RESERVED else 201
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response, status


def _request_key(max_length: int = MAX_KEY_LENGTH) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise IdempotencyKeyRequired("send an Idempotency-Key header (one fresh value per redeem click)")
    if len(key) > max_length or not key.isprintable():
        raise MalformedPayload(f"the Idempotency-Key must be printable and at most {max_length} characters")
    return key


def _shop_busy(exc: ShopBusy) -> tuple[Response, int]:
    response, status = error_response(503, exc.code, str(exc))
    response.headers["Retry-After"] = "30"
    return response, status


widget_bp.register_error_handler(ShopBusy, _shop_busy)
admin_bp.register_error_handler(ShopBusy, _shop_busy)


# -- widget ------------------------------------------------------------------------------------------------------
def _shopper_member(conn: Any) -> int | None:
    shopper = current_shopper()
    return redemptions.member_for_shopper(conn, shopper.shop_id, shopper.customer_id)


def rewards_section(rt: Any, conn: Any, shop_id: str, member_id: int | None) -> dict[str, Any]:
    shop = rt.settings.shop(shop_id)
    minor_unit = shop.minor_unit if shop else 2
    available = ledger.balance(conn, member_id).available if member_id is not None else 0
    mine = redemptions.mine(conn, member_id) if member_id is not None else []
    return {
        "catalogue": catalogue.for_member(rt.settings.program.rewards, available, minor_unit),
        "mine": [shopper_view(r) for r in mine if r.state != State.FAILED],
        "available": available,
        # A shop without REST API access cannot make coupons: the widget shows a note instead of Redeem.
        "redeemable": readiness.why_not_redeemable(shop) is None,
        "reason": None if readiness.why_not_redeemable(shop) is None else "shop_not_connected",
    }


def _panel_section(req: widget_panel.PanelRequest) -> dict[str, Any]:
    return rewards_section(req.rt, req.conn, req.shopper.shop_id, req.member_id)


widget_panel.register("rewards", _panel_section)


@widget_bp.get("/rewards")
@require_shopper
def widget_rewards() -> Response:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        member_id = _shopper_member(conn)
        section = rewards_section(rt, conn, current_shopper().shop_id, member_id)
    return shopper_json(section)


@widget_bp.post("/redemptions")
@require_shopper
def widget_redeem() -> tuple[Response, int]:
    rt = current_runtime()
    shopper = current_shopper()
    limit = rt.settings.program.redemption.rate_limit_per_minute
    ratelimit.hit("redeem", f"{shopper.shop_id}:{shopper.customer_id}", limit, 60)
    ratelimit.hit("redeem-ip", request.remote_addr or "-", limit * 5, 60)
    key = _request_key()
    payload = RedeemIn().load(json_object())
    result = redemptions.redeem(
        rt,
        shop_id=shopper.shop_id,
        shopper=(shopper.customer_id, shopper.email),
        reward_id=payload["reward_id"],
        points=payload["points"],
        request_key=key,
        channel="widget",
        actor=f"customer:{shopper.customer_id}",
    )
    return _redeemed_response(result, shopper_view)


def _own_redemption(redemption_id: int) -> Redemption:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        member_id = _shopper_member(conn)
    return redemptions.get(rt, redemption_id, member_id if member_id is not None else -1)


@widget_bp.get("/redemptions/<int:redemption_id>")
@require_shopper
def widget_redemption(redemption_id: int) -> Response:
    return shopper_json({"redemption": shopper_view(_own_redemption(redemption_id))})


@widget_bp.delete("/redemptions/<int:redemption_id>")
@require_shopper
def widget_cancel(redemption_id: int) -> Response:
    red = _own_redemption(redemption_id)
    shopper = current_shopper()
    cancelled = redemptions.cancel(
        current_runtime(), red.id, member_id=red.member_id, actor=f"customer:{shopper.customer_id}"
    )
    return shopper_json({"redemption": shopper_view(cancelled)})


# -- admin -------------------------------------------------------------------------------------------------------
@admin_bp.get("/rewards")
@require_admin
def admin_rewards() -> Response:
    rt = current_runtime()
    minor_unit = rt.settings.shops[0].minor_unit if rt.settings.shops else 2
    items = []
    for reward in rt.settings.program.rewards:
        item = catalogue.describe(reward, None, minor_unit)
        item["enabled"] = reward.enabled
        item["individual_use"] = reward.individual_use
        item["limit"] = {"count": reward.limit.count, "period_days": reward.limit.period_days} if reward.limit else None
        items.append(item)
    return jsonify({"rewards": items})


@admin_bp.get("/redemptions")
@require_admin
def admin_list() -> Response:
    query = ListQuery().load(request.args)
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        found = store.listing(
            conn, rt.settings.program.id, query["member"], query["state"], query["limit"], query["before"]
        )
    next_before = found[-1].id if len(found) == query["limit"] else None
    return jsonify({"redemptions": [admin_view(r) for r in found], "next_before": next_before})


@admin_bp.get("/redemptions/<int:redemption_id>")
@require_admin
def admin_get(redemption_id: int) -> Response:
    return jsonify({"redemption": admin_view(redemptions.get(current_runtime(), redemption_id))})


@admin_bp.post("/members/<int:member_id>/redemptions")
@require_admin
def admin_redeem(member_id: int) -> tuple[Response, int]:
    """Support redeems on a member's behalf (audited); same rules, same idempotency as the widget."""
    key = _request_key(MAX_KEY_LENGTH - len(ADMIN_KEY_PREFIX))  # stored prefixed, in a column of MAX_KEY_LENGTH
    payload = AdminRedeemIn().load(json_object())
    rt = current_runtime()
    shop_id = payload["shop"] or (rt.settings.shops[0].id if len(rt.settings.shops) == 1 else None)
    if shop_id is None:
        raise MalformedPayload('say which shop the coupon is for: {"shop": "<id>"}')
    result = redemptions.redeem(
        rt,
        shop_id=shop_id,
        member_id=member_id,
        reward_id=payload["reward_id"],
        points=payload["points"],
        request_key=f"{ADMIN_KEY_PREFIX}{key}",
        channel="admin",
        actor=g.actor,
    )
    return _redeemed_response(result, admin_view)


@admin_bp.post("/redemptions/<int:redemption_id>/cancel")
@require_admin
def admin_cancel(redemption_id: int) -> Response:
    """Cancel an unused reward, or one stuck in ``reserved`` (``{"force": true}`` when the shop cannot be asked)."""
    payload = CancelIn().load(json_object() if request.get_data(cache=True) else {})
    cancelled = redemptions.cancel(
        current_runtime(), redemption_id, member_id=None, actor=g.actor, force=payload["force"]
    )
    return jsonify({"redemption": admin_view(cancelled)})


def register(app: Any) -> None:
    app.register_blueprint(widget_bp)
    app.register_blueprint(admin_bp)
