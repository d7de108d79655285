"""Redemption: rewards catalogue; points -> shop coupon (issue: redemption)."""
