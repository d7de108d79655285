"""The ``bridge`` command: run, serve, worker, db upgrade, check-config, inbox ..."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from bridge.cli.common import echo_table, fail, run_guarded, runtime_from, settings_from
from bridge.config import Settings
from bridge.errors import BridgeError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _settings(ctx: click.Context) -> Settings:
    return settings_from(ctx)


def _runtime(ctx: click.Context) -> Any:
    return runtime_from(ctx)


@click.group()
@click.version_option(package_name="loyalty-bridge", prog_name="bridge")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML config file [default: $BRIDGE_CONFIG or ./config.yaml].",
)
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """Loyalty Bridge: a customer club for your shop."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    if config:
        os.environ["BRIDGE_CONFIG"] = os.path.abspath(config)  # children and gunicorn read the same file


@cli.command("check-config")
@click.pass_context
def check_config(ctx: click.Context) -> None:
    """Validate the configuration and print a summary (secrets never shown)."""
    s = _settings(ctx)
    click.echo(f"config OK: {s.source}")
    click.echo(f"  database: {s.database_url.split('@')[-1] if '@' in s.database_url else s.database_url}")
    click.echo(f"  redis:    {'embedded' if s.uses_embedded_redis else s.redis_url.split('@')[-1]}")
    click.echo(f"  program:  {s.program.id} ({s.program.name})")
    from bridge.redemption.readiness import why_not_redeemable

    for shop in s.shops:
        if not shop.url:  # the README's entry for a connected shop: the rest is stored by `bridge connect`
            click.echo(f"  shop:     {shop.id} {shop.platform} (url, keys and webhook secret from `bridge connect`)")
            continue
        click.echo(f"  shop:     {shop.id} {shop.platform} {shop.url} {shop.currency}")
        if any(r.enabled for r in s.program.rewards) and why_not_redeemable(shop):
            click.echo(f"  warning: shop {shop.id}: rewards cannot be redeemed: {why_not_redeemable(shop)}", err=True)
        if not shop.webhook_secret:
            click.echo(
                f"  warning: shop {shop.id} has no webhook_secret: its deliveries are refused (401) unless it is "
                "connected with `bridge connect`",
                err=True,
            )
        if shop.demo:
            click.echo(
                f"  warning: shop {shop.id} has demo: true: GET / hands a widget token for a demo shopper to anyone "
                "(remove it for a real shop)",
                err=True,
            )
    click.echo(f"  admin API keys: {len(s.admin_api_keys)}")
    for key in demo_secrets(s):
        click.echo(f"  warning: {key} is the example's demo value (change-me): replace it before going live", err=True)


DEMO_SECRET_MARK = "change-me"  # what every secret in config.example.yaml contains


