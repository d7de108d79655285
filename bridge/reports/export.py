"""A report as plain values: JSON (decimals as text, dates as ISO strings, as the rest of the API writes them)
and CSV files a spreadsheet opens (UTF-8 with a byte-order mark so Excel reads Persian titles right, a header
row, ISO dates, dot decimals)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bridge.errors import BridgeError
from bridge.reports.base import Report, ReportQuery, Table

BOM = "\ufeff"


class UnknownTable(BridgeError):
    code = "unknown_table"
    status = 400


def plain(value: Any) -> Any:
    """``value`` with every Decimal as text (``"12.50"``, never an exponent) and every date as ISO text."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One CSV field. Text that a spreadsheet would run as a formula (``=HYPERLINK(...)`` in a reward's title)
    is written with a leading ``'``, as OWASP advises; numbers, negative ones included, are left as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(plain(value))


def pick_table(report: Report, name: str | None) -> Table:
    if name is None:
        return report.tables[0]
    for table in report.tables:
        if table.name == name:
            return table
    known = ", ".join(table.name for table in report.tables)
    raise UnknownTable(f"the {report.name} report has no table {name[:64]!r}; tables: {known}")


def csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([cell(value) for value in row])
    return BOM + out.getvalue()


def csv_bytes(table: Table) -> bytes:
    return csv_text(table).encode("utf-8")


def csv_filename(report: Report, table: Table, query: ReportQuery) -> str:
    shop = f"-{query.shop_id}" if query.shop_id else ""
    name = f"{report.name}-{table.name}{shop}-{query.first.isoformat()}-{query.last.isoformat()}.csv"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
