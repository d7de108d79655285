"""Every error leaves as JSON: ``{"error": {"code": ..., "message": ...}}`` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

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
        status = exc.code or 500
        return error_response(status, _HTTP_CODES.get(status, "http_error"), exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