def demo_secrets(s: Settings) -> list[str]:
    """The keys (never the values) still holding a demo secret copied from config.example.yaml."""
    found = [f"admin.api_keys[{i}]" for i, k in enumerate(s.admin_api_keys) if DEMO_SECRET_MARK in k]
    for i, shop in enumerate(s.shops):
        for name in ("webhook_secret", "widget_secret", "consumer_secret"):
            if DEMO_SECRET_MARK in getattr(shop, name):
                found.append(f"shops[{i}].{name} ({shop.id})")
    if DEMO_SECRET_MARK in s.secret_key:
        found.append("secret_key")
    return found


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply all migrations and mirror the configured program and shops."""
    from bridge.bootstrap import prepare_database
    from bridge.storage.migrate import current_revision

    rt = _runtime(ctx)
    prepare_database(rt, migrate_schema=True)
    click.echo(f"database at revision {current_revision(rt.engine)}")


@cli.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--threads", default=4, show_default=True, type=int, help="threads per gunicorn worker")
@click.option("--skip-prepare", is_flag=True, hidden=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, threads: int, skip_prepare: bool) -> None:
    """Web only (gunicorn): webhooks, widget and admin API."""
    from bridge.supervisor import PortInUse, gunicorn_argv, listen

    # Bind here, not in gunicorn: a busy port is one clear line instead of five retries and a stack of errors.
    try:
        bind_fd = listen(host, port).detach()
    except PortInUse as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if not skip_prepare:
        from bridge.bootstrap import prepare_database

        prepare_database(_runtime(ctx), migrate_schema=False)
    from bridge.observability import multiproc

    multiproc.use(_settings(ctx).data_dir)  # gunicorn's workers add their metrics up (issue 19)
    os.set_inheritable(bind_fd, True)
    argv = gunicorn_argv(bind_fd, workers, threads)
    os.execv(sys.executable, argv)


@cli.command()
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.pass_context
def worker(ctx: click.Context, burst: bool) -> None:
    """Process inbox deliveries (RQ worker + inbox sweeper)."""
    from bridge import features, logs
    from bridge.bootstrap import prepare_database
    from bridge.jobs.worker import run_worker
    from bridge.observability import multiproc
    from bridge.runtime import Runtime

    # No Flask app: a worker answers no requests, so it neither imports nor holds the web side (bench/memory.py).
    settings = _settings(ctx)
    multiproc.use(settings.data_dir)  # before any metric moves: /metrics then sees this worker's (issue 19)
    logs.configure(settings.log_level)
    features.load()
    rt = Runtime.build(settings)
    prepare_database(rt, migrate_schema=False)
    run_worker(rt, burst=burst)


@cli.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
# One web process by default: a single-machine install's requests are short and its one worker and SQLite (one
# writer at a time) take the other core; each more process costs 12-18 MB (ADR 0011). `bridge serve` scales out.
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="threads per web worker")
@click.pass_context
def run(ctx: click.Context, host: str, port: int, workers: int, threads: int) -> None:
    """Everything on one machine: embedded Redis, a worker and the web server, kept running together."""
    from bridge import logs
    from bridge.bootstrap import prepare_database
    from bridge.runtime import Runtime
    from bridge.supervisor import BridgeAlreadyRunning, PortInUse, child_env, listen, lock_data_dir

    settings = _settings(ctx)
    logs.configure(settings.log_level, settings.log_format)
    try:
        lock = lock_data_dir(settings.data_dir)  # held (open) until this process ends
        listener = listen(host, port)
    except (BridgeAlreadyRunning, PortInUse) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    from bridge.observability import multiproc

    multiproc.use(settings.data_dir, clean=True)  # the children's metrics, added up by /metrics (issue 19)
    rt = Runtime.build(settings)
    prepare_database(rt, migrate_schema=True)
    from bridge.console.demo import announcement, ensure_demo_owner  # issue 15: the demo config's console owner

    console_note = announcement(f"http://{host}:{port}", ensure_demo_owner(rt))
    rt.close()
    banner = f"Loyalty Bridge listening on http://{host}:{port} (Ctrl-C to stop)"
    if console_note:
        banner += "\n" + console_note
    # From here on only children are started and watched: this process becomes the supervisor (same pid, the lock
    # and the socket inherited, what the preparation loaded dropped), which forks them (bridge/supervise.py).
    argv = [sys.executable, "-m", "bridge.supervise", "--listen-fd", str(listener.fileno())]
    argv += ["--lock-fd", str(lock.fileno()), "--log-level", settings.log_level, "--banner", banner]
    argv += ["--web-workers", str(workers), "--web-threads", str(threads)]
    if settings.uses_embedded_redis:
        argv += [
            "--redis-socket",
            str(settings.embedded_redis_socket),
            "--redis-log",
            str(settings.data_dir / "redis.log"),
        ]
    os.set_inheritable(lock.fileno(), True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, child_env(ctx.obj.get("config")))


@cli.group()
def inbox() -> None:
    """Webhook deliveries: list, replay, sweep."""


@inbox.command("list")
@click.option("--state", type=click.Choice(["pending", "done", "failed"]), default=None)
@click.option("--shop", "shop_id", default=None, help="Only this shop's deliveries.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (for scripts).")
@click.pass_context
def inbox_list(ctx: click.Context, state: str | None, shop_id: str | None, limit: int, as_json: bool) -> None:
    """Recent deliveries, newest first."""
    from bridge.inbox import service

    rt = _runtime(ctx)
    try:
        rows = service.listing(rt, state, shop_id, limit, None)
    finally:
        rt.close()
    columns = ("id", "state", "shop_id", "topic", "resource_id", "attempts", "received_at", "last_error")
    echo_table(rows, columns, as_json=as_json, empty="no deliveries" + (f" in state {state}" if state else ""))


@inbox.command("replay")
@click.argument("delivery_id", type=int)
@click.pass_context
def inbox_replay(ctx: click.Context, delivery_id: int) -> None:
    """Make a delivery pending again (a worker applies it; its ledger effects stay idempotent)."""
    from bridge.inbox import service

    try:
        found = service.replay(_runtime(ctx), delivery_id)
    except BridgeError as exc:
        fail(str(exc))
    click.echo(json.dumps({"id": found["id"], "topic": found["topic"], "state": "pending"}))


@inbox.command("sweep")
@click.pass_context
def inbox_sweep(ctx: click.Context) -> None:
    """Trigger a drain for every shop with due deliveries (what the worker's sweeper does continuously)."""
    from bridge.jobs.sweeper import sweep

    click.echo(json.dumps({"triggered": sweep(_runtime(ctx))}))


def _register_commands() -> None:
    """Subcommands that live in their own modules (one line each)."""
    from bridge.cli import widget as cli_widget

    cli.add_command(cli_widget.widget_token)
    from bridge.cli import redemption as cli_redemption  # issue 4

    cli.add_command(cli_redemption.redemptions)
    from bridge.cli import connect as cli_connect  # issue 7

    for command in cli_connect.COMMANDS:
        cli.add_command(command)
    from bridge.cli import rules as cli_rules  # issue 3

    cli.add_command(cli_rules.rules)
    from bridge.cli import (
        status as cli_status,  # issue 12: replaces cli_connect's status, whose shop report it prints after its own
    )

    cli.add_command(cli_status.status)
    cli.add_command(config_group)  # issue 14
    from bridge.cli import program as cli_program  # issue 14: the program as data

    cli.add_command(cli_program.program)
    from bridge.cli import users as cli_users  # issue 15: the console's accounts

    cli.add_command(cli_users.users)
    from bridge.cli import notify as cli_notify  # issue 17: notifications

    cli.add_command(cli_notify.notify)
    from bridge.cli import members as cli_members  # issue 19: GDPR export and erase

    cli.add_command(cli_members.members)
    from bridge.cli import reports as cli_reports  # issue 18: reports

    cli.add_command(cli_reports.reports)


@click.group("config")
def config_group() -> None:
    """The configuration's schema."""


@config_group.command("reference")
def config_reference() -> None:
    """Print the configuration reference (every key, type, default, meaning) as a Markdown table."""
    from bridge.config_schema import reference_markdown

    click.echo(reference_markdown(), nl=False)


_register_commands()


def config_option_first(args: list[str]) -> list[str]:
    """``bridge run --config FILE`` as well as ``bridge --config FILE run``: the group's ``--config`` is moved
    before the subcommand (no subcommand has an option of that name; nothing after ``--`` is touched)."""
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == "--config" and i + 1 < len(args):
            moved += args[i : i + 2]
            i += 2
            continue
        if arg.startswith("--config="):
            moved.append(arg)
        else:
            rest.append(arg)
        i += 1
    return moved + rest


def main() -> None:
    run_guarded(lambda: cli(args=config_option_first(sys.argv[1:]), obj={}))
