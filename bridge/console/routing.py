"""The console's blueprint, its roles, and the registry of its routes with the role each one needs.

Every console view is declared with ``@console_route``; ``bridge.console.guard`` reads the registry before any
view runs (302 to the login page without a session, 403 for a role below the route's, 400 for a POST without a
valid CSRF token), and the per-route security test walks the same registry.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, abort

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static")

F = TypeVar("F", bound=Callable[..., Any])


class Role(enum.StrEnum):
    """Who may do what. Each role includes the ones below it: owner > staff > viewer."""

    VIEWER = "viewer"  # reads every page but the audit log; changes nothing
    STAFF = "staff"  # + members (adjustments, profile edits), redemptions, the inbox
    OWNER = "owner"  # + shops, the program, the audit log, users

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether someone with this role may use a route that needs ``needed``."""
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 1, Role.STAFF: 2, Role.OWNER: 3}

PUBLIC = None
"""``role=PUBLIC``: the route needs no session (the login page only)."""


@dataclass(frozen=True)
class ConsoleRoute:
    endpoint: str  # "console.<function name>"
    rule: str  # as given, without the /console prefix
    methods: tuple[str, ...]
    role: Role | None  # None: public


ROUTES: dict[str, ConsoleRoute] = {}
"""Every console route by endpoint. A blueprint view missing here is refused (404) by the guard: fail closed."""


def console_route(rule: str, *, role: Role | None, methods: Iterable[str] = ("GET",)) -> Callable[[F], F]:
    """Declare a console view: ``@console_route("/members", role=Role.VIEWER)``.

    ``role`` is the lowest role allowed (``PUBLIC`` for no session at all); it must be given, so that no page is
    open by omission. A view that changes something takes ``methods=("POST",)`` and the role allowed to change
    it; its form carries ``{{ csrf_token() }}`` (see ``templates/console/_csrf.html``).
    """
    allowed = tuple(m.upper() for m in methods)

    def decorate(view: F) -> F:
        endpoint = f"{bp.name}.{view.__name__}"
        if endpoint in ROUTES:
            raise RuntimeError(f"two console views named {view.__name__}")
        ROUTES[endpoint] = ConsoleRoute(endpoint, rule, allowed, role)

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            # The guard has already answered 302/403; this second look only keeps a view from ever running
            # without it (a view registered some other way, a guard removed by mistake).
            from bridge.console.guard import allowed_here

            if not allowed_here(ROUTES[endpoint]):
                abort(403)
            return view(*args, **kwargs)

        bp.add_url_rule(rule, view.__name__, checked, methods=list(allowed))
        return view

    return decorate


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str  # English; translated through the catalogue


NAV: tuple[NavItem, ...] = (
    NavItem("console.overview", "Overview"),
    NavItem("console.members", "Members"),
    NavItem("console.redemptions", "Redemptions"),
    NavItem("console.referrals", "Referrals"),
    NavItem("console.reports", "Reports"),
    NavItem("console.inbox", "Inbox"),
    NavItem("console.shops", "Shops"),
    NavItem("console.program", "Program"),
    NavItem("console.audit", "Audit log"),
)
"""The menu, in order. An item shows when its endpoint is a registered GET route the user's role may open."""
