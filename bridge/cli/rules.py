"""``bridge rules``: explain what an order earns (the worker's own evaluation) and run the point-life jobs now."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bridge.cli.common import runtime_from

ORDER_KEYS = ("id", "status", "line_items")  # what every WooCommerce order (REST or webhook) carries


@click.group("rules")
def rules() -> None:
    """Earning rules and the life of points."""


@rules.command("explain")
@click.argument("order_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--shop", "shop_id", default=None, help="The shop (default: the first configured).")
@click.option("--order", "order_id", default=None, help="Fetch this order from the shop's REST API.")
@click.option(
    "--version", "version", type=click.IntRange(min=1), default=None, help="Under this program version's rules."
)
@click.pass_context
def explain_cmd(
    ctx: click.Context, order_file: Path | None, shop_id: str | None, order_id: str | None, version: int | None
) -> None:
    """Per rule: the base, the multiplier, caps hit and the points; then the total.

    ORDER_FILE is the order JSON as the shop sends it (a webhook body or a REST answer); or use --order N to
    read it from the shop; --version N explains it under that published version's rules (a past award).
    Nothing is written.
    """
    from bridge.connectors.woocommerce.api import ShopApiError, WooClient
    from bridge.connectors.woocommerce.webhooks import parse_order
    from bridge.errors import MalformedPayload
    from bridge.orders.explain import explain
    from bridge.storage import db

    if (order_file is None) == (order_id is None):
        raise click.UsageError("give an order file or --order N (one of them)")
    rt = runtime_from(ctx)
    try:
        shop = rt.settings.shop(shop_id) if shop_id else (rt.settings.shops[0] if rt.settings.shops else None)
        if shop is None:
            raise click.UsageError(f"no shop {shop_id!r} in the configuration")
        if order_file is not None:
            data = _read_json(order_file)
            data = data.get("json_body", data) if isinstance(data, dict) else data  # captured deliveries wrap it
        else:
            try:
                data = WooClient.for_shop(shop).get_order(str(order_id))
            except ShopApiError as exc:
                raise click.ClickException(f"order {order_id} from shop {shop.id}: {exc}") from exc
        if not isinstance(data, dict):
            raise click.ClickException("the order must be a JSON object")
        missing = [k for k in ORDER_KEYS if k not in data]
        if missing:  # parse_order reads absent fields as empty: a customer would "explain" as an empty order
            looks = "; it looks like a customer" if "role" in data or "username" in data else ""
            raise click.ClickException(
                f"{order_file or 'the answer'} is not an order (no {', '.join(missing)}{looks}). "
                "Give an order as the shop sends it: a webhook body or GET /wp-json/wc/v3/orders/<id>"
            )
        try:
            order = parse_order(data)
        except MalformedPayload as exc:
            raise click.ClickException(
                f"{order_file or 'the order'} is not an order as the shop sends it: {exc}"
            ) from exc
        from bridge.program import context as program_context
        from bridge.program.service import VersionNotFound

        try:
            pricing = program_context.of_version(rt, shop.id, version) if version is not None else None
        except VersionNotFound as exc:
            raise click.ClickException(str(exc)) from exc
        with db.read(rt.engine) as conn:
            result = explain(rt, conn, shop.id, order, pricing)
        click.echo(json.dumps(result, indent=2))
    finally:
        rt.close()


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path} is not JSON: {exc}") from exc


@rules.command("jobs")
@click.pass_context
def run_jobs(ctx: click.Context) -> None:
    """Release held points, expire points and award birthdays now (what workers do on their schedule)."""
    from bridge.ledger.jobs import run_expiry, run_release
    from bridge.members.birthday import run_birthdays
    from bridge.storage.clock import utcnow

    rt = runtime_from(ctx)
    try:
        now = utcnow()
        outcome = {"release": run_release(rt, now), "expiry": run_expiry(rt, now)}
        if rt.rules.birthday_rules:
            outcome["birthdays"] = run_birthdays(rt, now)
        click.echo(json.dumps(outcome))
    finally:
        rt.close()
