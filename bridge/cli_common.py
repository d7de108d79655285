"""What every ``bridge`` subcommand module needs: settings and a runtime from the global ``--config``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from bridge.config import Settings, load_settings
from bridge.errors import ConfigError

if TYPE_CHECKING:
    from bridge.runtime import Runtime


def settings_from(ctx: click.Context) -> Settings:
    """The settings, or exit 2 with file, key and reason."""
    try:
        return load_settings(ctx.obj.get("config") if ctx.obj else None)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)


def runtime_from(ctx: click.Context) -> Runtime:
    from bridge.runtime import Runtime

    return Runtime.build(settings_from(ctx))
