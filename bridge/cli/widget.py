"""``bridge widget-token``: sign a shopper token the way the shop's plugin does, for testing the widget."""

from __future__ import annotations

import click

from bridge.cli.common import fail, settings_from


@click.command("widget-token")
@click.option("--shop", "shop_id", required=True, help="Shop id from config.yaml.")
@click.option("--customer", "customer_id", required=True, help="The shop's customer id.")
@click.option("--email", default="", help="The customer's e-mail (as the shop knows it).")
@click.option("--ttl", default=900, show_default=True, type=click.IntRange(1, 3600), help="Lifetime in seconds.")
@click.pass_context
def widget_token(ctx: click.Context, shop_id: str, customer_id: str, email: str, ttl: int) -> None:
    """Print a signed widget token for a customer (needs the shop's widget_secret)."""
    from bridge.web.widget_auth import issue_token

    shop = settings_from(ctx).shop(shop_id)
    if shop is None:
        fail(f"no shop {shop_id!r} in the configuration")
    if not shop.widget_secret:
        fail(f"shop {shop_id!r} has no widget_secret: set shops[].widget_secret in config.yaml")
    click.echo(issue_token(shop, customer_id, email, ttl_seconds=ttl))
