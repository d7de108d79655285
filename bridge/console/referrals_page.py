"""The Referrals page: the funnel (clicks, claims, orders, qualified), rejections by reason, top referrers, and
every referral with its state and reason, newest first in keyset pages (the admin API's reads)."""

from __future__ import annotations

from flask import render_template, request
from marshmallow import Schema, fields, validate

from bridge.console import forms
from bridge.console.routing import Role, console_route
from bridge.referrals import service as referral_service
from bridge.referrals.model import State
from bridge.runtime import current_runtime
from bridge.storage import db
from bridge.storage import referrals as store

PAGE_SIZE = 50
STATES = tuple(s.value for s in State)


class ReferralFilters(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    before = fields.Integer(validate=validate.Range(1, 2**63 - 1))


@console_route("/referrals", role=Role.VIEWER)
def referrals() -> str:
    query = forms.load(ReferralFilters(), request.args)
    rt = current_runtime()
    program_id = rt.settings.program.id
    with db.read(rt.engine) as conn:
        stats = referral_service.program_stats(conn, program_id)
        rows = store.listing(conn, program_id, query.get("state"), PAGE_SIZE + 1, query.get("before"))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template(
        "console/referrals.html",
        stats=stats,
        rows=rows,
        states=STATES,
        filters={k: v for k, v in query.items() if k != "before"},
        next_before=rows[-1].id if more else None,
    )
