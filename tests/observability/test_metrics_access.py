"""Who may read ``/metrics``: loopback by default, ``metrics.allow`` networks otherwise, never a client that a
proxy the bridge does not trust relayed, and nobody when ``metrics.enabled`` is false."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.test import TestResponse

from tests.support.client import Bridge


def _get(bridge: Bridge, peer: str, **headers: str) -> TestResponse:
    return bridge.client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": peer})


def _refused(response: TestResponse) -> bool:
    return response.status_code == 403 and response.get_json()["error"]["code"] == "metrics_forbidden"


def test_by_default_only_loopback_reads_the_metrics(bridge: Bridge) -> None:
    assert _get(bridge, "127.0.0.1").status_code == 200
    assert _get(bridge, "::1").status_code == 200
    refused = _get(bridge, "203.0.113.7")
    assert _refused(refused)
    assert "bridge_" not in refused.get_data(as_text=True)
    assert _refused(_get(bridge, "10.0.0.5"))


def test_a_local_proxy_relaying_an_outside_client_is_refused(bridge: Bridge) -> None:
    """A reverse proxy on the same host connects from 127.0.0.1: its forwarding header gives it away."""
    assert _refused(_get(bridge, "127.0.0.1", **{"X-Forwarded-For": "203.0.113.7"}))
    assert _refused(_get(bridge, "127.0.0.1", Forwarded="for=203.0.113.7"))


def test_allowed_networks_behind_a_trusted_proxy(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(trusted_proxies=1, metrics={"allow": ["10.20.0.0/16"]})
    assert _get(bridge, "10.0.0.2", **{"X-Forwarded-For": "10.20.3.4"}).status_code == 200  # the scraper
    assert _refused(_get(bridge, "10.0.0.2", **{"X-Forwarded-For": "203.0.113.7"}))  # anybody else
    # the client cannot name itself: only the address the trusted proxy appended counts
    assert _refused(_get(bridge, "10.0.0.2", **{"X-Forwarded-For": "10.20.3.4, 203.0.113.7"}))
    assert _refused(_get(bridge, "127.0.0.1"))  # loopback is not in this list


def test_metrics_can_be_switched_off(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(metrics={"enabled": False})
    response = _get(bridge, "127.0.0.1")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
