"""Small helpers for console forms: a key that makes a form's effect happen once, messages after a redirect, and
reading a form (or query) through a marshmallow schema (``load``: the admin API's field rules, a refusal as a 400
page saying what is wrong).

``{% include "console/_once.html" %}`` puts a fresh random key into a form each time the page is drawn; the view
reads it with ``once_key()`` and passes it to the service as its idempotency key, so a double click (or a resent
POST) applies the change once. After a successful POST, a view redirects (POST/redirect/GET) and says what it did
with ``done(_("..."))``; ``base.html`` shows the message on the next page.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, flash, request
from marshmallow import EXCLUDE, Schema, ValidationError

from bridge.console.users import ConsoleUser
from bridge.errors import BridgeError

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


class FormInvalid(BridgeError):
    code = "form_invalid"
    status = 400


def load(schema: Schema, source: Any = None) -> dict[str, Any]:
    """The form (or ``source``: query arguments) checked by ``schema``; empty fields count as not given."""
    raw = request.form if source is None else source
    data = {k: v for k, v in raw.items() if k not in ("csrf_token", ONCE_FIELD) and v.strip() != ""}
    try:
        loaded: dict[str, Any] = schema.load(data, unknown=EXCLUDE)
    except ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"form": exc.messages}
        said = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in fields.items())
        raise FormInvalid(said) from exc
    return loaded


def actor() -> ConsoleUser:
    """The signed-in user (the guard let only a user of the route's role through); ``.actor`` names them in the
    audit log."""
    from bridge.console.guard import signed_in

    user = signed_in()
    assert user is not None
    return user
