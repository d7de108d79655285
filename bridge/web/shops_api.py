"""``/admin/v1/shops``: the shops this bridge serves and the health of their connection (issue 7)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, jsonify, request

from bridge.errors import ConfigError
from bridge.runtime import current_runtime
from bridge.sync import shop_settings
from bridge.sync.status import shop_status
from bridge.web import schemas
from bridge.web.auth import require_admin
from bridge.web.body import json_object
from bridge.web.errors import error_response

bp = Blueprint("shops_api", __name__, url_prefix="/admin/v1/shops")


@bp.get("")
@require_admin
def list_shops() -> Response:
    rt = current_runtime()
    rt.reload_shops()
    return jsonify(
        {
            "shops": [
                {"id": s.id, "platform": s.platform, "url": s.url, "currency": s.currency} for s in rt.settings.shops
            ]
        }
    )


@bp.get("/<shop_id>/status")
@require_admin
def status(shop_id: str) -> Response:
    """Keys, webhooks as the shop sees them (``?check=false`` skips asking the shop), backlog, reconciliation."""
    check = schemas.StatusQuery().load(request.args)["check"]
    return jsonify(shop_status(current_runtime(), shop_id, check_shop=check))


@bp.errorhandler(ConfigError)
def _invalid_settings(exc: ConfigError) -> tuple[Response, int]:
    return error_response(422, "validation_failed", "the shop settings are not valid", fields={exc.key: [exc.reason]})


@bp.get("/<shop_id>/settings")
@require_admin
def get_settings(shop_id: str) -> Response:
    """The settings connect does not manage, and where each comes from (``database`` or ``config``); never the
    widget secret itself."""
    rt = current_runtime()
    return jsonify(shop_settings.view(rt.settings, shop_settings.rows(rt.engine, rt.program_id), shop_id))


@bp.patch("/<shop_id>/settings")
@require_admin
def patch_settings(shop_id: str) -> Response:
    """``{widget_secret?, allowed_origins?}`` as config.yaml spells them; ``null`` returns a key to config.yaml's
    value. Stored, audited, and followed by every process within seconds (no restart)."""
    rt = current_runtime()
    change = shop_settings.validated(json_object())
    shop_settings.update(rt.settings, rt.engine, shop_id, change, actor=g.actor)
    rt.changed("shops")
    return jsonify(shop_settings.view(rt.settings, shop_settings.rows(rt.engine, rt.program_id), shop_id))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
