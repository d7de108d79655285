"""The bridge serves the widget's script and language files: right types, cacheable, CORS for the shop only."""

from __future__ import annotations

import json
from pathlib import Path

from bridge.web import widget_assets
from tests.support.client import Bridge

PLURAL_CATEGORIES = ("zero", "two", "few", "many")  # besides one and other, which English has (Intl.PluralRules)
SHOP_ORIGIN = "http://127.0.0.1:8080"  # the test shop's URL: its origin is allowed by default


def test_the_script_is_javascript_with_a_strong_etag_and_a_day_of_freshness(bridge: Bridge) -> None:
    response = bridge.client.get("/widget/v1/loyalty-bridge.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == widget_assets.FRESH
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.get_data() == (widget_assets.WIDGETS_DIR / "loyalty-bridge.js").read_bytes()


def test_a_known_etag_gets_304_without_a_body(bridge: Bridge) -> None:
    etag = bridge.client.get("/widget/v1/loyalty-bridge.js").headers["ETag"]
    again = bridge.client.get("/widget/v1/loyalty-bridge.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_a_versioned_url_is_immutable_for_a_year(bridge: Bridge) -> None:
    version = bridge.client.get("/widget/v1/loyalty-bridge.js").headers["ETag"].strip('"')
    response = bridge.client.get(f"/widget/v1/loyalty-bridge.js?v={version}")
    assert response.headers["Cache-Control"] == widget_assets.IMMUTABLE
    stale = bridge.client.get("/widget/v1/loyalty-bridge.js?v=older")
    assert stale.headers["Cache-Control"] == widget_assets.FRESH


def test_language_files_fall_back_from_region_to_language_to_english(bridge: Bridge) -> None:
    for asked, served in (("fa", "fa"), ("fa-IR", "fa"), ("en-GB", "en"), ("de", "en")):
        response = bridge.client.get(f"/widget/v1/i18n/{asked}.json")
        assert response.status_code == 200, asked
        assert response.mimetype == "application/json"
        assert response.headers["Content-Language"] == served
        assert response.get_json()["_lang"] == served


def test_a_language_name_that_is_not_a_language_tag_is_404(bridge: Bridge) -> None:
    for bad in ("..%2Fsecret", "e", "fa_IR!", "a" * 40):
        assert bridge.client.get(f"/widget/v1/i18n/{bad}.json").status_code == 404, bad


def test_cors_allows_the_shop_origin_and_no_other(bridge: Bridge) -> None:
    ok = bridge.client.get("/widget/v1/i18n/fa.json", headers={"Origin": SHOP_ORIGIN})
    assert ok.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert "Origin" in ok.headers["Vary"]
    other = bridge.client.get("/widget/v1/i18n/fa.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_every_language_file_has_exactly_the_english_keys() -> None:
    """Adding a language is adding one JSON file: it must translate every string, and only those."""
    folder: Path = widget_assets.WIDGETS_DIR / "i18n"
    english = json.loads((folder / "en.json").read_text("utf-8"))
    files = sorted(folder.glob("*.json"))
    assert len(files) >= 2
    for path in files:
        messages = json.loads(path.read_text("utf-8"))
        # Counted messages come as key_one, key_other...: a language may add its other plural categories.
        plural_extras = {
            k
            for k in set(messages) - set(english)
            if k.rsplit("_", 1)[-1] in PLURAL_CATEGORIES and f"{k.rsplit('_', 1)[0]}_other" in english
        }
        assert set(messages) - plural_extras == set(english), path.name
        assert messages["_lang"] == path.stem and messages["_dir"] in ("ltr", "rtl")
        for key, value in english.items():
            placeholders = sorted(part.split("}")[0] for part in value.split("{")[1:])
            assert sorted(p.split("}")[0] for p in messages[key].split("{")[1:]) == placeholders, (path.name, key)


def test_the_script_uses_nothing_a_strict_csp_or_an_xss_review_would_flag() -> None:
    """No HTML parsing of strings, no eval, no inline style attributes: the browser tests prove the CSP page works;
    this keeps a later edit from bringing one in on a path the browser tests do not reach."""
    source = (widget_assets.WIDGETS_DIR / widget_assets.SCRIPT_NAME).read_text("utf-8")
    for banned in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "setAttribute('style'",
        'setAttribute("style"',
        "console.error",
    ):
        assert banned not in source, banned
