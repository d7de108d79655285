"""``bridge status``: is the bridge healthy right now? Database, Redis, workers, and since when each is down.

The same checks as ``/readyz`` (bridge.jobs.heartbeat), read from the shared database and Redis, so it answers
for any deployment: ``bridge run`` on this machine or workers on other hosts. Exit status 0 when all is well, 1
when something is down: usable from cron or a monitoring probe.
"""

from __future__ import annotations

import json
import sys

import click

from bridge.cli_common import runtime_from


def _ago(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for machines).")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Database, Redis and workers: up, or down since when."""
    from bridge.jobs.heartbeat import check
    from bridge.supervisor import lock_holder

    rt = runtime_from(ctx)
    health = check(rt)
    run_pid = lock_holder(rt.settings.data_dir)
    healthy = all(c.ok for c in health.checks.values())
    if as_json:
        body = {
            "status": "ready" if healthy else "degraded",
            "checks": {name: c.as_json(health.checked_at) for name, c in health.checks.items()},
            "bridge_run_pid": run_pid,
        }
        click.echo(json.dumps(body, indent=2))
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
    sys.exit(0 if healthy else 1)
