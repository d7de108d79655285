"""Reading request bodies the same way on every route."""

from __future__ import annotations

from typing import Any

from flask import request

from bridge.errors import MalformedPayload


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object: anything else is a 400 with a clear message."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise MalformedPayload("the body must be a JSON object")
    return data
