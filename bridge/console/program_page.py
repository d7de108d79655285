"""The program pages (issue 14 in the console): what is published, its history, and editing it as an owner does —
a form (or the whole YAML), a draft with its diff and its effect on recent orders, then publish.

Everything goes through ``bridge.program.service``, as the admin API does: drafts never affect awards, a publish
over a version that moved is refused (and said so), every publish and restore is audited with the console user.
"""

from __future__ import annotations

import json
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from bridge import texts
from bridge.connectors.woocommerce.webhooks import parse_order
from bridge.console import forms as console_forms
from bridge.console import i18n
from bridge.console import program_forms as forms
from bridge.console.guard import signed_in
from bridge.console.routing import Role, bp, console_route
from bridge.errors import ConfigError
from bridge.orders.explain import explain
from bridge.program import context as program_context
from bridge.program import document
from bridge.program import service as programs
from bridge.runtime import Runtime, current_runtime
from bridge.storage import db
from bridge.storage import program_versions as store
from bridge.storage import tables as t

VERSIONS_SHOWN = 20
PREVIEW_ORDERS = 5  # the most recent orders a draft is tried on
PREVIEW_SCAN = 50  # deliveries read to find them (newest first, by primary key)
MAX_YAML_BYTES = 256 * 1024


@bp.app_template_filter("shopper_text")
def shopper_text(value: Any) -> str:
    """A text of the program document (a string, or one per locale) in the console's language."""
    return texts.pick(value, i18n.language().code)


def _actor() -> str:
    user = signed_in()
    assert user is not None  # the guard lets no one without a session this far
    return user.actor


@console_route("/program", role=Role.VIEWER)
def program() -> str:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        versions = store.versions(conn, rt.program_id)[:VERSIONS_SHOWN]
        number = versions[0]["version"] if versions else None
        row = store.version(conn, rt.program_id, number) if number is not None else None
    doc = row["document"] if row else document.dump(rt.settings.program)
    return render_template(
        "console/program.html",
        published=row,
        program=doc,
        program_yaml=document.to_yaml(doc),
        versions=versions,
        can_edit=_is_owner(),
    )


@console_route("/program/edit", role=Role.OWNER)
def program_edit() -> str:
    rt = current_runtime()
    base, doc = _published(rt)
    return render_template("console/program_edit.html", groups=forms.groups(doc), base=base, errors={}, message="")


@console_route("/program/edit", role=Role.OWNER, methods=("POST",))
def program_edit_post() -> Response | tuple[str, int]:
    rt = current_runtime()
    base, doc = _published(rt)
    if str(base) != request.form.get("base_version", ""):
        return _form_again(doc, base, MultiDict(), "", _moved_message(request.form.get("base_version"), base))
    changed = forms.document_from_form(doc, request.form)
    reason = request.form.get("reason", "").strip()[:2000]
    try:
        created = programs.create_draft(rt.engine, rt.program_id, changed, actor=_actor(), reason=reason)
    except ConfigError as exc:
        return _form_again(changed, base, request.form, forms.error_path(exc.key), exc.reason)
    return redirect(url_for("console.program_draft", draft_id=created["id"]))


@console_route("/program/yaml", role=Role.OWNER, methods=("POST",))
def program_yaml() -> Response | tuple[str, int]:
    """The whole document as YAML (what the form does not draw: product lists, weekdays, expiry...)."""
    rt = current_runtime()
    text = request.form.get("document", "")
    reason = request.form.get("reason", "").strip()[:2000]
    try:
        if len(text.encode()) > MAX_YAML_BYTES:
            raise ConfigError("<program>", "program", f"the document is larger than {MAX_YAML_BYTES // 1024} KiB")
        created = programs.create_draft(
            rt.engine, rt.program_id, document.from_yaml(text), actor=_actor(), reason=reason
        )
    except ConfigError as exc:
        where = forms.error_path(exc.key) or "program"
        return render_template("console/program_yaml_error.html", where=where, reason=exc.reason, text=text), 422
    return redirect(url_for("console.program_draft", draft_id=created["id"]))


@console_route("/program/drafts/<int:draft_id>", role=Role.VIEWER)
def program_draft(draft_id: int) -> str:
    rt = current_runtime()
    draft = programs.draft(rt.engine, rt.program_id, draft_id)  # DraftNotFound: a 404 page (console guard)
    with db.read(rt.engine) as conn:
        base = store.version(conn, rt.program_id, draft["base_version"]) if draft["base_version"] else None
        current = store.published_number(conn, rt.program_id)
    diff = document.diff(base["document"] if base else None, draft["document"], "published", "draft")
    return render_template(
        "console/program_draft.html",
        draft=draft,
        diff=diff,
        previews=_previews(rt, draft["document"]),
        current=current,
        can_publish=_is_owner() and draft["published_version"] is None,
    )


