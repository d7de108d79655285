"""``bridge connect | disconnect | status | reconcile | backfill``: a shop's connection and never missing an order."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from bridge.cli.common import runtime_from
from bridge.connectors.woocommerce.api import ShopApiError
from bridge.errors import BridgeError

EXIT_FAILED = 1
RESUME_HINT = " (run the same command again: it resumes where it stopped)"  # only when the shop failed, not us


def _prepared_runtime(ctx: click.Context) -> Any:
    """A runtime over an up-to-date schema (these commands may be the first thing an owner runs)."""
    from bridge.bootstrap import prepare_database

    rt = runtime_from(ctx)
    prepare_database(rt, migrate_schema=True)
    rt.reload_shops(force=True)
    return rt


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_FAILED)


@click.group("connect")
def connect() -> None:
    """Connect a shop: check its keys, register the bridge's webhooks, store the credentials encrypted."""


@connect.command("woocommerce")
@click.option("--shop", "shop_id", required=True, help="Shop id used in URLs and the config (e.g. main).")
@click.option("--url", required=True, help="The shop's home URL, exactly as in WordPress → Settings → General.")
@click.option("--consumer-key", required=True, envvar="WC_CONSUMER_KEY", help="REST API key (Read/Write).")
@click.option("--consumer-secret", required=True, envvar="WC_CONSUMER_SECRET", help="REST API secret (or env var).")
@click.option("--public-url", default=None, help="The bridge's public base URL [default: public_url in the config].")
@click.option(
    "--with-products",
    is_flag=True,
    help="Also subscribe to product.updated (automatic when category rules are configured).",
)
@click.option("--rotate-secret", is_flag=True, help="Generate a new webhook secret instead of keeping the current one.")
@click.pass_context
def connect_woocommerce(
    ctx: click.Context,
    shop_id: str,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    public_url: str | None,
    with_products: bool,
    rotate_secret: bool,
) -> None:
    """Connect a WooCommerce store: check its REST keys, register the bridge's webhooks, store everything encrypted.

    The keys come from WooCommerce → Settings → Advanced → REST API (Read/Write), as options or from
    WC_CONSUMER_KEY / WC_CONSUMER_SECRET. Running it again updates the bridge's own webhooks in place.
    """
    from bridge.config import SHOP_ID_PATTERN
    from bridge.sync.connect import ConnectRequest
    from bridge.sync.connect import connect as do_connect

    if not SHOP_ID_PATTERN.match(shop_id):
        _fail("--shop must be lower-case letters, digits, '-' or '_' (it appears in URLs)")
    rt = _prepared_runtime(ctx)
    request = ConnectRequest(
        shop_id=shop_id,
        url=url,
        consumer_key=consumer_key.strip(),
        consumer_secret=consumer_secret.strip(),
        public_url=public_url or rt.settings.public_url,
        # Category rules need fresh product categories: subscribe to product.updated whenever they are in use.
        with_products=with_products or rt.rules.needs_categories,
        rotate_secret=rotate_secret,
    )
    try:
        report = do_connect(rt, request)
    except (BridgeError, ShopApiError) as exc:
        _fail(str(exc))
        return
    click.echo(f"connected shop {shop_id}: {report.home_url or url} ({report.currency})")
    for label, topics in (("created", report.created), ("updated", report.updated), ("removed", report.removed)):
        if topics:
            click.echo(f"  webhooks {label}: {', '.join(topics)}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}", err=True)
    click.echo("  credentials and webhook secret stored encrypted; next: `bridge backfill` for past orders")


@click.command("disconnect")
@click.option("--shop", "shop_id", required=True)
@click.pass_context
def disconnect(ctx: click.Context, shop_id: str) -> None:
    """Remove exactly the webhooks `bridge connect` made and forget the shop's credentials."""
    from bridge.sync.connect import disconnect as do_disconnect

    rt = _prepared_runtime(ctx)
    try:
        removed = do_disconnect(rt, shop_id)
    except (BridgeError, ShopApiError) as exc:
        _fail(str(exc))
        return
    click.echo(f"disconnected shop {shop_id}; webhooks removed: {', '.join(removed) or 'none'}")


@click.command("status")
@click.option("--shop", "shop_id", default=None, help="One shop [default: all].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--offline", is_flag=True, help="Do not ask the shops (keys and webhook status unknown).")
@click.pass_context
def status(ctx: click.Context, shop_id: str | None, as_json: bool, offline: bool) -> None:
    """Per shop: keys valid, webhooks in the shop, last delivery, inbox backlog, reconciliation lag."""
    from bridge.sync.status import shop_status

    rt = _prepared_runtime(ctx)
    ids = [shop_id] if shop_id else [s.id for s in rt.settings.shops]
    try:
        reports = [shop_status(rt, i, check_shop=not offline) for i in ids]
    except BridgeError as exc:
        _fail(str(exc))
        return
    if as_json:
        click.echo(json.dumps(reports, indent=2, default=str))
        return
    if not reports:
        click.echo("no shops: add one under shops: in the config, or run `bridge connect woocommerce`")
    for report in reports:
        _print_status(report)


