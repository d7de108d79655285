"""The widget's panel is one API call (``GET /widget/v1/panel``): each area contributes a section.

Areas (rules, redemption, referrals...) register a provider here; the widget API (bridge/web/widget_api.py)
calls every provider inside one read transaction and returns ``{"<section>": <value>, ...}``. A provider gets
the shop's context, the shopper (from the token) and the member id (None when the shopper has not joined yet)
and returns plain JSON values. This registry imports no area: ``bridge.features.load_web`` (called by
``create_app``) imports the modules that register their sections.
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


def render(request: PanelRequest) -> dict[str, Any]:
    return {name: provider(request) for name, provider in SECTIONS.items()}
