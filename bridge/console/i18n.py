"""The console's languages (English and Persian), from the same templates.

Messages are written in English in the templates and the code: ``{{ _("Members") }}``,
``{{ _("Unlocks at {when}", when=...) }}``. Translations live in ``i18n/<lang>/*.json`` (one file per page or
area, ``{"English text": "translation"}``; every file of a language is merged), so pages added in parallel do not
edit one shared file. A message without a translation falls back to English, and ``tests/console`` fails for any
message a template uses that has no Persian translation.

Numbers and dates: ``points`` (``1,234``, in Persian digits for ``fa``), ``money`` (exact ``Decimal``), and
``when`` (the program's time zone; Jalali dates in Persian, with ``jdatetime``).
The language of a request: ``?lang=`` (remembered in a cookie), else the user's saved choice, else that
cookie, else English.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from flask import g, has_request_context, request
from markupsafe import Markup, escape

I18N_DIR = Path(__file__).parent / "i18n"
DEFAULT = "en"
COOKIE = "console_lang"


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in itself, for the language switch
    dir: str  # ltr | rtl


LANGUAGES = {"en": Language("en", "English", "ltr"), "fa": Language("fa", "فارسی", "rtl")}

NONE = "\u2013"  # an en dash where there is no value
# Persian digits; U+066C ARABIC THOUSANDS SEPARATOR, U+066B ARABIC DECIMAL SEPARATOR
_PERSIAN_DIGITS = str.maketrans("0123456789,.", "".join(chr(0x06F0 + d) for d in range(10)) + "\u066c\u066b")
_catalogues: dict[str, dict[str, str]] = {}
_lock = threading.Lock()


def catalogue(lang: str) -> dict[str, str]:
    """Every message of ``lang`` (English source -> translation), read once per process."""
    with _lock:
        found = _catalogues.get(lang)
        if found is None:
            found = {}
            for path in sorted((I18N_DIR / lang).glob("*.json")):
                found.update(json.loads(path.read_text(encoding="utf-8")))
            _catalogues[lang] = found
        return found


def language() -> Language:
    """This request's language (set by the console's guard), English outside a request."""
    if has_request_context():
        return LANGUAGES.get(g.get("console_lang", DEFAULT), LANGUAGES[DEFAULT])
    return LANGUAGES[DEFAULT]


def choose(user_language: str | None) -> str:
    """The language of this request: ``?lang=``, else the user's setting, else the cookie, else English."""
    for candidate in (request.args.get("lang"), user_language, request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


def gettext(message: str, **params: Any) -> Markup:
    """``message`` in this request's language, HTML-safe; ``{name}`` placeholders filled from ``params``, each
    escaped unless it is markup itself (``when``'s ``<time>``), numbers in the language's digits."""
    lang = language().code
    text = escape(catalogue(lang).get(message, message) if lang != DEFAULT else message)
    if not params:
        return text
    return text.format(
        **{k: (points(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in params.items()}
    )


def digits(text: str) -> str:
    """Western digits (and , .) in the language's own: Persian digits for ``fa``."""
    return text.translate(_PERSIAN_DIGITS) if language().code == "fa" else text


def points(value: int | None) -> str:
    """An integer with thousands separators: ``1,234`` (Persian digits and separator in ``fa``)."""
    if value is None:
        return NONE
    return digits(f"{int(value):,}")


def money(amount: Decimal | int | str | None, currency: str = "") -> str:
    """An exact amount with thousands separators and its currency code: ``1,234.50 USD``."""
    if amount is None:
        return NONE
    text = digits(f"{Decimal(amount):,f}")
    return f"{text} {currency}".strip()


def program_zone() -> ZoneInfo:
    from bridge.runtime import current_runtime

    return ZoneInfo(current_runtime().settings.program.earning.timezone)


def when(moment: datetime | date | None, style: str = "datetime") -> Markup:
    """A moment as ``<time>``: in the program's time zone, Jalali in Persian; ``style``: datetime | date."""
    if moment is None:
        return Markup(NONE)
    if isinstance(moment, datetime):
        local = moment.astimezone(program_zone())
        iso = moment.isoformat(timespec="seconds")
    else:
        local = datetime(moment.year, moment.month, moment.day)  # noqa: DTZ001  a calendar day has no zone
        iso = moment.isoformat()
        style = "date"
    fmt = "%Y-%m-%d" if style == "date" else "%Y-%m-%d %H:%M"
    if language().code == "fa":
        text = jdatetime.datetime.fromgregorian(datetime=local).strftime(fmt.replace("-", "/"))
    else:
        text = local.strftime(fmt)
    return Markup('<time datetime="{}">{}</time>').format(escape(iso), digits(text))


def init_jinja(env: Any) -> None:
    """The console's template helpers: ``_``, ``once_key``, ``when``, ``points``, ``money``, ``digits``."""
    from bridge.console.forms import new_once_key

    env.globals["_"] = gettext
    env.globals["once_key"] = new_once_key
    env.globals["console_language"] = language
    env.globals["console_languages"] = LANGUAGES
    env.filters["when"] = when
    env.filters["points"] = points
    env.filters["money"] = money
    env.filters["digits"] = digits
