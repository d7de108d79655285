"""``POST /webhooks/<platform>/<shop_id>``: verify, store in the inbox, answer 200 in milliseconds.

Nothing here applies a delivery: the worker does. WooCommerce never retries and disables a webhook after a
handful of failures, so once a delivery is verified we acknowledge it whether or not Redis is reachable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import cast

from flask import Blueprint, Response, current_app, jsonify, request

from bridge.connectors import connector_for
from bridge.connectors.base import Connector
from bridge.errors import InvalidSignature, UnknownShop
from bridge.inbox import service as inbox
from bridge.observability import metrics, request_id
from bridge.runtime import Runtime, current_runtime

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

TRIGGER_KEY = "bridge.webhooks.trigger"
"""``app.extensions`` key of the app's ``inbox.AfterCommitTrigger`` (one per app: its Redis, its shops)."""
bp.record_once(lambda state: state.app.extensions.setdefault(TRIGGER_KEY, inbox.AfterCommitTrigger()))


@bp.post("/<platform>/<shop_id>")
def receive(platform: str, shop_id: str) -> tuple[Response, int]:
    rt = current_runtime()
    shop = rt.settings.shop(shop_id)
    if shop is None:  # connected a moment ago by `bridge connect`?
        rt.reload_shops(force=True)
        shop = rt.settings.shop(shop_id)
    if shop is None or shop.platform != platform:
        raise UnknownShop(f"no {platform} shop {shop_id!r} is configured")
    body = request.get_data(cache=False)  # 413 past MAX_CONTENT_LENGTH, chunked too (bridge.web.body)
    headers = cast(Mapping[str, str], request.headers)
    connector = connector_for(platform)
    if connector.is_ping(body, headers):
        return jsonify({"status": "pong"}), 200
    _verify(rt, connector, shop_id, body, headers)
    topic = connector.webhook_topic(headers)
    resource_id = connector.resource_id(body)  # also rejects malformed JSON with 400
    if not connector.handles_topic(topic):
        log.info("shop %s: ignoring delivery with unhandled topic %r", shop_id, topic[:64])
        return jsonify({"status": "ignored", "topic": topic[:64]}), 200
    delivery_id = inbox.receive(rt, shop_id, topic, resource_id, headers, body, trigger=False)
    metrics.delivery_received(shop_id, topic)
    trigger: inbox.AfterCommitTrigger = current_app.extensions[TRIGGER_KEY]
    ticket = trigger.committed()
    response = _accepted(delivery_id)
    # The row is committed: answer first, then make sure a drain job is pending (Redis may be slow or down; the
    # sweeper is the safety net either way). That runs after the request's context is gone: the drain job it may
    # enqueue carries this request's id all the same.
    rid = request_id.current()

    def ensure_drain() -> None:
        with request_id.bound(rid):
            trigger.ensure_drain(rt, shop_id, ticket)

    response.call_on_close(ensure_drain)
    return response, 200


def _accepted(delivery_id: int) -> Response:
    """``jsonify({"status": "accepted", "delivery_id": ...})``, byte for byte, without the JSON encoder: this is
    the answer to nearly every delivery, and its shape never changes."""
    body = b'{"status":"accepted","delivery_id":%d}\n' % delivery_id
    return current_app.response_class(body, mimetype="application/json")


def _verify(rt: Runtime, connector: Connector, shop_id: str, body: bytes, headers: Mapping[str, str]) -> None:
    """Check the signature; on a mismatch or no secret, once more with the stored connections read again (a
    `bridge connect` in another process may have just set or rotated the secret): a refusal counts toward the
    shop disabling the webhook and is never retried, so none may come from a stale secret."""
    shop = rt.settings.shop(shop_id)
    assert shop is not None
    try:
        if not shop.webhook_secret:
            raise InvalidSignature(
                "no webhook secret for this shop: run `bridge connect` or set shops[].webhook_secret"
            )
        connector.verify_webhook(body, headers, shop.webhook_secret)
    except InvalidSignature:
        rt.reload_shops(force=True)  # (even unchanged here, another thread may have merged it meanwhile)
        fresh = rt.settings.shop(shop_id)
        if fresh is None or not fresh.webhook_secret or fresh.webhook_secret == shop.webhook_secret:
            raise
        connector.verify_webhook(body, headers, fresh.webhook_secret)
