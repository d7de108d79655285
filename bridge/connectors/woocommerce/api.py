"""The one module that talks to a WooCommerce shop's REST API (``/wp-json/wc/v3``).

Everything else sees our own errors and plain JSON values, never ``requests``. Auth follows what the real shop
accepts (docs/connectors/woocommerce.md): HTTP Basic with the consumer key and secret over https; over plain http
only OAuth 1.0a (one-legged, HMAC-SHA256, parameters in the query string, signed by oauthlib) works. Every call has
a timeout. Query parameters are always copied, never mutated, and keys never reach a log line or an error message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlencode, urlsplit

from bridge.config import ShopSettings
from bridge.errors import BridgeError
from bridge.observability import metrics
from bridge.write_guard import network_in_write, write_open

if TYPE_CHECKING:
    import requests

# requests and oauthlib are imported by the first client made, not with this module: a process that never calls
# a shop (the demo, a worker of a shop without API keys) does not hold them (bench/memory.py).

log = logging.getLogger(__name__)

API_PREFIX = "/wp-json/wc/v3/"
DEFAULT_TIMEOUT_SECONDS = 10.0
JsonValue = Any


class ShopApiError(BridgeError):
    """The shop answered something we cannot use. ``shop_code`` is WooCommerce's own error code, if any."""

    code = "shop_error"
    status = 502

    def __init__(self, message: str, *, http_status: int | None = None, shop_code: str = "") -> None:
        super().__init__(message)
        self.http_status = http_status
        self.shop_code = shop_code


class ShopAuthFailed(ShopApiError):
    """401/403: wrong keys, read-only keys for a write, or http auth against a shop that wants https."""

    code = "shop_auth_failed"


class ShopNotFound(ShopApiError):
    code = "shop_not_found"


class ShopRejected(ShopApiError):
    """A 4xx that retrying will not fix (invalid field, duplicate code...)."""

    code = "shop_rejected"


class DuplicateCouponCode(ShopRejected):
    code = "coupon_code_exists"


class ShopUnavailable(ShopApiError):
    """Timeouts, connection failures, 5xx and 429: transient, worth retrying later."""

    code = "shop_unavailable"
    status = 503


@dataclass(frozen=True)
class Page:
    items: list[JsonValue]
    page: int
    total_pages: int
    total: int


