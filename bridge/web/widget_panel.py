"""The widget's panel is one API call (``GET /widget/v1/panel``): each area contributes a section.

Areas (rules, redemption, referrals...) register a provider here; the widget API (bridge/web/widget_api.py)
calls every provider inside one read transaction and returns ``{"<section>": <value>, ...}``. A provider gets
the shop's context, the shopper (from the token) and the member id (None when the shopper has not joined yet)
and returns plain JSON values. Registration is one line in ``_load_sections``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from bridge.runtime import Runtime
from bridge.web.widget_auth import Shopper


@dataclass(frozen=True)
class PanelRequest:
    rt: Runtime
    conn: Connection
    shopper: Shopper
    member_id: int | None
    locale: str


SectionProvider = Callable[[PanelRequest], Any]

SECTIONS: dict[str, SectionProvider] = {}


def register(name: str, provider: SectionProvider) -> None:
    SECTIONS[name] = provider


def _load_sections() -> None:
    """Import the modules that register sections (one line per area)."""
    import bridge.web.redemption_api  # (issue 4: "rewards")
    import bridge.web.referrals_api  # (issue 5: "referral")
    import bridge.web.rules_api  # noqa: F401  (issue 3: "ways_to_earn")
    from bridge.web import widget_api as _widget_api  # noqa: F401  (issue 6: "club", "member", "history")


def render(request: PanelRequest) -> dict[str, Any]:
    _load_sections()
    return {name: provider(request) for name, provider in SECTIONS.items()}
