"""A fixed bonus for creating an account."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.connectors.base import ShopCustomer
from bridge.rules.base import Award


@dataclass(frozen=True)
class SignupBonusRule:
    id: str
    points: int

    def award_for_signup(self, customer: ShopCustomer) -> Award | None:
        if self.points <= 0:
            return None
        return Award(rule_id=self.id, points=self.points, reason="sign-up bonus")
