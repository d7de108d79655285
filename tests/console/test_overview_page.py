"""The Overview page shows the club's figures as numbers (no JavaScript needed), the 90 days as a table and as
uPlot charts drawn from files the bridge serves itself."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from bridge.console.routing import Role
from tests.console.conftest import Console
from tests.support.client import Bridge

REWARDS = [{"id": "five-off", "title": "5.00 off", "type": "fixed_cart", "points": 100, "value": "5.00"}]


def card(page: str, figure: str) -> str:
    found = re.search(rf'id="fig-{figure}">.*?<span class="value">([^<]*)</span>', page, re.S)
    assert found, f"no {figure} card"
    return found.group(1)


def club(make_bridge: Callable[..., Bridge]) -> Console:
    bridge = make_bridge(program={"rewards": REWARDS})
    for name in ("customer.created", "order.updated.processing-paid"):
        bridge.deliver_ok(name)
    bridge.drain()  # Carol: 50 sign-up points and 35 for the order, available at once (on_payment)
    return Console(bridge)


def test_the_overview_shows_the_figures_without_javascript(make_bridge: Callable[..., Bridge]) -> None:
    console = club(make_bridge)
    client = console.login_as(Role.VIEWER)
    response = client.get("/console/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert card(page, "members") == "1"
    assert card(page, "active") == "1"
    assert card(page, "issued") == "85"
    assert card(page, "redeemed") == "0"
    assert card(page, "liability") == "85"
    assert "4.25 USD" in page  # 85 points at 5.00 per 100 points
    assert card(page, "inbox") == "0"
    # the 90 days as a table, newest first: today has Carol's sign-up and her order
    table = page[page.index('id="series-table"') :]
    rows = re.findall(r"<tr><td><time[^>]*>[^<]*</time></td>((?:<td[^>]*>[^<]*</td>)+)</tr>", table)
    assert len(rows) == 90
    assert re.findall(r">([^<]*)</td>", rows[0]) == ["85", "0", "1"]
    # the shop's connection: configured in the tests but never connected with `bridge connect`
    assert "Not connected: run bridge connect for this shop." in page


def test_the_charts_use_the_vendored_chart_library(make_bridge: Callable[..., Bridge]) -> None:
    console = club(make_bridge)
    client = console.login_as(Role.VIEWER)
    page = client.get("/console/").get_data(as_text=True)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert "/console/static/vendor/uplot/uPlot.iife.min.js" in scripts
    assert all(src.startswith("/console/static/") for src in scripts)  # nothing from a CDN
    for src in scripts:
        served = client.get(src)
        assert served.status_code == 200 and served.data
        served.close()
    island = re.search(r'<script type="application/json" id="overview-series"[^>]*>(.*?)</script>', page, re.S)
    assert island
    data = json.loads(island.group(1))
    assert len(data["days"]) == 90 and data["issued"][-1] == 85 and data["joined"][-1] == 1


def test_the_overview_in_persian(make_bridge: Callable[..., Bridge]) -> None:
    console = club(make_bridge)
    client = console.login_as(Role.VIEWER)
    page = client.get("/console/?lang=fa").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page
    assert card(page, "issued") == "۸۵"
    assert "اعضای فعال" in page
