"""Reading the console's forms: marshmallow schemas (the same field rules as the admin API's JSON), a refusal as a
400 page that says what is wrong, and the signed-in user every action names in the audit log."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import EXCLUDE, Schema, ValidationError

from bridge.console.guard import signed_in
from bridge.console.users import ConsoleUser
from bridge.errors import BridgeError


class FormInvalid(BridgeError):
    code = "form_invalid"
    status = 400


def load(schema: Schema, source: Any = None) -> dict[str, Any]:
    """The form (or ``source``: query arguments) checked by ``schema``; empty fields count as not given."""
    raw = request.form if source is None else source
    data = {k: v for k, v in raw.items() if k != "csrf_token" and v.strip() != ""}
    try:
        loaded: dict[str, Any] = schema.load(data, unknown=EXCLUDE)
    except ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"form": exc.messages}
        said = "; ".join(
            f"{name}: {' '.join(map(str, why)) if isinstance(why, list) else why}" for name, why in fields.items()
        )
        raise FormInvalid(said) from exc
    return loaded


def actor() -> ConsoleUser:
    user = signed_in()
    assert user is not None  # the guard let only a signed-in user of the route's role through
    return user
