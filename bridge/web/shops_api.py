"""``/admin/v1/shops``: the shops this bridge serves and the health of their connection (issue 7)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from bridge.runtime import current_runtime
from bridge.sync.status import shop_status
from bridge.web.auth import require_admin

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
    check = request.args.get("check", "true").lower() not in ("0", "false", "no")
    return jsonify(shop_status(current_runtime(), shop_id, check_shop=check))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
