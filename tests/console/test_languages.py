"""English and Persian from the same templates: right-to-left pages, Persian digits, Jalali dates in the
program's time zone, and a Persian translation for every message the console shows."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from jinja2.ext import extract_from_ast

from bridge.console import i18n
from bridge.console.routing import NAV, Role
from tests.console.conftest import Console
from tests.support.client import Bridge
from tests.support.clock import TEST_NOW

CONSOLE = Path(i18n.__file__).parent


def template_messages(bridge: Bridge) -> set[str]:
    env = bridge.app.jinja_env
    found: set[str] = set()
    for path in (CONSOLE / "templates").rglob("*.html"):
        tree = env.parse(path.read_text(encoding="utf-8"))
        found |= {msg for _, _, msg in extract_from_ast(tree, gettext_functions=("_",)) if isinstance(msg, str)}
    return found


def code_messages() -> set[str]:
    """Literal messages given to ``gettext`` in the console's Python code."""
    found: set[str] = set()
    for path in CONSOLE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            first = node.args[0]
            if name == "gettext" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    return found


def test_every_message_has_a_persian_translation(bridge: Bridge) -> None:
    messages = template_messages(bridge) | code_messages() | {item.label for item in NAV} | {r.value for r in Role}
    assert "Sign in" in messages and "Wrong e-mail or password." in messages  # the extraction finds them
    persian = i18n.catalogue("fa")
    missing = sorted(m for m in messages if not persian.get(m))
    assert not missing, f"add these to bridge/console/i18n/fa/<page>.json: {missing}"
    for message, translated in persian.items():  # the same {placeholders} on both sides
        assert set(re.findall(r"{(\w+)}", message)) == set(re.findall(r"{(\w+)}", translated)), message


def test_persian_pages_are_right_to_left(console: Console) -> None:
    client = console.client()
    page = client.get("/console/login?lang=fa").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page
    assert "ورود" in page and "گذرواژه" in page
    again = client.get("/console/login").get_data(as_text=True)  # remembered in a cookie
    assert '<html lang="fa" dir="rtl">' in again
    back = client.get("/console/login?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in back and "Password" in back


def test_the_users_language_setting_wins_over_the_cookie(console: Console) -> None:
    client = console.login_as(Role.VIEWER)
    assert console.post(client, "/console/account/language", {"language": "fa"}).status_code == 302
    client.delete_cookie(i18n.COOKIE, path="/console")
    assert '<html lang="fa" dir="rtl">' in client.get("/console/").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in client.get("/console/?lang=en").get_data(as_text=True)  # a link still can


def test_dates_in_the_program_time_zone_jalali_in_persian(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(program={"timezone": "Asia/Tehran"})
    moment = TEST_NOW  # 2026-11-26 12:00 UTC = 15:30 in Tehran = 5 Azar 1405
    with bridge.app.test_request_context("/console/?lang=fa"):
        from flask import g

        g.console_lang = "en"
        assert i18n.when(moment) == '<time datetime="2026-11-26T12:00:00+00:00">2026-11-26 15:30</time>'
        assert i18n.when(moment, "date") == '<time datetime="2026-11-26T12:00:00+00:00">2026-11-26</time>'
        g.console_lang = "fa"
        assert i18n.when(moment) == '<time datetime="2026-11-26T12:00:00+00:00">۱۴۰۵/۰۹/۰۵ ۱۵:۳۰</time>'  # noqa: RUF001
        assert i18n.when(moment.date()) == '<time datetime="2026-11-26">۱۴۰۵/۰۹/۰۵</time>'  # noqa: RUF001
        assert i18n.when(None) == "\u2013"


def test_numbers_and_money_in_each_language(bridge: Bridge) -> None:
    with bridge.app.test_request_context("/console/"):
        from flask import g

        g.console_lang = "en"
        assert i18n.points(1234567) == "1,234,567"
        assert i18n.money(Decimal("1234.50"), "USD") == "1,234.50 USD"
        assert i18n.money(Decimal("-0.05"), "EUR") == "-0.05 EUR"
        assert i18n.gettext("{n} points", n=1500) == "1,500 points"
        assert i18n.gettext("<b>{who}</b>", who="<script>") == "&lt;b&gt;&lt;script&gt;&lt;/b&gt;"  # all escaped
        assert i18n.gettext("at {when}", when=i18n.when(TEST_NOW)).startswith("at <time datetime=")  # markup kept
        g.console_lang = "fa"
        assert i18n.points(1234567) == "۱٬۲۳۴٬۵۶۷"  # noqa: RUF001
        assert i18n.money(Decimal("1234.50"), "USD") == "۱٬۲۳۴٫۵۰ USD"  # noqa: RUF001
