"""How big each kind of input may be: one limit per field, checked at the edge, the same on SQLite and PostgreSQL.

SQLite accepts a 100-character id in a ``VARCHAR(64)`` column and any integer up to 64 bits; PostgreSQL refuses
the first and both refuse integers beyond 64 bits. So every value from outside (a webhook payload, a path, a
query, a JSON body, a token) is checked here, before it reaches the database or the points arithmetic. The web
schemas (``bridge.web.schemas``) and the shop payload parser (``bridge.connectors.woocommerce.webhooks``) use the
same numbers.

The ceilings on money and points are guards against garbage, far above any real order, not program policy: an
amount or an award past them is refused as a permanent error (the delivery is parked ``failed`` for the owner to
see), never clipped into a wrong award.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from bridge.errors import MalformedPayload, PointsOutOfRange

MAX_ID_LENGTH = 64
"""Text identifiers: shop ids, customer ids, order ids, reward ids, coupon codes (the ``VARCHAR(64)`` columns)."""

MAX_ROW_ID = 2**63 - 1
"""Numeric identifiers (our rows, the shop's resources): a signed 64-bit integer, as both databases store it."""

MAX_EMAIL_LENGTH = 254
"""RFC 5321's longest deliverable address; a longer one cannot be anybody's."""

MAX_STATUS_LENGTH = 32
"""Short tokens stored as they come: an order's status, a currency code."""

MAX_IDEMPOTENCY_KEY_LENGTH = 128
"""An ``Idempotency-Key`` header: refused past this, never truncated (two long keys would collide)."""

MAX_AMOUNT = Decimal(10) ** 15
"""Largest money amount in a payload, in the shop's currency: a billion dollars in rials, more than any order."""

MONEY_DECIMALS = 6
"""Money is kept to this many decimal places (shops use 0 to 4): a float artefact like 16.363636363636363 is
rounded, so the points arithmetic never meets more digits than ``Decimal`` carries (28)."""

MAX_POINTS = 10**12
"""Most points one ledger entry may move (an award, an adjustment, a redemption, an expiry of a whole balance):
millions of such entries still sum inside a 64-bit balance, which is what every balance read needs."""

MAX_COUNT = 1_000_000_000
"""Quantities in an order."""

MAX_JSON_DEPTH = 64
"""Nesting of a JSON body. A WooCommerce order nests about 6 deep; Python's decoder recurses and fails near 1,000."""

_KEEP_QUOTES_AND_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')
_ONE_BRACKET_KIND = bytes.maketrans(b"{}", b"[]")
_WHOLE_TEXT = re.compile(r"\s*-?[0-9]{1,19}\s*")
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")  # NUL, or half of a surrogate pair


def check_json_depth(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise ``MalformedPayload`` when the JSON text in ``body`` (UTF-8) nests deeper than ``max_depth``.

    A byte scan, before any decoding, in C-speed bytes operations: escaped backslashes and quotes go, so every
    quote left opens or closes a string (in UTF-8 no byte of a multi-byte character is a quote or a bracket);
    the strings go; what is left is the skeleton of brackets. Each pass removes its innermost pairs: valid JSON
    nested at most ``max_depth`` deep is empty after that many passes. Most bodies have fewer opening brackets
    than ``max_depth`` and need no pass at all; an order with many lines needs a few passes over a short skeleton.
    """
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = b"".join(unescaped.translate(None, _KEEP_QUOTES_AND_BRACKETS).split(b'"')[::2])
    skeleton = skeleton.translate(_ONE_BRACKET_KIND)  # depth is all we measure: the decoder checks the kinds
    if b"[" * (max_depth + 1) in skeleton:
        raise MalformedPayload(f"the JSON is nested more than {max_depth} levels deep")
    for _ in range(max_depth):
        shorter = skeleton.replace(b"[]", b"")
        if not shorter or shorter == skeleton:
            return  # nested well enough, or unbalanced: not JSON, which the decoder reports
        skeleton = shorter
    if b"[]" in skeleton:
        raise MalformedPayload(f"the JSON is nested more than {max_depth} levels deep")


def load_json(body: bytes) -> Any:
    """Decode a JSON body strictly: UTF-8, bounded depth, no NaN or Infinity, no lone UTF-16 surrogates.

    Every failure is a ``MalformedPayload`` (a 400, or a delivery parked as failed): none is worth a retry.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload("the body is not UTF-8") from exc
    check_json_depth(body)
    try:
        data = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedPayload(f"the body is not valid JSON: {exc}") from exc
    if _SUSPECT_ESCAPE.search(text):  # rare: NUL, or emoji escaped as surrogate pairs
        _check_text(data)
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # built once: json.loads(..., **kw) builds one per call


def _check_text(value: Any) -> None:
    """Refuse lone surrogates (``"\\ud800"``) and NUL (``"\\u0000"``): valid JSON escapes, but no database stores
    the first and PostgreSQL refuses the second, which SQLite keeps."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _encodable(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _encodable(key)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedPayload("the JSON holds a lone UTF-16 surrogate, which is not text") from exc
    if "\x00" in text:
        raise MalformedPayload("the JSON holds a NUL character (\\u0000), which is not text")


def row_id(value: Any, name: str) -> int:
    """A positive 64-bit id from a JSON payload: an integer, or its decimal text; never 1.5, never ``true``."""
    number = whole_number(value, name)
    if not 1 <= number <= MAX_ROW_ID:
        raise MalformedPayload(f"{name} must be a positive integer of at most 64 bits")
    return number


def whole_number(value: Any, name: str) -> int:
    """An integer from a JSON payload: an ``int``, a whole float (``3.0``) or decimal text (``"3"``), within
    64 bits. A fraction is refused, never rounded: ``"id": 1.5`` is not order 1."""
    if isinstance(value, bool):
        raise MalformedPayload(f"{name} must be an integer, got {value!r}")
    whole_float = isinstance(value, float) and value.is_integer()
    if isinstance(value, int) or whole_float or (isinstance(value, str) and _WHOLE_TEXT.fullmatch(value)):
        number = int(value)
    else:
        raise MalformedPayload(f"{name} must be an integer, got {_shown(value)}")
    if not -MAX_ROW_ID <= number <= MAX_ROW_ID:
        raise MalformedPayload(f"{name} must fit in 64 bits")
    return number


def amount(value: Any, name: str) -> Decimal:
    """Money from a payload: text (``"42.90"``) or a number, finite, at most ``MAX_AMOUNT`` either way, kept to
    ``MONEY_DECIMALS`` places. Never read through a float's binary value."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedPayload(f"{name} must be an amount, got {_shown(value)}")
    text = str(value).strip()
    if len(text) > 64 or not re.fullmatch(r"-?[0-9]*\.?[0-9]*(?:[eE][-+]?[0-9]{1,3})?", text):
        raise MalformedPayload(f"{name} must be an amount, got {_shown(value)}")
    try:
        money = Decimal(text)
    except ArithmeticError as exc:
        raise MalformedPayload(f"{name} must be an amount, got {_shown(value)}") from exc
    if not money.is_finite() or abs(money) > MAX_AMOUNT:
        raise MalformedPayload(f"{name} must be an amount of at most {MAX_AMOUNT:,}, got {_shown(value)}")
    exponent = money.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_DECIMALS:
        money = money.quantize(Decimal(1).scaleb(-MONEY_DECIMALS))
    return money


def points(value: int, what: str = "points") -> int:
    """Refuse a number of points past ``MAX_POINTS`` either way (an award computed from garbage)."""
    if abs(value) > MAX_POINTS:
        raise PointsOutOfRange(f"{what}: {value} is more than the {MAX_POINTS:,} points one entry may move")
    return value


def bounded_text(value: Any, name: str, max_length: int) -> str:
    """Text from a payload (``None`` is empty), at most ``max_length`` characters."""
    result = "" if value is None else str(value)
    if len(result) > max_length:
        raise MalformedPayload(f"{name} must be at most {max_length} characters")
    return result


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."
