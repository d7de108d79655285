"""Login, logout, "log out everywhere" and the user's own account page."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from bridge.console import i18n, throttle
from bridge.console import users as console_users
from bridge.console.guard import safe_next, signed_in
from bridge.console.routing import PUBLIC, Role, console_route
from bridge.runtime import Runtime, current_runtime
from bridge.storage import audit, db

MAX_FIELD = 1024


@console_route("/login", role=PUBLIC, methods=("GET", "POST"))
def login() -> ResponseReturnValue:
    next_page = safe_next(request.values.get("next"))
    if request.method == "GET":
        if signed_in() is not None:
            return redirect(next_page)
        return render_template("console/login.html", next=next_page, email="", error=None)
    rt = current_runtime()
    email = console_users.normalize_email(request.form.get("email", ""))[: console_users.MAX_EMAIL_LENGTH]
    password = request.form.get("password", "")[:MAX_FIELD]
    ip = (request.remote_addr or "")[:64]

    lock = throttle.locked(rt.engine, email, ip)  # while locked, the password is not even looked at
    if lock is None:
        with db.read(rt.engine) as conn:
            user = console_users.find(conn, email) if email else None
        ok = console_users.verify(user, password)  # outside any transaction: it takes tens of milliseconds
        if ok and user is not None and user["disabled_at"] is None:
            _open_session(rt, user, password, ip)
            return redirect(next_page)
        lock = _count_failure(rt, user, email, ip)
        if lock is None:
            error = i18n.gettext("Wrong e-mail or password.")
            return render_template("console/login.html", next=next_page, email=email, error=error), 401
    until = i18n.when(lock.until)
    if lock.kind == "email":
        error = i18n.gettext("Too many failed sign-ins: this account is locked until {when}.", when=until)
    else:
        error = i18n.gettext("Too many failed sign-ins from your network: try again after {when}.", when=until)
    return render_template("console/login.html", next=next_page, email=email, error=error, locked=True), 429


def _open_session(rt: Runtime, user: dict[str, Any], password: str, ip: str) -> None:
    program_id = rt.settings.program.id
    with db.write(rt.engine) as conn:
        throttle.succeeded(conn, user["email"])
    user_agent = request.headers.get("User-Agent", "")
    token = console_users.start_session(rt.engine, program_id, user, ip=ip, user_agent=user_agent, password=password)
    previous = signed_in()
    if previous is not None:  # signing in again (perhaps as someone else) ends the session it replaces
        console_users.end_session(rt.engine, program_id, previous)
    session.clear()  # a fresh session (and CSRF secret) after the login: no fixation of a planted one
    found = console_users.session_user(rt.engine, token)
    assert found is not None
    login_user(found)


def _count_failure(rt: Runtime, user: dict[str, Any] | None, email: str, ip: str) -> throttle.Locked | None:
    """Count the failure for the e-mail and the address; audit it (and a lock) when the account exists."""
    program_id = rt.settings.program.id
    with db.write(rt.engine) as conn:
        lock = throttle.failed(conn, email, ip)
        if user is None:
            return lock  # an unknown e-mail: nobody's log to write to (the throttle still counts it)
        target = {"target_type": "console_user", "target_id": str(user["id"])}
        actor = console_users.actor_for(user["email"])
        details = {"ip": ip, "disabled": user["disabled_at"] is not None}
        audit.record(conn, program_id=program_id, actor=actor, action="console.login_failed", **target, details=details)
        if lock is not None and lock.kind == "email":
            details = {"ip": ip, "until": lock.until.isoformat()}
            audit.record(conn, program_id=program_id, actor=actor, action="console.locked", **target, details=details)
    return lock


@console_route("/logout", role=Role.VIEWER, methods=("POST",))
def logout() -> ResponseReturnValue:
    user = signed_in()
    assert user is not None
    rt = current_runtime()
    console_users.end_session(rt.engine, rt.settings.program.id, user)
    logout_user()
    session.clear()
    return redirect(url_for("console.login"))


@console_route("/account", role=Role.VIEWER)
def account() -> str:
    user = signed_in()
    assert user is not None
    sessions = console_users.live_sessions(current_runtime().engine, user.id)
    return render_template("console/account.html", sessions=sessions)


@console_route("/account/logout-everywhere", role=Role.VIEWER, methods=("POST",))
def logout_everywhere() -> ResponseReturnValue:
    user = signed_in()
    assert user is not None
    rt = current_runtime()
    console_users.end_all_sessions(rt.engine, rt.settings.program.id, user)
    logout_user()
    session.clear()
    return redirect(url_for("console.login"))


@console_route("/account/language", role=Role.VIEWER, methods=("POST",))
def account_language() -> ResponseReturnValue:
    user = signed_in()
    assert user is not None
    choice = request.form.get("language", "")
    language = choice if choice in i18n.LANGUAGES else None
    rt = current_runtime()
    console_users.set_language(rt.engine, rt.settings.program.id, user, language)
    response = redirect(url_for("console.account"))
    if language:
        response.set_cookie(i18n.COOKIE, language, max_age=365 * 86400, path="/console", samesite="Lax", httponly=True)
    return response


@console_route("/account/password", role=Role.VIEWER, methods=("POST",))
def account_password() -> ResponseReturnValue:
    """Change one's own password: the current one first (a left-open session is not enough), the new one twice."""
    user = signed_in()
    assert user is not None
    rt = current_runtime()
    current = request.form.get("current_password", "")[:MAX_FIELD]
    new = request.form.get("new_password", "")[:MAX_FIELD]
    again = request.form.get("new_password_again", "")[:MAX_FIELD]
    ip = (request.remote_addr or "")[:64]
    error = None
    if throttle.locked(rt.engine, user.email, ip) is not None:
        error = i18n.gettext("Too many failed attempts: try again later.")
    else:
        with db.read(rt.engine) as conn:
            row = console_users.find(conn, user.email)
        if not console_users.verify(row, current):
            with db.write(rt.engine) as conn:
                throttle.failed(conn, user.email, ip)  # guessing the current password counts like a login
            error = i18n.gettext("The current password is wrong.")
        elif new != again:
            error = i18n.gettext("The two new passwords differ.")
        elif len(new) < console_users.MIN_PASSWORD_LENGTH:
            error = i18n.gettext(
                "The new password must have at least {n} characters.", n=console_users.MIN_PASSWORD_LENGTH
            )
    if error is not None:
        sessions = console_users.live_sessions(rt.engine, user.id)
        return render_template("console/account.html", sessions=sessions, password_error=error), 400
    ended = console_users.change_own_password(rt.engine, rt.settings.program.id, user, new)
    sessions = console_users.live_sessions(rt.engine, user.id)
    done = i18n.gettext("Password changed. Other sessions ended: {n}.", n=ended)
    return render_template("console/account.html", sessions=sessions, password_done=done)
