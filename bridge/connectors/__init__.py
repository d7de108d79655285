"""Shop platforms behind one small interface (``base.Connector``); one package per platform."""

from __future__ import annotations

from bridge.connectors.base import Connector
from bridge.connectors.woocommerce.connector import WooCommerceConnector

_CONNECTORS: dict[str, Connector] = {"woocommerce": WooCommerceConnector()}


def connector_for(platform: str) -> Connector:
    """The connector for ``platform`` (validated in config, so a miss is a programming error)."""
    return _CONNECTORS[platform]


def platforms() -> list[str]:
    """The platforms a webhook URL may name (``/webhooks/<platform>/<shop>``)."""
    return sorted(_CONNECTORS)
