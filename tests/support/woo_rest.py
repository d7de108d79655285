"""A model of a WooCommerce shop's REST API behind ``responses``: the only fake in the test suite.

It behaves like the real shop as docs/connectors/woocommerce.md records it: Basic auth over https (401
``woocommerce_rest_authentication_error`` on wrong keys), coupon codes unique regardless of case and stored
lower-cased, 400 ``woocommerce_rest_coupon_code_already_exists`` on a duplicate, ``GET coupons?code=``,
``DELETE coupons/<id>?force=true``. Coupon bodies start from the real create response in the fixtures.
Faults are scripted per call: ``fail_next("POST", "coupons", status=500)``, ``timeout=True``, or
``lose_response=True`` (the shop does the work, the answer never arrives).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests
import responses
from requests import PreparedRequest

from tests.support import woo

SHOP_URL = "http://127.0.0.1:8080"  # the captured store's URL, as in tests/conftest.py's shop
CONSUMER_KEY = "ck_test"
CONSUMER_SECRET = "cs_test"

Reply = tuple[int, dict[str, str], str]


@dataclass
class Fault:
    method: str
    path: str  # regex on the path after /wp-json/wc/v3/
    status: int | None = None
    body: dict[str, Any] | None = None
    timeout: bool = False
    lose_response: bool = False


@dataclass
class FakeWooShop:
    rsps: responses.RequestsMock
    base_url: str = SHOP_URL
    consumer_key: str = CONSUMER_KEY
    consumer_secret: str = CONSUMER_SECRET
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    next_id: int = 100
    # issue 7: the rest of the REST API a connected bridge uses
    home_url: str | None = None  # what system_status reports; defaults to base_url
    currency: str = "USD"
    permissions: str = "read_write"  # read | write | read_write, as the key was created in the shop
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhook_secrets: dict[int, str] = field(default_factory=dict)  # kept, never returned (as the real shop)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)  # issue 3: categories for the rules
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)  # issue 3: `bridge rules explain --order`

    def install(self) -> FakeWooShop:
        api = re.escape(self.base_url + "/wp-json/wc/v3/")
        for method in ("GET", "POST", "PUT", "DELETE"):
            self.rsps.add_callback(method, re.compile(api + r".*"), callback=self._dispatch)
        return self

    # -- scripting -----------------------------------------------------------------------------------------
    def fail_next(self, method: str, path: str, **kwargs: Any) -> None:
        self.faults.append(Fault(method, path, **kwargs))

    def calls_to(self, method: str, path_regex: str) -> int:
        return sum(1 for m, p in self.calls if m == method and re.fullmatch(path_regex, p))

    # -- dispatch ------------------------------------------------------------------------------------------
    def _dispatch(self, request: PreparedRequest) -> Reply:
        assert request.url and request.method
        parts = urlsplit(request.url)
        path = parts.path.split("/wp-json/wc/v3/", 1)[1]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.calls.append((request.method, path))
        if not self._authorized(request):
            return _json(401, {"code": "woocommerce_rest_authentication_error", "message": "Invalid signature."})
        refusal = self._permission_refusal(request.method)
        if refusal:
            return refusal
        fault = self._take_fault(request.method, path)
        if fault and fault.timeout:
            raise requests.ReadTimeout("scripted timeout")
        if fault and fault.status is not None:
            return _json(fault.status, fault.body or {"code": "internal_server_error", "message": "scripted"})
        reply = self._route(request.method, path, query, _body(request))
        if fault and fault.lose_response:
            raise requests.ConnectionError("scripted: the answer was lost after the shop acted")
        return reply

    def _authorized(self, request: PreparedRequest) -> bool:
        """Basic auth over https; over http only a valid OAuth 1.0a signature (as the real shop)."""
        assert request.url and request.method
        parts = urlsplit(request.url)
        if parts.scheme == "https":
            expected = base64.b64encode(f"{self.consumer_key}:{self.consumer_secret}".encode()).decode()
            return request.headers.get("Authorization") == f"Basic {expected}"
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        signature = params.pop("oauth_signature", "")
        if params.get("oauth_consumer_key") != self.consumer_key or "Authorization" in request.headers:
            return False
        pairs = sorted((_enc(k), _enc(v)) for k, v in params.items())
        normalized = "&".join(f"{k}={v}" for k, v in pairs)
        url = f"{parts.scheme}://{parts.netloc}{parts.path}"
        base = "&".join((request.method.upper(), _enc(url), _enc(normalized)))
        digest = hmac.new(f"{self.consumer_secret}&".encode(), base.encode(), hashlib.sha256).digest()
        return hmac.compare_digest(signature, base64.b64encode(digest).decode())

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and re.fullmatch(fault.path, path):
                self.faults.remove(fault)
                return fault
        return None

    def routes(self) -> list[tuple[str, str, Callable[..., Reply]]]:
        """(method, path regex, handler(match, query, body)). Extend by overriding and adding to the list."""
        return [
            ("POST", r"coupons", self._create_coupon),
            ("GET", r"coupons", self._list_coupons),
            ("GET", r"coupons/(\d+)", self._get_coupon),
            ("DELETE", r"coupons/(\d+)", self._delete_coupon),
            ("GET", r"system_status", self._system_status),
            ("GET", r"webhooks", self._list_webhooks),
            ("POST", r"webhooks", self._create_webhook),
            ("PUT", r"webhooks/(\d+)", self._update_webhook),
            ("DELETE", r"webhooks/(\d+)", self._delete_webhook),
            ("GET", r"orders", self._list_orders),
            ("GET", r"orders/(\d+)", self._get_order),
            ("GET", r"customers", self._list_customers),
            ("GET", r"products/(\d+)", self._get_product),
            ("GET", r"orders/(\d+)", self._get_order),
        ]

    def _get_order(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        order = self.orders.get(int(match.group(1)))
        if order is None:
            return _json(404, {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID."})
        return _json(200, order)

    def _get_product(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        product = self.products.get(int(match.group(1)))
        if product is None:
            return _json(404, {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."})
        return _json(200, product)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        for route_method, pattern, handler in self.routes():
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler(match, query, body)
        return _json(404, {"code": "rest_no_route", "message": "No route was found matching the URL"})

    # -- coupons -------------------------------------------------------------------------------------------
    def _create_coupon(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        code = str(body.get("code", "")).strip().lower()
        if not code:
            return _json(
                400, {"code": "woocommerce_rest_empty_coupon_code", "message": "The coupon code cannot be empty."}
            )
        if any(c["code"] == code for c in self.coupons.values()):
            return _json(
                400,
                {"code": "woocommerce_rest_coupon_code_already_exists", "message": "The coupon code already exists"},
            )
        coupon = copy.deepcopy(woo.load("rest.coupon.create-response"))
        coupon.pop("_links", None)
        self.next_id += 1
        coupon.update({k: v for k, v in body.items() if k != "meta_data"})
        coupon.update({"id": self.next_id, "code": code, "usage_count": 0, "used_by": []})
        coupon["meta_data"] = [
            {"id": self.next_id * 10 + i, "key": m["key"], "value": m["value"]}
            for i, m in enumerate(body.get("meta_data", []))
        ]
        self.coupons[self.next_id] = coupon
        return _json(201, coupon)

    def _list_coupons(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        found = list(self.coupons.values())
        if "code" in query:
            found = [c for c in found if c["code"] == query["code"].lower()]
        return _json(200, found, {"X-WP-Total": str(len(found)), "X-WP-TotalPages": "1"})

    def _get_coupon(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        coupon = self.coupons.get(int(match.group(1)))
        if coupon is None:
            return _json(404, {"code": "woocommerce_rest_shop_coupon_invalid_id", "message": "Invalid ID."})
        return _json(200, coupon)

    def _delete_coupon(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        if query.get("force") != "true":
            return _json(
                501, {"code": "woocommerce_rest_trash_not_supported", "message": "Coupons do not support trashing."}
            )
        coupon = self.coupons.pop(int(match.group(1)), None)
        if coupon is None:
            return _json(404, {"code": "woocommerce_rest_shop_coupon_invalid_id", "message": "Invalid ID."})
        return _json(200, coupon)

    # -- issue 7: keys' permissions, system status, webhooks, orders and customers ---------------------------
    def _permission_refusal(self, method: str) -> Reply | None:
        """What WooCommerce's check_permissions answers for a key without the right permission."""
        if method in ("GET", "HEAD") and self.permissions not in ("read", "read_write"):
            message = "The API key provided does not have read permissions."
        elif method not in ("GET", "HEAD") and self.permissions not in ("write", "read_write"):
            message = "The API key provided does not have write permissions."
        else:
            return None
        return _json(401, {"code": "woocommerce_rest_authentication_error", "message": message})

    def _system_status(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        home = self.home_url or self.base_url
        return _json(
            200,
            {
                "environment": {"home_url": home, "site_url": home, "version": "11.0.1", "wp_version": "7.1"},
                "settings": {"currency": self.currency, "currency_symbol": "$"},
            },
        )

    def _list_webhooks(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        found = sorted(self.webhooks.values(), key=lambda w: w["id"])
        status = query.get("status", "all")
        if status != "all":
            found = [w for w in found if w["status"] == status]
        return _paged(found, query)

    def _create_webhook(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        topic = str(body.get("topic", ""))
        if not re.fullmatch(r"(order|customer|product|coupon)\.(created|updated|deleted|restored)", topic):
            return _json(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): topic"})
        if not str(body.get("delivery_url", "")).startswith(("http://", "https://")):
            return _json(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): delivery_url"})
        self.next_id += 1
        webhook = {
            "id": self.next_id,
            "name": str(body.get("name") or f"Webhook created on {self.next_id}"),
            "status": str(body.get("status") or "active"),
            "topic": topic,
            "resource": topic.split(".")[0],
            "event": topic.split(".")[1],
            "hooks": [],
            "delivery_url": body["delivery_url"],
            "date_created_gmt": "2026-11-27T10:00:00",
        }
        self.webhooks[self.next_id] = webhook
        self.webhook_secrets[self.next_id] = str(body.get("secret") or "generated-by-shop")
        return _json(201, webhook)

    def _update_webhook(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        webhook_id = int(match.group(1))
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            return _json(404, {"code": "woocommerce_rest_webhook_invalid_id", "message": "Invalid ID."})
        for key in ("name", "status", "topic", "delivery_url"):
            if key in body:
                webhook[key] = body[key]
        if "secret" in body:
            self.webhook_secrets[webhook_id] = str(body["secret"])
        return _json(200, webhook)

    def _delete_webhook(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        if query.get("force") != "true":
            return _json(
                501, {"code": "woocommerce_rest_trash_not_supported", "message": "Webhooks do not support trashing."}
            )
        webhook = self.webhooks.pop(int(match.group(1)), None)
        if webhook is None:
            return _json(404, {"code": "woocommerce_rest_webhook_invalid_id", "message": "Invalid ID."})
        self.webhook_secrets.pop(webhook["id"], None)
        return _json(200, webhook)

    def _list_orders(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        # Dates: the bridge always sends dates_are_gmt=true, compared with the *_gmt fields (ISO strings sort).
        found = list(self.orders.values())
        for param, field_name, keep in (
            ("modified_after", "date_modified_gmt", lambda v, b: v > b),
            ("modified_before", "date_modified_gmt", lambda v, b: v < b),
            ("after", "date_created_gmt", lambda v, b: v > b),
            ("before", "date_created_gmt", lambda v, b: v < b),
        ):
            if param in query:
                bound = query[param][:19]
                found = [o for o in found if keep(str(o.get(field_name) or ""), bound)]
        status = query.get("status", "any")
        if status != "any":
            found = [o for o in found if o["status"] in status.split(",")]
        if "search" in query:  # WooCommerce searches billing fields among others; e-mail is what we search by
            needle = query["search"].lower()
            found = [o for o in found if needle in str(o.get("billing", {}).get("email", "")).lower()]
        fields = {"id": "id", "modified": "date_modified_gmt", "date": "date_created_gmt"}
        sort_key = fields[query.get("orderby", "date")]
        found.sort(key=lambda o: (o[sort_key], o["id"]), reverse=query.get("order", "desc") == "desc")
        return _paged(found, query)

    def _get_order(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        order = self.orders.get(int(match.group(1)))
        if order is None:
            return _json(404, {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID."})
        return _json(200, order)

    def _list_customers(self, match: re.Match[str], query: dict[str, str], body: Any) -> Reply:
        found = sorted(self.customers.values(), key=lambda c: c["id"], reverse=query.get("order", "asc") == "desc")
        return _paged(found, query)

    # -- building the shop's data from the captured payloads ---------------------------------------------------
    def put_order(self, order_id: int, **fields: Any) -> dict[str, Any]:
        """An order as the REST API returns it (``order_payload``, same keywords), now in the shop."""
        order = order_payload(order_id, **fields)
        self.orders[order_id] = order
        return order

    def put_customer(self, customer_id: int, *, email: str, created: str = "2026-11-20T09:00:00") -> dict[str, Any]:
        customer = copy.deepcopy(woo.payload("customer.created"))
        customer.pop("_links", None)
        customer.update(id=customer_id, email=email, date_created_gmt=created, date_modified_gmt=created)
        self.customers[customer_id] = customer
        return customer


def order_payload(
    order_id: int,
    *,
    email: str,
    customer_id: int = 0,
    status: str = "completed",
    created: str = "2026-11-20T10:00:00",
    modified: str | None = None,
    refunds: list[dict[str, Any]] | None = None,
    billing_name: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """An order as the REST API returns it, built from the captured order 12 (line total 35.00); ``billing_name``:
    (first, last) instead of the captured Carol Poe."""
    order = copy.deepcopy(woo.payload("order.updated.completed"))
    order.pop("_links", None)
    paid = status not in ("pending", "on-hold", "failed", "checkout-draft")
    order.update(
        id=order_id,
        number=str(order_id),
        status=status,
        customer_id=customer_id,
        date_created_gmt=created,
        date_modified_gmt=modified or created,
        date_paid_gmt=created if paid else None,
        date_completed_gmt=created if status == "completed" else None,
        refunds=refunds or [],
    )
    order["billing"] = {**order["billing"], "email": email}
    if billing_name is not None:
        order["billing"]["first_name"], order["billing"]["last_name"] = billing_name
    return order


def _paged(items: list[dict[str, Any]], query: dict[str, str]) -> Reply:
    """A page of a collection with the X-WP-Total / X-WP-TotalPages headers (WooCommerce's 100-per-page cap)."""
    per_page = min(int(query.get("per_page", 10)), 100)
    page = int(query.get("page", 1))
    total_pages = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    return _json(200, chunk, {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)})


def _enc(value: str) -> str:
    return quote(value, safe="~")


def _body(request: PreparedRequest) -> Any:
    if not request.body:
        return {}
    raw = request.body.decode() if isinstance(request.body, bytes) else request.body
    return json.loads(raw)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body)
