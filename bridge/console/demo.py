"""The demo owner: ``scripts/run`` on the example config gets a newcomer into the console within a minute.

When the configuration has a demo shop (``demo: true``, as ``config.example.yaml``'s) and no console user exists
yet, ``bridge run`` creates ``DEMO_OWNER`` with a generated password and prints both once. Later runs create
nothing and print only where the console is. A real installation (no demo shop) never gets this account: its
owner runs ``bridge users add``.
"""

from __future__ import annotations

import secrets

from bridge.console import users
from bridge.console.routing import Role
from bridge.runtime import Runtime

DEMO_OWNER = "owner@demo.invalid"
ACTOR = "bridge:demo"


def ensure_demo_owner(rt: Runtime) -> str | None:
    """The demo owner's password when this call created the account; None when it was not made (no demo shop,
    or console users exist already)."""
    settings = rt.base_settings or rt.settings
    if not any(shop.demo for shop in settings.shops) or users.exists_any(rt.engine):
        return None
    password = secrets.token_urlsafe(12)  # 16 characters, 96 bits
    try:
        users.add(rt.engine, settings.program.id, email=DEMO_OWNER, role=Role.OWNER, password=password, actor=ACTOR)
    except users.ConsoleUserError:  # made by a concurrent first run
        return None
    return password


def announcement(base_url: str, password: str | None) -> str | None:
    """The lines ``bridge run`` prints about the console (None when there is nothing to say)."""
    if password is None:
        return None
    return (
        f"Owner console: {base_url}/console/  e-mail {DEMO_OWNER}  password {password}\n"
        "  (shown this once; `bridge users reset-password " + DEMO_OWNER + "` sets a new one, "
        "`bridge users add` makes your own)"
    )
