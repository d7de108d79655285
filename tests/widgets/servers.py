"""Loopback HTTP servers for the browser tests: the real bridge app, and a tiny stand-in for the shop's pages.

The bridge runs in a thread of the test process (not a subprocess) so that ``responses``, which fakes the shop's
REST API by patching ``requests`` in this process, still answers the coupon calls made while redeeming.
"""

from __future__ import annotations

import html
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

SHOP_SCRIPT = """
window.shopScriptRan = true;
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


class ServedApp:
    """Any WSGI app on 127.0.0.1 with a free port, served by werkzeug's threaded server."""

    def __init__(self, app: Any) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)


@dataclass
class StoreCall:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ShopSite:
    """The shop's own origin: pages that embed the widget, and the Store API's apply-coupon endpoint."""

    pages: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    store_calls: list[StoreCall] = field(default_factory=list)
    scripts: dict[str, str] = field(default_factory=dict)  # the shop's own scripts, by path
    token: str = ""  # what the shop's token endpoint hands out (a fresh token for the logged-in customer)
    token_requests: int = 0

    def add_page(self, path: str, body: str, csp: str | None = None) -> None:
        headers = {"Content-Security-Policy": csp} if csp else {}
        self.pages[path] = (body, headers)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._respond(request)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path == "/wp-json/wc/store/v1/cart/apply-coupon" and request.method == "POST":
            self.store_calls.append(
                StoreCall(request.path, dict(request.headers), json.loads(request.get_data(as_text=True) or "null"))
            )
            body = {"coupons": [{"code": (self.store_calls[-1].body or {}).get("code")}]}
            return Response(json.dumps(body), mimetype="application/json", headers={"Nonce": "fresh-nonce"})
        if request.path == "/widget-token":
            self.token_requests += 1
            return Response(json.dumps({"token": self.token}), mimetype="application/json")
        if request.path in self.scripts:
            return Response(self.scripts[request.path], mimetype="text/javascript")
        if request.path == "/shop.js":
            return Response(SHOP_SCRIPT, mimetype="text/javascript")
        if request.path == "/favicon.ico":
            return Response(status=204)
        if request.path in self.pages:
            body, headers = self.pages[request.path]
            return Response(body, mimetype="text/html", headers=headers)
        return Response("not found", status=404)


def shop_page(
    script_src: str,
    *,
    lang: str = "en",
    title: str = "Test shop",
    head: str = '<script src="/shop.js"></script>',
    **data: str,
) -> str:
    """A shop page that embeds the widget the documented way: one script tag with data-* attributes."""
    attrs = " ".join(f'data-{k.replace("_", "-")}="{html.escape(v)}"' for k, v in data.items())
    tag = f'<script src="{html.escape(script_src)}" {attrs} async></script>' if script_src else ""
    return f"""<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{html.escape(title)}</title>
{head}
{tag}
</head>
<body>
<header><a href="/cart" id="shop-cart">Cart</a></header>
<main><h1>{html.escape(title)}</h1><p>Products and more.</p></main>
</body>
</html>"""


def serve_bridge(app: Flask) -> ServedApp:
    return ServedApp(app)
