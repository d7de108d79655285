"""The rewards catalogue: which rewards exist, what they cost, what a member's points buy. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from bridge.config import RewardSettings
from bridge.redemption.model import InvalidPoints, RewardNotFound
from bridge.texts import LocalText


@dataclass(frozen=True)
class Priced:
    """A reward at a definite number of points: what is debited and what the coupon is worth."""

    reward: RewardSettings
    points: int
    value: Decimal | None  # amount off (fixed/variable), percent (percent), None (free shipping)

    @property
    def discount_type(self) -> str:
        return "percent" if self.reward.type == "percent" else "fixed_cart"

    @property
    def value_text(self) -> str | None:
        return None if self.value is None else format(self.value, "f")


def find(rewards: tuple[RewardSettings, ...], reward_id: str) -> RewardSettings:
    for reward in rewards:
        if reward.id == reward_id and reward.enabled:
            return reward
    raise RewardNotFound(f"there is no reward {reward_id!r}")


def price(reward: RewardSettings, points: int | None, minor_unit: int) -> Priced:
    """Fix the cost and the value. ``points`` is required for variable rewards and refused for the others."""
    if not reward.is_variable:
        if points is not None and points != reward.points:
            raise InvalidPoints(f"{reward.title} costs exactly {reward.points} points")
        value = None if reward.type == "free_shipping" else reward.value
        return Priced(reward, reward.points, value)
    if points is None:
        raise InvalidPoints(f"say how many points to spend on {reward.title}")
    if points < reward.min_points or points > reward.max_points or points % reward.step:
        raise InvalidPoints(
            f"{reward.title}: spend a multiple of {reward.step} points between {reward.min_points} "
            f"and {reward.max_points}"
        )
    quantum = Decimal(1).scaleb(-minor_unit)
    return Priced(reward, points, (reward.currency_per_point * points).quantize(quantum, rounding=ROUND_DOWN))


def money(value: Decimal, minor_unit: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-minor_unit)), "f")


def describe(reward: RewardSettings, available: int | None, minor_unit: int) -> dict[str, Any]:
    """One catalogue item as the widget shows it; ``available`` None lists without a member (admin)."""
    item: dict[str, Any] = {
        "id": reward.id,
        "title": reward.title,
        "description": reward.description,
        "type": reward.type,
    }
    if isinstance(reward.title, LocalText) and reward.title.by_locale:
        item["title_locales"] = [locale for locale, _ in reward.title.by_locale]  # the widget shows the owner's
    if reward.is_variable:
        item.update(
            min_points=reward.min_points,
            max_points=reward.max_points,
            step=reward.step,
            value=format(reward.currency_per_point, "f"),  # per point
        )
    else:
        item["points_cost"] = reward.points
        item["value"] = None if reward.type == "free_shipping" else format(reward.value, "f")
    if reward.tiers:
        item["tiers"] = list(reward.tiers)  # issue 16: only members of these tiers may redeem it
    item["minimum_amount"] = money(reward.minimum_amount, minor_unit)
    item["validity_days"] = reward.validity_days
    if available is not None:
        item["affordable"] = available >= reward.entry_points
        item["points_needed"] = max(0, reward.entry_points - available)
    return item


def for_member(rewards: tuple[RewardSettings, ...], available: int, minor_unit: int) -> list[dict[str, Any]]:
    """Enabled rewards, what the member can afford first, then what comes next (cheapest first)."""
    enabled = [r for r in rewards if r.enabled]
    ordered = sorted(enabled, key=lambda r: (r.entry_points > available, r.entry_points))
    return [describe(r, available, minor_unit) for r in ordered]
