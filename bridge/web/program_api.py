"""``/admin/v1/program/...``: the program as data (issue 14). Published versions, drafts, preview, publish, restore.

Drafts never affect awards: only a publish (a new version) does, and every process follows it within
``Runtime.SHOPS_CHECK_SECONDS``. Every call needs an admin API key.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from bridge.connectors.woocommerce.webhooks import parse_order
from bridge.errors import ConfigError, MalformedPayload, UnknownShop
from bridge.orders.explain import explain
from bridge.program import context as program_context
from bridge.program import document
from bridge.program import service as programs
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import program_versions as store
from bridge.web.auth import require_admin
from bridge.web.body import json_object
from bridge.web.errors import error_response
from bridge.web.rules_api import PreviewIn

bp = Blueprint("program_api", __name__, url_prefix="/admin/v1/program")

MAX_VERSION = 2**31 - 1
"""Version numbers are a 32-bit column: a larger one matches no route (404), where PostgreSQL failed (a 500)."""


class ReasonIn(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(load_default="", validate=validate.Length(max=2000))


def register(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.errorhandler(ConfigError)
def _invalid_document(exc: ConfigError) -> tuple[Response, int]:
    """A document the configuration's checker refuses: 422, with the key path as ``config.yaml`` spells it."""
    return error_response(422, "validation_failed", "the program document is not valid", fields={exc.key: [exc.reason]})


@bp.errorhandler(programs.ProgramMoved)
def _moved(exc: programs.ProgramMoved) -> tuple[Response, int]:
    return error_response(
        409, exc.code, str(exc), base_version=exc.base_version, published_version=exc.published_version
    )


@bp.get("/published")
@require_admin
def published() -> Response:
    rt = current_runtime()
    row = programs.published(rt.engine, rt.settings.program.id)
    if row is None:  # nothing seeded yet (`bridge db upgrade` not run): the configuration's program stands
        return jsonify({"version": None, "program": document.dump(rt.settings.program)})
    return jsonify({"version": row["version"], "program": row["document"], **_about(row)})


@bp.get("/versions")
@require_admin
def versions() -> Response:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        rows = store.versions(conn, rt.settings.program.id)
    return jsonify(
        {
            "published": rows[0]["version"] if rows else None,
            "versions": [{"version": r["version"], **_about(r)} for r in rows],
        }
    )


@bp.get(f"/versions/<int(max={MAX_VERSION}):number>")
@require_admin
def get_version(number: int) -> Response:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        row = store.version(conn, rt.settings.program.id, number)
    if row is None:
        raise programs.VersionNotFound(f"no program version {number}")
    return jsonify({"version": row["version"], "program": row["document"], **_about(row)})


@bp.post("/drafts")
@require_admin
def create_draft() -> tuple[Response, int]:
    """The body is a whole program document (the ``program:`` section of ``config.yaml``, as JSON);
    ``?reason=`` says why."""
    rt = current_runtime()
    reason = ReasonIn().load({"reason": request.args.get("reason", "")})["reason"]
    draft = programs.create_draft(rt.engine, rt.settings.program.id, json_object(), actor=g.actor, reason=reason)
    return jsonify(_draft_view(draft) | {"diff": draft["diff"]}), 201


@bp.get("/drafts/<int:draft_id>")
@require_admin
def get_draft(draft_id: int) -> Response:
    rt = current_runtime()
    return jsonify(_draft_view(programs.draft(rt.engine, rt.settings.program.id, draft_id)))


@bp.post("/drafts/<int:draft_id>/preview")
@require_admin
def preview(draft_id: int) -> Response:
    """What an order earns under the published version and under the draft; writes nothing."""
    rt = current_runtime()
    body = PreviewIn(exclude=("program_version",)).load(json_object())
    draft = programs.draft(rt.engine, rt.settings.program.id, draft_id)
    shop_id = body["shop_id"] or (rt.settings.shops[0].id if rt.settings.shops else "")
    if rt.settings.shop(shop_id) is None:
        raise UnknownShop(f"no shop {shop_id!r} in the configuration")
    try:
        order = parse_order(body["order"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"not an order: {exc}") from exc
    with db.read(rt.engine) as conn:
        now = explain(rt, conn, shop_id, order)
        then = explain(rt, conn, shop_id, order, program_context.with_document(rt, shop_id, draft["document"], None))
    return jsonify(
        {
            "shop_id": shop_id,
            "order_id": order.order_id,
            "published": {"version": rt.program_version, **_earned(now)},
            "draft": {"id": draft_id, "base_version": draft["base_version"], **_earned(then)},
        }
    )


@bp.post("/drafts/<int:draft_id>/publish")
@require_admin
def publish(draft_id: int) -> Response:
    rt = current_runtime()
    reason = ReasonIn().load(json_object() if request.data else {})["reason"]
    number = programs.publish_draft(rt.engine, rt.settings.program.id, draft_id, actor=g.actor, reason=reason)
    rt.changed("program")
    return jsonify({"version": number, "draft_id": draft_id})


@bp.post(f"/versions/<int(max={MAX_VERSION}):number>/restore")
@require_admin
def restore(number: int) -> Response:
    rt = current_runtime()
    reason = ReasonIn().load(json_object() if request.data else {})["reason"]
    new = programs.restore(rt.engine, rt.settings.program.id, number, actor=g.actor, reason=reason)
    rt.changed("program")
    return jsonify({"version": new, "restored": number})


def _earned(explained: dict[str, Any]) -> dict[str, Any]:
    keys = ("points", "earns_now", "points_state", "hold_days", "awards", "rules")
    return {k: explained[k] for k in keys}


def _about(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "base_version": row["base_version"],
        "actor": row["actor"],
        "reason": row["reason"],
        "created_at": row["created_at"].isoformat(),
    }


def _draft_view(draft: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": draft["id"],
        "base_version": draft["base_version"],
        "published_version": draft["published_version"],
        "actor": draft["actor"],
        "reason": draft["reason"],
        "created_at": draft["created_at"].isoformat(),
        "program": draft["document"],
    }
