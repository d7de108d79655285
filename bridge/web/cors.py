"""CORS for the widget API, per shop: a shop's ``allowed_origins`` open only that shop's widget calls.

Which shop a request is about: the one the view learnt (``g.cors_shop``, e.g. the referral claim's body), the
verified shopper token's, else the token's unverified ``shop`` claim (the view verifies it, and a forged token
is refused whatever its origin), else the ``shop`` query parameter, else the only shop. When none of those names
a shop (public assets, preflights: the browser sends no token with them), any shop's origin is answered, which
grants nothing by itself: the actual request is where the shop is known.

A state-changing request (POST, PUT, PATCH, DELETE) from an origin the shop does not list is refused with 403
``origin_not_allowed`` before the view runs: a preflight cannot tell the shops apart, so it cannot stop shop A's
page from making a browser send a write with shop B's token. Reads only go without the allow header (the
browser keeps the answer from the page).

Credentials (cookies) are never used: identity travels in the Authorization header, so no
``Allow-Credentials``. Admin and webhook routes get no CORS headers at all.
"""

from __future__ import annotations

import jwt
from flask import Flask, Response, g, request

from bridge.errors import BridgeError
from bridge.runtime import current_runtime

WIDGET_PREFIXES = ("/widget/",)
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = "600"
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
    settings = current_runtime().settings
    if shop_id is None:
        return any(origin in shop.allowed_origins for shop in settings.shops)
    shop = settings.shop(shop_id)
    return shop is not None and origin in shop.allowed_origins


def check_origin(shop_id: str) -> None:
    """Refuse a state-changing call from an origin ``shop_id`` does not list (views that learn the shop late)."""
    g.cors_shop = shop_id
    origin = request.headers.get("Origin", "")
    if origin and request.method in WRITE_METHODS and not allowed_origin(origin, shop_id):
        raise OriginNotAllowed(f"this origin may not call the widget API of shop {shop_id!r}")


def init_app(app: Flask) -> None:
    @app.before_request
    def _preflight_or_check() -> Response | None:
        if not request.path.startswith(WIDGET_PREFIXES):
            return None
        if request.method == "OPTIONS":
            return Response(status=204)  # headers are added by _headers below
        origin = request.headers.get("Origin", "")
        shop_id = request_shop()
        if origin and request.method in WRITE_METHODS and not allowed_origin(origin, shop_id):
            raise OriginNotAllowed("this origin may not call the widget API of this shop")
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
        return response
