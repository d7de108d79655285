"""WooCommerce facts the connector relies on (docs/connectors/woocommerce.md: observed on a live store)."""

PLATFORM = "woocommerce"

HEADER_SIGNATURE = "X-WC-Webhook-Signature"
"""base64(HMAC-SHA256(secret, raw body))."""
HEADER_TOPIC = "X-WC-Webhook-Topic"
HEADER_RESOURCE = "X-WC-Webhook-Resource"
HEADER_EVENT = "X-WC-Webhook-Event"
HEADER_WEBHOOK_ID = "X-WC-Webhook-ID"
HEADER_DELIVERY_ID = "X-WC-Webhook-Delivery-ID"
"""Not unique: a hash of webhook id + the current second. Kept for tracing only, never for deduplication."""
HEADER_SOURCE = "X-WC-Webhook-Source"

TOPIC_ORDER_CREATED = "order.created"
TOPIC_ORDER_UPDATED = "order.updated"
TOPIC_ORDER_DELETED = "order.deleted"
TOPIC_ORDER_RESTORED = "order.restored"
TOPIC_CUSTOMER_CREATED = "customer.created"
TOPIC_CUSTOMER_UPDATED = "customer.updated"
TOPIC_CUSTOMER_DELETED = "customer.deleted"
# issue 3: a changed product may have changed categories (the earning rules cache them)
TOPIC_PRODUCT_UPDATED = "product.updated"
TOPIC_PRODUCT_DELETED = "product.deleted"
TOPIC_PRODUCT_RESTORED = "product.restored"

IGNORED_TOPICS = frozenset(
    {
        "coupon.created",
        "coupon.updated",
        "coupon.deleted",
        "coupon.restored",
        "product.created",
        "action.woocommerce_webhook_ping",
    }
)
"""Topics a shop may send us that the core loop does not act on (answered 200, logged, not stored)."""

PING_CONTENT_TYPE = "application/x-www-form-urlencoded"
"""The creation ping: ``webhook_id=<id>``, form-encoded, unsigned."""

GUEST_CUSTOMER_ID = 0
"""``customer_id`` of guest orders: the billing email is then the identity."""
