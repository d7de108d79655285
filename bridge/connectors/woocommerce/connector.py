"""The WooCommerce connector: webhooks in. (REST calls live in ``api.py`` once the bridge makes any.)"""

from __future__ import annotations

from collections.abc import Mapping

from bridge import limits
from bridge.connectors.base import ShopEvent
from bridge.connectors.woocommerce import consts, webhooks


class WooCommerceConnector:
    platform = consts.PLATFORM

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return webhooks.is_ping(body, headers)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], secret: str) -> None:
        webhooks.verify_signature(body, headers, secret)

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        return headers.get(consts.HEADER_TOPIC, "").strip().lower()

    def handles_topic(self, topic: str) -> bool:
        return topic in webhooks.SUPPORTED_TOPICS

    def resource_id(self, body: bytes) -> str:
        """For listing and tracing only: whatever the payload says, cut to the column; the parser judges it."""
        data = webhooks.load_json_object(body)
        value = data.get("id")
        shown = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        return shown[: limits.MAX_ID_LENGTH]

    def parse_event(self, topic: str, body: bytes) -> ShopEvent:
        return webhooks.parse_event(topic, body)
