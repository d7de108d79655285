"""Shopper identity for the widget API: a short-lived HS256 token that the shop signs for its logged-in customer.

The shop (WordPress plugin, or any backend) signs ``{"shop", "sub" (customer id), "email", "iat", "exp"}`` with
the shop's ``widget_secret``; the widget sends it as ``Authorization: Bearer <token>``. It is the only identity
the widget API accepts: a customer id or e-mail in a query string or body is never trusted.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from flask import g, request

from bridge import limits
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
    shop = shop_lookup(shop_id) if isinstance(shop_id, str) and len(shop_id) <= limits.MAX_ID_LENGTH else None
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
            # exp, iat and sub are checked below: PyJWT would refuse a numeric sub as if the signature were wrong
            options={
                "require": ["exp", "iat", "sub", "shop"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_sub": False,
            },
        )
    except jwt.MissingRequiredClaimError as exc:
        raise WidgetUnauthorized("token_invalid", f"the widget token has no {exc.claim!r} claim") from exc
    except jwt.PyJWTError as exc:
        raise WidgetUnauthorized("token_invalid", "the widget token's signature is not valid") from exc
    exp, iat = claims["exp"], claims["iat"]
    if not _whole_seconds(exp) or not _whole_seconds(iat):
        raise WidgetUnauthorized("token_invalid", "the widget token's iat and exp must be whole seconds (integers)")
    if exp < current - LEEWAY_SECONDS:
        raise WidgetUnauthorized("token_expired", "the widget token has expired: reload the page")
    if iat > current + LEEWAY_SECONDS or exp - iat > MAX_LIFETIME_SECONDS:
        raise WidgetUnauthorized("token_lifetime", "the widget token must be issued now and live at most 1 hour")
    return Shopper(shop_id=shop.id, customer_id=_customer_id(claims["sub"]), email=_email(claims.get("email")))


def _whole_seconds(value: Any) -> bool:
    """A NumericDate we accept: an integer (or a whole, finite float). ``NaN`` compared false to every bound, so
    a token with ``exp: NaN`` never expired."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())


def _customer_id(sub: Any) -> str:
    """The customer id from ``sub``: text, or the integer many JWT libraries emit (normalised to its text)."""
    if isinstance(sub, int) and not isinstance(sub, bool) and 0 < sub <= limits.MAX_ROW_ID:
        return str(sub)
    customer_id = sub.strip() if isinstance(sub, str) else ""
    if not customer_id or customer_id == "0" or len(customer_id) > limits.MAX_ID_LENGTH:
        raise WidgetUnauthorized(
            "token_invalid",
            f"the widget token's sub must be the customer's id (text of at most {limits.MAX_ID_LENGTH} "
            "characters, or a positive integer)",
        )
    return customer_id


def _email(value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > limits.MAX_EMAIL_LENGTH:
        raise WidgetUnauthorized(
            "token_invalid",
            f"the widget token's email must be an address of at most {limits.MAX_EMAIL_LENGTH} characters",
        )
    return value


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
