"""The Members pages: search with filters (keyset pages), and a member's page (balance, timeline with the cause of
every entry and the stored explanation of each award) with the staff's actions: adjust points, invite, edit the
profile. Each action calls the same service as the admin API, in one write transaction, audited with the user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate, validates
from marshmallow.exceptions import ValidationError

from bridge import limits
from bridge.console import forms
from bridge.console.i18n import gettext
from bridge.console.routing import Role, console_route
from bridge.ledger import service as ledger
from bridge.members import profile as member_profile
from bridge.members import search, timeline
from bridge.members import service as member_service
from bridge.runtime import current_runtime
from bridge.storage import db, life
from bridge.storage.clock import utcnow

ACTIVITY_DAYS = (30, 90, 180, 365)
TIMELINE_PAGE = 50


class MemberFilters(Schema):
    q = fields.String(validate=validate.Length(max=search.MAX_QUERY))
    tier = fields.String(validate=validate.Length(max=64))
    min = fields.Integer(validate=validate.Range(-limits.MAX_POINTS, limits.MAX_POINTS))
    max = fields.Integer(validate=validate.Range(-limits.MAX_POINTS, limits.MAX_POINTS))
    active = fields.Integer(validate=validate.OneOf(ACTIVITY_DAYS))  # active in the last N days
    inactive = fields.Integer(validate=validate.OneOf(ACTIVITY_DAYS))  # no activity in the last N days
    before = fields.Integer(validate=validate.Range(1, 2**63 - 1))


class AdjustForm(Schema):
    points = fields.Integer(required=True, strict=False, validate=validate.Range(-limits.MAX_POINTS, limits.MAX_POINTS))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))

    @validates("points")
    def _not_zero(self, value: int, data_key: str) -> None:
        if value == 0:
            raise ValidationError("must not be zero")


class ProfileForm(Schema):
    birthday = fields.Date(load_default=None)
    tier = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


@console_route("/members", role=Role.VIEWER)
def members() -> str:
    query = forms.load(MemberFilters(), request.args)
    rt = current_runtime()
    now = utcnow()
    wanted = search.MemberQuery(
        text=query.get("q", ""),
        tier=query.get("tier"),
        min_available=query.get("min"),
        max_available=query.get("max"),
        active_since=now - timedelta(days=query["active"]) if "active" in query else None,
        inactive_since=now - timedelta(days=query["inactive"]) if "inactive" in query else None,
        before=query.get("before"),
    )
    with db.read(rt.engine) as conn:
        page = search.search(conn, rt.settings.program.id, wanted)
    kept = {k: v for k, v in query.items() if k != "before"}
    return render_template(
        "console/members.html",
        page=page,
        filters=kept,
        tiers=sorted(rt.rules.tier_multipliers),
        tiers_earned=rt.settings.program.tiers is not None,
        activity_days=ACTIVITY_DAYS,
    )


@console_route("/members/<int:member_id>", role=Role.VIEWER)
def member(member_id: int) -> str:
    rt = current_runtime()
    program_id = rt.settings.program.id
    before = request.args.get("before", "")[:64] or None
    with db.read(rt.engine) as conn:
        found = member_service.get(conn, program_id, member_id)
        balance = ledger.balance(conn, member_id)
        profile = life.profile(conn, member_id)
        page = timeline.timeline(conn, program_id, member_id, limit=TIMELINE_PAGE, before=before)
    return render_template(
        "console/member.html",
        member=found,
        balance=balance,
        profile=profile,
        page=page,
        policy=rt.rules.membership.policy,
        tiers=sorted(rt.rules.tier_multipliers),
        tiers_earned=rt.settings.program.tiers is not None,
        can_act=forms.actor().role.allows(Role.STAFF),
    )


@console_route("/members/<int:member_id>/adjust", role=Role.STAFF, methods=("POST",))
def member_adjust(member_id: int) -> ResponseReturnValue:
    form = forms.load(AdjustForm())
    # the form's once-key: a second submit of the same drawn form (a double click, a resent POST) is the same
    # adjustment, answered without a second entry
    request_key = f"console:{forms.once_key()}"
    rt = current_runtime()
    with db.write(rt.engine) as conn:
        _, created = ledger.adjust(
            conn,
            program_id=rt.settings.program.id,
            member_id=member_id,
            points=form["points"],
            reason=form["reason"],
            actor=forms.actor().actor,
            request_key=request_key,
        )
    forms.done(
        gettext("The points were adjusted.")
        if created
        else gettext("This adjustment was already made; nothing was added.")
    )
    return redirect(url_for("console.member", member_id=member_id))


@console_route("/members/<int:member_id>/invite", role=Role.STAFF, methods=("POST",))
def member_invite(member_id: int) -> ResponseReturnValue:
    rt = current_runtime()
    with db.write(rt.engine) as conn:
        member_profile.invite(conn, rt.settings.program.id, member_id, forms.actor().actor)
    forms.done(gettext("The member was invited."))
    return redirect(url_for("console.member", member_id=member_id))


@console_route("/members/<int:member_id>/profile", role=Role.STAFF, methods=("POST",))
def member_edit_profile(member_id: int) -> ResponseReturnValue:
    form = forms.load(ProfileForm())
    rt = current_runtime()
    with db.write(rt.engine) as conn:
        current = life.profile(conn, member_id)
        changes: dict[str, Any] = {k: v for k, v in form.items() if getattr(current, k) != v}  # only what changed
        if rt.settings.program.tiers is not None and not request.form.get("tier"):
            changes.pop("tier", None)  # earned tiers: the form has no tier field, so the earned one stays
        member_profile.update(conn, rt.settings.program, member_id, forms.actor().actor, changes)
    forms.done(gettext("The profile was saved."))
    return redirect(url_for("console.member", member_id=member_id))
