"""``bridge redemptions``: look at redemptions and run their recovery and expiry jobs now (operations)."""

from __future__ import annotations

import json

import click

from bridge.cli_common import runtime_from


@click.group("redemptions")
def redemptions() -> None:
    """Rewards redeemed for shop coupons."""


@redemptions.command("list")
@click.option("--state", default=None, help="reserved, issued, used, expired, cancelled or failed.")
@click.option("--member", type=int, default=None, help="Only this member's.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.pass_context
def list_redemptions(ctx: click.Context, state: str | None, member: int | None, limit: int) -> None:
    """One JSON line per redemption, newest first."""
    from bridge.storage import db
    from bridge.storage import redemptions as store

    rt = runtime_from(ctx)
    with db.read(rt.engine) as conn:
        found = store.listing(conn, rt.settings.program.id, member, state, limit, None)
    for red in found:
        row = {
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
        click.echo(json.dumps(row))
    rt.close()


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
