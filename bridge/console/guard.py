"""What runs before every console view: the session (Flask-Login over a server-side session id), the role the
route needs, CSRF on every POST, the language; and the app-wide settings the console needs (secret key,
cookies).

Order, for every request to ``/console/...``: a route missing from the registry is 404; no live session → 302
to the login page (with ``next=`` this page); a role below the route's → 403; a POST without a valid CSRF
token → 400. The webhook, admin and widget APIs are untouched: CSRF is checked here only, never app-wide.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, current_app, g, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask.wrappers import Request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from bridge.console import i18n
from bridge.console.routing import ROUTES, ConsoleRoute, bp
from bridge.console.users import ConsoleUser, session_user
from bridge.errors import BridgeError
from bridge.storage import secretbox

# Scripts only from the console's own static files (vendored libraries included): no inline script, no CDN.
# Inline styles are allowed (a bar's width in a style attribute); data for a script goes in data-* attributes or
# a <script type="application/json"> block, which is never executed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE_NAME = "bridge_console"
STATIC_ENDPOINT = "console.static"
COOKIE_PATH = "/console"

login_manager = LoginManager()
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    from bridge.runtime import EXTENSION_KEY

    settings = app.extensions[EXTENSION_KEY].settings
    box = secretbox.box_for(settings, create=True)
    assert box is not None
    # Derived from the installation's own secret (secret_key, or data_dir/secret.key): every process of one
    # bridge signs alike, two bridges never do, and no constant in the code signs anything.
    app.secret_key = box.digest("console-session-cookie", length=64)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_PATH=COOKIE_PATH,  # the widget, webhooks and admin API never see it
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        WTF_CSRF_CHECK_DEFAULT=False,  # only the console's POSTs (``_guard``); the APIs have no forms
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session: a form left open still posts
    )
    app.session_interface = ConsoleOnlySessions()
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    i18n.init_jinja(app.jinja_env)


class ConsoleOnlySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, for the console's paths only. Elsewhere the session is the null one, never
    read from a cookie nor saved: Flask-Login looks at the session after every request, and a session that is
    looked at adds ``Vary: Cookie`` to the answer — which would make shared caches keep one copy of the widget's
    script per visitor."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path != COOKIE_PATH and not request.path.startswith(COOKIE_PATH + "/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _load_user(token: str) -> ConsoleUser | None:
    from bridge.runtime import current_runtime

    return session_user(current_runtime().engine, token)


login_manager.user_loader(_load_user)


def signed_in() -> ConsoleUser | None:
    user = current_user._get_current_object()
    return user if isinstance(user, ConsoleUser) else None


def allowed_here(route: ConsoleRoute) -> bool:
    if route.role is None:
        return True
    user = signed_in()
    return user is not None and user.role.allows(route.role)


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    if request.endpoint == STATIC_ENDPOINT:
        return None  # the stylesheet and vendored scripts: public, like any site's
    route = ROUTES.get(request.endpoint or "")
    if route is None:
        abort(404)  # a console URL that is not a declared console route
    user = signed_in()
    g.console_lang = i18n.choose(user.language if user else None)
    if route.role is not None:
        if user is None:
            return redirect(url_for("console.login", next=this_page()))
        if not user.role.allows(route.role):
            abort(403)
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    lang = request.args.get("lang")
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, path=COOKIE_PATH, samesite="Lax", httponly=True)
    response.headers.setdefault("Cache-Control", "no-store")  # pages show members' data: never cached
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        CONTENT_SECURITY_POLICY,
    )
    return response


def this_page() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def safe_next(target: str | None) -> str:
    """Where to go after the login: a console page of this site only (never another host, never ``//evil``)."""
    default = url_for("console.overview")
    if not target or len(target) > 2000 or "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == COOKIE_PATH or parts.path.startswith(COOKIE_PATH + "/")):
        return default
    if parts.path.rstrip("/") == url_for("console.login").rstrip("/"):
        return default
    return target


@bp.errorhandler(BridgeError)
def _bridge_error(exc: BridgeError) -> tuple[str, int]:
    """A service's refusal (unknown version, a rule broken), said on a page with its status."""
    if "console_lang" not in g:
        g.console_lang = i18n.DEFAULT
    message = str(exc) if exc.status < 500 else i18n.gettext("Something went wrong. Please try again.")
    return render_template("console/error.html", status=exc.status, message=message), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[str, int]:
    """Console errors are pages (the APIs keep their JSON errors)."""
    if "console_lang" not in g:
        g.console_lang = i18n.DEFAULT
    status = exc.code or 500
    message: str
    if isinstance(exc, CSRFError):
        message = i18n.gettext("This form has expired or was not sent by the console. Go back, reload and try again.")
    elif status == 403:
        message = i18n.gettext("Your role does not allow this page or action.")
    elif status == 404:
        message = i18n.gettext("There is no such page.")
    else:
        message = exc.description or exc.name
    return render_template("console/error.html", status=status, message=message), status


@bp.context_processor
def template_context() -> dict[str, Any]:
    from bridge.console.routing import NAV

    user = signed_in()
    nav = []
    for item in NAV:
        route = ROUTES.get(item.endpoint)
        if route is None or "GET" not in route.methods or user is None:
            continue
        if route.role is None or user.role.allows(route.role):
            nav.append({"endpoint": item.endpoint, "label": item.label, "url": url_for(item.endpoint)})
    return {"console_user": user, "console_nav": nav, "program_name": _program_name(), "lang_url": lang_url}


def lang_url(code: str) -> str:
    """This page in another language (its other query arguments kept)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


def _program_name() -> str:
    from bridge.runtime import active_runtime

    runtime = active_runtime()
    return runtime.settings.program.name if runtime else current_app.name
