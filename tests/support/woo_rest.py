"""A model of a WooCommerce shop's REST API behind ``responses``: the only fake in the test suite.

It behaves like the real shop as WOOCOMMERCE.md records it: Basic auth over https (401
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


def _enc(value: str) -> str:
    return quote(value, safe="~")


def _body(request: PreparedRequest) -> Any:
    if not request.body:
        return {}
    raw = request.body.decode() if isinstance(request.body, bytes) else request.body
    return json.loads(raw)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body)
