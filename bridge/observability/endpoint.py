"""``GET /metrics``: Prometheus' text format, for the networks in ``metrics.allow`` only (loopback by default).

Secure by default: a scrape is answered only to a client address inside ``metrics.allow``, as the app reads it
(with ``trusted_proxies`` set, the client's address from the trusted hops' ``X-Forwarded-For``). A request that
carries ``X-Forwarded-For`` or ``Forwarded`` while ``trusted_proxies`` is 0 was relayed by a proxy the bridge
does not know about: its peer address (the proxy's, often 127.0.0.1) says nothing about the client, so it is
refused rather than served to the whole internet through a local reverse proxy.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from datetime import datetime

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from bridge.errors import BridgeError
from bridge.runtime import Runtime, current_runtime
from bridge.storage import db
from bridge.storage import inbox as inbox_store
from bridge.storage import tables as t
from bridge.storage.clock import utcnow

PATH = "/metrics"
_FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded")


class MetricsForbidden(BridgeError):
    code = "metrics_forbidden"
    status = 403


class InboxCollector:
    """The inbox's level, read when scraped: per shop, the pending deliveries, the age of the oldest (the lag a
    delivery waits before it is applied: 0 when none waits) and the deliveries parked as failed."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "bridge_inbox_lag_seconds", "Age of the oldest delivery still pending (0: none)", labels=["shop"]
        )
        pending = GaugeMetricFamily("bridge_inbox_pending", "Deliveries waiting to be applied", labels=["shop"])
        failed = GaugeMetricFamily("bridge_inbox_failed", "Deliveries parked as failed", labels=["shop"])
        now = utcnow()
        found = self._read()
        for shop in sorted({s.id for s in self.rt.settings.shops} | set(found)):
            count, oldest, parked = found.get(shop, (0, None, 0))
            lag.add_metric([shop], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
            pending.add_metric([shop], count)
            failed.add_metric([shop], parked)
        yield from (lag, pending, failed)

    def _read(self) -> dict[str, tuple[int, datetime | None, int]]:
        d = t.inbox_delivery.c
        by_state = (
            select(d.shop_id, d.state, func.count(), func.min(d.id))
            .where(d.program_id == self.rt.settings.program.id, d.state.in_((inbox_store.PENDING, inbox_store.FAILED)))
            .group_by(d.shop_id, d.state)
        )
        found: dict[str, tuple[int, datetime | None, int]] = {}
        with db.read(self.rt.engine) as conn:
            rows = conn.execute(by_state).all()
            oldest_ids = [row[3] for row in rows if row[1] == inbox_store.PENDING]
            firsts = select(d.id, d.received_at).where(d.id.in_(oldest_ids))
            received = dict(conn.execute(firsts).all()) if oldest_ids else {}
        for shop, state, count, first_id in rows:
            pending, oldest, parked = found.get(shop, (0, None, 0))
            if state == inbox_store.PENDING:
                pending, oldest = count, received.get(first_id)
            else:
                parked = count
            found[shop] = (pending, oldest, parked)
        return found


def scrape(rt: Runtime) -> bytes:
    """Every process's metrics (all of them under ``PROMETHEUS_MULTIPROC_DIR``, else this one's), and the inbox's."""
    inbox = CollectorRegistry(auto_describe=False)
    inbox.register(InboxCollector(rt))
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        processes = CollectorRegistry()
        MultiProcessCollector(processes, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(processes) + generate_latest(inbox)
    return generate_latest(REGISTRY) + generate_latest(inbox)


def check_access(rt: Runtime) -> None:
    metrics = rt.settings.metrics
    if not rt.settings.trusted_proxies and any(h in request.headers for h in _FORWARDING_HEADERS):
        raise MetricsForbidden(
            "/metrics was reached through a proxy the bridge does not trust: set trusted_proxies, or scrape the "
            "bridge directly"
        )
    try:
        client = ipaddress.ip_address((request.remote_addr or "").split("%", 1)[0])
    except ValueError:
        raise MetricsForbidden("/metrics is not served to this client") from None
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped:
        client = client.ipv4_mapped
    if not any(client in ipaddress.ip_network(net, strict=False) for net in metrics.allow):
        raise MetricsForbidden("/metrics is not served to this client: see metrics.allow")


def view() -> Response:
    rt = current_runtime()
    check_access(rt)
    return Response(scrape(rt), content_type=CONTENT_TYPE_LATEST)


def register(app: Flask, rt: Runtime) -> None:
    """``GET /metrics`` unless ``metrics.enabled`` is false."""
    if rt.settings.metrics.enabled:
        app.add_url_rule(PATH, "metrics", view, methods=["GET"])
