"""CORS for the widget API: only the origins configured for the shops (``shops[].allowed_origins``).

Credentials (cookies) are never used: identity travels in the Authorization header, so no
``Allow-Credentials``. Admin and webhook routes get no CORS headers at all.
"""

from __future__ import annotations

from flask import Flask, Response, request

from bridge.runtime import current_runtime

WIDGET_PREFIXES = ("/widget/",)
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = "600"


def allowed_origin(origin: str) -> bool:
    return any(origin in shop.allowed_origins for shop in current_runtime().settings.shops)


def init_app(app: Flask) -> None:
    @app.before_request
    def _preflight() -> Response | None:
        if request.method != "OPTIONS" or not request.path.startswith(WIDGET_PREFIXES):
            return None
        response = Response(status=204)
        return response  # headers are added by _headers below

    @app.after_request
    def _headers(response: Response) -> Response:
        if not request.path.startswith(WIDGET_PREFIXES):
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin", "")
        if origin and allowed_origin(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
