"""``bridge reports``: the reports of issue 18 at the command line, read as ``GET /admin/v1/reports/<name>``
reads them (``bridge.reports.catalog``); ``--csv FILE`` writes one table as the API's ``format=csv`` does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bridge.cli.common import echo_table, fail, runtime_from
from bridge.errors import BridgeError


@click.group("reports")
def reports() -> None:
    """Reports: is the club working? (docs/reports.md defines every figure)."""


@reports.command("list")
def list_reports() -> None:
    """Every report, with its definition in a line."""
    from bridge.reports import catalog

    rows = [{"name": name, "description": catalog.description(name)} for name in catalog.REPORTS]
    echo_table(rows, ("name", "description"), as_json=False, empty="no reports")


@reports.command("show")
@click.argument("name")
@click.option("--from", "first", default=None, help="First local day, YYYY-MM-DD [default: 30 days before --to].")
@click.option("--to", "last", default=None, help="Last local day, YYYY-MM-DD, included [default: today].")
@click.option("--interval", type=click.Choice(["day", "week", "month"]), default=None, help="How to cut the range.")
@click.option("--shop", default=None, help="One shop's figures [default: every shop].")
@click.option("--json", "as_json", is_flag=True, help="The API's JSON answer instead of tables.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write a table.")
@click.option("--table", default=None, help="Which table --csv writes [default: the report's first].")
@click.pass_context
def show(
    ctx: click.Context,
    name: str,
    first: str | None,
    last: str | None,
    interval: str | None,
    shop: str | None,
    as_json: bool,
    csv_file: Path | None,
    table: str | None,
) -> None:
    """Print report NAME (its tables), or write one of its tables as CSV with --csv FILE."""
    from bridge.reports import catalog
    from bridge.reports.export import csv_bytes, pick_table, plain
    from bridge.storage import db
    from bridge.storage.clock import utcnow

    rt = runtime_from(ctx)
    try:
        build = catalog.builder(name)
        query = catalog.parse_query(rt.settings, utcnow(), first=first, last=last, interval=interval, shop=shop)
        with db.read(rt.engine) as conn:
            report = build(conn, query)
        chosen = pick_table(report, table) if csv_file is not None or table else None
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
    if csv_file is not None:
        assert chosen is not None
        csv_file.write_bytes(csv_bytes(chosen))
        click.echo(f"wrote {len(chosen.rows)} rows of {report.name}/{chosen.name} to {csv_file}", err=True)
        return
    head = f"{report.name}: {query.first.isoformat()} to {query.last.isoformat()} by {query.interval}"
    if as_json:
        body = {
            "report": report.name,
            "from": query.first.isoformat(),
            "to": query.last.isoformat(),
            "interval": query.interval,
            "shop": query.shop_id,
            "method": report.method,
            "data": plain(report.data),
        }
        sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")
        return
    click.echo(head + (f" (shop {query.shop_id})" if query.shop_id else ""))
    for one in [chosen] if chosen is not None else list(report.tables):
        click.echo(f"\n{one.name}")
        rows = [dict(zip(one.columns, plain(list(row)), strict=True)) for row in one.rows]
        echo_table(rows, one.columns, as_json=False, empty="(none)")
    if report.method:
        click.echo(f"\n{report.method}")
