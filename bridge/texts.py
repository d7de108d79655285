"""Texts shoppers read, in their language: a club name, a reward's title, a rule's name (issue 14).

The program gives either a plain string or one per locale (``{en: "Free shipping", fa: "ارسال رایگان"}``). Both
load as a ``LocalText``: a ``str`` whose value is the default text (English when given, else the first), so every
place that only needs *a* text — a coupon's description in the shop, a ledger note, a log line — keeps working
unchanged, and the widget's answers pick the shopper's locale with ``localized``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_LOCALE = "en"


class LocalText(str):
    """A text with its translations; equal to another only when the translations are equal too."""

    __slots__ = ("by_locale",)
    by_locale: tuple[tuple[str, str], ...]

    def __new__(cls, texts: str | Mapping[str, str]) -> LocalText:
        if isinstance(texts, str):
            pairs: tuple[tuple[str, str], ...] = ()
            default = texts
        else:
            pairs = tuple(texts.items())
            default = dict(pairs).get(DEFAULT_LOCALE, pairs[0][1] if pairs else "")
        text = super().__new__(cls, default)
        text.by_locale = pairs
        return text

    def get(self, locale: str) -> str:
        """The text in ``locale`` (``fa-IR`` falls back to ``fa``), else the default text."""
        found = dict(self.by_locale)
        return found.get(locale) or found.get(locale.split("-")[0].lower()) or str(self)

    def document(self) -> str | dict[str, str]:
        """As written in the program: a plain string, or the mapping of locales."""
        return dict(self.by_locale) if self.by_locale else str(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LocalText):
            return str.__eq__(self, other) and self.by_locale == other.by_locale
        return str.__eq__(self, other)

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled by RQ job arguments and copy.deepcopy
        return (LocalText, (self.document(),))


def pick(value: Any, locale: str) -> str:
    """A text as a program document writes it (a string, or ``{locale: text}``) in ``locale``: the console's and
    the messages' templates read documents, the widget reads ``LocalText``; both choose the same way."""
    if isinstance(value, Mapping):
        return LocalText(value).get(locale) if value else ""
    return "" if value is None else str(value)


def localized(value: Any, locale: str) -> Any:
    """``value`` (a widget answer: dicts, lists, texts) with every ``LocalText`` in ``locale``."""
    if isinstance(value, LocalText):
        return value.get(locale) if value.by_locale else str(value)
    if isinstance(value, dict):
        return {k: localized(v, locale) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [localized(v, locale) for v in value]
    return value
