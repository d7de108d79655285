"""The owner's webhook endpoint: a tiny threaded HTTP server on loopback that checks Standard Webhooks signatures.

It can be "down" (answers 503) for a while; it keeps every request it accepted, in arrival order, and says
whether its signature verified (recomputed with the ``standardwebhooks`` package against the pinned clock).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook

from bridge.storage.clock import utcnow

SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtb3duZXJzLWVuZHBvaW50LTEyMw=="


@dataclass
class Received:
    id: str
    verified: bool
    body: dict[str, Any]


class Receiver:
    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.down = False
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: one connection per sender, as a real endpoint allows

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = 503 if receiver.down else 204
                if not receiver.down:
                    receiver._keep(raw, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _keep(self, raw: bytes, headers: dict[str, str]) -> None:
        message_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "0")
        sent_at = datetime.fromtimestamp(int(stamp), tz=UTC)
        expected = Webhook(self.secret).sign(message_id, sent_at, raw.decode())
        fresh = abs((utcnow() - sent_at).total_seconds()) < 300
        verified = fresh and expected in headers.get("webhook-signature", "").split(" ")
        with self.lock:
            self.received.append(Received(message_id, verified, json.loads(raw)))

    def unique(self) -> list[Received]:
        """What a receiver that drops repeated webhook-ids processes."""
        seen: set[str] = set()
        out = []
        for item in self.received:
            if item.id not in seen:
                seen.add(item.id)
                out.append(item)
        return out

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
