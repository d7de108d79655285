"""The Program page: the published program (as the YAML ``bridge program export`` prints), its versions, and
the owner's "restore this version" (published as a new version; history is never rewritten)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bridge.console import forms, i18n
from bridge.console.guard import signed_in
from bridge.console.routing import Role, console_route
from bridge.program import document
from bridge.program import service as programs
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import program_versions as store

VERSIONS_SHOWN = 50
MAX_REASON = 500


@console_route("/program", role=Role.VIEWER)
def program() -> str:
    rt = current_runtime()
    program_id = rt.settings.program.id
    current = programs.published(rt.engine, program_id)
    with db.read(rt.engine) as conn:
        versions = store.versions(conn, program_id)[:VERSIONS_SHOWN]
    text = document.to_yaml(current["document"]) if current else ""
    return render_template("console/program.html", current=current, yaml=text, versions=versions)


@console_route("/program/versions/<int:number>/restore", role=Role.OWNER, methods=("POST",))
def program_restore(number: int) -> ResponseReturnValue:
    user = signed_in()
    assert user is not None
    rt = current_runtime()
    reason = request.form.get("reason", "").strip()[:MAX_REASON]
    published = programs.restore(rt.engine, rt.settings.program.id, number, actor=user.actor, reason=reason)
    forms.done(i18n.gettext("Version {old} is published again as version {new}.", old=number, new=published))
    return redirect(url_for("console.program"))
