"""Reading requests the same way on every route: bounded bodies, bounded JSON, bounded ids, bounded keys."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from bridge import limits
from bridge.errors import MalformedPayload


def init_app(app: Flask) -> None:
    """Install the bounds: before the blueprints, so every route's ``<int:...>`` is a 64-bit id."""
    app.url_map.converters["int"] = RowIdConverter
    app.json = BoundedJSONProvider(app)
    app.before_request(_refuse_nul)
    app.before_request(_buffer_streamed_body)


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route: a 64-bit id, or the route does not match (404). Without it, an id past 64
    bits reached the database, which answered with an error (500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", limits.MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


class BoundedJSONProvider(DefaultJSONProvider):
    """``request.get_json`` decodes within ``bridge.limits`` too (depth, NaN, lone surrogates); a refusal is a
    ``ValueError``, which Flask answers as a bad request (or ``None`` when ``silent``), never a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return limits.load_json(s if isinstance(s, bytes) else s.encode("utf-8", "surrogatepass"))
        except MalformedPayload as exc:
            raise ValueError(str(exc)) from exc


def _refuse_nul() -> None:
    """A NUL character (``%00``) in the path or the query is a 400: PostgreSQL refuses it in any text it is
    given (a 500), where SQLite would store it."""
    if "\x00" in request.path or b"%00" in request.query_string:
        raise MalformedPayload("the URL holds a NUL character (%00)")


def _buffer_streamed_body() -> None:
    """A chunked body (no ``Content-Length``) is read here, one byte past the limit, so one over it is a 413.

    werkzeug stops reading such a body at ``MAX_CONTENT_LENGTH`` without a word: the rest was silently cut off,
    and the route answered about the stump (a webhook: 401, bad signature; a JSON body: 400). Views read the
    cached body as before.
    """
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is None:
        return
    request.max_content_length = limit + 1
    if len(request.get_data(cache=True)) > limit:
        raise RequestEntityTooLarge(f"the body is larger than {limit} bytes")


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object: anything else is a 400 with a clear message."""
    if not request.is_json:
        raise MalformedPayload("the body must be a JSON object (Content-Type: application/json)")
    data = limits.load_json(request.get_data(cache=True))
    if not isinstance(data, dict):
        raise MalformedPayload("the body must be a JSON object")
    return data


def idempotency_key(*, required: bool) -> str | None:
    """The ``Idempotency-Key`` header: printable, at most ``MAX_IDEMPOTENCY_KEY_LENGTH`` characters, refused
    (400) past that and never truncated, since two long keys cut to one prefix would collide."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        if required:
            raise MalformedPayload("send an Idempotency-Key header (one fresh value per request)")
        return None
    if len(key) > limits.MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise MalformedPayload(
            f"the Idempotency-Key must be printable and at most {limits.MAX_IDEMPOTENCY_KEY_LENGTH} characters"
        )
    return key
