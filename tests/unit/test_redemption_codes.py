"""Which coupon codes the order observer looks up: every code we can have issued, none of the shop's own."""

from __future__ import annotations

import pytest

from bridge.redemption.codes import could_be_ours, new_code


@pytest.mark.parametrize(("prefix", "length"), [("", 10), ("", 12), ("club-", 12), ("vip2026-", 16)])
def test_every_code_we_issue_is_looked_up(prefix: str, length: int) -> None:
    assert all(could_be_ours(new_code(prefix, length)) for _ in range(200))


@pytest.mark.parametrize("code", ["loyalty-1795473173", "summer10", "welcome", "", "abcdefghj0", "x" * 9])
def test_the_shops_own_coupons_are_skipped(code: str) -> None:
    assert not could_be_ours(code)
