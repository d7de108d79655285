"""The demo shop page: ``GET /`` shows a shop page with the widget, signed in as a made-up shopper.

Only for a shop with ``demo: true`` (the demo shop of ``config.example.yaml``, which ``scripts/run`` copies on first
use): a newcomer opens http://127.0.0.1:8000/ and sees a working club. The page signs a fresh widget token for
``DEMO_CUSTOMER_ID`` (an id and an ``.invalid`` e-mail no real customer has) and, the first time, gives that shopper
a history through the real pipeline: a sign-up and two completed orders, one past its hold (released), one still
inside it. Every write is keyed like a webhook's, so reloading the page changes nothing. Without a demo shop, ``/``
stays a 404.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from flask import Blueprint, Flask, Response, render_template, request
from werkzeug.exceptions import NotFound

from bridge.config import ShopSettings
from bridge.connectors.base import EventKind, LineItem, ShopCustomer, ShopEvent, ShopOrder
from bridge.inbox.dispatch import apply_event
from bridge.orders.release import release_order
from bridge.runtime import Runtime, current_runtime
from bridge.storage import db
from bridge.storage import members as member_store
from bridge.storage.clock import utcnow
from bridge.web.widget_auth import issue_token

bp = Blueprint("demo", __name__, template_folder="templates")

DEMO_CUSTOMER_ID = "1"
DEMO_EMAIL = "shopper@demo.invalid"
TOKEN_TTL_SECONDS = 3600
LANGUAGES = ("en", "fa")
# (order id, total, days since completed): the first is past the hold and released, the second still pending.
DEMO_ORDERS = (("1001", Decimal("680.00"), 30), ("1002", Decimal("120.00"), 3))


def demo_shop(rt: Runtime) -> ShopSettings | None:
    return next((s for s in rt.settings.shops if s.demo and s.widget_secret), None)


@bp.get("/")
def page() -> Response:
    rt = current_runtime()
    shop = demo_shop(rt)
    if shop is None:
        raise NotFound("nothing here: the demo page is served only for a shop with demo: true")
    seed(rt, shop)
    lang = request.args.get("lang", "en")
    nonce = secrets.token_urlsafe(16)
    html = render_template(
        "demo.html",
        shop=shop,
        club=rt.settings.program.name,
        lang=lang if lang in LANGUAGES else "en",
        token=issue_token(shop, DEMO_CUSTOMER_ID, DEMO_EMAIL, ttl_seconds=TOKEN_TTL_SECONDS),
        bridge=request.host_url.rstrip("/"),
        nonce=nonce,
    )
    response = Response(html, mimetype="text/html")
    # The page shows the widget working under a strict policy: no inline script, styles only with the nonce.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"  # it carries a signed token
    return response


def seed(rt: Runtime, shop: ShopSettings) -> None:
    """Give the demo shopper a sign-up and two orders, once (the member existing means it was done)."""
    with db.read(rt.engine) as conn:
        if member_store.by_identity(conn, shop.id, DEMO_CUSTOMER_ID) is not None:
            return
    ctx = rt.shop_context(shop.id)
    now = utcnow()
    customer = ShopCustomer(DEMO_CUSTOMER_ID, DEMO_EMAIL, "Demo", "Shopper", now - timedelta(days=40), now)
    with db.write(rt.engine) as conn:
        joined = ShopEvent(EventKind.CUSTOMER_CREATED, "customer.created", DEMO_CUSTOMER_ID, customer=customer)
        apply_event(conn, ctx, joined)
        for order_id, total, days_ago in DEMO_ORDERS:
            completed = now - timedelta(days=days_ago)
            order = _order(shop, order_id, total, completed)
            apply_event(conn, ctx, ShopEvent(EventKind.ORDER, "order.updated", order_id, order=order))
            release_order(conn, ctx, order_id, now)  # a no-op for the order still inside its hold


def _order(shop: ShopSettings, order_id: str, total: Decimal, completed: datetime) -> ShopOrder:
    line = LineItem("10", "", "DEMO-TEA", 1, total, total, Decimal(0))
    placed = completed - timedelta(days=2)
    return ShopOrder(
        order_id=order_id,
        status="completed",
        currency=shop.currency,
        total=total,
        total_tax=Decimal(0),
        shipping_total=Decimal(0),
        discount_total=Decimal(0),
        customer_id=DEMO_CUSTOMER_ID,
        email=DEMO_EMAIL,
        date_created=placed,
        date_modified=completed,
        date_paid=placed,
        line_items=(line,),
        refunds=(),
        coupon_codes=(),
        date_completed=completed,
    )


def register(app: Flask) -> None:
    app.register_blueprint(bp)
