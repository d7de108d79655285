"""Tiers (issue 16): qualification by one metric over a window, up at once, down fairly, overrides, perks."""
