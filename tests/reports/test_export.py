"""The CSV export's cells, on their own: what a spreadsheet reads back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bridge.reports.base import Table
from bridge.reports.export import csv_text, plain


def test_cells_are_iso_dates_dot_decimals_and_never_formulas() -> None:
    table = Table(
        "t",
        ("a", "b", "c", "d", "e", "f"),
        [(date(2026, 9, 1), Decimal("1234.50"), -40, '=HYPERLINK("http://x")', None, "ارسال رایگان")],
    )
    text = csv_text(table)
    assert text.startswith("\ufeffa,b,c,d,e,f\r\n")
    assert text.splitlines()[1] == '2026-09-01,1234.50,-40,"\'=HYPERLINK(""http://x"")",,ارسال رایگان'


def test_json_values_are_text_for_decimals_and_dates() -> None:
    moment = datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert plain({"a": Decimal("1E+1"), "b": [date(2026, 1, 2), moment], "c": 3}) == {
        "a": "10",
        "b": ["2026-01-02", "2026-11-26T12:00:00+00:00"],
        "c": 3,
    }
