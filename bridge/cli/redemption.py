"""``bridge redemptions``: look at redemptions and run their recovery and expiry jobs now (operations)."""

from __future__ import annotations

import json

import click

from bridge.cli.common import echo_table, runtime_from
from bridge.redemption.model import State


@click.group("redemptions")
def redemptions() -> None:
    """Rewards redeemed for shop coupons."""


@redemptions.command("list")
@click.option("--state", type=click.Choice([s.value for s in State]), default=None)
@click.option("--member", type=int, default=None, help="Only this member's.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (for scripts).")
@click.pass_context
def list_redemptions(ctx: click.Context, state: str | None, member: int | None, limit: int, as_json: bool) -> None:
    """Redemptions, newest first: a table, or JSON lines with --json (codes are never shown)."""
    from bridge.storage import db
    from bridge.storage import redemptions as store

    rt = runtime_from(ctx)
    try:
        with db.read(rt.engine) as conn:
            found = store.listing(conn, rt.settings.program.id, member, state, limit, None)
    finally:
        rt.close()
    rows = [
        {
            "id": red.id,
            "member_id": red.member_id,
            "shop_id": red.shop_id,
            "reward_id": red.reward_id,
            "points": red.points,
            "state": red.state,
            "coupon_id": red.coupon_id,
            "order_id": red.order_id,
            "attempts": red.attempts,
            "last_error": red.last_error,
            "failure_reason": red.failure_reason,
            "created_at": red.created_at.isoformat(),
        }
        for red in found
    ]
    columns = ("id", "state", "member_id", "shop_id", "reward_id", "points", "attempts", "created_at", "last_error")
    echo_table(rows, columns, as_json=as_json, empty="no redemptions" + (f" in state {state}" if state else ""))


@redemptions.command("recover")
@click.pass_context
def recover(ctx: click.Context) -> None:
    """Finish reserved redemptions nobody is working on (what the workers do every recover_interval_seconds)."""
    from bridge.redemption.jobs import run_recover
    from bridge.storage.clock import utcnow

    rt = runtime_from(ctx)
    click.echo(json.dumps(run_recover(rt, utcnow())))
    rt.close()


@redemptions.command("expire")
@click.pass_context
def expire(ctx: click.Context) -> None:
    """Delete unused coupons past their date in the shop and return their points (the daily job)."""
    from bridge.redemption.jobs import run_expire
    from bridge.storage.clock import utcnow

    rt = runtime_from(ctx)
    click.echo(json.dumps(run_expire(rt, utcnow())))
    rt.close()


@redemptions.command("cancel")
@click.argument("redemption_id", type=int)
@click.option(
    "--force",
    is_flag=True,
    help="For one stuck in reserved while the shop cannot be asked: you checked the shop has no coupon with its code.",
)
@click.pass_context
def cancel(ctx: click.Context, redemption_id: int, force: bool) -> None:
    """Give a reward's points back: an unused coupon (deleted in the shop first) or one stuck in reserved."""
    import sys

    from bridge.errors import BridgeError
    from bridge.redemption import service
    from bridge.redemption.model import ShopBusy

    rt = runtime_from(ctx)
    try:
        red = service.cancel(rt, redemption_id, member_id=None, actor="cli", force=force)
    except ShopBusy as exc:
        click.echo(f"error: {exc} (--force)", err=True)
        sys.exit(1)
    except BridgeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        rt.close()
    click.echo(f"redemption {red.id}: {red.state}; {red.points} points returned to member {red.member_id}")
