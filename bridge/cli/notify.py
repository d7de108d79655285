"""``bridge notify``: preview a member's message, send what is due now, list deliveries (issue 17)."""

from __future__ import annotations

import json

import click

from bridge.cli.common import echo_table, fail, runtime_from
from bridge.notifications.settings import CHANNELS, LOCALES


@click.group("notify")
def notify() -> None:
    """Messages to members (e-mail, SMS) and the owner's webhooks."""


@notify.command("preview")
@click.option("--event", "event_type", required=True, help="The event type, e.g. points_earned.")
@click.option("--member", "member_id", required=True, type=click.IntRange(1), help="The member's id.")
@click.option("--channel", type=click.Choice(CHANNELS), default="email", show_default=True)
@click.option("--locale", type=click.Choice(LOCALES), default=None, help="Default: the member's, else the program's.")
@click.option("--json", "as_json", is_flag=True, help="The rendered message as one JSON object.")
@click.pass_context
def preview(
    ctx: click.Context, event_type: str, member_id: int, channel: str, locale: str | None, as_json: bool
) -> None:
    """Print the message the member would get now (from their latest such event, else a sample). Sends nothing."""
    from bridge.errors import BridgeError
    from bridge.notifications import service

    rt = runtime_from(ctx)
    try:
        shown = service.preview(rt, event_type=event_type, member_id=member_id, channel=channel, locale=locale)
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    if channel == "webhook":
        click.echo(shown["body"])
        return
    click.echo(f"To: {shown['to'] or '(no address: this member would be skipped)'}")
    click.echo(f"Template: {shown['template']} ({shown['locale']})")
    if channel == "email":
        click.echo(f"Subject: {shown['subject']}")
    else:
        s = shown["segments"]
        click.echo(f"Segments: {s['segments']} ({s['encoding']}, {s['characters']} characters)")
    click.echo("")
    click.echo(shown["text"])


@notify.command("dispatch")
@click.pass_context
def dispatch(ctx: click.Context) -> None:
    """Send everything due now (what the workers do every `dispatch_interval_seconds`)."""
    from bridge.notifications.dispatcher import dispatch as run
    from bridge.storage.clock import utcnow

    rt = runtime_from(ctx)
    try:
        click.echo(json.dumps(run(rt, utcnow())))
    finally:
        rt.close()


@notify.command("list")
@click.option("--state", type=click.Choice(("pending", "sending", "sent", "dead", "skipped")), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, state: str | None, limit: int, as_json: bool) -> None:
    """The newest deliveries (replay a dead one with POST /admin/v1/notifications/deliveries/<id>/replay)."""
    from bridge.notifications import store
    from bridge.storage import db

    rt = runtime_from(ctx)
    try:
        with db.read(rt.engine) as conn:
            found = store.page(conn, rt.settings.program.id, state=state, limit=limit, before=None)
    finally:
        rt.close()
    rows = [
        {
            "id": d.id,
            "event": e.type,
            "member": d.member_id,
            "channel": d.channel,
            "target": d.target,
            "state": d.state,
            "attempts": d.attempts,
            "last_error": d.last_error,
        }
        for d, e in found
    ]
    columns = ["id", "event", "member", "channel", "target", "state", "attempts", "last_error"]
    echo_table(rows, columns, as_json=as_json, empty="no deliveries")
