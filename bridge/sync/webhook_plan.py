"""Which webhooks the bridge keeps in a shop, and how it recognises its own among the shop's others."""

from __future__ import annotations

from typing import Any

from bridge.connectors.woocommerce import consts

CORE_TOPICS = (
    consts.TOPIC_ORDER_CREATED,
    consts.TOPIC_ORDER_UPDATED,
    consts.TOPIC_ORDER_DELETED,
    consts.TOPIC_ORDER_RESTORED,
    consts.TOPIC_CUSTOMER_CREATED,
    consts.TOPIC_CUSTOMER_UPDATED,
    consts.TOPIC_CUSTOMER_DELETED,  # issue 19: the account's member is pseudonymised (GDPR)
)
PRODUCT_TOPIC = "product.updated"  # only when category rules need fresh product categories


def wanted_topics(with_products: bool) -> tuple[str, ...]:
    return CORE_TOPICS + ((PRODUCT_TOPIC,) if with_products else ())


def webhook_name(shop_id: str, topic: str) -> str:
    """A name that says who made the webhook (shop owners see it in WooCommerce → Settings → Advanced)."""
    return f"{name_prefix(shop_id)}{topic}"


def name_prefix(shop_id: str) -> str:
    return f"Loyalty Bridge [{shop_id}] "


def delivery_url(public_url: str, shop_id: str) -> str:
    return f"{public_url.rstrip('/')}/webhooks/woocommerce/{shop_id}"


def is_ours(webhook: dict[str, Any], shop_id: str, known_ids: set[str]) -> bool:
    """Recorded by us, or named by us (found again after our database lost track of it)."""
    return str(webhook.get("id")) in known_ids or str(webhook.get("name", "")).startswith(name_prefix(shop_id))
