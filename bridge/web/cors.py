"""CORS for the widget API, per shop: a shop's ``allowed_origins`` open only that shop's widget calls.

Which shop a request is about: the one the view learnt (``g.cors_shop``, e.g. the referral claim's body), the
verified shopper token's, else the token's unverified ``shop`` claim (the view verifies it, and a forged token
is refused whatever its origin), else the ``shop`` query parameter, else the only shop. When none of those names
a shop (public assets, preflights: the browser sends no token with them), any shop's origin is answered, which
grants nothing by itself: the actual request is where the shop is known.

A state-changing request (POST, PUT, PATCH, DELETE) from an origin the shop does not list (and that is not the
bridge's own, as the demo page's) is refused with 403 ``origin_not_allowed`` before the view runs: a preflight
cannot tell the shops apart, so it cannot stop shop A's page from making a browser send a write with shop B's
token. Reads only go without the allow header (the browser keeps the answer from the page).

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
from flask import Flask, Response, g, request

from bridge.errors import BridgeError
from bridge.runtime import current_runtime

log = logging.getLogger(__name__)

WIDGET_PREFIXES = ("/widget/",)
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = "600"
REFUSAL_LOG_INTERVAL = 600.0
REFUSAL_LOG_BURST = 20
MAX_ORIGIN_LENGTH = 200
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class OriginNotAllowed(BridgeError):
    code = "origin_not_allowed"
    status = 403


def request_shop() -> str | None:
    """The shop this widget request is about, or None when nothing in it names one (see the module's note)."""
    learnt = g.get("cors_shop")
    if isinstance(learnt, str):
        return learnt
    shopper = g.get("shopper")
    if shopper is not None:
        return str(shopper.shop_id)
    claimed = _token_shop()
    if claimed is not None:
        return claimed
    given = request.args.get("shop")
    if given:
        return given
    shops = current_runtime().settings.shops
    return shops[0].id if len(shops) == 1 else None


def _token_shop() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, RecursionError):
        return None
    shop = claims.get("shop") if isinstance(claims, dict) else None
    return shop if isinstance(shop, str) else None


def allowed_origin(origin: str, shop_id: str | None) -> bool:
    """Whether ``origin`` is one of ``shop_id``'s (of any shop's when the request names none)."""
    settings = current_runtime().settings
    if shop_id is None:
        return any(origin in shop.allowed_origins for shop in settings.shops)
    shop = settings.shop(shop_id)
    return shop is not None and origin in shop.allowed_origins


def _same_origin(origin: str) -> bool:
    own = urlsplit(request.host_url)
    return origin == f"{own.scheme}://{own.netloc}"


def check_origin(shop_id: str) -> None:
    """Refuse a state-changing call from an origin ``shop_id`` does not list (views that learn the shop late)."""
    g.cors_shop = shop_id
    _refuse_foreign_write(shop_id)


def _refuse_foreign_write(shop_id: str | None) -> None:
    origin = request.headers.get("Origin", "")
    if not origin or request.method not in WRITE_METHODS or _same_origin(origin):
        return
    if not allowed_origin(origin, shop_id):  # the answer's way out logs the refusal (_headers)
        raise OriginNotAllowed("this origin may not call the widget API of this shop")


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
    if _same_origin(origin):
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
    def _preflight_or_check() -> Response | None:
        if not request.path.startswith(WIDGET_PREFIXES):
            return None
        if request.method == "OPTIONS":
            return Response(status=204)  # headers are added by _headers below
        _refuse_foreign_write(request_shop())
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        if not request.path.startswith(WIDGET_PREFIXES):
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin", "")
        if origin and allowed_origin(origin, request_shop()):
            response.headers["Access-Control-Allow-Origin"] = origin
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        elif origin:
            _log_refused(origin)
        return response
