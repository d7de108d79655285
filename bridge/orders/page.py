"""What ``apply_order`` is handed when a whole page of snapshots is applied at once (``bridge/orders/batch.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.ledger.model import NewEntry
from bridge.orders.context import MemberFacts
from bridge.storage.orders import OrderState


@dataclass
class Page:
    """The page's order states (created and locked together) and members (resolved together), and the writes
    deferred to the end of the page: earn entries nothing in the page refers to, and every state save."""

    states: dict[str, OrderState]
    members: dict[str, int | None]  # by order id, for the orders whose state has no member yet
    facts: dict[int, MemberFacts] = field(default_factory=dict)  # what the rules read of the run's members
    entries: list[NewEntry] = field(default_factory=list)
    saves: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
