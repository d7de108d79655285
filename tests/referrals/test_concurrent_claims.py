"""Twenty claims for one friend at the same moment, on SQLite and PostgreSQL: one referral, one coupon."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest

from tests.integration.conftest import BOTH_BACKENDS
from tests.referrals.conftest import FRIEND, REFERRALS, Referrals, carol_with_an_order
from tests.support.client import Bridge
from tests.support.woo_rest import FakeWooShop


@pytest.fixture(params=BOTH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_twenty_concurrent_claims_for_one_friend_make_one_referral_and_one_coupon(
    make_bridge: Callable[..., Bridge], threadsafe_shop: FakeWooShop
) -> None:
    bridge = make_bridge(program={"referrals": {**REFERRALS, "claims_per_ip_per_hour": 1000}})
    carol_with_an_order(bridge)
    referrals = Referrals(bridge, threadsafe_shop)
    code = referrals.carol_code()
    start = threading.Barrier(20)
    outcomes: list[int] = []
    errors: list[BaseException] = []

    def claim() -> None:
        client = bridge.app.test_client()
        try:
            start.wait()
            response = client.post("/widget/v1/referrals/claim", json={"code": code, "email": FRIEND})
            outcomes.append(response.status_code)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    counts = Counter(outcomes)
    assert counts[201] == 1 and set(counts) <= {200, 201, 409}
    assert referrals.referral_count() == 1 and len(threadsafe_shop.coupons) == 1
