"""Notifications over HTTP (issue 17): the one-click unsubscribe page, and the admin's deliveries, replay, preview
and member preferences."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from markupsafe import escape
from marshmallow import fields, validate

from bridge.notifications import service, store, unsubscribe
from bridge.notifications.settings import CHANNELS, LOCALES, MEMBER_CHANNELS
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage.clock import utcnow
from bridge.web import schemas
from bridge.web.auth import require_admin
from bridge.web.body import json_object

public_bp = Blueprint("notifications_public", __name__)
admin_bp = Blueprint("notifications_admin", __name__, url_prefix="/admin/v1")

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport"
content="width=device-width"><title>{title}</title></head><body style="font-family:sans-serif;max-width:32em;
margin:3em auto;padding:0 1em"><h1 style="font-size:1.3em">{title}</h1>{body}</body></html>"""


@public_bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe_link(token: str) -> Response:
    """GET shows a button (mail scanners follow links: a GET changes nothing); POST (the button, or the mail
    client's RFC 8058 one-click ``List-Unsubscribe-Post``) unsubscribes the member from that channel."""
    rt = current_runtime()
    found = unsubscribe.read(rt.settings, token[:200])
    if found is None:
        raise service.UnsubscribeLinkInvalid("this unsubscribe link is not valid")
    member_id, channel = found
    what = "e-mails" if channel == "email" else "text messages"
    if request.method == "GET":
        body = (
            f"<p>Stop {what} from {_escape(rt.settings.program.name)}?</p>"
            '<form method="post"><button type="submit">Unsubscribe</button></form>'
        )
        return Response(_PAGE.format(title="Unsubscribe", body=body), mimetype="text/html")
    service.unsubscribe(rt, member_id, channel, utcnow())
    body = f"<p>You will get no more {what} from {_escape(rt.settings.program.name)}.</p>"
    return Response(_PAGE.format(title="Unsubscribed", body=body), mimetype="text/html")


def _escape(text: str) -> str:
    return str(escape(text))


class DeliveryQuery(schemas.PageQuery):
    state = fields.String(load_default=None, validate=validate.OneOf(store.STATES))


class PreviewQuery(schemas._Strict):
    event = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    member = schemas.row_id(required=True)
    channel = fields.String(load_default="email", validate=validate.OneOf(CHANNELS))
    locale = fields.String(load_default=None, validate=validate.OneOf(LOCALES))


class PreferencesIn(schemas._Strict):
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9]{6,20}$"))
    locale = fields.String(allow_none=True, validate=validate.OneOf(LOCALES))
    opt_out = fields.Dict(keys=fields.String(validate=validate.OneOf(MEMBER_CHANNELS)), values=fields.Boolean())


def _delivery_out(delivery: store.Delivery, event: store.Event) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event": {"id": event.id, "type": event.type, "key": event.key, "created_at": event.created_at.isoformat()},
        "member_id": delivery.member_id,
        "channel": delivery.channel,
        "target": delivery.target,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "last_error": delivery.last_error,
        "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
    }


@admin_bp.get("/notifications/deliveries")
@require_admin
def list_deliveries() -> Response:
    query = DeliveryQuery().load(request.args)
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        found = store.page(
            conn, rt.settings.program.id, state=query["state"], limit=query["limit"], before=query["before"]
        )
    next_before = found[-1][0].id if len(found) == query["limit"] else None
    return jsonify({"deliveries": [_delivery_out(d, e) for d, e in found], "next_before": next_before})


@admin_bp.post("/notifications/deliveries/<int:delivery_id>/replay")
@require_admin
def replay_delivery(delivery_id: int) -> Response:
    rt = current_runtime()
    delivery = service.replay(rt, delivery_id, g.actor)
    with db.read(rt.engine) as conn:
        event = store.events(conn, [delivery.event_id])[delivery.event_id]
    return jsonify(_delivery_out(delivery, event))


@admin_bp.get("/notifications/preview")
@require_admin
def preview() -> Response:
    query = PreviewQuery().load(request.args)
    rt = current_runtime()
    return jsonify(
        service.preview(
            rt, event_type=query["event"], member_id=query["member"], channel=query["channel"], locale=query["locale"]
        )
    )


@admin_bp.put("/members/<int:member_id>/notifications")
@require_admin
def put_preferences(member_id: int) -> Response:
    values = PreferencesIn().load(json_object())
    return jsonify(service.set_preferences(current_runtime(), member_id, values, g.actor))


def register(app: Flask) -> None:
    app.register_blueprint(public_bp)
    app.register_blueprint(admin_bp)
