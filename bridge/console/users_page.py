"""The Users page (owners): who may sign in, with which role; add, disable, enable, change a role, reset a
password. A new or reset password is generated and shown once, on the answer to that POST only (never in a
cookie, a log or a redirect). The last active owner can be neither disabled nor demoted."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bridge.console import forms, i18n
from bridge.console import users as console_users
from bridge.console.guard import signed_in
from bridge.console.routing import Role, console_route
from bridge.runtime import current_runtime


def _page(status: int = 200, **shown: object) -> ResponseReturnValue:
    rows = console_users.listing(current_runtime().engine)
    return render_template("console/users.html", users=rows, roles=list(Role), **shown), status


@console_route("/users", role=Role.OWNER)
def users() -> ResponseReturnValue:
    return _page()


@console_route("/users/add", role=Role.OWNER, methods=("POST",))
def users_add() -> ResponseReturnValue:
    user = signed_in()
    assert user is not None
    rt = current_runtime()
    password = console_users.generated_password()
    try:
        email = console_users.check_email(request.form.get("email", "")[: console_users.MAX_EMAIL_LENGTH + 10])
        role = console_users.parse_role(request.form.get("role", ""))
        console_users.add(
            rt.engine, rt.settings.program.id, email=email, role=role, password=password, actor=user.actor
        )
    except console_users.ConsoleUserError as exc:
        return _page(400, error=str(exc))
    return _page(new_password={"email": email, "password": password})


@console_route("/users/<int:user_id>/disable", role=Role.OWNER, methods=("POST",))
def users_disable(user_id: int) -> ResponseReturnValue:
    return _change(user_id, "disable")


@console_route("/users/<int:user_id>/enable", role=Role.OWNER, methods=("POST",))
def users_enable(user_id: int) -> ResponseReturnValue:
    return _change(user_id, "enable")


@console_route("/users/<int:user_id>/role", role=Role.OWNER, methods=("POST",))
def users_role(user_id: int) -> ResponseReturnValue:
    return _change(user_id, "role")


@console_route("/users/<int:user_id>/reset-password", role=Role.OWNER, methods=("POST",))
def users_reset_password(user_id: int) -> ResponseReturnValue:
    user = signed_in()
    assert user is not None
    rt = current_runtime()
    target = console_users.by_id(rt.engine, user_id)
    password = console_users.generated_password()
    console_users.reset_password(rt.engine, rt.settings.program.id, target["email"], password, actor=user.actor)
    return _page(new_password={"email": target["email"], "password": password})


def _change(user_id: int, what: str) -> ResponseReturnValue:
    user = signed_in()
    assert user is not None
    rt = current_runtime()
    program_id = rt.settings.program.id
    target = console_users.by_id(rt.engine, user_id)
    email = target["email"]
    try:
        if what == "disable":
            console_users.disable(rt.engine, program_id, email, actor=user.actor)
            forms.done(i18n.gettext("{email} can no longer sign in; their sessions have ended.", email=email))
        elif what == "enable":
            console_users.enable(rt.engine, program_id, email, actor=user.actor)
            forms.done(i18n.gettext("{email} can sign in again.", email=email))
        else:
            role = console_users.parse_role(request.form.get("role", ""))
            console_users.set_role(rt.engine, program_id, email, role, actor=user.actor)
            forms.done(i18n.gettext("{email} is now {role}.", email=email, role=i18n.gettext(role.value)))
    except console_users.LastOwner:
        forms.problem(i18n.gettext("{email} is the last active owner: make another owner first.", email=email))
    except console_users.ConsoleUserError as exc:
        forms.problem(str(exc))
    return redirect(url_for("console.users"))
