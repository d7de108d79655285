"""What every ``bridge`` subcommand module needs: settings and a runtime from the global ``--config``, one way to
end on a user's mistake (a clear line and an exit code, never a traceback) and readable tables."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bridge.config import Settings, load_settings
from bridge.errors import BridgeError, ConfigError

if TYPE_CHECKING:
    from bridge.runtime import Runtime

EXIT_FAILED = 1
EXIT_CONFIG = 2
# SQLSTATEs of a schema that is missing or older than the code (PostgreSQL): undefined table, undefined column.
_MISSING_SCHEMA_STATES = ("42P01", "42703")
_CELL_WIDTH = 60  # longer values (error messages) are cut in tables; --json has them whole


def settings_from(ctx: click.Context) -> Settings:
    """The settings, or exit 2 with file, key and reason."""
    try:
        return load_settings(ctx.obj.get("config") if ctx.obj else None)
    except ConfigError as exc:
        config_failed(exc)


def runtime_from(ctx: click.Context) -> Runtime:
    from bridge import features
    from bridge.runtime import Runtime

    features.load()  # a command may apply orders or run jobs: the registries must be complete
    return Runtime.build(settings_from(ctx))


def config_failed(exc: ConfigError) -> NoReturn:
    click.echo(f"configuration error: {exc}", err=True)
    sys.exit(EXIT_CONFIG)


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_FAILED)


def run_guarded(command: Callable[[], Any]) -> None:
    """Run the ``bridge`` command; what a user or the machine got wrong ends with one line, not a traceback.

    Click already answers usage mistakes (exit 2). Our own errors carry messages written for people; a database
    without the schema and a database or Redis that does not answer are named. Anything else is a bug in the
    bridge and keeps its traceback.
    """
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        command()
    except ConfigError as exc:
        config_failed(exc)
    except BridgeError as exc:
        fail(str(exc))
    except DBAPIError as exc:
        if missing_schema(exc):
            fail("the database has no tables, or older ones than this bridge needs: run `bridge db upgrade`")
        if isinstance(exc, OperationalError):  # not reachable, locked, out of space: the machine, not the code
            first_line = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
            fail(f"the database (database_url) failed: {first_line}")
        raise
    except (RedisConnectionError, RedisTimeoutError) as exc:
        fail(f"cannot reach Redis (redis_url): {exc}")


def missing_schema(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in _MISSING_SCHEMA_STATES:
        return True
    text = str(orig)
    return text.startswith(("no such table", "no such column"))


def echo_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool, empty: str) -> None:
    """``rows`` as aligned columns for people, or one JSON object per line with ``--json`` (for machines)."""
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, default=str))
        return
    if not rows:
        click.echo(empty)
        return
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    click.echo("  ".join(column.upper().ljust(w) for column, w in zip(columns, widths, strict=True)).rstrip())
    for line in cells:
        click.echo("  ".join(text.ljust(w) for text, w in zip(line, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = " ".join(str(value).split())  # one line per row, whatever an error message holds
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"
