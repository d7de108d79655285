"""CORS for the widget API: only the origins configured for the shops (``shops[].allowed_origins``).

Credentials (cookies) are never used: identity travels in the Authorization header, so no
``Allow-Credentials``. Admin and webhook routes get no CORS headers at all.

A refused origin is logged once (a warning naming the origin and the shop), at most once per origin and shop every
``REFUSAL_LOG_INTERVAL`` seconds and ``REFUSAL_LOG_BURST`` lines per interval in all, per process: the browser only
says "blocked by CORS policy" in the shopper's console, so without this line an owner testing a page on another
origin has nothing to go on, and without the limit a page in a loop could fill the logs.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

import jwt
from flask import Flask, Response, request

from bridge.runtime import current_runtime

log = logging.getLogger(__name__)

WIDGET_PREFIXES = ("/widget/",)
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = "600"
REFUSAL_LOG_INTERVAL = 600.0
REFUSAL_LOG_BURST = 20
MAX_ORIGIN_LENGTH = 200


def allowed_origin(origin: str) -> bool:
    return any(origin in shop.allowed_origins for shop in current_runtime().settings.shops)


class RefusalLog:
    """Says which origin was refused, without letting a flood of requests (or of made-up origins) flood the log."""

    def __init__(self, interval: float = REFUSAL_LOG_INTERVAL, burst: int = REFUSAL_LOG_BURST) -> None:
        self.interval = interval
        self.burst = burst
        self._lock = threading.Lock()
        self._window_start = -interval
        self._seen: set[tuple[str, str]] = set()

    def should_log(self, origin: str, shop: str, now: float) -> bool:
        with self._lock:
            if now - self._window_start >= self.interval:
                self._window_start, self._seen = now, set()
            if (origin, shop) in self._seen or len(self._seen) >= self.burst:
                return False
            self._seen.add((origin, shop))
            return True


refusals = RefusalLog()


def _requested_shop() -> str:
    """The shop a widget request is for: ``?shop=`` or the token's claim, only if it names a configured shop."""
    shop_id = request.args.get("shop", "")
    auth = request.headers.get("Authorization", "")
    if not shop_id and auth.startswith("Bearer "):
        try:  # only to name the shop in a log line: nothing is trusted or answered from an unverified token
            shop_id = str(jwt.decode(auth[7:], options={"verify_signature": False}).get("shop", ""))
        except jwt.PyJWTError:
            shop_id = ""
    return shop_id if current_runtime().settings.shop(shop_id) is not None else "?"


def _log_refused(origin: str) -> None:
    own = urlsplit(request.host_url)
    if origin == f"{own.scheme}://{own.netloc}":
        return  # same origin (the demo page): no CORS needed
    shop = _requested_shop()
    shown = origin[:MAX_ORIGIN_LENGTH]
    if refusals.should_log(shown, shop, time.monotonic()):
        log.warning(
            "widget request from origin %r refused (CORS) for shop %r: add the origin to shops[].allowed_origins "
            "of that shop to allow it",
            shown,
            shop,
        )


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
        elif origin:
            _log_refused(origin)
        return response
