"""Whether rewards can be redeemed in a shop: a coupon needs the shop's REST API (url and keys with write access).

A shop configured by hand with only a webhook secret (the demo shop) earns points but cannot issue coupons; saying
so up front (``check-config``, ``/readyz``, the widget) beats debiting points for a coupon that cannot be made.
Pure: reads settings only.
"""

from __future__ import annotations

from typing import Any

from bridge.config import Settings, ShopSettings

NO_API_ACCESS = (
    "the shop has no REST API keys, so the bridge cannot create coupons: connect it with `bridge connect` "
    "(or set consumer_key and consumer_secret)"
)


def why_not_redeemable(shop: ShopSettings | None) -> str | None:
    """Why this shop cannot issue reward coupons now; None when it can."""
    if shop is None:
        return "no such shop"
    if not (shop.url and shop.consumer_key and shop.consumer_secret):
        return NO_API_ACCESS
    return None


def rewards_detail(settings: Settings) -> dict[str, Any]:
    """Per shop: ``{"redeemable": bool, "reason": str | None}``, with the number of enabled rewards.

    For ``/readyz``'s detail and ``check-config``: informative, never a reason to be not ready."""
    enabled = sum(1 for r in settings.program.rewards if r.enabled)
    return {
        "enabled_rewards": enabled,
        "shops": {
            shop.id: {"redeemable": why_not_redeemable(shop) is None, "reason": why_not_redeemable(shop)}
            for shop in settings.shops
        },
    }
