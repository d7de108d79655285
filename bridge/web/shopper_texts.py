"""Answers to shoppers in their language: the owner's per-locale texts (``bridge.texts``) picked per request.

The widget names its language with ``?locale=`` (the language file it loaded); without one, the browser's
``Accept-Language`` decides. Only the locale's shape is trusted.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, jsonify, request

from bridge.texts import DEFAULT_LOCALE, localized

LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def request_locale() -> str:
    asked = request.args.get("locale", "")
    if LOCALE_RE.match(asked):
        return asked
    best = request.accept_languages.best or ""
    return best if LOCALE_RE.match(best) else DEFAULT_LOCALE


def shopper_json(body: Any) -> Response:
    """``jsonify(body)`` with every owner text in the shopper's language."""
    return jsonify(localized(body, request_locale()))
