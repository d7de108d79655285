"""Reports over HTTP (issue 18), for the owner: ``GET /admin/v1/reports`` lists them, ``GET
/admin/v1/reports/<name>`` answers one as JSON or, with ``format=csv``, as a spreadsheet file.

Every report is read in one read-only transaction; the query (``from``, ``to``, ``interval``, ``shop``) is read by
``bridge.reports.catalog.parse_query``, as the ``bridge reports`` command reads it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from bridge import limits
from bridge.reports import catalog
from bridge.reports.export import csv_bytes, csv_filename, pick_table, plain
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage.clock import utcnow
from bridge.web.auth import require_admin

bp = Blueprint("reports_api", __name__, url_prefix="/admin/v1")


class ReportQueryIn(Schema):
    class Meta:
        unknown = RAISE

    from_ = fields.String(
        data_key="from", load_default=None, validate=validate.Length(max=10), metadata={"format": "date"}
    )
    to = fields.String(load_default=None, validate=validate.Length(max=10), metadata={"format": "date"})
    interval = fields.String(load_default=None, validate=validate.OneOf(("day", "week", "month")))
    shop = fields.String(load_default=None, validate=validate.Length(min=1, max=limits.MAX_ID_LENGTH))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    table = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


@bp.get("/reports")
@require_admin
def list_reports() -> Response:
    return jsonify({"reports": [{"name": name, "description": catalog.description(name)} for name in catalog.REPORTS]})


@bp.get("/reports/<name>")
@require_admin
def show_report(name: str) -> Response:
    build = catalog.builder(name)  # an unknown report is a 404 before its query is looked at
    given = ReportQueryIn().load(request.args)
    rt = current_runtime()
    query = catalog.parse_query(
        rt.settings,
        utcnow(),
        first=given["from_"],
        last=given["to"],
        interval=given["interval"],
        shop=given["shop"],
    )
    with db.read(rt.engine) as conn:
        report = build(conn, query)
    if given["format"] == "csv":
        table = pick_table(report, given["table"])
        response = Response(csv_bytes(table), mimetype="text/csv")
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        response.headers["Content-Disposition"] = f'attachment; filename="{csv_filename(report, table, query)}"'
        return response
    body: dict[str, Any] = {
        "report": report.name,
        "from": query.first.isoformat(),
        "to": query.last.isoformat(),
        "interval": query.interval,
        "shop": query.shop_id,
        "generated_at": query.now.isoformat(),
        "method": report.method,
        "data": plain(report.data),
        "tables": [table.name for table in report.tables],
    }
    return jsonify(body)


def register(app: Any) -> None:
    app.register_blueprint(bp)
