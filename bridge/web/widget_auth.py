"""Shopper identity for the widget API: a short-lived HS256 token that the shop signs for its logged-in customer.

The shop (WordPress plugin, or any backend) signs ``{"shop", "sub" (customer id), "email", "iat", "exp"}`` with
the shop's ``widget_secret``; the widget sends it as ``Authorization: Bearer <token>``. It is the only identity
the widget API accepts: a customer id or e-mail in a query string or body is never trusted.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from flask import g, request

from bridge.config import ShopSettings
from bridge.errors import BridgeError
from bridge.runtime import current_runtime

F = TypeVar("F", bound=Callable[..., Any])

MAX_LIFETIME_SECONDS = 3600
LEEWAY_SECONDS = 30  # clock skew between the shop's server and ours


class WidgetUnauthorized(BridgeError):
    status = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Shopper:
    """Who the token says is calling: a customer of one shop."""

    shop_id: str
    customer_id: str
    email: str


def issue_token(
    shop: ShopSettings, customer_id: str, email: str, ttl_seconds: int = 900, now: float | None = None
) -> str:
    """Sign a token exactly as the shop's plugin does (used by ``bridge widget-token`` and the tests)."""
    if not shop.widget_secret:
        raise ValueError(f"shop {shop.id!r} has no widget_secret")
    issued = int(time.time() if now is None else now)
    claims = {"shop": shop.id, "sub": str(customer_id), "email": email, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, shop.widget_secret, algorithm="HS256")


def verify_token(token: str, shop_lookup: Callable[[str], ShopSettings | None], now: float | None = None) -> Shopper:
    """Check signature, shop, expiry and lifetime; raises ``WidgetUnauthorized`` with a precise code."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise WidgetUnauthorized("token_invalid", "the widget token cannot be read") from exc
    shop_id = unverified.get("shop")
    shop = shop_lookup(shop_id) if isinstance(shop_id, str) else None
    if shop is None:
        raise WidgetUnauthorized("token_wrong_shop", "the widget token names no shop connected to this bridge")
    if not shop.widget_secret:
        raise WidgetUnauthorized("widget_disabled", "the widget is not enabled for this shop (no widget_secret)")
    current = time.time() if now is None else now
    try:
        claims = jwt.decode(
            token,
            shop.widget_secret,
            algorithms=["HS256"],  # pinned: never "none", never an algorithm the token chooses
            options={"require": ["exp", "iat", "sub", "shop"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise WidgetUnauthorized("token_invalid", "the widget token's signature is not valid") from exc
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise WidgetUnauthorized("token_invalid", "the widget token's iat and exp must be numbers")
    if exp < current - LEEWAY_SECONDS:
        raise WidgetUnauthorized("token_expired", "the widget token has expired: reload the page")
    if iat > current + LEEWAY_SECONDS or exp - iat > MAX_LIFETIME_SECONDS:
        raise WidgetUnauthorized("token_lifetime", "the widget token must be issued now and live at most 1 hour")
    customer_id = str(claims["sub"]).strip()
    if not customer_id or customer_id == "0":
        raise WidgetUnauthorized("token_invalid", "the widget token names no customer")
    return Shopper(shop_id=shop.id, customer_id=customer_id, email=str(claims.get("email") or ""))


def _authenticate() -> Shopper:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise WidgetUnauthorized("token_missing", "a widget token is required: Authorization: Bearer <token>")
    return verify_token(token.strip(), current_runtime().settings.shop)


def require_shopper(view: F) -> F:
    """Decorator: the view runs only for a valid token; ``current_shopper()`` returns who it is."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.shopper = _authenticate()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_shopper() -> Shopper:
    shopper: Shopper = g.shopper
    return shopper
