"""``GET /r/<code>``: every visit is redirected, but one IP records one click per code and window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis
from sqlalchemy import func, select

from bridge.referrals.service import CLICK_WINDOW_SECONDS
from bridge.storage import db
from bridge.storage import tables as t
from tests.referrals.conftest import REFERRALS, Referrals
from tests.support.client import Bridge
from tests.support.woo_rest import SHOP_URL


def _clicks(bridge: Bridge) -> int:
    with db.read(bridge.rt.engine) as conn:
        return int(conn.scalar(select(func.count()).select_from(t.referral_click)) or 0)


def _visit(bridge: Bridge, code: str, ip: str) -> Any:
    response = bridge.client.get(f"/r/{code}", environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 302 and response.headers["Location"] == f"{SHOP_URL}/?ref={code}"
    return response


def test_repeated_visits_from_one_ip_record_one_click(referrals: Referrals) -> None:
    bridge, code = referrals.bridge, referrals.carol_code()
    for _ in range(20):
        _visit(bridge, code, "203.0.113.7")
    assert _clicks(bridge) == 1
    _visit(bridge, code, "198.51.100.2")  # another visitor
    assert _clicks(bridge) == 2
    assert referrals.widget_get("/widget/v1/referral").get_json()["counts"]["clicks"] == 2


def test_the_window_is_kept_in_redis_under_the_ip_hash_and_then_counts_again(referrals: Referrals) -> None:
    bridge, code = referrals.bridge, referrals.carol_code()
    _visit(bridge, code, "203.0.113.7")
    redis: Redis = bridge.rt.redis()
    keys = [key.decode() for key in redis.scan_iter("bridge:click:*")]
    assert len(keys) == 1 and "203.0.113.7" not in keys[0]
    assert 0 < redis.ttl(keys[0]) <= CLICK_WINDOW_SECONDS
    redis.delete(keys[0])  # the window is over
    _visit(bridge, code, "203.0.113.7")
    assert _clicks(bridge) == 2


def test_without_redis_the_link_still_redirects_and_records_nothing(
    referrals: Referrals, make_bridge: Callable[..., Bridge]
) -> None:
    code = referrals.carol_code()
    no_redis = make_bridge(redis_url="redis://127.0.0.1:1/0", program={"referrals": REFERRALS})
    for _ in range(3):
        _visit(no_redis, code, "203.0.113.7")
    assert _clicks(no_redis) == 0
