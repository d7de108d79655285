"""``bridge status``: the bridge's own health first (database, Redis, workers, and since when each is down), then
each shop's connection (bridge.cli.connect's report, unchanged).

The health part makes the same checks as ``/readyz`` (bridge.jobs.heartbeat), read from the shared database and
Redis, so it answers for any deployment: ``bridge run`` on this machine or workers on other hosts. ``--check``
exits 1 when the database, Redis or every worker is down: usable from cron or a monitoring probe.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from bridge.cli import connect as cli_connect
from bridge.cli.common import runtime_from


def _ago(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@click.command("status")
@click.option("--shop", "shop_id", default=None, help="One shop [default: all].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--offline", is_flag=True, help="Do not ask the shops (keys and webhook status unknown).")
@click.option("--check", is_flag=True, help="Exit 1 when the database, Redis or the worker is down.")
@click.pass_context
def status(ctx: click.Context, shop_id: str | None, as_json: bool, offline: bool, check: bool) -> None:
    """Database, Redis and workers (down since when); then per shop: keys, webhooks, last delivery, backlog."""
    from bridge.bootstrap import prepare_database
    from bridge.jobs.heartbeat import check as check_health
    from bridge.supervisor import lock_holder

    rt = runtime_from(ctx)
    try:
        prepare_database(rt, migrate_schema=True)  # as the shop report does: this may be the first command run
        schema_ready = True
    except SQLAlchemyError:
        schema_ready = False  # the health check below says the database is unreachable
    health = check_health(rt)
    run_pid = lock_holder(rt.settings.data_dir)
    healthy = all(c.ok for c in health.checks.values())
    if as_json:
        body: dict[str, Any] = {
            "status": "ready" if healthy else "degraded",
            "checks": {name: c.as_json(health.checked_at) for name, c in health.checks.items()},
            "bridge_run_pid": run_pid,
            "shops": _shop_reports(rt, shop_id, offline) if schema_ready else [],
        }
        click.echo(json.dumps(body, indent=2, default=str))
    else:
        for name, c in health.checks.items():
            line = f"{name:<9} {c.state}"
            if c.since is not None:
                seconds = max(0, int((health.checked_at - c.since).total_seconds()))
                line += f" for {_ago(seconds)} (since {c.since:%Y-%m-%d %H:%M:%S} UTC)"
            if c.detail:
                line += f": {c.detail}"
            click.echo(line)
        if run_pid is not None:
            click.echo(f"bridge run: pid {run_pid} holds {rt.settings.data_dir.resolve()}")
        if schema_ready:
            ctx.invoke(cli_connect.status, shop_id=shop_id, as_json=False, offline=offline)
    if check and not healthy:
        sys.exit(1)


def _shop_reports(rt: Any, shop_id: str | None, offline: bool) -> list[dict[str, Any]]:
    from bridge.errors import BridgeError
    from bridge.sync.status import shop_status

    rt.reload_shops(force=True)
    ids = [shop_id] if shop_id else [s.id for s in rt.settings.shops]
    try:
        return [shop_status(rt, i, check_shop=not offline) for i in ids]
    except BridgeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(cli_connect.EXIT_FAILED)
