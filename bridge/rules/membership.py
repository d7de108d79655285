"""Who may earn: ``open`` (anyone), ``closed`` (after a qualifying order), ``invite_only`` (invited members)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bridge.connectors.base import ShopOrder
from bridge.rules.base import MemberContext
from bridge.rules.lines import ZERO

POLICIES = ("open", "closed", "invite_only")


@dataclass(frozen=True)
class Membership:
    policy: str = "open"
    qualifying_total: Decimal = ZERO  # closed: the order total that lets a shopper in

    def admits(self, order: ShopOrder, member: MemberContext) -> tuple[bool, str]:
        """Whether this order earns, and why (for the explanation). A qualifying order itself earns."""
        if self.policy == "open" or member.joined:
            return True, "member"
        if self.policy == "closed" and order.total >= self.qualifying_total:
            return True, f"joins: order total {order.total} >= {self.qualifying_total}"
        if self.policy == "closed":
            return False, f"not a member yet: order total {order.total} < {self.qualifying_total}"
        return False, "not invited: this program is invite-only"

    def joins_on(self, order: ShopOrder, member: MemberContext) -> bool:
        return self.policy == "closed" and not member.joined and order.total >= self.qualifying_total

    def earns_without_order(self, member: MemberContext) -> bool:
        """Sign-up and birthday bonuses: only for members already in."""
        return self.policy == "open" or member.joined
