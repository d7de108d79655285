"""``bridge members``: a person's data, exported or erased (issue 19, GDPR)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from bridge.cli.common import fail, runtime_from
from bridge.errors import BridgeError

if TYPE_CHECKING:
    from sqlalchemy import Connection


@click.group("members")
def members() -> None:
    """Members: GDPR export and erase."""


def _member_ids(conn: Connection, program_id: str, member_id: int | None, email: str | None) -> list[int]:
    from bridge.members.service import normalize_email
    from bridge.storage import members as member_store

    if (member_id is None) == (email is None):
        fail("give exactly one of --member ID or --email E")
    if member_id is not None:
        return [member_id]
    assert email is not None
    found = member_store.search(conn, program_id, normalize_email(email), 1000)
    if not found:
        fail("no member shows that e-mail")
    return [int(m["id"]) for m in found]


@members.command("export")
@click.option("--member", "member_id", type=click.IntRange(1, 2**63 - 1), default=None, help="The member's id.")
@click.option("--email", default=None, help="Every member showing this e-mail (a guest and an account may both).")
@click.pass_context
def export(ctx: click.Context, member_id: int | None, email: str | None) -> None:
    """Everything held about the person, as JSON on stdout: one document per member, one per line."""
    from bridge.privacy.export import export_member
    from bridge.storage import db

    rt = runtime_from(ctx)
    try:
        with db.read(rt.engine) as conn:
            ids = _member_ids(conn, rt.settings.program.id, member_id, email)
            documents = [export_member(conn, rt.settings.program.id, i) for i in ids]
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
    if len(ids) > 1:
        click.echo(f"{len(ids)} members show this e-mail: exporting each ({', '.join(map(str, ids))})", err=True)
    for document in documents:
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")


@members.command("erase")
@click.option("--member", "member_id", type=click.IntRange(1, 2**63 - 1), default=None, help="The member's id.")
@click.option("--email", default=None, help="Every member showing this e-mail.")
@click.option("--yes", is_flag=True, help="Erase without asking (it cannot be undone).")
@click.pass_context
def erase(ctx: click.Context, member_id: int | None, email: str | None, yes: bool) -> None:
    """Pseudonymise the person: personal data removed, points kept under an opaque id (audited, idempotent)."""
    from bridge.privacy.erase import erase_member
    from bridge.storage import db

    rt = runtime_from(ctx)
    try:
        with db.read(rt.engine) as conn:
            ids = _member_ids(conn, rt.settings.program.id, member_id, email)
        if not yes:
            click.confirm(f"erase member(s) {', '.join(map(str, ids))}? This cannot be undone", abort=True)
        for one in ids:
            with db.write(rt.engine) as conn:
                erased = erase_member(conn, rt.settings.program.id, one, actor="cli", source="cli")
            click.echo(json.dumps({**erased.as_dict(), "already_erased": not erased.created}))
    except BridgeError as exc:
        fail(str(exc))
    finally:
        rt.close()
