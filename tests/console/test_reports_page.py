"""The Reports pages: every report of the catalog as tables (no JavaScript needed), its periods as a chart from
the vendored uPlot, and each table as CSV for a signed-in viewer; in English and Persian with no raw names."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable

from bridge.console import i18n, reports_page
from bridge.console.routing import Role
from bridge.reports import catalog
from bridge.storage import db
from tests.console.conftest import Console
from tests.support.client import Bridge
from tests.support.clock import TEST_NOW

REWARDS = [{"id": "five-off", "title": "5.00 off", "type": "fixed_cart", "points": 100, "value": "5.00"}]
TODAY = "2026-11-26"  # TEST_NOW's day


def club(make_bridge: Callable[..., Bridge]) -> Console:
    bridge = make_bridge(program={"rewards": REWARDS})
    for name in ("customer.created", "order.updated.processing-paid"):
        bridge.deliver_ok(name)
    bridge.drain()  # Carol: 50 sign-up points and 35 for the order, available at once
    return Console(bridge)


def cells(page: str, table: str) -> list[list[str]]:
    section = page[page.index(f'id="table-{table}"') :]
    section = section[: section.index("</section>")]
    body = section[section.index("<tbody>") :]
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_program_report_shows_the_days_figures(make_bridge: Callable[..., Bridge]) -> None:
    client = club(make_bridge).login_as(Role.VIEWER)
    page = client.get(f"/console/reports/program?from={TODAY}&to={TODAY}&interval=day").get_data(as_text=True)
    periods = cells(page, "periods")
    assert periods == [[TODAY, "1", "85", "0", "0", "0", "0", "0"]]  # joined 1, issued 85 (50 + 35)
    summary = dict(row[:2] for row in cells(page, "summary"))
    assert summary["Members at the end"] == "1"


def test_every_report_opens_and_each_of_its_tables_downloads_as_csv(make_bridge: Callable[..., Bridge]) -> None:
    client = club(make_bridge).login_as(Role.VIEWER)
    index = client.get("/console/reports").get_data(as_text=True)
    for name in catalog.REPORTS:
        assert f'href="/console/reports/{name}"' in index
        response = client.get(f"/console/reports/{name}?from=2026-09-01&to={TODAY}")
        assert response.status_code == 200, name
        page = response.get_data(as_text=True)
        links = re.findall(r'class="csv" href="([^"]+)"', page)
        assert links, name
        for link in links:
            download = client.get(link.replace("&amp;", "&"))
            assert download.status_code == 200
            assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
            assert "attachment" in download.headers["Content-Disposition"]
            text = download.get_data().decode("utf-8")
            assert text.startswith("\ufeff")
            header = next(csv.reader(io.StringIO(text[1:])))
            assert header and all(header)


def test_the_chart_draws_the_periods_with_the_vendored_library(make_bridge: Callable[..., Bridge]) -> None:
    client = club(make_bridge).login_as(Role.VIEWER)
    page = client.get(f"/console/reports/program?from=2026-11-20&to={TODAY}&interval=day").get_data(as_text=True)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert "/console/static/vendor/uplot/uPlot.iife.min.js" in scripts and "/console/static/reports.js" in scripts
    island = re.search(r'<script type="application/json" id="report-series">(.*?)</script>', page, re.S)
    assert island
    chart = json.loads(island.group(1))
    assert len(chart["x"]) == 7 and chart["x"][-1] - chart["x"][0] == 6 * 86400
    issued = next(s for s in chart["series"] if s["label"] == "Issued")
    assert issued["values"][-1] == 85 and issued["values"][0] == 0


def test_a_bad_range_is_a_clear_refusal(make_bridge: Callable[..., Bridge]) -> None:
    client = club(make_bridge).login_as(Role.VIEWER)
    response = client.get("/console/reports/program?from=2026-11-26&to=2026-11-01")
    assert response.status_code == 400
    assert "is before from" in response.get_data(as_text=True)
    assert client.get("/console/reports/nonsense").status_code == 404
    assert client.get("/console/reports/program?from=" + "9" * 500).status_code == 400


def test_reports_in_persian_name_every_column_and_figure(make_bridge: Callable[..., Bridge]) -> None:
    console = club(make_bridge)
    client = console.login_as(Role.VIEWER)
    persian = i18n.catalogue("fa")
    missing = sorted(english for english in reports_page.LABELS.values() if not persian.get(english))
    assert not missing, f"add to bridge/console/i18n/fa/reports.json: {missing}"
    rt = console.bridge.rt
    unlabelled: set[str] = set()
    with db.read(rt.engine) as conn:  # every name a report gives has a label
        for build in catalog.REPORTS.values():
            query = catalog.parse_query(rt.settings, TEST_NOW, first="2026-09-01")
            report = build(conn, query)
            names = {table.name for table in report.tables}
            names |= {column for table in report.tables for column in table.columns}
            names |= {
                str(row[0]) for table in report.tables if table.columns[0] in ("figure", "stage") for row in table.rows
            }
            unlabelled |= {n for n in names if n not in reports_page.LABELS}
    assert not unlabelled, f"add to reports_page.LABELS: {sorted(unlabelled)}"
    page = client.get("/console/reports/liability?lang=fa").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page
    assert "دفتر گردش" in page and "مانده پایان دوره" in page


def test_rates_read_as_percentages(make_bridge: Callable[..., Bridge]) -> None:
    client = club(make_bridge).login_as(Role.VIEWER)
    page = client.get(f"/console/reports/program?from=2026-11-01&to={TODAY}").get_data(as_text=True)
    summary = dict(row[:2] for row in cells(page, "summary"))
    assert summary["Participation rate"] == "100.0 %"  # Carol ordered: 1 of 1 customers seen
    assert summary["Engagement rate"] == "0.0 %"
