"""Fixed bonuses that do not come from an order: creating an account, a birthday."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bridge.connectors.base import ShopCustomer
from bridge.rules.base import Award


@dataclass(frozen=True)
class SignupBonusRule:
    id: str
    points: int
    name: str = ""
    description: str = ""

    def award_for_signup(self, customer: ShopCustomer) -> Award | None:
        if self.points <= 0:
            return None
        return Award(rule_id=self.id, points=self.points, reason="sign-up bonus")


@dataclass(frozen=True)
class BirthdayRule:
    """Once a year on the member's birthday (29 February is celebrated on the 28th in other years)."""

    id: str
    points: int
    name: str = ""
    description: str = ""
    segments: frozenset[str] = frozenset()  # issue 16: only for members in one of these (``evaluate_birthday``)

    def award_for_birthday(self, birthday: date | None, today: date) -> Award | None:
        if birthday is None or self.points <= 0 or not is_birthday(birthday, today):
            return None
        return Award(self.id, self.points, "birthday bonus", {"year": today.year})


def is_birthday(birthday: date, today: date) -> bool:
    if (birthday.month, birthday.day) == (today.month, today.day):
        return True
    leap_day = (birthday.month, birthday.day) == (2, 29)
    is_leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    return leap_day and not is_leap and (today.month, today.day) == (2, 28)
