"""A shop's REST API on a real loopback port that hangs: every request is held until ``release()``.

``responses`` cannot make a call wait while the rest of the process goes on; a real server shows what the
worker does while a shop does not answer. While hanging, each request is held (``waiting`` is set) until
``release()`` or ``max_hold_seconds``, then answered 503. Once released (or after that longest hold), the shop
answers ``GET products/<id>`` with the categories it was given (404 for an unknown product), as WooCommerce
would. Used by ``tests/inbox/test_hanging_shop.py`` and ``bench/hanging_shop.py``.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HangingShop:
    def __init__(self, products: dict[int, list[dict[str, Any]]], *, max_hold_seconds: float = 20.0) -> None:
        self.products = products
        self.max_hold_seconds = max_hold_seconds
        self.waiting = threading.Event()  # a request is being held
        self.held = 0  # requests held so far
        self.holding = 0  # requests held right now
        self._released = threading.Event()
        self._count_lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="hanging-shop", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HangingShop:
        self._thread.start()
        return self

    def release(self) -> None:
        """Answer the held requests (503) and every later one normally."""
        self._released.set()

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> HangingShop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what a request gets -------------------------------------------------------------------------------
    def answer(self, path: str) -> tuple[int, Any]:
        if not self._released.is_set():
            with self._count_lock:
                self.held += 1
                self.holding += 1
            self.waiting.set()
            try:
                self._released.wait(self.max_hold_seconds)
                self._released.set()  # a shop that hung long enough recovers: a broken test fails, not hangs
            finally:
                with self._count_lock:
                    self.holding -= 1
            return 503, {"code": "service_unavailable", "message": "the shop was hanging"}
        found = re.fullmatch(r"/wp-json/wc/v3/products/(\d+)", path)
        if found and int(found.group(1)) in self.products:
            product_id = int(found.group(1))
            return 200, {"id": product_id, "categories": self.products[product_id]}
        return 404, {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."}


def _handler(shop: HangingShop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, body = shop.answer(self.path.split("?", 1)[0])
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet, as tests are
            return

    return Handler
