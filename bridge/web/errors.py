"""Every error leaves as JSON: ``{"error": {"code": ..., "message": ...}}`` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from bridge.errors import BridgeError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def init_app(app: Flask) -> None:
    @app.errorhandler(BridgeError)
    def _bridge_error(exc: BridgeError) -> tuple[Response, int]:
        if exc.status == 500:
            log.error("internal error: %s", exc)
            return error_response(500, "internal_error", "internal error")
        if exc.status >= 500:  # 502/503: the shop or a dependency, said plainly (messages never carry secrets)
            log.warning("%s: %s", exc.code, exc)
        response, status = error_response(exc.status, exc.code, str(exc))
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response, status

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError) -> tuple[Response, int]:
        return error_response(422, "validation_failed", "the request is not valid", fields=exc.messages)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        if isinstance(exc, MethodNotAllowed) and not _answered_by_another_method(exc):
            exc = NotFound()
        status = exc.code or 500
        response, status = error_response(status, _HTTP_CODES.get(status, "http_error"), exc.description or exc.name)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response, status

    def _answered_by_another_method(exc: MethodNotAllowed) -> bool:
        """werkzeug answers 405 for ``PATCH /members/<huge id>/profile``: the GET rule's path pattern matched
        before the id failed its converter (``<int:>`` is at most 2**63 - 1), though no method has that URL. A 405
        is only right when one of the methods it names answers this very URL."""
        adapter = current_app.url_map.bind_to_environ(request.environ)
        for method in exc.valid_methods or ():
            try:
                adapter.match(method=method)
            except HTTPException:
                continue
            return True
        return False

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