@console_route("/program/drafts/<int:draft_id>/publish", role=Role.OWNER, methods=("POST",))
def program_publish(draft_id: int) -> Response:
    rt = current_runtime()
    reason = request.form.get("reason", "").strip()[:2000]
    try:
        number = programs.publish_draft(rt.engine, rt.program_id, draft_id, actor=_actor(), reason=reason)
    except programs.ProgramMoved as exc:
        message = "Version {current} was published after this draft was made from version {base}: make a new draft."
        console_forms.problem(i18n.gettext(message, current=exc.published_version, base=exc.base_version))
        return redirect(url_for("console.program_draft", draft_id=draft_id))
    except programs.DraftAlreadyPublished:
        console_forms.problem(i18n.gettext("This draft is already published."))
        return redirect(url_for("console.program_draft", draft_id=draft_id))
    rt.changed("program")
    console_forms.done(i18n.gettext("Version {n} is published.", n=number))
    return redirect(url_for("console.program"))


@console_route("/program/versions/<int:number>", role=Role.VIEWER)
def program_version(number: int) -> str:
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        row = store.version(conn, rt.program_id, number)
        current = store.published_number(conn, rt.program_id)
    if row is None:
        raise programs.VersionNotFound(f"no program version {number}")
    return render_template(
        "console/program_version.html",
        row=row,
        program_yaml=document.to_yaml(row["document"]),
        current=current,
        can_restore=_is_owner() and number != current,
    )


@console_route("/program/versions/<int:number>/restore", role=Role.OWNER, methods=("POST",))
def program_restore(number: int) -> Response:
    rt = current_runtime()
    reason = request.form.get("reason", "").strip()[:2000]
    try:
        new = programs.restore(rt.engine, rt.program_id, number, actor=_actor(), reason=reason)
    except programs.ProgramMoved:
        console_forms.problem(i18n.gettext("Another version was published meanwhile: look again and retry."))
        return redirect(url_for("console.program"))
    rt.changed("program")
    console_forms.done(i18n.gettext("Version {n} is published again as version {new}.", n=number, new=new))
    return redirect(url_for("console.program"))


# -- helpers -------------------------------------------------------------------------------------------------------
def _is_owner() -> bool:
    user = signed_in()
    return user is not None and user.role.allows(Role.OWNER)


def _published(rt: Runtime) -> tuple[int | None, dict[str, Any]]:
    row = programs.published(rt.engine, rt.program_id)
    if row is None:
        return None, document.dump(rt.settings.program)
    return row["version"], row["document"]


def _moved_message(asked: str | None, base: int | None) -> str:
    message = "Version {base} was published while you edited version {asked}: your changes are not saved; edit again."
    return i18n.gettext(message, base=base, asked=asked)


def _form_again(
    doc: dict[str, Any], base: int | None, form: MultiDict[str, str], where: str, why: str
) -> tuple[str, int]:
    """The form with what the owner typed and the schema's reason next to its input."""
    drawn = forms.groups(doc)
    errors = {where: why} if where else {}
    known = {i.path for i in forms.all_inputs(drawn)}
    message = why if where not in known else ""
    return render_template(
        "console/program_edit.html", groups=drawn, base=base, errors=errors, message=message or why, typed=form
    ), 422


def _previews(rt: Runtime, draft_document: dict[str, Any]) -> list[dict[str, Any]]:
    """What the most recent orders earn today and under the draft ("order 12: 35 → 70"), writing nothing."""
    orders = _recent_orders(rt)
    if not orders:
        return []
    out = []
    with db.read(rt.engine) as conn:
        for shop_id, order in orders:
            if rt.settings.shop(shop_id) is None:
                continue
            ctx = program_context.with_document(rt, shop_id, draft_document, None)
            now = explain(rt, conn, shop_id, order)
            then = explain(rt, conn, shop_id, order, ctx)
            out.append({"shop_id": shop_id, "order_id": order.order_id, "now": now["points"], "draft": then["points"]})
    return out


def _recent_orders(rt: Runtime) -> list[tuple[str, Any]]:
    d = t.inbox_delivery.c
    stmt = (
        select(d.shop_id, d.resource_id, d.body)
        .where(d.program_id == rt.program_id, d.topic.like("order.%"))
        .order_by(d.id.desc())
        .limit(PREVIEW_SCAN)
    )
    seen: set[tuple[str, str]] = set()
    found: list[tuple[str, Any]] = []
    with db.read(rt.engine) as conn:
        rows = conn.execute(stmt).all()
    for shop_id, resource_id, body in rows:
        if (shop_id, resource_id) in seen or len(found) >= PREVIEW_ORDERS:
            continue
        seen.add((shop_id, resource_id))
        try:
            found.append((shop_id, parse_order(json.loads(body))))
        except (ValueError, KeyError, TypeError):
            continue  # a delivery that is not an order as we read them: nothing to preview
    return found