class WooClient:
    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = consumer_key
        self._secret = consumer_secret
        self.timeout = timeout
        if session is None:
            import requests

            session = requests.Session()
        self._session = session
        self.uses_oauth = urlsplit(self.base_url).scheme == "http"

    def __repr__(self) -> str:  # no keys, ever
        return f"WooClient({self.base_url!r})"

    @classmethod
    def for_shop(cls, shop: ShopSettings, **kwargs: Any) -> WooClient:
        return cls(shop.url, shop.consumer_key, shop.consumer_secret, **kwargs)

    # -- transport ---------------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: JsonValue = None,
    ) -> tuple[JsonValue, Mapping[str, str]]:
        """One call; returns the decoded JSON body and the headers, or raises one of our errors.

        Never inside a database write transaction (``bridge.write_guard``): a shop that hangs would hold the lock.
        """
        if write_open():
            network_in_write(f"shop API call {method} {path.split('?', 1)[0]}")
        url = self.base_url + API_PREFIX + path.lstrip("/")
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}  # a copy, never the caller's
        auth: tuple[str, str] | None = None
        if self.uses_oauth:
            url, query = self._oauth_signed_url(method, url, query), {}
        else:
            auth = (self._key, self._secret)
        import requests

        failure = ""
        status = "unreachable"
        started = time.perf_counter()
        try:
            response = self._session.request(
                method, url, params=query, json=json, auth=auth, timeout=self.timeout, allow_redirects=False
            )
            status = str(response.status_code)
        except requests.Timeout:
            failure = f"the shop did not answer {method} {path} within {self.timeout:g} s"
            status = "timeout"
        except requests.RequestException as exc:
            failure = f"the shop cannot be reached for {method} {path}: {type(exc).__name__}"
        metrics.shop_api_call(method, path, status, time.perf_counter() - started)
        if failure:
            # Raised outside the except block, so with no __context__: requests' own error quotes the request
            # URL, which over http carries the consumer key and the OAuth signature, into every traceback.
            raise ShopUnavailable(failure)
        return _decode(method, path, response), response.headers

    def _oauth_signed_url(self, method: str, url: str, query: Mapping[str, str]) -> str:
        """``url`` with ``query`` and an OAuth 1.0a one-legged signature (HMAC-SHA256, no token) in the query
        string: what WooCommerce verifies over plain http. oauthlib signs it (nonce, timestamp, base string)."""
        from oauthlib import oauth1

        signer = oauth1.Client(
            self._key,
            client_secret=self._secret,
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
            signature_type=oauth1.SIGNATURE_TYPE_QUERY,
        )
        unsigned = f"{url}?{urlencode(query)}" if query else url
        signed_url, _headers, _body = signer.sign(unsigned, http_method=cast(_Method, method.upper()))
        return str(signed_url)

    def get(self, path: str, **params: Any) -> JsonValue:
        return self.request("GET", path, params=params)[0]

    def post(self, path: str, body: JsonValue) -> JsonValue:
        return self.request("POST", path, json=body)[0]

    def put(self, path: str, body: JsonValue) -> JsonValue:
        return self.request("PUT", path, json=body)[0]

    def delete(self, path: str, **params: Any) -> JsonValue:
        return self.request("DELETE", path, params=params)[0]

    def page(self, path: str, page: int = 1, per_page: int = 100, **params: Any) -> Page:
        """One page of a collection, with WooCommerce's ``X-WP-TotalPages`` / ``X-WP-Total`` headers."""
        body, headers = self.request("GET", path, params={**params, "page": page, "per_page": per_page})
        if not isinstance(body, list):
            raise ShopApiError(f"GET {path} did not return a list")
        return Page(
            items=body,
            page=page,
            total_pages=_int_header(headers, "X-WP-TotalPages", default=page),
            total=_int_header(headers, "X-WP-Total", default=len(body)),
        )

    def pages(self, path: str, start_page: int = 1, per_page: int = 100, **params: Any) -> Iterator[Page]:
        """Every page from ``start_page`` on (the count is re-read on each page: collections move)."""
        number = start_page
        while True:
            current = self.page(path, number, per_page, **params)
            yield current
            if number >= current.total_pages or not current.items:
                return
            number += 1

    # -- coupons -----------------------------------------------------------------------------------------------
    def create_coupon(self, body: Mapping[str, Any]) -> JsonValue:
        """201 → the coupon; a code that exists → ``DuplicateCouponCode``."""
        return self.post("coupons", dict(body))

    def find_coupon_by_code(self, code: str) -> JsonValue | None:
        """The coupon with exactly this code (the shop stores codes lower-cased), or None."""
        found = self.get("coupons", code=code)
        if not isinstance(found, list):
            raise ShopApiError("GET coupons?code= did not return a list")
        for coupon in found:
            if isinstance(coupon, dict) and str(coupon.get("code", "")).lower() == code.lower():
                return coupon
        return None

    def get_coupon(self, coupon_id: int | str) -> JsonValue:
        return self.get(f"coupons/{coupon_id}")

    def delete_coupon(self, coupon_id: int | str) -> JsonValue:
        return self.delete(f"coupons/{coupon_id}", force="true")

    # -- orders, customers, products ---------------------------------------------------------------------------
    def get_order(self, order_id: int | str) -> JsonValue:
        return self.get(f"orders/{order_id}")

    def get_product(self, product_id: int | str) -> JsonValue:
        return self.get(f"products/{product_id}")


