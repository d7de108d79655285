"""``POST /admin/v1/events`` (issue 19): custom events, awarded by ``event`` rules or by explicit points.

The member is named the way the shop vouches for it: ``{shop, customer_id}`` (the account's member, created on
its first event as on its first order), or ``{email}``, which only selects an existing member by the e-mail that
keys it (``member.email_key``: a guest's, or an account's own from the shop) and never creates one.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, jsonify
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from bridge import limits
from bridge.config_schema import EVENT_TYPE
from bridge.errors import UnknownMember, UnknownShop
from bridge.events.service import EventRequest, record
from bridge.members import service as members
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import members as member_store
from bridge.web import schemas
from bridge.web.auth import require_admin
from bridge.web.body import json_object

bp = Blueprint("events_api", __name__, url_prefix="/admin/v1")

MAX_DATA_BYTES = 4096
"""``data`` is kept with the event (support, exports), never read by the bridge: a few KB is plenty."""
MAX_DATA_DEPTH = 8


class MemberRefIn(Schema):
    class Meta:
        unknown = RAISE

    shop = schemas.text_id(load_default=None)
    customer_id = fields.String(load_default=None, validate=validate.Regexp(r"^[1-9][0-9]{0,18}$"))
    email = schemas.email(load_default=None)

    @validates_schema
    def _one_way(self, data: dict[str, Any], **kwargs: Any) -> None:
        by_account = data["shop"] is not None or data["customer_id"] is not None
        if by_account == (data["email"] is not None):
            raise ValidationError("give either shop and customer_id, or email")
        if by_account and (data["shop"] is None or data["customer_id"] is None):
            raise ValidationError("shop and customer_id go together")


class EventIn(Schema):
    class Meta:
        unknown = RAISE

    member = fields.Nested(MemberRefIn, required=True)
    type = fields.String(required=True, validate=validate.Regexp(EVENT_TYPE, error="lower-case, at most 64 characters"))
    idempotency_key = fields.String(
        required=True, validate=validate.Length(min=1, max=limits.MAX_IDEMPOTENCY_KEY_LENGTH)
    )
    points = schemas.points(minimum=1, load_default=None)
    data = fields.Dict(keys=fields.String(), load_default=dict)

    @validates("idempotency_key")
    def _printable(self, value: str, **kwargs: Any) -> None:
        if not value.isprintable() or value != value.strip():
            raise ValidationError("printable, without surrounding spaces")

    @validates("data")
    def _small(self, value: dict[str, Any], **kwargs: Any) -> None:
        if _depth(value) > MAX_DATA_DEPTH:
            raise ValidationError(f"at most {MAX_DATA_DEPTH} levels deep")
        if len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")) > MAX_DATA_BYTES:
            raise ValidationError(f"at most {MAX_DATA_BYTES} bytes as JSON")


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@bp.post("/events")
@require_admin
def post_event() -> tuple[Response, int]:
    payload = EventIn().load(json_object())
    ref = payload["member"]
    rt = current_runtime()
    program_id = rt.settings.program.id
    if ref["shop"] is not None and rt.settings.shop(ref["shop"]) is None:
        raise UnknownShop(f"no shop {ref['shop']!r}")
    request = EventRequest(
        member_ref={k: v for k, v in ref.items() if v is not None},
        type=payload["type"],
        request_key=payload["idempotency_key"],
        points=payload["points"],
        data=payload["data"],
    )
    with db.write(rt.engine) as conn:
        if ref["email"] is not None:
            member_id = member_store.by_email(conn, program_id, members.normalize_email(ref["email"]))
            if member_id is None:
                raise UnknownMember("no member is selected by this e-mail (send shop and customer_id)")
        else:
            member_id = members.resolve(conn, program_id, ref["shop"], ref["customer_id"], "")
            assert member_id is not None  # an account always has a member
        body, created = record(
            conn,
            program_id=program_id,
            shop_id=ref["shop"],
            member_id=member_id,
            rules=rt.rules,
            request=request,
            actor=str(g.actor),
        )
    response = jsonify(body)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201 if created else 200


def register(app: Any) -> None:
    app.register_blueprint(bp)