def _print_status(r: dict[str, Any]) -> None:
    keys = (
        {True: "valid", False: "REFUSED", None: "not checked"}[r["keys"]["valid"]] if r["keys"]["present"] else "none"
    )
    click.echo(f"shop {r['shop']} ({r['platform']}) {r['url']}: {'connected' if r['connected'] else 'config only'}")
    click.echo(f"  keys: {keys}{' — ' + r['keys']['error'] if r['keys']['error'] else ''}")
    for w in r["webhooks"]:
        click.echo(f"  webhook {w['topic']:<17} #{w['id']:<6} {w['status']}")
    inbox = r["inbox"]
    click.echo(
        f"  last delivery: {inbox['last_delivery_at'] or 'never'}; inbox pending {inbox['pending']}, "
        f"failed {inbox['failed']}"
    )
    rec = r["reconcile"]
    if rec:
        behind = f"{rec['behind_seconds']} s behind" if rec["behind_seconds"] is not None else "no watermark yet"
        click.echo(f"  reconciliation: {rec['state']}, last finished {rec['last_finished_at'] or 'never'}, {behind}")
        if rec["last_error"]:
            click.echo(f"  last reconciliation error: {rec['last_error']}")
    else:
        click.echo("  reconciliation: never ran")


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use ISO 8601, e.g. 2025-01-01 or 2025-01-01T12:00:00Z") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@click.command("reconcile")
@click.option("--shop", "shop_id", required=True)
@click.option("--since", default=None, help="Start of the window (ISO 8601, UTC) [default: last watermark].")
@click.pass_context
def reconcile(ctx: click.Context, shop_id: str, since: str | None) -> None:
    """Read the orders the shop changed since the last run and repair what deliveries missed."""
    from bridge.sync.reconcile import reconcile as do_reconcile
    from bridge.sync.reconcile import record_failure

    rt = _prepared_runtime(ctx)
    try:
        report = do_reconcile(rt, shop_id, since=_parse_since(since))
    except (BridgeError, ShopApiError) as exc:
        if rt.settings.shop(shop_id):
            record_failure(rt, shop_id, exc)
        _fail(f"{exc}{RESUME_HINT if isinstance(exc, ShopApiError) else ''}")
        return
    r = report.as_dict()
    click.echo(
        f"reconciled shop {shop_id} {r['window_start']} → {r['window_end']}{' (resumed)' if r['resumed'] else ''}: "
        f"{r['orders']} orders read, {r['repaired']} repaired ({r['missed']} missed, {r['updated']} updated), "
        f"{r['known']} already known, {r['queued']} queued for retry"
    )


@click.command("backfill")
@click.option("--shop", "shop_id", required=True)
@click.option("--since", required=True, help="Import orders created since this date (ISO 8601, UTC).")
@click.option("--award", "mode", flag_value="award", help="Past orders earn points under today's rules (once each).")
@click.option("--history-only", "mode", flag_value="history-only", help="Members and order history, no points.")
@click.option("--signup-bonus", is_flag=True, help="With --award: existing accounts get the sign-up bonus too.")
@click.option("--rate", type=float, default=None, help="Max requests per second to the shop [default: config].")
@click.option("--restart", is_flag=True, help="Start over instead of resuming an interrupted run.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def backfill(
    ctx: click.Context,
    shop_id: str,
    since: str,
    mode: str | None,
    signup_bonus: bool,
    rate: float | None,
    restart: bool,
    quiet: bool,
) -> None:
    """Import past customers and orders (resumable: run the same command again after an interruption)."""
    from bridge.sync.backfill import Progress
    from bridge.sync.backfill import backfill as do_backfill

    if mode is None:
        raise click.UsageError("choose --award (past orders earn points) or --history-only (no points)")
    moment = _parse_since(since)
    assert moment is not None
    rt = _prepared_runtime(ctx)
    bars: dict[str, Any] = {}

    def progress(p: Progress) -> None:
        if quiet:
            return
        bar = bars.get(p.phase)
        if bar is None:
            for other in bars.values():
                other.render_finish()
            bar = bars[p.phase] = click.progressbar(length=max(p.total, 1), label=p.phase, show_eta=True, show_pos=True)
        bar.length = max(p.total, 1)
        bar.update(p.done - bar.pos)

    try:
        report = do_backfill(
            rt, shop_id, since=moment, mode=mode, restart=restart, signup_bonus=signup_bonus, rate=rate,
            on_progress=progress,
        )  # fmt: skip
    except (BridgeError, ShopApiError) as exc:
        _fail(f"{exc}{RESUME_HINT if isinstance(exc, ShopApiError) else ''}")
        return
    except KeyboardInterrupt:
        _fail("interrupted: run the same command again to resume")
        return
    finally:
        for bar in bars.values():
            bar.render_finish()
    r = report.as_dict()
    if report.already_done:
        click.echo(
            f"backfill of shop {shop_id} since {r['since']} ({mode}) already finished; --restart to run it again"
        )
        return
    click.echo(
        f"backfill of shop {shop_id} since {r['since']} ({mode}){' resumed' if report.resumed else ''}: "
        f"customers {r['customers']}, orders {r['orders']}, {r['requests']} requests"
    )


COMMANDS = (connect, disconnect, status, reconcile, backfill)
