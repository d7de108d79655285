"""Rate limits key on the client's address: X-Forwarded-For only from the configured number of proxy hops."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.errors import ConfigError
from tests.support.client import Bridge

PROXY = "10.0.0.2"  # the reverse proxy, as the web server's socket sees it
CLAIM = {"code": "NOSUCHCODE", "email": "dave@example.test"}
ONE_CLAIM_PER_IP = {"referrals": {"enabled": True, "claims_per_ip_per_hour": 1}}


def _claim(bridge: Bridge, forwarded_for: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = bridge.client.post(
        "/widget/v1/referrals/claim", json=CLAIM, headers=headers, environ_base={"REMOTE_ADDR": PROXY}
    )
    return response.status_code


def test_without_trusted_proxies_the_header_is_ignored(make_bridge: Callable[..., Bridge]) -> None:
    """A client cannot pick its own address: by default every request is keyed on the socket's peer."""
    bridge = make_bridge(program=ONE_CLAIM_PER_IP)
    assert _claim(bridge, "203.0.113.1") == 422  # counted (then refused for its unknown code)
    assert _claim(bridge, "203.0.113.2") == 429  # a new X-Forwarded-For does not make a new client


def test_behind_one_trusted_proxy_each_shopper_has_their_own_limit(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(trusted_proxies=1, program=ONE_CLAIM_PER_IP)
    assert _claim(bridge, "203.0.113.1") == 422
    assert _claim(bridge, "203.0.113.2") == 422  # another shopper behind the same proxy
    assert _claim(bridge, "203.0.113.1") == 429
    # What the client itself wrote in front of the address the proxy appended is not believed.
    assert _claim(bridge, "198.51.100.9, 203.0.113.2") == 429


def test_trusted_proxies_is_a_count_of_hops(make_settings: Callable[..., object]) -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        make_settings(trusted_proxies=-1)
