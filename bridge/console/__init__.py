"""The owner console: a server-rendered web app at ``/console/`` in the bridge's own Flask app (issue 15).

It calls the same services as the admin API, never a second path to the ledger. Works without JavaScript.

Adding a page (what the other console helpers do)
--------------------------------------------------
1. A module ``bridge/console/<page>.py`` with its views, each declared with ``console_route`` (never
   ``bp.route``: a blueprint view missing from the registry is refused with 404)::

       from flask import render_template
       from bridge.console.routing import Role, console_route

       @console_route("/members", role=Role.VIEWER)                      # read: every role
       def members() -> str:
           return render_template("console/members.html", ...)

       @console_route("/members/<int:member_id>/adjust", role=Role.STAFF, methods=("POST",))
       def adjust(member_id: int) -> Response: ...                        # change: staff and owner

   ``role`` is the lowest role allowed: ``Role.VIEWER`` (reads), ``Role.STAFF`` (members, adjustments,
   redemptions, inbox), ``Role.OWNER`` (shops, program, users, audit log). The guard (``guard.py``) answers
   302 to the login page without a session, 403 below the role, 400 for a POST without a CSRF token, before
   the view runs; ``tests/console/test_route_security.py`` walks every registered route and checks all three.
   The signed-in user: ``bridge.console.guard.signed_in()`` (a ``ConsoleUser``: ``email``, ``role``,
   ``actor`` — pass ``actor`` to services so the audit log names the person).
2. Add the import line to ``pages.load()``. The menu (``routing.NAV``) links ``console.overview``,
   ``console.members``, ``console.redemptions``, ``console.referrals``, ``console.inbox``, ``console.shops``,
   ``console.program``, ``console.audit`` as soon as a GET view with that endpoint name exists.
3. A template ``templates/console/<page>.html``: ``{% extends "console/base.html" %}``, blocks ``title`` and
   ``content``. Every form that POSTs includes ``{% include "console/_csrf.html" %}``. Text goes through
   ``{{ _("English text") }}`` (``{name}`` placeholders: ``_("{n} members", n=count)``); its Persian
   translation goes into ``i18n/fa/<page>.json`` (``{"English text": "ترجمه"}``) — a test fails for a
   message without one. Filters: ``{{ moment|when }}`` (``|when("date")``: the program's time zone, Jalali in
   Persian), ``{{ n|points }}``, ``{{ amount|money(currency) }}``, ``{{ text|digits }}``. Never OFFSET:
   page with ``?before=<last id>`` (see ``audit_page.py``).
   A form whose effect must happen once (an adjustment: a double click must not double it) includes
   ``{% include "console/_once.html" %}``; the view passes ``bridge.console.forms.once_key()`` to the service
   as its idempotency key. After a POST, redirect and say what happened with ``forms.done(_("..."))`` (or
   ``forms.problem``); ``base.html`` shows it on the next page.
4. Styles: ``static/console.css`` (plain CSS; logical properties such as ``margin-inline-start`` so RTL works).
   Vendored browser libraries go into ``static/vendor/`` with their version and licence. The pages' CSP allows
   scripts from the console's static files only (no inline ``<script>``; give a script its data in ``data-*``
   attributes or a ``<script type="application/json">`` block); inline ``style`` attributes are allowed.
5. Tests: ``tests/console/conftest.py`` gives ``console``: ``console.login_as(Role.STAFF)`` (a test client
   signed in through the real login form), ``console.post(client, path, data)`` (a form POST with the
   session's CSRF token), ``console.add_user(role)``. Browser tests (``tests/console/browser.py``): fixtures
   ``chromium`` and ``console_site`` (``console_site.sign_in(page, Role.OWNER, lang="fa")``), ``shot(page,
   name)`` into ``test-artifacts/console/``.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Mount the console at ``/console/`` (called by ``create_app``)."""
    from bridge.console import guard, pages
    from bridge.console.routing import bp

    pages.load()  # every page's routes, before the blueprint is registered (routes cannot be added after)
    guard.init_app(app)
    app.register_blueprint(bp)
