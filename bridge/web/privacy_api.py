"""``/admin/v1/members/<id>/export`` and ``/erase`` (issue 19, GDPR): thin, the work is in ``bridge.privacy``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify

from bridge.privacy.erase import erase_member
from bridge.privacy.export import export_member
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.web.auth import require_admin

bp = Blueprint("privacy_api", __name__, url_prefix="/admin/v1")


@bp.get("/members/<int:member_id>/export")
@require_admin
def export(member_id: int) -> Response:
    """Everything held about the member, as JSON (a download)."""
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        document = export_member(conn, rt.settings.program.id, member_id)
    response = jsonify(document)
    response.headers["Content-Disposition"] = f'attachment; filename="member-{member_id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/members/<int:member_id>/erase")
@require_admin
def erase(member_id: int) -> tuple[Response, int]:
    """Pseudonymise the member (idempotent: 201 the first time, 200 with the same erasure afterwards)."""
    rt = current_runtime()
    with db.write(rt.engine) as conn:
        erased = erase_member(conn, rt.settings.program.id, member_id, actor=str(g.actor), source="admin")
    return jsonify({"erasure": erased.as_dict()}), 201 if erased.created else 200


def register(app: Any) -> None:
    app.register_blueprint(bp)
