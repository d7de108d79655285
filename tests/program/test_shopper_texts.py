"""Texts shoppers read, per locale: club name, reward titles, rule names (issue 14)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bridge.config import settings_from
from bridge.errors import ConfigError
from bridge.program import document
from bridge.texts import LocalText
from tests.program.conftest import draft, publish, published
from tests.support.client import SHOP, Bridge

FREE_SHIPPING = {"en": "Free shipping", "fa": "ارسال رایگان"}


def with_texts(doc: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    changed["name"] = {"en": "Tea Club", "fa": "باشگاه چای"}
    changed["rewards"] = [
        {"id": "ship", "title": FREE_SHIPPING, "type": "free_shipping", "points": 300},
        {"id": "five", "title": "Five off", "type": "fixed_cart", "points": 500, "value": "5"},
    ]
    changed["earn"]["rules"] = [
        {"id": "base", "type": "per_amount", "points": 1, "per": 1, "name": {"en": "Shop with us", "fa": "خرید کنید"}}
    ]
    return changed


def club(bridge: Bridge, locale: str | None = None, **kwargs: Any) -> dict[str, Any]:
    query = {"shop": SHOP} | ({"locale": locale} if locale else {})
    response = bridge.client.get("/widget/v1/club", query_string=query, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def test_a_published_program_speaks_the_shoppers_language(bridge: Bridge) -> None:
    assert publish(bridge, draft(bridge, with_texts(published(bridge)["program"]))["id"]) == 2

    fa = club(bridge, "fa")
    assert fa["club"]["name"] == "باشگاه چای"
    ship, five = fa["rewards"]["catalogue"]
    assert (ship["title"], ship["title_locales"]) == ("ارسال رایگان", ["en", "fa"])
    assert five["title"] == "Five off" and "title_locales" not in five  # a plain string is everyone's

    assert club(bridge, "fa-IR")["club"]["name"] == "باشگاه چای"
    assert club(bridge, "de")["club"]["name"] == "Tea Club"  # the default
    by_header = club(bridge, headers={"Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5"})
    assert by_header["club"]["name"] == "باشگاه چای"

    # The admin API and the stored document keep every locale.
    assert published(bridge)["program"]["rewards"][0]["title"] == FREE_SHIPPING
    ways = bridge.admin("GET", "/admin/v1/program").get_json()
    assert "Shop with us" in str(ways)


def test_per_locale_texts_round_trip_and_plain_strings_stay_plain() -> None:
    program = settings_from({"program": with_texts({"earn": {}})}).program
    assert isinstance(program.name, LocalText) and program.name == "Tea Club"
    assert program.name.get("fa") == "باشگاه چای"
    doc = document.dump(program)
    assert doc["name"] == {"en": "Tea Club", "fa": "باشگاه چای"}
    assert doc["rewards"][1]["title"] == "Five off"
    assert document.parse(doc) == program
    other = settings_from({"program": {**with_texts({"earn": {}}), "name": {"en": "Tea Club", "fa": "دیگر"}}})
    assert other.program != program  # a translation is part of the program


@pytest.mark.parametrize(
    ("name", "where", "why"),
    [
        ({"EN": "x"}, "program.name.EN", "must be a locale"),
        ({}, "program.name", "must not be empty"),
        ({"en": ""}, "program.name.en", "must not be empty"),
        ({"en": ["x"]}, "program.name.en", "must be a string"),
        ({"en": "x" * 1001}, "program.name.en", "at most 1000"),
        ({f"l{i:02d}"[:3]: "x" for i in range(21)}, "program.name", "at most 20 locales"),
    ],
)
def test_a_bad_text_is_refused_with_its_path(name: Any, where: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({"program": {"name": name}})
    assert caught.value.key == where and why in caught.value.reason
