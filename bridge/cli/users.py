"""``bridge users``: the owner console's accounts (add, list, disable, reset-password)."""

from __future__ import annotations

import sys

import click

from bridge.cli.common import echo_table, fail, runtime_from
from bridge.errors import BridgeError

ACTOR = "cli"


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin with ``--password-stdin``, else typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    return value


@click.group()
def users() -> None:
    """Console users: who may sign in at /console/, with which role."""


@users.command("add")
@click.option("--email", required=True, help="The user's e-mail (their login; case does not matter).")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["owner", "staff", "viewer"], case_sensitive=False),
    help="owner: everything; staff: members, adjustments, redemptions, inbox; viewer: read-only.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_context
def add(ctx: click.Context, email: str, role: str, password_stdin: bool) -> None:
    """Create a console user."""
    from bridge.console import users as console_users

    rt = runtime_from(ctx)
    try:
        email = console_users.check_email(email)
        password = _password(password_stdin)
        created = console_users.add(
            rt.engine,
            rt.settings.program.id,
            email=email,
            role=console_users.parse_role(role),
            password=password,
            actor=ACTOR,
        )
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
    click.echo(f"console user {created['email']} ({created['role']}) added: sign in at /console/login")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (for scripts).")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every console user (never a password hash)."""
    from bridge.console import users as console_users

    rt = runtime_from(ctx)
    try:
        rows = console_users.listing(rt.engine)
    finally:
        rt.close()
    for row in rows:
        row["state"] = "disabled" if row["disabled_at"] else "active"
    columns = ("id", "email", "role", "state", "created_at", "last_login_at", "disabled_at")
    echo_table(rows, columns, as_json=as_json, empty="no console users: add one with `bridge users add`")


@users.command("disable")
@click.argument("email")
@click.pass_context
def disable(ctx: click.Context, email: str) -> None:
    """Disable a console user: they cannot sign in, and their open sessions end now."""
    from bridge.console import users as console_users

    rt = runtime_from(ctx)
    try:
        done = console_users.disable(rt.engine, rt.settings.program.id, email, actor=ACTOR)
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
    click.echo(f"console user {done['email']} disabled; {done['sessions_ended']} session(s) ended")


@users.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
@click.pass_context
def reset_password(ctx: click.Context, email: str, password_stdin: bool) -> None:
    """Set a new password (typed twice): the user's open sessions end and a login lock is lifted."""
    from bridge.console import users as console_users

    rt = runtime_from(ctx)
    try:
        password = _password(password_stdin)
        done = console_users.reset_password(rt.engine, rt.settings.program.id, email, password, actor=ACTOR)
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
    click.echo(f"password of {done['email']} changed; {done['sessions_ended']} session(s) ended")


@users.command("enable")
@click.argument("email")
@click.pass_context
def enable(ctx: click.Context, email: str) -> None:
    """Let a disabled console user sign in again."""
    from bridge.console import users as console_users

    rt = runtime_from(ctx)
    try:
        done = console_users.enable(rt.engine, rt.settings.program.id, email, actor=ACTOR)
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
    click.echo(f"console user {done['email']} enabled")


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["owner", "staff", "viewer"], case_sensitive=False))
@click.pass_context
def set_role(ctx: click.Context, email: str, role: str) -> None:
    """Change a console user's role (effective on their next page)."""
    from bridge.console import users as console_users

    rt = runtime_from(ctx)
    try:
        done = console_users.set_role(
            rt.engine, rt.settings.program.id, email, console_users.parse_role(role), actor=ACTOR
        )
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
    click.echo(f"console user {done['email']} is now {done['role']}")
