"""Small helpers for console forms: a key that makes a form's effect happen once, and messages after a redirect.

``{% include "console/_once.html" %}`` puts a fresh random key into a form each time the page is drawn; the view
reads it with ``once_key()`` and passes it to the service as its idempotency key, so a double click (or a resent
POST) applies the change once. After a successful POST, a view redirects (POST/redirect/GET) and says what it did
with ``done(_("..."))``; ``base.html`` shows the message on the next page.
"""

from __future__ import annotations

import secrets

from flask import abort, flash, request

ONCE_FIELD = "once"
MAX_ONCE_LENGTH = 64


def new_once_key() -> str:
    return secrets.token_urlsafe(18)


def once_key() -> str:
    """The form's once-key (400 when missing or malformed: the form was not drawn by the console)."""
    key = request.form.get(ONCE_FIELD, "")
    if not key or len(key) > MAX_ONCE_LENGTH or not key.isascii() or not key.isprintable():
        abort(400, "the form has no valid once-key: reload the page")
    return key


def done(message: str) -> None:
    """A message for the next page (after the redirect)."""
    flash(message, "done")


def problem(message: str) -> None:
    flash(message, "problem")
