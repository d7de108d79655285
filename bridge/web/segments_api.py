"""Segments over HTTP (issue 16): ``GET /admin/v1/segments`` with counts; members by segment are listed by
``GET /admin/v1/members?segment=`` (bridge/web/admin_api.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from bridge.runtime import current_runtime
from bridge.segments.settings import RFM_SEGMENTS
from bridge.storage import db
from bridge.storage import segments as store
from bridge.web.auth import require_admin

admin_bp = Blueprint("segments_admin", __name__, url_prefix="/admin/v1")


@admin_bp.get("/segments")
@require_admin
def list_segments() -> Response:
    rt = current_runtime()
    program = rt.settings.program
    with db.read(rt.engine) as conn:
        counts = store.counts(conn, program.id)
    items = [
        {
            "id": segment_id,
            "name": str(program.segments.name(segment_id)),
            "kind": "rfm" if segment_id in RFM_SEGMENTS else "custom",
            "members": counts.get(segment_id, 0),
        }
        for segment_id in program.segments.ids()
    ]
    return jsonify({"segments": items})


def register(app: Any) -> None:
    app.register_blueprint(admin_bp)
