"""``bridge program export`` / ``import``: the published program as YAML, and a file published as a new version."""

from __future__ import annotations

from pathlib import Path

import click

from bridge.cli.common import EXIT_CONFIG, fail, runtime_from
from bridge.errors import ConfigError


@click.group()
def program() -> None:
    """The program (earning rules, rewards, referrals) as stored in the database, versioned."""


@program.command("export")
@click.option("--version", "number", type=int, default=None, help="A version number [default: the published one].")
@click.pass_context
def export(ctx: click.Context, number: int | None) -> None:
    """Print the program as YAML (``bridge program export > program.yaml``)."""
    from bridge.program import document
    from bridge.storage import db
    from bridge.storage import program_versions as store

    rt = runtime_from(ctx)
    program_id = rt.settings.program.id
    with db.read(rt.engine) as conn:
        number = number if number is not None else store.published_number(conn, program_id)
        row = store.version(conn, program_id, number) if number is not None else None
    if row is None:
        fail(f"no program version {number}" if number is not None else "no program version yet: run bridge db upgrade")
    click.echo(f"# program version {row['version']} by {row['actor']}: {row['reason']}")
    click.echo(document.to_yaml(row["document"]), nl=False)


@program.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Publish it (without: only show what would change).")
@click.option("--reason", default="", help="Why (kept with the version and in the audit log).")
@click.pass_context
def import_(ctx: click.Context, file: Path, yes: bool, reason: str) -> None:
    """Show how FILE differs from the published program; with --yes, publish it as a new version."""
    from bridge.program import document
    from bridge.program import service as programs

    rt = runtime_from(ctx)
    program_id = rt.settings.program.id
    try:
        doc = programs.validated(document.from_yaml(file.read_text(encoding="utf-8")), program_id)
    except ConfigError as exc:
        click.echo(f"{file}: {exc.key}: {exc.reason}", err=True)
        ctx.exit(EXIT_CONFIG)
    current = programs.published(rt.engine, program_id)
    base = current["version"] if current else None
    changes = document.diff(current["document"] if current else None, doc, f"version {base}", str(file))
    if not changes:
        click.echo(f"no changes: {file} is the published version {base}")
        return
    click.echo(changes, nl=False)
    if not yes:
        click.echo("not published: run again with --yes to publish this as a new version")
        return
    number = programs.publish_document(
        rt.engine,
        program_id,
        doc,
        base=base,
        actor="cli",
        reason=reason or f"import of {file.name}",
        action="program.import",
    )
    rt.changed("program")
    click.echo(f"published version {number}; every process follows within a few seconds")
