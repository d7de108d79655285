"""The Inbox page: deliveries the shop sent, failed ones first (with their error), newest first in keyset pages.
Staff replay one, or every failed one (the admin API's replay; audited with the user)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from bridge.console import forms
from bridge.console.i18n import gettext
from bridge.console.routing import Role, console_route
from bridge.inbox import service as inbox_service
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import inbox as store

PAGE_SIZE = 50
STATES = ("failed", "pending", "done")


class InboxFilters(Schema):
    state = fields.String(load_default="failed", validate=validate.OneOf((*STATES, "any")))
    shop = fields.String(validate=validate.Length(max=64))
    before = fields.Integer(validate=validate.Range(1, 2**63 - 1))


class ReplayAllForm(Schema):
    shop = fields.String(load_default=None, validate=validate.Length(max=64))


@console_route("/inbox", role=Role.VIEWER)
def inbox() -> str:
    query = forms.load(InboxFilters(), request.args)
    rt = current_runtime()
    state = None if query["state"] == "any" else query["state"]
    rows = inbox_service.listing(rt, state, query.get("shop"), PAGE_SIZE + 1, query.get("before"))
    with db.read(rt.engine) as conn:
        counts = store.counts(conn)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template(
        "console/inbox.html",
        rows=rows,
        counts=counts,
        states=STATES,
        shops=[s.id for s in rt.settings.shops],
        filters={k: v for k, v in query.items() if k != "before"},
        next_before=rows[-1]["id"] if more else None,
        can_act=forms.actor().role.allows(Role.STAFF),
    )


@console_route("/inbox/<int:delivery_id>/replay", role=Role.STAFF, methods=("POST",))
def inbox_replay(delivery_id: int) -> ResponseReturnValue:
    inbox_service.replay(current_runtime(), delivery_id, actor=forms.actor().actor)
    forms.done(gettext("{n} deliveries will be applied again.", n=1))
    return redirect(url_for("console.inbox"))


@console_route("/inbox/replay-failed", role=Role.STAFF, methods=("POST",))
def inbox_replay_failed() -> ResponseReturnValue:
    form = forms.load(ReplayAllForm())
    count = inbox_service.replay_failed(current_runtime(), actor=forms.actor().actor, shop_id=form["shop"])
    forms.done(gettext("{n} deliveries will be applied again.", n=count))
    return redirect(url_for("console.inbox"))
