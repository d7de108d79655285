"""The audit log page (owner only): who changed what, filterable, newest first, keyset pages."""

from __future__ import annotations

from flask import render_template, request

from bridge.console.routing import Role, console_route
from bridge.runtime import current_runtime
from bridge.storage import audit as audit_store
from bridge.storage import db
from bridge.storage.tables import audit_log

PAGE_SIZE = 50
FILTERS = ("actor", "action", "target_type", "target_id")


@console_route("/audit", role=Role.OWNER)
def audit() -> str:
    rt = current_runtime()
    filters = {}
    for name in FILTERS:
        value = request.args.get(name, "").strip()
        column = audit_log.c[name]
        # Bounded like the column: a longer value matches nothing anyway, and must not reach the database.
        filters[name] = value[: column.type.length] if value else None  # type: ignore[attr-defined]
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before < 2**63:
        before = None
    with db.read(rt.engine) as conn:
        rows = audit_store.page(conn, rt.settings.program.id, before_id=before, limit=PAGE_SIZE + 1, **filters)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_before = rows[-1]["id"] if more and rows else None
    shown = {k: v for k, v in filters.items() if v}
    return render_template("console/audit.html", rows=rows, filters=shown, next_before=next_before)
