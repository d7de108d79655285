"""Product categories for the earning rules: order payloads carry product ids, not categories.

A bounded, time-limited cache in front of ``WooClient.get_product``: category rules would otherwise cost one
REST call per order line. A product the shop no longer knows has no categories (it cannot be promoted); any
other failure raises, so the delivery is retried rather than earning the wrong points.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from bridge.connectors.woocommerce.api import ShopNotFound, WooClient


class ProductCategories:
    def __init__(
        self,
        client: WooClient,
        *,
        max_entries: int = 5000,
        ttl_seconds: float = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, product_id: str) -> tuple[str, ...]:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(product_id)
            if hit is not None and now - hit[0] < self.ttl_seconds:
                self._cache.move_to_end(product_id)
                return hit[1]
        categories = self._fetch(product_id)
        with self._lock:
            self._cache[product_id] = (now, categories)
            self._cache.move_to_end(product_id)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)  # least recently used
        return categories

    def forget(self, product_id: str) -> None:
        """A ``product.updated`` delivery: the next order reads the product again."""
        with self._lock:
            self._cache.pop(product_id, None)

    def _fetch(self, product_id: str) -> tuple[str, ...]:
        try:
            product = self.client.get_product(product_id)
        except ShopNotFound:
            return ()
        if not isinstance(product, dict):
            return ()
        found: list[str] = []
        for category in product.get("categories") or []:
            if isinstance(category, dict):
                # both the slug and the id, so a rule may name either
                found += [str(category[k]).lower() for k in ("slug", "id") if category.get(k) not in (None, "")]
        return tuple(found)
