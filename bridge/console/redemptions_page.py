"""The Redemptions page: every reward redeemed, filtered by state, newest first in keyset pages; one stuck in
``reserved`` (the shop has not given its coupon yet past the recovery delay) is highlighted with its last error.
Staff may cancel (coupon deleted in the shop, points back; ``force`` when the shop cannot be asked) or retry one
stuck in ``reserved`` (a worker makes the attempt): the services of the admin API, audited with the user."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from bridge.console import forms
from bridge.console.i18n import gettext
from bridge.console.routing import Role, console_route
from bridge.redemption import service as redemption_service
from bridge.redemption.model import State
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import redemptions as store
from bridge.storage.clock import utcnow

PAGE_SIZE = 50
STATES = tuple(s.value for s in State)


class RedemptionFilters(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    member = fields.Integer(validate=validate.Range(1, 2**63 - 1))
    before = fields.Integer(validate=validate.Range(1, 2**63 - 1))


class CancelForm(Schema):
    force = fields.Boolean(load_default=False)
    back = fields.String(load_default="list", validate=validate.OneOf(("list", "member")))


@console_route("/redemptions", role=Role.VIEWER)
def redemptions() -> str:
    query = forms.load(RedemptionFilters(), request.args)
    rt = current_runtime()
    with db.read(rt.engine) as conn:
        rows = store.listing(
            conn, rt.settings.program.id, query.get("member"), query.get("state"), PAGE_SIZE + 1, query.get("before")
        )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    stuck_before = utcnow() - timedelta(seconds=rt.settings.program.redemption.recover_after_seconds)
    return render_template(
        "console/redemptions.html",
        rows=rows,
        states=STATES,
        filters={k: v for k, v in query.items() if k != "before"},
        next_before=rows[-1].id if more else None,
        stuck_before=stuck_before,
        can_act=forms.actor().role.allows(Role.STAFF),
    )


@console_route("/redemptions/<int:redemption_id>/cancel", role=Role.STAFF, methods=("POST",))
def redemption_cancel(redemption_id: int) -> ResponseReturnValue:
    form = forms.load(CancelForm())
    red = redemption_service.cancel(
        current_runtime(), redemption_id, member_id=None, actor=forms.actor().actor, force=form["force"]
    )
    forms.done(gettext("The reward was cancelled and its points returned."))
    if form["back"] == "member":
        return redirect(url_for("console.member", member_id=red.member_id))
    return redirect(url_for("console.redemptions"))


@console_route("/redemptions/<int:redemption_id>/retry", role=Role.STAFF, methods=("POST",))
def redemption_retry(redemption_id: int) -> ResponseReturnValue:
    redemption_service.retry(current_runtime(), redemption_id, actor=forms.actor().actor)
    forms.done(gettext("Another attempt was asked for; a worker makes it."))
    return redirect(url_for("console.redemptions", state="reserved"))