_Method = Literal["GET", "POST", "PUT", "DELETE"]  # the verbs this client sends


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _int_header(headers: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(headers.get(name, default))
    except (TypeError, ValueError):
        return default


def _decode(method: str, path: str, response: requests.Response) -> JsonValue:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    shop_code = str(body.get("code", "")) if isinstance(body, dict) else ""
    shop_message = str(body.get("message", "")) if isinstance(body, dict) else ""
    where = f"{method} {path}"
    if 200 <= status < 300:
        if body is None and response.content:
            raise ShopApiError(f"{where}: the shop answered {status} with a body that is not JSON", http_status=status)
        return body
    detail = f"{where}: {status} {shop_code} {shop_message}".strip()
    if 300 <= status < 400 and response.headers.get("Location"):
        detail += f" (redirects to {response.headers['Location'].split('?', 1)[0]})"
    if status in (401, 403):
        raise ShopAuthFailed(detail, http_status=status, shop_code=shop_code)
    if status == 404:
        raise ShopNotFound(detail, http_status=status, shop_code=shop_code)
    if status == 429 or status >= 500 or 300 <= status < 400:
        raise ShopUnavailable(detail, http_status=status, shop_code=shop_code)
    if shop_code == "woocommerce_rest_coupon_code_already_exists":
        raise DuplicateCouponCode(detail, http_status=status, shop_code=shop_code)
    raise ShopRejected(detail, http_status=status, shop_code=shop_code)


# --- issue 4: loyalty coupons --------------------------------------------------------------------------------------
REDEMPTION_META_KEY = "_loyalty_redemption_id"


@dataclass(frozen=True)
class CouponSpec:
    """A single-use, e-mail-locked reward coupon, in our terms (``bridge.redemption`` builds it)."""

    code: str
    discount_type: str  # fixed_cart | percent
    amount: str  # decimal string; "0" for a free-shipping-only coupon
    free_shipping: bool
    individual_use: bool
    email: str
    expires_gmt: str  # "YYYY-MM-DDTHH:MM:SS", UTC
    minimum_amount: str
    product_ids: tuple[int, ...]
    excluded_product_ids: tuple[int, ...]
    product_categories: tuple[int, ...]
    excluded_product_categories: tuple[int, ...]
    description: str
    reference: str  # identifies the redemption; stored in the coupon's meta_data


def coupon_payload(spec: CouponSpec) -> dict[str, Any]:
    """The ``POST coupons`` body: one use in total and per customer, only for the member's e-mail."""
    body: dict[str, Any] = {
        "code": spec.code,
        "discount_type": spec.discount_type,
        "amount": spec.amount,
        "individual_use": spec.individual_use,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "email_restrictions": [spec.email] if spec.email else [],  # an account the shop gave no e-mail (issue 12)
        "date_expires_gmt": spec.expires_gmt,
        "minimum_amount": spec.minimum_amount,
        "free_shipping": spec.free_shipping,
        "description": spec.description,
        "meta_data": [{"key": REDEMPTION_META_KEY, "value": spec.reference}],
    }
    for name in ("product_ids", "excluded_product_ids", "product_categories", "excluded_product_categories"):
        ids = getattr(spec, name)
        if ids:
            body[name] = list(ids)
    return body


def coupon_reference(coupon: JsonValue) -> str | None:
    """The redemption a shop coupon was created for (our meta_data), or None for anybody else's coupon."""
    if not isinstance(coupon, dict):
        return None
    for meta in coupon.get("meta_data") or []:
        if isinstance(meta, dict) and meta.get("key") == REDEMPTION_META_KEY:
            return str(meta.get("value"))
    return None


def coupon_usage_count(coupon: JsonValue) -> int:
    try:
        return int(coupon.get("usage_count") or 0) if isinstance(coupon, dict) else 0
    except (TypeError, ValueError):
        return 0


# --- issue 7: connecting a shop, webhooks, reconciliation and backfill ---------------------------------------------
WRITE_PERMISSION_HINT = "write permission"
"""WooCommerce's 401 for read-only keys says "The API key provided does not have write permissions"."""


def is_read_only_refusal(exc: ShopApiError) -> bool:
    return isinstance(exc, ShopAuthFailed) and WRITE_PERMISSION_HINT in str(exc).lower()


def list_webhooks(client: WooClient) -> list[dict[str, Any]]:
    """Every webhook of the shop, whatever its status (ours and the shop's own)."""
    found: list[dict[str, Any]] = []
    for page in client.pages("webhooks", status="all"):
        found.extend(w for w in page.items if isinstance(w, dict))
    return found


def create_webhook(client: WooClient, body: Mapping[str, Any]) -> dict[str, Any]:
    return _object(client.post("webhooks", dict(body)), "POST webhooks")


def update_webhook(client: WooClient, webhook_id: int | str, body: Mapping[str, Any]) -> dict[str, Any]:
    return _object(client.put(f"webhooks/{webhook_id}", dict(body)), "PUT webhooks/<id>")


def delete_webhook(client: WooClient, webhook_id: int | str) -> None:
    client.delete(f"webhooks/{webhook_id}", force="true")


def system_status(client: WooClient) -> dict[str, Any]:
    """Environment (home URL, versions) and settings (currency) of the shop; needs valid keys."""
    return _object(client.get("system_status"), "GET system_status")


def _object(body: JsonValue, where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ShopApiError(f"{where} did not return an object")
    return body
