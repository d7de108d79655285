"""Referrals: links, friend coupons, attribution from real orders, rewards only for real new customers (issue 5)."""
