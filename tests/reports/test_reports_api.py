"""``GET /admin/v1/reports`` and ``/admin/v1/reports/<name>`` as the owner's scripts and spreadsheets use them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from bridge.reports import catalog
from tests.reports import dataset
from tests.support.client import Bridge


@pytest.fixture
def club(make_bridge: Callable[..., Bridge]) -> Bridge:
    bridge = make_bridge(program=dataset.PROGRAM)
    dataset.build(bridge)
    dataset.at("11-26", 12)
    return bridge


RANGE = {"from": "2026-08-01", "to": "2026-10-31"}


def test_the_list_names_every_report_with_its_definition(bridge: Bridge) -> None:
    response = bridge.admin("GET", "/admin/v1/reports")
    assert response.status_code == 200
    listed = {item["name"]: item["description"] for item in response.get_json()["reports"]}
    assert set(listed) == set(catalog.REPORTS) >= {"program", "liability", "redemption", "referrals"}
    assert listed["liability"].startswith("What the club owes")


def test_a_report_as_json_with_decimals_as_text(club: Bridge) -> None:
    response = club.admin("GET", "/admin/v1/reports/liability", query_string=RANGE)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert {k: body[k] for k in ("report", "from", "to", "interval", "shop")} == {
        "report": "liability",
        "from": "2026-08-01",
        "to": "2026-10-31",
        "interval": "month",  # 92 days: months by default
        "shop": None,
    }
    assert body["generated_at"].startswith("2026-11-26T12:")
    assert body["tables"] == ["journal", "summary"]
    assert "estimate" in body["method"]
    data = body["data"]
    assert data["points"] == {"available": 1160, "pending": 400}
    assert data["value"] == {"currency": "USD", "amount": "6.24", "available": "4.64", "pending": "1.60"}
    assert data["point_value"] == "0.004"
    assert data["expected_breakage"]["rate"] == "0.1905"
    assert data["journal"][0]["period"] == "2026-08-01"


def test_the_default_range_is_the_last_30_days_by_day(club: Bridge) -> None:
    body = club.admin("GET", "/admin/v1/reports/program").get_json()
    assert (body["from"], body["to"], body["interval"]) == ("2026-10-28", "2026-11-26", "day")
    assert len(body["data"]["periods"]) == 30


def test_a_report_as_csv_opens_in_a_spreadsheet(club: Bridge) -> None:
    response = club.admin(
        "GET", "/admin/v1/reports/redemption", query_string={**RANGE, "format": "csv", "table": "rewards"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="redemption-rewards-2026-08-01-2026-10-31.csv"'
    )
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8 (and Persian) right
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["reward_id", "title", "count", "points"]
    assert ["ship", dataset.PERSIAN_SHIPPING, "1", "300"] in rows


def test_csv_dates_are_iso_and_decimals_use_a_dot(club: Bridge) -> None:
    response = club.admin("GET", "/admin/v1/reports/referrals", query_string={**RANGE, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["period", "clicks", "claims", "ordered", "qualified", "referred_revenue"]
    assert rows[1] == ["2026-08-01", "0", "0", "0", "0", "0.00"]  # money in the currency's decimals, even 0
    assert rows[2] == ["2026-09-01", "2", "1", "1", "0", "65.00"]
    summary = club.admin(
        "GET", "/admin/v1/reports/liability", query_string={**RANGE, "format": "csv", "table": "summary"}
    )
    figures = dict(csv.reader(io.StringIO(summary.get_data().decode("utf-8-sig"))))
    assert figures["amount"] == "6.24" and figures["point_value"] == "0.004" and figures["breakage_rate"] == "0.1905"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"from": "2026-10-31", "to": "2026-08-01"}, 400, "invalid_report_query"),  # to before from
        ({"from": "2020-01-01", "to": "2026-10-31"}, 400, "invalid_report_query"),  # longer than MAX_DAYS
        ({"from": "2026-13-01"}, 400, "invalid_report_query"),
        ({"from": "01/08/2026"}, 400, "invalid_report_query"),
        ({"from": "0001-01-01"}, 400, "invalid_report_query"),
        ({"to": "9999-12-31"}, 400, "invalid_report_query"),
        ({"interval": "year"}, 422, "validation_failed"),
        ({"format": "xlsx"}, 422, "validation_failed"),
        ({"colour": "red"}, 422, "validation_failed"),
        ({"shop": "nope"}, 404, "unknown_shop"),
        ({"format": "csv", "table": "nope"}, 400, "unknown_table"),
    ],
)
def test_a_query_that_cannot_be_answered_is_refused_plainly(
    bridge: Bridge, query: dict[str, str], status: int, code: str
) -> None:
    response = bridge.admin("GET", "/admin/v1/reports/program", query_string=query)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_an_unknown_report_is_a_404(bridge: Bridge) -> None:
    response = bridge.admin("GET", "/admin/v1/reports/everything")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_report"


def test_reports_need_the_admin_key(bridge: Bridge) -> None:
    assert bridge.client.get("/admin/v1/reports").status_code == 401
    assert bridge.client.get("/admin/v1/reports/liability?format=csv").status_code == 401


def test_one_shop(club: Bridge) -> None:
    body = club.admin("GET", "/admin/v1/reports/program", query_string={**RANGE, "shop": "shop1"}).get_json()
    assert body["shop"] == "shop1"
    assert body["data"]["totals"]["adjusted"] == 0  # adjustments belong to no shop
    csv_response = club.admin(
        "GET", "/admin/v1/reports/program", query_string={**RANGE, "shop": "shop1", "format": "csv"}
    )
    assert "program-periods-shop1-2026-08-01-2026-10-31.csv" in csv_response.headers["Content-Disposition"]


@pytest.mark.parametrize("name", ["program", "liability", "redemption", "referrals"])
def test_the_longest_range_by_day_is_answered(club: Bridge, name: str) -> None:
    query = {"from": "2024-01-01", "to": "2027-01-03", "interval": "day"}  # 1,099 days: the most allowed
    response = club.admin("GET", f"/admin/v1/reports/{name}", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    longer = club.admin("GET", f"/admin/v1/reports/{name}", query_string={**query, "to": "2027-01-04"})
    assert longer.status_code == 400
