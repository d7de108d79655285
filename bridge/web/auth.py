"""Admin authentication: ``Authorization: Bearer <api key>``; keys are compared as SHA-256 digests."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from bridge.errors import BridgeError
from bridge.runtime import current_runtime

F = TypeVar("F", bound=Callable[..., Any])


class Unauthorized(BridgeError):
    code = "unauthorized"
    status = 401


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _authenticate() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an admin API key is required: Authorization: Bearer <key>")
    digest = key_digest(token.strip())
    matched = False
    for key in current_runtime().settings.admin_api_keys:
        # Compare every key, constant-time, so timing reveals neither which key nor how much matched.
        matched |= hmac.compare_digest(digest, key_digest(key))
    if not matched:
        raise Unauthorized("the API key is not valid")
    return f"api-key:{digest[:8]}"


def require_admin(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.actor = _authenticate()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
